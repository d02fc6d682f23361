"""Multilayer and deep beta-NMF with the layer-centric loss, and minimum-volume deep KL-NMF.

:mod:`~nmfkit.methods.deep.updates` holds the block updates, :mod:`~nmfkit.methods.deep.minvol`
the minimum-volume step, :mod:`~nmfkit.methods.deep.fitting` the iterations and the public functions.

Leplat, Hien, Onwunta & Gillis, "Deep Nonnegative Matrix Factorization with Beta
Divergences" (arXiv 2309.08249). The paper's notation is kept:

    X ≈ W1 H1,   W1 ≈ W2 H2,   ...,   W_{L-1} ≈ W_L H_L

with ``W_l`` of shape (m, r_l) and ``H_l`` of shape (r_l, r_{l-1}) (``r_0 = n``,
``W_0 = X``). Deep beta-NMF minimises the layer-centric loss

    sum_l lambda_l D_beta(W_{l-1} | W_l H_l)    s.t. H_l e = e (rows of every H_l sum to 1)

by block majorization-minimization (Algorithm 1): the H_l update is the
sum-to-one constrained multiplicative update whose multipliers come from a
safeguarded Newton method, and the W_l update (l < L) is the closed-form
minimiser of a majoriser of ``lambda_l D(W_{l-1}|W H_l) + lambda_{l+1} D(W|W_{l+1}H_{l+1})``:
Wright omega for beta = 1, a quadratic in ``sqrt(w)`` for beta = 3/2 and a
multiplicative rule for beta = 2. The minimum-volume variant (Algorithm 2,
beta = 1) adds ``alpha_l log det(W_l^T W_l + delta I)`` with column-stochastic
``W_l`` and takes the W_l step by ADMM.

Where paper and reference code differ, the code's choice is the default (it
produced the paper's tables) and the paper's is an option; each is named in the
docstrings.
"""

from __future__ import annotations

from nmfkit.methods.deep.fitting import deep_nmf, deep_usage, hoyer_sparsity, layer_features, multilayer_nmf

__all__ = ["multilayer_nmf", "deep_nmf", "deep_usage", "layer_features", "hoyer_sparsity"]
