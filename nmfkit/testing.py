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

from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
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


def planted(n: int = 40, m: int = 30, k: int = 3, *, separable: bool = True, sparsity: float = 0.5,
            rng: np.random.Generator | int | None = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact ``X = W @ H`` with sparse non-negative factors, unique up to permutation and scaling.

    With ``separable=True`` the first ``k`` rows of ``W`` and the first ``k``
    columns of ``H`` form identity blocks (then permuted), which makes the NMF
    unique (Donoho & Stodden's separability in both factors).

    Returns
    -------
    X : ndarray of shape (n, m)
    W : ndarray of shape (n, k)
    H : ndarray of shape (k, m)
    """
    rng = np.random.default_rng(rng)
    W = rng.random((n, k)) * (rng.random((n, k)) > sparsity)
    H = rng.random((k, m)) * (rng.random((k, m)) > sparsity)
    if separable:
        W[:k] = np.eye(k)
        H[:, :k] = np.eye(k)
        W = W[rng.permutation(n)]
        H = H[:, rng.permutation(m)]
    W[W.sum(axis=1) == 0, rng.integers(k)] = 1.0  # keep rows of X non-zero
    H[rng.integers(k), H.sum(axis=0) == 0] = 1.0
    return W @ H, W, H


def planted_noisy(n: int = 300, m: int = 150, k: int = 5, *, noise: str = "gaussian", signal_share: float = 0.95,
                  rng: np.random.Generator | int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """A rank-``k`` non-negative signal plus noise that explains ``1 - signal_share`` of the variance.

    ``W`` is Gamma(1, 1) and ``H`` Gamma(0.5, 1) with 40 % of its entries set to
    zero. The signal's share of the variance is ``s = signal_share`` in the
    sense ``1 - ||X - S||^2 / ||X - mean(X)||^2 = s``:

    - Gaussian: ``X = max(S + sigma Z, 0)`` with ``Z`` standard normal and
      ``sigma`` solved (Brent) so that the share is exactly ``s`` after clipping;
    - Poisson: ``X ~ Poisson(c S)`` with ``c`` chosen so that the expected share
      ``c^2 var(S) / (c^2 var(S) + c mean(S))`` is ``s``.

    Returns
    -------
    X : ndarray of shape (n, m)
        The noisy data (may hold all-zero rows or columns at small sizes).
    S : ndarray of shape (n, m)
        The planted rank-``k`` signal at the data's scale.
    """
    rng = np.random.default_rng(rng)
    W = rng.gamma(1.0, 1.0, (n, k))
    H = rng.gamma(0.5, 1.0, (k, m)) * (rng.random((k, m)) < 0.6)
    S = W @ H
    if noise == "gaussian":
        from scipy.optimize import brentq

        Z = rng.standard_normal(S.shape)

        def excess(sigma: float) -> float:
            X = np.maximum(S + sigma * Z, 0.0)
            return 1.0 - np.sum((X - S) ** 2) / np.sum((X - X.mean()) ** 2) - signal_share

        hi = S.std() * np.sqrt(1.0 / signal_share)  # clipping only lowers the noise, so the root lies above
        while excess(hi) > 0:
            hi *= 2.0
        sigma = brentq(excess, 0.0, hi, xtol=1e-12 * S.std())
        return np.maximum(S + sigma * Z, 0.0), S
    if noise == "poisson":
        c = signal_share * S.mean() / ((1 - signal_share) * S.var())
        return rng.poisson(c * S).astype(float), c * S
    msg = f"noise must be 'gaussian' or 'poisson', got {noise!r}."
    raise InvalidInputError(msg)


def laurberg_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 6 x 3 rank-3 matrix with a unique NMF (Laurberg et al. 2008, sufficiently spread factors).

    ``W`` has the zero pattern of ``[I; 1 - I]`` and ``H = W.T``, so every
    component has zeros in the other components' supports.

    Returns
    -------
    X : ndarray of shape (6, 6)
    W : ndarray of shape (6, 3)
    H : ndarray of shape (3, 6)

    References
    ----------
    .. [1] H. Laurberg, M. G. Christensen, M. D. Plumbley, L. K. Hansen and
       S. H. Jensen, "Theorems on positive data: on the uniqueness of NMF",
       Computational Intelligence and Neuroscience, 2008. :doi:`10.1155/2008/764206`
    """
    W = np.vstack([np.eye(3), 1.0 - np.eye(3)])
    W = W * np.array([1.0, 2.0, 3.0])
    H = np.vstack([np.eye(3), 1.0 - np.eye(3)]).T * np.array([[1.0], [0.5], [2.0]])
    return W @ H, W, H


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
    from nmfkit import _validation as V

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
