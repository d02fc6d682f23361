"""Extrapolation with restarts around the quadratic (Frobenius) solvers (Ang & Gillis 2019).

After each factor update the factor is pushed further along its last step,
``F_hat = max(0, F_new + beta * (F_new - F_old))``, and the other factor is
updated from the extrapolated one. The weight ``beta`` grows while the
objective decreases and is cut, with the extrapolation discarded, when it
increases. Every decision is taken on the device (0-d arrays and ``where``), so
no value crosses to the host inside the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nmfkit.solvers._base import Problem, Solver, quadratic_stats

__all__ = ["Extrapolation", "ExtrapolatedNMF"]


@dataclass(frozen=True)
class Extrapolation:
    """Parameters of heuristic extrapolation with restarts (HER).

    Parameters
    ----------
    beta0 : float, default=0.5
        Initial extrapolation weight, in [0, 1].
    eta : float, default=1.5
        Division of ``beta`` at a restart (objective increased).
    gamma : float, default=1.05
        Growth of ``beta`` after a decrease, capped by ``beta_max``; must be
        below ``eta`` (and at least ``gamma_bar``).
    gamma_bar : float, default=1.01
        Growth of the cap ``beta_max`` after a decrease (the cap never exceeds 1;
        at a restart it becomes the ``beta`` that failed).

    References
    ----------
    .. [1] A. M. S. Ang and N. Gillis, "Accelerating nonnegative matrix
       factorization algorithms using extrapolation", Neural Computation 31(2),
       2019. :doi:`10.1162/neco_a_01157`
    """

    beta0: float = 0.5
    eta: float = 1.5
    gamma: float = 1.05
    gamma_bar: float = 1.01

    def __post_init__(self) -> None:
        if not 0.0 <= self.beta0 <= 1.0:
            msg = f"Extrapolation: beta0 must be in [0, 1]; got {self.beta0!r}."
            raise ValueError(msg)
        if not (1.0 <= self.gamma_bar <= self.gamma < self.eta):
            # growth slower than the cut, or beta returns at once to the value that just failed
            msg = (f"Extrapolation: need 1 <= gamma_bar <= gamma < eta; got eta={self.eta!r}, "
                   f"gamma={self.gamma!r}, gamma_bar={self.gamma_bar!r}.")
            raise ValueError(msg)


class ExtrapolatedNMF:
    """Frobenius NMF with extrapolated alternating updates, as an :class:`~nmfkit.fit.Iterative`.

    One step (Ang & Gillis 2019, Algorithm 2, with projected extrapolations):

    1. ``W_n = solve(W_hat, stats(X, H_hat))``, ``W_hat = max(0, W_n + beta (W_n - W_{n-1}))``;
    2. ``H_n = solve(H_hat, stats(X, W_hat))``, ``e_n`` = objective of ``(W_hat, H_n)``, read off
       the statistics of step 2 (no extra product with ``X``);
    3. if ``e_n > e_{n-1}``: ``H_hat = H_n``, ``W_hat = W_n`` (restart), ``beta_max = beta``,
       ``beta = beta / eta``; else ``H_hat = max(0, H_n + beta (H_n - H_{n-1}))``,
       ``beta = min(beta_max, gamma beta)``, ``beta_max = min(1, gamma_bar beta_max)``.

    The reported factors are ``(W_hat, H_n)``: feasible, with objective ``e_n``.

    Parameters
    ----------
    problem : Problem
        Frobenius loss, no mask.
    solver : Solver
        A quadratic solver with ``solve(problem, W, A, G)`` (HALS, ANLS-BPP, GCD, ANLS-PG).
    params : Extrapolation
    """

    def __init__(self, problem: Problem, solver: Solver, params: Extrapolation) -> None:
        self.problem = problem
        self.solver = solver
        self.params = params
        self._sq_norm = 0.5 * problem.backend.sq_norm(problem.X)

    def start(self, W: Any, H: Any) -> dict:
        """The initial state from starting factors."""
        xp = self.problem.backend.xp
        big = xp.asarray(float("inf"), dtype=W.dtype)
        return {"W": W, "H": H, "W_hat": W, "H_hat": H, "H_out": H,
                "beta": xp.asarray(self.params.beta0, dtype=W.dtype),
                "beta_max": xp.asarray(1.0, dtype=W.dtype), "error": big}

    def step(self, state: dict) -> dict:
        P, p = self.problem, self.params
        xp = P.backend.xp
        beta, beta_max = state["beta"], state["beta_max"]
        # W from the extrapolated H, warm-started at the extrapolated W
        A, G = quadratic_stats(P, state["W_hat"], state["H_hat"])
        W = self.solver.solve(P, state["W_hat"], A, G)
        W_hat = xp.maximum(W + beta * (W - state["W"]), 0.0)
        # H from the extrapolated W (left orientation: H.T)
        T = P.T
        A2, G2 = quadratic_stats(T, state["H_hat"].T, W_hat.T)
        Ht = self.solver.solve(T, state["H_hat"].T, A2, G2)
        # objective of (W_hat, H): the H-penalties are inside A2, G2; the W-penalties are added
        error = self._sq_norm - xp.sum(Ht * A2) + 0.5 * xp.sum(G2 * (Ht.T @ Ht))
        for pen in P.penalties_left:
            error = error + pen.value(W_hat, xp)
        H = Ht.T
        restart = error > state["error"]
        H_ext = xp.maximum(H + beta * (H - state["H"]), 0.0)
        new_beta = xp.where(restart, beta / p.eta, xp.minimum(beta_max, p.gamma * beta))
        new_max = xp.where(restart, beta, xp.minimum(xp.asarray(1.0, dtype=beta.dtype), p.gamma_bar * beta_max))
        return {"W": W, "H": H, "W_hat": xp.where(restart, W, W_hat), "W_out": W_hat,
                "H_hat": xp.where(restart, H, H_ext), "H_out": H,
                "beta": new_beta, "beta_max": new_max, "error": error}

    def objective(self, state: dict) -> Any:
        """The objective of the reported factors.

        In float64 it is the value read off the statistics during the step (free);
        in lower precision that value loses digits to cancellation when the fit
        is good, so the objective is evaluated afresh.
        """
        f = self.factors(state)
        if f["W"].dtype == self.problem.backend.xp.float64 and "W_out" in state:
            return state["error"]
        return self.problem.objective(f["W"], f["H"])

    def factors(self, state: dict) -> dict:
        return {"W": state.get("W_out", state["W"]), "H": state["H_out"]}
