"""Sparseness-constrained NMF (Hoyer 2004) and Hoyer's projection operator.

Hoyer's sparseness of a vector ``x`` of length ``n`` is

    sparseness(x) = (sqrt(n) - ||x||_1 / ||x||_2) / (sqrt(n) - 1),

0 for a constant vector and 1 for a vector with one non-zero. ``nmf_sc``
constrains every usage column of ``W`` and/or every component row of ``H`` to a
chosen sparseness: the constrained factor takes a projected gradient step
(each vector projected back onto the set of non-negative vectors with its L2
norm and the L1 norm that the sparseness implies), with the step size halved
until the objective does not increase and enlarged by 1.2 after each success;
an unconstrained factor takes a multiplicative update (Lee & Seung). The
objective ``0.5 ||X - W H||_F^2`` therefore never increases.

For an L1 *penalty* instead of a hard constraint, use :func:`nmfkit.nmf` with
``alpha_W``/``alpha_H`` and ``l1_ratio=1``.

Orientation: Hoyer's ``V ≈ W H`` has one sample per column of ``V``; nmfkit's
``X = V.T`` has one per row, so Hoyer's ``sW`` (sparseness of the basis,
nmfkit's components) is ``sparseness_H`` here and his ``sH`` is ``sparseness_W``.

References
----------
.. [1] P. O. Hoyer, "Non-negative matrix factorization with sparseness
   constraints", JMLR 5, 1457-1469, 2004.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit.backend import get_backend
from nmfkit.fit import FitResult, run
from nmfkit.losses import BetaDivergence
from nmfkit.metrics import sparseness
from nmfkit.solvers import MU, Problem
from nmfkit.stopping import AnyOf, MaxIter, RelativeObjectiveChange

__all__ = ["hoyer_project", "nmf_sc", "sparseness"]


def hoyer_project(x: Any, l1: float, l2: float, *, max_iter: int = 1000) -> np.ndarray:
    """The non-negative vector with the given L1 and L2 norms closest to ``x`` (Hoyer 2004, sec. 3.2).

    Alternates projections onto the hyperplane ``sum(s) = l1`` and the sphere
    ``||s||_2 = l2`` (within the hyperplane), fixing entries that turn negative at
    zero, until every entry is non-negative; at most ``n`` rounds are needed.

    Parameters
    ----------
    x : array of shape (n,)
    l1, l2 : float
        Target norms, with ``l2 <= l1 <= sqrt(n) l2``.
    max_iter : int, default=1000

    Returns
    -------
    ndarray of shape (n,)
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    s = x + (l1 - x.sum()) / n
    zero = np.zeros(n, dtype=bool)
    for _ in range(max_iter):
        free = ~zero
        m = np.where(free, l1 / free.sum(), 0.0)
        w = s - m
        a = float(w @ w)
        b = float(2.0 * (w @ m))
        c = float(m @ m) - l2 * l2
        if a <= 0:
            s = m
        else:
            alpha = (-b + np.sqrt(max(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)
            s = m + alpha * w
        if s.min() >= 0:
            return s
        zero |= s < 0
        s[zero] = 0.0
        shift = (s.sum() - l1) / max(int((~zero).sum()), 1)
        s[~zero] -= shift
    return np.maximum(s, 0.0)


def _l1_for(l2: np.ndarray, n: int, target: float) -> np.ndarray:
    return l2 * (np.sqrt(n) - (np.sqrt(n) - 1.0) * target)


def _project_rows(F: np.ndarray, target: float) -> np.ndarray:
    """Project every row of ``F`` to sparseness ``target`` keeping its L2 norm."""
    n = F.shape[1]
    l2 = np.linalg.norm(F, axis=1)
    l1 = _l1_for(l2, n, target)
    return np.vstack([hoyer_project(f, a, b) if b > 0 else f for f, a, b in zip(F, l1, l2, strict=True)])


class _HoyerSC:
    """nmfsc as an :class:`~nmfkit.fit.Iterative`; the state carries the two step sizes."""

    def __init__(self, X: np.ndarray, sW: float | None, sH: float | None) -> None:
        self.X = X
        self.sW = sW
        self.sH = sH
        self.problem = Problem(X, X.T, BetaDivergence(2.0), get_backend(X))  # for the free factor's MU step
        self.mu = MU()

    def _obj(self, W: np.ndarray, H: np.ndarray) -> float:
        R = self.X - W @ H
        return 0.5 * float(np.sum(R * R))

    def _constrained(self, F: np.ndarray, grad: np.ndarray, step: float, target: float, objective: Any,
                     current: float) -> tuple[np.ndarray, float]:
        for _ in range(60):
            G = _project_rows(F - step * grad, target)
            value = objective(G)
            if value <= current:
                return G, step * 1.2
            step /= 2.0
        return F, step

    def step(self, state: tuple) -> tuple:
        W, H, muW, muH = state
        X = self.X
        current = self._obj(W, H)
        if self.sH is not None:  # components (rows of H) constrained: Hoyer's sW
            grad = W.T @ (W @ H - X)
            H, muH = self._constrained(H, grad, muH, self.sH, lambda G: self._obj(W, G), current)
            current = self._obj(W, H)
        else:
            H = self.mu.update_left(self.problem.T, H.T, W.T).T
        if self.sW is not None:  # usages (columns of W) constrained: Hoyer's sH
            grad = (W @ H - X) @ H.T
            Wt, muW = self._constrained(W.T, grad.T, muW, self.sW, lambda G: self._obj(G.T, H), current)
            W = Wt.T
        else:
            W = self.mu.update_left(self.problem, W, H)
        return (W, H, muW, muH)

    def objective(self, state: tuple) -> Any:
        return np.asarray(self._obj(state[0], state[1]))

    def factors(self, state: tuple) -> dict:
        return {"W": state[0], "H": state[1]}


@shared_docs
def nmf_sc(X: Any, n_components: int, *, sparseness_W: float | None = None, sparseness_H: float | None = None,
           tol: float = 1e-6, max_iter: int = 2000, random_state: Any = None, verbose: int = 0) -> Any:
    """NMF with sparseness constraints (Hoyer 2004): ``min 0.5 ||X - W H||_F^2`` with fixed sparseness.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    sparseness_W : float in [0, 1], optional
        Sparseness of every column of ``W`` (each component's usage over the samples).
    sparseness_H : float in [0, 1], optional
        Sparseness of every row of ``H`` (each component's profile over the features).
    tol : float, default=1e-6
        Relative objective change over 10 sweeps.
    max_iter : int, default=2000
    {random_state}
    {verbose}

    Returns
    -------
    FitResult
        The constrained factors hold the requested sparseness exactly;
        ``extras["sparseness_W"]``/``["sparseness_H"]`` report the achieved values.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.methods import nmf_sc, sparseness
    >>> X = np.random.default_rng(0).random((30, 20))
    >>> res = nmf_sc(X, 3, sparseness_H=0.7, random_state=0, max_iter=200)
    >>> np.round(sparseness(res.H, axis=1), 6).tolist()
    [0.7, 0.7, 0.7]
    """
    Xv, _ = V.check_data(X, caller="nmf_sc")
    k = V.check_n_components(n_components, Xv.shape, "nmf_sc")
    for name, value in (("sparseness_W", sparseness_W), ("sparseness_H", sparseness_H)):
        V.check_interval(value, name, "nmf_sc", low=0.0, high=1.0, allow_none=True)
    rng, seed = V.check_random_state(random_state, "nmf_sc")
    Xd = Xv.toarray() if sp.issparse(Xv) else np.asarray(Xv, dtype=float)
    n, m = Xd.shape
    W = rng.random((n, k))
    H = rng.random((k, m))
    # Hoyer's start: constrained vectors at unit L2 norm and the requested sparseness
    if sparseness_H is not None:
        H = _project_rows(H / np.linalg.norm(H, axis=1, keepdims=True), sparseness_H)
    if sparseness_W is not None:
        W = _project_rows((W / np.linalg.norm(W, axis=0, keepdims=True)).T, sparseness_W).T
    scale = np.sqrt(max(float(np.sum(Xd * Xd)), 1e-300) / max(float(np.sum((W @ H) ** 2)), 1e-300))
    if sparseness_W is None:  # put the overall scale on an unconstrained factor (constraints keep norms)
        W = W * scale
    elif sparseness_H is None:
        H = H * scale
    method = _HoyerSC(Xd, sparseness_W, sparseness_H)
    stop = AnyOf(RelativeObjectiveChange(tol, every=10), MaxIter(max_iter))
    (W, H, _, _), info = run(method, (W, H, 1.0, 1.0), stop=stop, backend=get_backend(Xd), verbose=verbose)
    return FitResult(W, H, random_state=seed, **info,
                     extras={"method": "nmf_sc", "loss_value": info["objective"],
                             "sparseness_W": sparseness(W, axis=0).tolist(),
                             "sparseness_H": sparseness(H, axis=1).tolist()})
