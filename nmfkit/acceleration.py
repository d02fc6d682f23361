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

from nmfkit import defaults as D
from nmfkit._validation import InvalidInputError
from nmfkit.solvers import Problem, QuadraticSolver, quadratic_stats

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
    gamma : float, default=None
        Growth of ``beta`` after a decrease, capped by ``beta_max``; must be
        below ``eta`` and at least ``gamma_bar``. ``None``: the authors'
        defaults, 1.1 for ANLS and 1.01 for the other solvers.
    gamma_bar : float, default=None
        Growth of the cap ``beta_max`` (never above 1) after a decrease.
        ``None``: 1.05 for ANLS, 1.005 otherwise.
    restart : {"current", "best", "accepted"}, default="current"
        What a restart keeps. ``"current"`` keeps the new iterates and drops
        only the extrapolation for one step, always extrapolating along the
        last step and capping ``beta`` at the value that failed. ``"best"``
        restarts whenever the evaluated pair is worse than the best so far
        (up to the rounding of the statistics) and goes back to the best
        pair, so the iterates never wander above it; it is monotone but
        slower (``benchmarks/defaults``: CBCL r = 49 to within 1e-3 of the
        reference in 17 s against 3.7 s). ``"accepted"`` is Ang & Gillis's
        scheme: go back to the last accepted iterates and cap ``beta`` at its
        previous value. The default rates of ``"current"`` and ``"best"`` are
        ``gamma = 1.05``, ``gamma_bar = 1.01``. In every scheme a component
        that the projection of an extrapolated factor would zero entirely is
        not extrapolated (otherwise the exact solve of the other factor kills
        it for good), and the stopping rules count a step as accepted only
        when its pair is no worse than the best one.

    References
    ----------
    .. [1] A. M. S. Ang and N. Gillis, "Accelerating nonnegative matrix
       factorization algorithms using extrapolation", Neural Computation 31(2),
       2019. :doi:`10.1162/neco_a_01157`
    """

    beta0: float = 0.5
    eta: float = 1.5
    gamma: float | None = None
    gamma_bar: float | None = None
    restart: str = "current"

    def __post_init__(self) -> None:
        if self.restart not in ("best", "current", "accepted"):
            msg = f"Extrapolation: restart must be 'best', 'current' or 'accepted'; got {self.restart!r}."
            raise InvalidInputError(msg)
        if not 0.0 <= self.beta0 <= 1.0:
            msg = f"Extrapolation: beta0 must be in [0, 1]; got {self.beta0!r}."
            raise InvalidInputError(msg)
        gamma, gamma_bar = self.rates("hals")
        if not (1.0 <= gamma_bar <= gamma < self.eta):
            # growth slower than the cut, or beta returns at once to the value that just failed
            msg = (f"Extrapolation: need 1 <= gamma_bar <= gamma < eta; got eta={self.eta!r}, "
                   f"gamma={gamma!r}, gamma_bar={gamma_bar!r}.")
            raise InvalidInputError(msg)

    def rates(self, solver_name: str) -> tuple[float, float]:
        """``(gamma, gamma_bar)`` for a solver: the given values, else the authors' defaults."""
        if self.restart in ("best", "current"):
            default = (1.05, 1.01)
        else:
            default = (1.1, 1.05) if solver_name.startswith("anls") else (1.01, 1.005)
        gamma = self.gamma if self.gamma is not None else default[0]
        gamma_bar = self.gamma_bar if self.gamma_bar is not None else default[1]
        return gamma, gamma_bar


class ExtrapolatedNMF:
    """Frobenius NMF with extrapolated alternating updates, as an :class:`~nmfkit.fit.Iterative`.

    One step (Ang & Gillis 2019, Algorithm 2, in this package's orientation: W first):

    1. ``W_n = solve(W_y, stats(X, H_y))``; ``W_y = max(0, W_n + beta (W_n - W))``;
    2. ``H_n = solve(H_y, stats(X, W_y))``; ``H_y = H_n + beta (H_n - H)``; ``e_n`` = objective
       of the feasible pair ``(W_y, H_n)``, read off the statistics of step 2 (no extra
       product with ``X``);
    3. if the step is accepted (``restart="best"``: ``e_n`` at most the best objective so far,
       up to rounding; the other schemes: ``e_n <= e_{n-1}``): ``beta = min(beta_max, gamma beta)``,
       ``beta_max = min(1, gamma_bar beta_max)``, and ``(W, H) = (W_n, H_n)`` become the base
       of the next extrapolation;
    4. else (restart), ``beta = beta / eta`` and, with ``restart="best"``, ``W_y, H_y`` and the
       base go back to the best pair and ``beta_max`` = the ``beta`` that failed; with
       ``restart="accepted"`` (the authors' scheme), ``W_y, H_y = W, H`` (the last accepted
       iterates, ``H_y`` left unprojected as theirs) and ``beta_max`` = the previous ``beta``; with
       ``restart="current"``, ``W_y, H_y = W_n, H_n``, the base moves to them too
       (``H_y`` projected), and ``beta_max`` = the ``beta`` that failed.

    The fit returns the best pair seen and its objective history never increases; stopping rules
    on the factors watch the pair evaluated at each step.

    Parameters
    ----------
    problem : Problem
        Frobenius loss, no mask.
    solver : QuadraticSolver
        HALS, ANLS-BPP, GCD or ANLS-PG (anything with ``solve(problem, W, A, G)``).
    params : Extrapolation
    """

    def __init__(self, problem: Problem, solver: QuadraticSolver, params: Extrapolation) -> None:
        self.problem = problem
        self.solver = solver
        self.params = params
        self.gamma, self.gamma_bar = params.rates(getattr(solver, "name", ""))
        self._sq_norm = 0.5 * problem.backend.sq_norm(problem.X, dtype=problem.backend.xp.float64)
        # rounding of the objective read off the statistics (computed in the data's precision)
        self._slack = 16 * problem.backend.eps(problem.X.dtype) * self._sq_norm

    def start(self, W: Any, H: Any) -> dict:
        """The initial state from starting factors."""
        xp = self.problem.backend.xp
        inf = xp.asarray(float("inf"), dtype=xp.float64)
        beta = xp.asarray(self.params.beta0, dtype=W.dtype)
        return {"W": W, "H": H, "W_y": W, "H_y": H, "best_W": W, "best_H": H, "W_eval": W, "H_eval": H,
                "beta": beta, "beta_prev": beta, "beta_max": xp.asarray(1.0, dtype=W.dtype),
                "error": inf, "best": inf, "accepted": xp.asarray(0, dtype=xp.int64), "started": False}

    def step(self, state: dict) -> dict:
        P = self.problem
        xp = P.backend.xp
        beta, beta_max = state["beta"], state["beta_max"]
        # W from the extrapolated H, warm-started at the extrapolated W
        A, G = quadratic_stats(P, state["W_y"], state["H_y"])
        W_n = self.solver.solve(P, xp.maximum(state["W_y"], 0.0), A, G)
        W_y = self._keep_alive(xp.maximum(W_n + beta * (W_n - state["W"]), 0.0), W_n, axis=0)
        # H from the extrapolated W (left orientation: H.T)
        T = P.T
        Ht_start = xp.maximum(state["H_y"], 0.0).T
        A2, G2 = quadratic_stats(T, Ht_start, W_y.T)
        Ht = self.solver.solve(T, Ht_start, A2, G2)
        # objective of (W_y, H_n): the H-penalties are inside A2, G2; the W-penalties are added.
        # Accumulated in float64 (small arrays): the terms cancel when the fit is good.
        f64 = xp.float64
        Ht64 = xp.astype(Ht, f64)
        error = (self._sq_norm - xp.sum(Ht64 * xp.astype(A2, f64))
                 + 0.5 * xp.sum(xp.astype(G2, f64) * (Ht64.T @ Ht64)))
        for pen in P.penalties_left:
            error = error + xp.astype(pen.value(W_y, xp), f64)
        H_n = Ht.T
        H_y = H_n + beta * (H_n - state["H"])
        H_y = self._keep_alive(H_y, H_n, axis=1)
        # a step is accepted when its pair is no worse than the best one (up to the rounding of the
        # statistics, so that plain steps at a stationary point count as accepted)
        accepted = error <= state["best"] + self._slack
        if self.params.restart == "best":
            restart = xp.logical_not(accepted)
        else:  # the authors' test: a rise over the previous step's objective
            restart = error > state["error"]
        better = error <= state["best"]
        W_old, H_old = state["W"], state["H"]
        if not (P.penalties_left or P.penalties_right):
            # balance the scales of W's columns and H's rows (by powers of two: exact); without it the
            # extrapolation can drift along W D, D^-1 H, which leaves the loss flat while W grows
            # without bound (seen with the factor-change stopping rule: W reached 1e153). Penalties
            # are not scale invariant, and they bound the drift themselves.
            d = self._balance(W_y, H_n)
            dW, dH = d[None, :], d[:, None]
            W_n, W_y, H_n = W_n * dW, W_y * dW, H_n / dH
            W_old, H_old, H_y = W_old * dW, H_old / dH, H_y / dH
        best_W = xp.where(better, W_y, state["best_W"])
        best_H = xp.where(better, H_n, state["best_H"])
        gamma, gamma_bar = self.gamma, self.gamma_bar
        one = xp.asarray(1.0, dtype=beta.dtype)
        grown = xp.minimum(one, gamma_bar * beta_max)
        if self.params.restart == "best":
            # back to the best pair; the next step extrapolates along the plain step from it
            base_W, base_H = xp.where(restart, state["best_W"], W_n), xp.where(restart, state["best_H"], H_n)
            next_W = xp.where(restart, state["best_W"], W_y)
            next_H = xp.where(restart, state["best_H"], xp.maximum(H_y, 0.0))
            new_max = xp.where(restart, beta, grown)
        elif self.params.restart == "accepted":
            base_W, base_H = xp.where(restart, W_old, W_n), xp.where(restart, H_old, H_n)
            next_W, next_H = xp.where(restart, W_old, W_y), xp.where(restart, H_old, H_y)
            new_max = xp.where(restart, state["beta_prev"], grown)
        else:
            base_W, base_H = W_n, H_n
            next_W, next_H = xp.where(restart, W_n, W_y), xp.where(restart, H_n, xp.maximum(H_y, 0.0))
            new_max = xp.where(restart, beta, grown)
        return {
            "W": base_W, "H": base_H, "W_y": next_W, "H_y": next_H, "best_W": best_W, "best_H": best_H,
            "beta": xp.where(restart, beta / self.params.eta, xp.minimum(beta_max, gamma * beta)),
            "beta_prev": beta, "beta_max": new_max, "W_eval": W_y, "H_eval": H_n,
            "error": error, "best": xp.minimum(error, state["best"]),
            "accepted": state["accepted"] + xp.astype(accepted, xp.int64), "started": True,
        }

    def _balance(self, W: Any, H: Any) -> Any:
        """Powers of two ``d`` (k,) with ``||W[:, t]|| d_t`` and ``||H[t]|| / d_t`` within a factor 2 of each other."""
        xp = self.problem.backend.xp
        nw = xp.sum(W * W, axis=0)
        nh = xp.sum(H * H, axis=1)
        tiny = xp.finfo(W.dtype).tiny  # (a subnormal norm would overflow the ratio)
        ok = (nw >= tiny) & (nh >= tiny)
        ratio = xp.where(ok, nh / xp.where(ok, nw, 1.0), 1.0)
        return 2.0 ** xp.round(0.25 * xp.log2(ratio))

    def _keep_alive(self, F_y: Any, F_n: Any, axis: int) -> Any:
        """``F_y`` with every component that the projection left all-zero (or negative) taken from ``F_n``.

        Projecting an extrapolated factor can zero a whole column of ``W`` (a
        row of ``H``); the exact solve of the other factor then zeros that
        component for good, since nothing can bring it back (with ANLS-BPP
        on CBCL r = 49, 21 of 49 components died this way). Such components
        are not extrapolated.
        """
        xp = self.problem.backend.xp
        alive = xp.any(F_y > 0, axis=axis, keepdims=True)
        return xp.where(alive, F_y, F_n)

    def accepted_steps(self, state: dict) -> Any:
        """How many steps so far evaluated a pair no worse than the best before them (0-d integer array).

        The driver reads it at each objective evaluation: a stretch of sweeps in
        which every step was rejected leaves the best objective flat, and that
        is not convergence.
        """
        return state["accepted"]

    def objective(self, state: dict) -> Any:
        """The objective of the best pair so far (what the fit returns), so the history never rises.

        After the first step it is the value read off the statistics (free; float64
        accumulation, so float32 data lose only the rounding of the statistics).
        """
        if state["started"]:
            # the expanded form cancels near an exact fit and can dip below 0 by rounding; a loss cannot
            return self.problem.backend.xp.maximum(state["best"], 0.0)
        W, H = self.best(state)
        return self.problem.objective(W, H)

    def factors(self, state: dict) -> dict:
        """The pair evaluated at the last step (what factor-change stopping rules watch)."""
        return {"W": state["W_eval"], "H": state["H_eval"]}

    def best(self, state: dict) -> tuple[Any, Any]:
        """The best pair seen: the result of the fit."""
        return state["best_W"], state["best_H"]


def resolve_extrapolation(extrapolate: Any, solver: Any, stop: Any, *, caller: str, beta: float, masked: bool,
                          update_H: bool) -> tuple[QuadraticSolver, Extrapolation] | None:
    """The ``extrapolate`` option of :func:`nmfkit.nmf` checked: ``(solver, Extrapolation)``, or None when off.

    ``"auto"`` turns it on wherever it applies (:func:`nmfkit.defaults.extrapolation_applies`)
    unless the stopping rule watches the factors; ``True`` or an instance where it does not
    apply is an error naming what is missing.
    """
    applies = D.extrapolation_applies(quadratic_loss=beta == 2.0, quadratic_solver=isinstance(solver, QuadraticSolver),
                                      masked=masked, update_H=update_H)
    if isinstance(extrapolate, str) and extrapolate == "auto":
        extrapolate = applies and not stop.needs_previous  # see nmfkit.defaults.EXTRAPOLATE
    if extrapolate is False or extrapolate is None:
        return None
    if extrapolate is True:
        extrapolate = Extrapolation()
    if not isinstance(extrapolate, Extrapolation):
        msg = (f"The 'extrapolate' parameter of {caller} must be a bool, 'auto' or an Extrapolation. "
               f"Got {extrapolate!r}.")
        raise InvalidInputError(msg)
    if not applies or not isinstance(solver, QuadraticSolver):  # (the isinstance narrows the type)
        msg = ("extrapolate needs the Frobenius loss, a quadratic solver ('hals', 'anls-bpp', 'gcd', "
               "'anls-pg'), no mask and update_H=True; got "
               f"beta_loss={beta:g}, solver={solver.name!r}, mask={'yes' if masked else 'no'}, "
               f"update_H={update_H}.")
        raise InvalidInputError(msg)
    return solver, extrapolate
