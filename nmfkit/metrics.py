"""Comparing factorizations: matched cosine similarity and the consistency measures of Guo & Holy.

References
----------
.. [1] Y. Guo and T. E. Holy, "An optimal pairwise merge algorithm improves the
   quality and consistency of nonnegative matrix factorization", IEEE Trans.
   Signal Process. 73, 2025 (eqs. 18-19). :doi:`10.1109/TSP.2025.3585893`
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["match_components", "subspace_consistency", "permutation_consistency"]


def _unit_columns(W: Any) -> np.ndarray:
    W = np.asarray(W, dtype=float)
    norms = np.linalg.norm(W, axis=0, keepdims=True)
    return W / np.where(norms > 0, norms, 1.0)


def match_components(W_true: Any, W_est: Any, H_true: Any = None, H_est: Any = None) -> dict:
    """Match estimated to true components up to permutation and scaling (Hungarian algorithm).

    Columns of ``W`` (and rows of ``H``, when given) are normalized to unit
    norm; the assignment maximizes the summed cosine similarity.

    Returns
    -------
    dict
        ``permutation`` (est index for each true component), ``cosine_W`` and
        ``cosine_H`` (per matched pair), ``min_cosine`` (the worst match).
    """
    sim = _unit_columns(W_true).T @ _unit_columns(W_est)
    if H_true is not None and H_est is not None:
        simH = _unit_columns(np.asarray(H_true, float).T).T @ _unit_columns(np.asarray(H_est, float).T)
        total = sim + simH
    else:
        simH, total = None, sim
    rows, cols = linear_sum_assignment(-total)
    out = {"permutation": cols, "cosine_W": sim[rows, cols]}
    out["cosine_H"] = None if simH is None else simH[rows, cols]
    both = out["cosine_W"] if simH is None else np.minimum(out["cosine_W"], out["cosine_H"])
    out["min_cosine"] = float(both.min())
    return out


def subspace_consistency(W1: Any, W2: Any, *, normalize: bool = True) -> float:
    """Guo & Holy's eq. (18): ``||W1 - W2 R2||^2 + ||W2 - W1 R1||^2`` with ``R2 = W2^+ W1``, ``R1 = W1^+ W2``.

    Zero exactly when the column spaces agree. Columns are scaled to unit norm
    first (``normalize=True``) so that the value does not depend on how each
    component's scale is split between W and H.
    """
    A, B = (_unit_columns(W1), _unit_columns(W2)) if normalize else (np.asarray(W1, float), np.asarray(W2, float))
    R2 = np.linalg.pinv(B) @ A
    R1 = np.linalg.pinv(A) @ B
    return float(np.linalg.norm(A - B @ R2) ** 2 + np.linalg.norm(B - A @ R1) ** 2)


def permutation_consistency(W1: Any, W2: Any) -> float:
    """Guo & Holy's eq. (19) with the sign fixed: a deviation of ``R = W1^+ W2`` from a permutation matrix.

    ``PC = sum_ij r_ij^2 (r_ij - 1)^2 + sum_i (sum_j r_ij - 1)^2 + sum_j (sum_i r_ij - 1)^2`` on
    unit-norm columns. The paper prints a minus before the bracket, which can make
    the value negative; both forms are zero for a permutation matrix.
    """
    R = np.linalg.pinv(_unit_columns(W1)) @ _unit_columns(W2)
    entries = np.sum(R**2 * (R - 1.0) ** 2)
    return float(entries + np.sum((R.sum(axis=1) - 1.0) ** 2) + np.sum((R.sum(axis=0) - 1.0) ** 2))
