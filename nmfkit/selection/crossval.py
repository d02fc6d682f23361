"""Cross-validation of the rank: bi-cross-validation (Owen & Perry) and masked entries (Wold)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from nmfkit._docs import shared_docs
from nmfkit.fit import nmf
from nmfkit.selection.replicates import dense, replicate_seeds
from nmfkit.solvers import nnls_project

__all__ = ["bicross_validation_error", "masked_cv_error"]


@shared_docs
def bicross_validation_error(X: Any, n_components: int, *, folds: tuple[int, int] = (2, 2), random_state: Any = None,
                             **fit_params: Any) -> float:
    """Owen & Perry's bi-cross-validation error of rank-``k`` NMF, relative to ``||X||^2``.

    Rows and columns are split at random into ``folds = (p, q)`` groups. For each
    held-out block ``A = X[I, J]``, NMF is fitted to ``D = X[~I, ~J]`` (``D ≈ W_D H_D``),
    then ``B = X[I, ~J] ≈ W_B H_D`` and ``C = X[~I, J] ≈ W_D H_C`` are solved exactly
    by non-negative least squares, and ``A`` is predicted by ``W_B H_C``. For an exact
    rank-r matrix with a unique NMF the error is zero at k = r.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    folds : (int, int), default=(2, 2)
    {random_state}
    **fit_params
        For :func:`nmfkit.nmf` on each held-in block (default: NNDSVDa start,
        HALS, tol 1e-6, 2000 sweeps).
    """
    Xd = dense(X)
    n, m = Xd.shape
    rng = np.random.default_rng(replicate_seeds(random_state, 1)[0])
    rows = np.array_split(rng.permutation(n), folds[0])
    cols = np.array_split(rng.permutation(m), folds[1])
    params = {"init": "nndsvda", "tol": 1e-6, "max_iter": 2000, **fit_params}
    total = 0.0
    for I in rows:  # noqa: E741
        keep_r = np.setdiff1d(np.arange(n), I)
        for J in cols:
            keep_c = np.setdiff1d(np.arange(m), J)
            D = Xd[np.ix_(keep_r, keep_c)]
            k = min(n_components, *D.shape)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = nmf(D, k, **params)
            WB = nnls_project(Xd[np.ix_(I, keep_c)], np.asarray(res.H))
            HC = nnls_project(Xd[np.ix_(keep_r, J)].T, np.asarray(res.W).T).T
            total += float(np.sum((Xd[np.ix_(I, J)] - WB @ HC) ** 2))
    return total / max(float(np.sum(Xd * Xd)), np.finfo(float).tiny)


@shared_docs
def masked_cv_error(X: Any, n_components: int, *, fraction: float = 0.1, n_folds: int = 3, random_state: Any = None,
                    **fit_params: Any) -> float:
    """Wold-style cross-validation: hold out random entries, fit with a mask, score the held-out entries.

    Mean over ``n_folds`` random masks of ``||(X - WH)_held||^2 / ||X_held||^2``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    fraction : float, default=0.1
        Share of entries held out per fold.
    n_folds : int, default=3
    {random_state}
    **fit_params
        For :func:`nmfkit.nmf` (default: HALS with the mask, tol 1e-6, 2000 sweeps).
    """
    Xd = dense(X)
    errors = []
    for seed in replicate_seeds(random_state, n_folds):
        rng = np.random.default_rng(seed)
        held = rng.random(Xd.shape) < fraction
        params = {"solver": "hals", "init": "random", "tol": 1e-6, "max_iter": 2000, **fit_params}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = nmf(Xd, n_components, mask=~held, random_state=seed, **params)
        R = (Xd - np.asarray(res.W) @ np.asarray(res.H))[held]
        errors.append(float(np.sum(R * R) / max(float(np.sum(Xd[held] ** 2)), np.finfo(float).tiny)))
    return float(np.mean(errors))
