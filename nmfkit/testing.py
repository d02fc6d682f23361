"""Test helpers shared by nmfkit's own tests and by anyone extending it.

- :func:`planted` and :func:`laurberg_problem`: data with known, unique factors;
- :func:`planted_noisy`: a planted rank-k signal with Gaussian or Poisson noise of a chosen share;
- :func:`kkt_residual`: scale-invariant first-order optimality measure;
- :func:`match_components`: Hungarian matching of factors up to permutation and scaling;
- :data:`ARRAY_TYPES`: the array types the contract suite runs over.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit.backend import get_backend
from nmfkit.datasets.synthetic import laurberg_problem, planted, planted_noisy
from nmfkit.losses import BetaDivergence
from nmfkit.metrics import match_components

__all__ = ["ARRAY_TYPES", "planted", "planted_noisy", "laurberg_problem", "kkt_residual", "match_components",
           "to_numpy", "peak_traced_bytes"]

#: name -> converter from a dense NumPy array
ARRAY_TYPES: dict[str, Any] = {
    "dense": lambda a: np.asarray(a),
    "csr": lambda a: sp.csr_matrix(a),
}


def to_numpy(a: Any) -> np.ndarray:
    """Dense host copy of any supported array."""
    return get_backend(a).to_numpy(a)


def kkt_residual(X: Any, W: Any, H: Any, beta_loss: float | str = 2.0, *, mask: Any = None,
                 penalties_W: tuple = (), penalties_H: tuple = ()) -> float:
    """Scale-invariant KKT residual of ``min sum d_beta(X | WH) + penalties`` over ``W, H >= 0``.

    With ``grad_W = P_W - N_W`` split into the positive and negative parts the
    MU terms give (penalty gradients included in ``P_W``), the residual is the
    largest of

    - complementarity: ``sum |W * grad_W| / sum W * (P_W + N_W)``;
    - dual feasibility: ``||min(grad_W, 0)|| / ||P_W + N_W||``;

    and the same for ``H``. Zero at a KKT point; invariant under ``X -> cX``
    and under rescaling a component of W against H.
    """

    beta = V.check_beta_loss(beta_loss, "kkt_residual")
    X = X if sp.issparse(X) else np.asarray(X, dtype=float)
    W, H = np.asarray(W, dtype=float), np.asarray(H, dtype=float)
    loss = BetaDivergence(beta)
    backend = get_backend(X)
    X = X.tocsr().astype(float) if sp.issparse(X) else X
    XT = X.T.tocsr() if sp.issparse(X) else X.T
    maskT = None if mask is None else np.asarray(mask, dtype=float).T
    mask = None if mask is None else np.asarray(mask, dtype=float)
    worst = 0.0
    for data, M, left, right, pens in ((X, mask, W, H, penalties_W), (XT, maskT, H.T, W.T, penalties_H)):
        num, den = loss.mu_terms(data, left, right, backend=backend, mask=M)
        num, den = np.asarray(num), np.asarray(den)
        for p in pens:
            g = np.asarray(p.gradient(left, np))
            den = den + np.maximum(g, 0)
            num = num + np.maximum(-g, 0)
        grad = den - num
        scale = den + num
        comp = np.sum(np.abs(left * grad)) / max(np.sum(left * scale), np.finfo(float).tiny)
        dual = np.linalg.norm(np.minimum(grad, 0)) / max(np.linalg.norm(scale), np.finfo(float).tiny)
        worst = max(worst, comp, dual)
    return float(worst)


def peak_traced_bytes(fn: Any) -> int:
    """Peak bytes allocated through Python and NumPy while ``fn()`` runs (:mod:`tracemalloc`).

    PyTorch's allocators are not traced.
    """
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak
