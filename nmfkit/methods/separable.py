"""Separable NMF: the successive projection (SPA) and successive nonnegative projection (SNPA) algorithms.

A matrix is *separable* when every sample is a non-negative combination of a few
of the samples themselves (the anchors, or pure pixels, or anchor words):
``X = W X[J]`` with ``W >= 0``. Then the NMF is unique and the anchors can be
found greedily in polynomial time, robustly to noise (Gillis & Vavasis 2014;
Gillis 2014).

Orientation: nmfkit's ``X`` (n_samples, n_features) ≈ ``W`` (n_samples, k) ``H``
(k, n_features); the anchors are rows of ``X`` (Gillis's papers pick columns of
``M = X.T``), and ``H = X[anchors]``.

References
----------
.. [1] N. Gillis and S. A. Vavasis, "Fast and robust recursive algorithms for
   separable nonnegative matrix factorization", IEEE TPAMI 36(4), 2014.
   :doi:`10.1109/TPAMI.2013.226`
.. [2] N. Gillis, "Successive nonnegative projection algorithm for robust
   nonnegative blind source separation", SIAM J. Imaging Sci. 7(2), 2014.
   :doi:`10.1137/130946782`
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nmfkit import _validation as V
from nmfkit._validation import InvalidInputError
from nmfkit.fit import FitResult
from nmfkit.initialization import SNPA, SPA

__all__ = ["spa", "snpa", "separable_nmf"]


def spa(X: Any, n_components: int) -> np.ndarray:
    """Indices of ``n_components`` anchor rows of ``X`` found by the successive projection algorithm.

    Rows are scaled to unit sum; each step takes the row with the largest residual
    norm and projects every row onto the orthogonal complement of it.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int

    Returns
    -------
    ndarray of int, shape (n_components,)
    """
    return SPA().anchors(X, n_components)


def snpa(X: Any, n_components: int, *, n_inner: int = 200) -> np.ndarray:
    """Indices of ``n_components`` anchor rows found by the successive nonnegative projection algorithm.

    Like SPA, but the residual is the distance to the *convex hull* of the anchors
    and the origin, not to their span: each step solves
    ``min_{W >= 0, W 1 <= 1} ||Xn - W Xn[J]||_F`` (rows scaled to unit sum;
    accelerated projected gradient, warm-started) and takes the row with the
    largest residual. SNPA is more robust to noise and to ill-conditioned anchors
    than SPA, and it does not need the anchors to be linearly independent.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    n_inner : int, default=200
        Projected-gradient iterations per step.

    Returns
    -------
    ndarray of int, shape (n_components,)
    """
    return SNPA(n_inner).anchors(X, n_components)


def separable_nmf(X: Any, n_components: int, *, algorithm: str = "snpa") -> Any:
    """Separable NMF: anchors by SPA or SNPA, then the exact non-negative least-squares weights.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    algorithm : {"snpa", "spa"}, default="snpa"

    Returns
    -------
    FitResult
        ``H = X[anchors]``, ``W = argmin_{W >= 0} ||X - W H||_F``;
        ``extras["anchors"]`` holds the anchor rows.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.methods import separable_nmf
    >>> H = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.2, 0.8]])
    >>> sorted(separable_nmf(W @ H, 2).extras["anchors"].tolist())
    [0, 1]
    """
    import time

    Xv, _ = V.check_data(X, caller="separable_nmf")
    k = V.check_n_components(n_components, Xv.shape, "separable_nmf")
    finders = {"snpa": SNPA, "spa": SPA}
    if algorithm not in finders:
        msg = f"separable_nmf: unknown algorithm {algorithm!r}; valid: {', '.join(finders)}."
        raise InvalidInputError(msg)
    t0 = time.perf_counter()
    finder = finders[algorithm]()
    idx = finder.anchors(Xv, k)
    W, H = finder.factors(Xv, idx)
    R = Xv - W @ H
    loss = 0.5 * float(np.sum(np.asarray(R) ** 2))
    return FitResult(W=W, H=H, n_iter=k, converged=True, stop_reason=f"{algorithm}: {k} anchors selected",
                     objective=loss, elapsed=time.perf_counter() - t0,
                     extras={"anchors": np.asarray(idx), "loss_value": loss, "algorithm": algorithm})
