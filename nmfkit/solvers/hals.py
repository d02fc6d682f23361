"""Hierarchical alternating least squares (HALS), accelerated and weighted."""

from __future__ import annotations

import math
from typing import Any

from nmfkit.solvers._base import Problem, QuadraticSolver

__all__ = ["HALS"]


class HALS(QuadraticSolver):
    """Accelerated HALS for the Frobenius loss (Cichocki & Phan 2009; Gillis & Glineur 2012).

    Each pass updates the columns of ``W`` one at a time (Gauss-Seidel) by the
    exact minimizer over that column,
    ``W[:, t] <- max(0, W[:, t] - (W @ G[:, t] - A[:, t]) / G[t, t])``,
    skipping columns with ``G[t, t] = 0``. The statistics ``A = X H^T`` and
    ``G = H H^T`` cost O(nmk) and are reused for up to ``1 + alpha * rho``
    passes (``rho = 1 + (nnz(X) + m k) / (n (k + 1))``, the cost of the
    statistics in units of one pass), stopping earlier when a pass changes
    ``W`` by less than ``delta`` times the first pass did.

    With a mask, the weighted variant updates each column from the weighted
    residual ``M * (X - W H)``; one pass per call.

    Parameters
    ----------
    alpha : float, default=0.5
        Inner-repetition budget; ``alpha=0`` gives plain HALS with one pass
        per update (the semantics of NMF.jl's ``:cd`` and scikit-learn's
        ``cd``).
    delta : float, default=0.1
        Stop repeating once a pass changes ``W`` by at most ``delta`` times
        the change of the first pass.

    References
    ----------
    .. [1] A. Cichocki and A.-H. Phan, "Fast local algorithms for large scale
       nonnegative matrix and tensor factorizations", IEICE Trans. Fundamentals
       E92-A(3), 2009. :doi:`10.1587/transfun.E92.A.708`
    .. [2] N. Gillis and F. Glineur, "Accelerated multiplicative updates and
       hierarchical ALS algorithms for nonnegative matrix factorization",
       Neural Computation 24(4), 2012. :doi:`10.1162/NECO_a_00256`
    """

    name = "hals"
    supports_mask = True
    row_separable = True

    def penalty_edits(self, problem: Problem) -> frozenset[str]:
        return frozenset({"weighted" if problem.mask is not None else "quadratic"})

    def __init__(self, alpha: float = 0.5, delta: float = 0.1) -> None:
        self.alpha = alpha
        self.delta = delta

    def update_left(self, problem: Problem, W: Any, H: Any) -> Any:
        if problem.mask is not None:
            return self._weighted(problem, W, H)
        return super().update_left(problem, W, H)

    def solve(self, problem: Problem, W: Any, A: Any, G: Any) -> Any:
        """Update ``W`` (n, k) from the statistics ``A = X H^T`` (n, k) and ``G = H H^T`` (k, k)."""
        n, k = W.shape
        return self.sweep_columns(W, A, G, self.passes(n, problem.X.shape[1], problem.nnz, k), problem.backend)

    def passes(self, n: int, m: int, nnz: int, k: int) -> int:
        """Most passes per update, ``1 + floor(alpha * rho)``, for ``W`` of shape (n, k) and ``X`` (n, m)."""
        rho = 1.0 + (nnz + m * k) / (n * (k + 1.0))
        return 1 + math.floor(self.alpha * rho)

    def sweep_columns(self, W: Any, A: Any, G: Any, passes: int, backend: Any) -> Any:
        """Up to ``passes`` Gauss-Seidel passes on a copy of ``W``, stopping once a pass changes
        ``W`` by at most ``delta`` times the first pass did; returns the copy.

        The passes run on ``W^T`` and ``A^T`` laid out row by row, so that every column update
        reads and writes contiguous memory (a column of a row-major ``W`` is strided: on
        200 000 x 10 factors the passes take a quarter less time). The copy returned is that
        transposed array's transpose, a column-major view.
        """
        xp = backend.xp
        inv_d = self.inverse_diagonal(G, xp)
        Wt = xp.asarray(_row_major(W.T, xp), copy=True)
        At = _row_major(A.T, xp)
        nonneg = getattr(backend, "nonneg_", None)
        if passes == 1:
            self.row_pass(Wt, At, G, inv_d, xp, track=False, nonneg=nonneg)
            return Wt.T
        first = None
        for p in range(passes):
            change = self.row_pass(Wt, At, G, inv_d, xp, track=True, nonneg=nonneg)
            if p == 0:
                first = change
            elif backend.to_float(change) <= self.delta**2 * backend.to_float(first):
                break
        return Wt.T

    @staticmethod
    def row_pass(Wt: Any, At: Any, G: Any, inv_d: Any, xp: Any, track: bool, nonneg: Any = None) -> Any:
        """:meth:`column_pass` on the transposes: ``Wt`` (k, n) and ``At`` (k, n), rows contiguous; in place.

        ``nonneg``: the backend's in-place ``max(a, 0)`` on a temporary (``Backend.nonneg_``), if any.
        """
        before = xp.asarray(Wt, copy=True) if track else None
        project = nonneg if nonneg is not None else (lambda a: xp.maximum(a, 0.0))
        for t in range(Wt.shape[0]):
            Wt[t] = project(Wt[t] - (G[t] @ Wt - At[t]) * inv_d[t])
        if not track:
            return None
        step = Wt - before
        return xp.sum(step * step)

    @staticmethod
    def inverse_diagonal(G: Any, xp: Any) -> Any:
        """``1 / G_tt``, and 0 where ``G_tt = 0`` (those columns are skipped).

        A subnormal ``G_tt`` (a column of H below 1e-154 in float64) counts as 0:
        its inverse would be inf and the column NaN.
        """
        d = xp.linalg.diagonal(G)
        usable = d >= xp.finfo(G.dtype).tiny
        return xp.where(usable, 1.0 / xp.where(usable, d, 1.0), 0.0)

    @staticmethod
    def column_pass(W: Any, A: Any, G: Any, inv_d: Any, xp: Any, track: bool) -> Any:
        """One Gauss-Seidel pass over the columns of W, in place; returns ||dW||^2 when tracked.

        ``G`` is symmetric, so its row ``t`` (contiguous) stands for its column.
        A stack of problems (``W`` of shape (b, n, k), ``A`` (b, n, k), ``G``
        (b, k, k), ``inv_d`` (b, k)), as :func:`nmfkit.batch.nmf_batch` runs
        them, takes the same pass on each, with one product per column for all.
        """
        before = xp.asarray(W, copy=True) if track else None
        if W.ndim == 2:
            for t in range(W.shape[1]):
                W[:, t] = xp.maximum(W[:, t] - (W @ G[t] - A[:, t]) * inv_d[t], 0.0)
        else:
            for t in range(W.shape[-1]):
                grad = (W @ G[..., :, t:t + 1])[..., 0] - A[..., t]
                W[..., t] = xp.maximum(W[..., t] - grad * inv_d[..., t, None], 0.0)
        if not track:
            return None
        step = W - before
        return xp.sum(step * step)

    def _weighted(self, problem: Problem, W: Any, H: Any) -> Any:
        """Weighted HALS: exact column minimizers of sum M * (X - WH)^2 / 2."""
        xp = problem.backend.xp
        M, X = problem.mask, problem.X
        W = xp.asarray(W, copy=True)
        E = M * (X - W @ H)  # weighted residual, kept current column by column
        D = M @ (H * H).T  # D[i, t] = sum_j M_ij H_tj^2
        for t in range(W.shape[1]):
            h = H[t, :]
            old = W[:, t]
            num = E @ h + old * D[:, t]
            den = D[:, t]
            for p in problem.penalties_left:
                num, den = p.edit_weighted(num, den, old)
            # rows without observed weight on h keep their value
            new = xp.where(den > 0, xp.maximum(num, 0.0) / xp.where(den > 0, den, 1.0), old)
            E = E - M * ((new - old)[:, None] * h[None, :])
            W[:, t] = new
        return W


def _row_major(M: Any, xp: Any) -> Any:
    """``M`` with its rows contiguous: a view when they already are, else a row-major copy (array API:
    reshaping to one dimension reads in row order)."""
    return xp.reshape(xp.reshape(M, (-1,)), M.shape)
