"""Greedy coordinate descent (Hsieh & Dhillon 2011)."""

from __future__ import annotations

from typing import Any

from nmfkit.solvers._base import Problem, QuadraticSolver

__all__ = ["GreedyCD"]


class GreedyCD(QuadraticSolver):
    """Greedy coordinate descent for the Frobenius loss (Hsieh & Dhillon 2011).

    For every row ``i`` of ``W`` the gain of the best one-variable step on each
    coordinate ``r`` is ``D_ir = -g_ir s_ir - 0.5 G_rr s_ir^2`` with
    ``s_ir = max(0, W_ir - g_ir / G_rr) - W_ir`` and ``g = W G - A`` the
    gradient. The coordinate with the largest gain is updated and the gradient
    row refreshed; a row stops when its best gain falls below ``tol`` times its
    first best gain, and every row stops after ``k**2`` steps. All rows advance
    together, one coordinate each per step.

    Parameters
    ----------
    tol : float, default=1e-3
        Relative gain below which a row stops.

    References
    ----------
    .. [1] C.-J. Hsieh and I. S. Dhillon, "Fast coordinate descent methods with
       variable selection for non-negative matrix factorization", KDD 2011.
       :doi:`10.1145/2020408.2020577`
    """

    name = "gcd"
    row_separable = True

    def __init__(self, tol: float = 1e-3) -> None:
        self.tol = tol

    def solve(self, problem: Problem, W: Any, A: Any, G: Any) -> Any:
        """Update ``W`` (n, k) from the statistics ``A = X H^T`` (n, k) and ``G = H H^T`` (k, k)."""
        backend = problem.backend
        xp = backend.xp
        k = W.shape[1]
        d = xp.linalg.diagonal(G)
        inv_d = xp.where(d > 0, 1.0 / xp.where(d > 0, d, 1.0), 0.0)  # no step where G_rr = 0
        W = xp.asarray(W, copy=True)
        grad = W @ G - A
        S, gain = self._steps(W, grad, d, inv_d, xp)
        threshold = self.tol * xp.max(gain, axis=1)
        # rows still moving: the arrays below hold only them (``rows`` gives their place in W);
        # they are compacted whenever half of them have stopped, so late steps touch few rows
        rows, Wa = xp.arange(W.shape[0]), W
        at = xp.arange(W.shape[0])
        for _ in range(k * k):
            best = xp.argmax(gain, axis=1)
            best_gain = xp.max(gain, axis=1)
            active = (best_gain > threshold) & (best_gain > 0)
            n_active = backend.to_float(xp.sum(xp.astype(active, xp.int64)))
            if n_active == 0:
                break
            if n_active <= 0.5 * Wa.shape[0]:
                if Wa is not W:  # the first compaction: W itself was updated in place
                    W[rows] = Wa
                keep = xp.nonzero(active)[0]
                rows, Wa, grad, S, threshold = rows[keep], Wa[keep], grad[keep], S[keep], threshold[keep]
                best, active = best[keep], active[keep]
                at = xp.arange(Wa.shape[0])
            # one coordinate per row: gather its step, write it, and refresh the row's gradient
            s = S[at, best] * xp.astype(active, W.dtype)
            Wa[at, best] = Wa[at, best] + s
            grad += s[:, None] * xp.take(G, best, axis=0)
            S, gain = self._steps(Wa, grad, d, inv_d, xp)
        if Wa is not W:
            W[rows] = Wa
        return xp.maximum(W, 0.0)  # W + s is >= 0 exactly up to round-off

    @staticmethod
    def _steps(W: Any, grad: Any, d: Any, inv_d: Any, xp: Any) -> tuple[Any, Any]:
        S = xp.maximum(W - grad * inv_d, 0.0) - W
        gain = -grad * S - 0.5 * d * S * S
        return S, gain
