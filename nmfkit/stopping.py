"""Stopping rules.

A rule looks at the driver's state after each sweep and returns a
:class:`Stop` (why to stop, and whether that counts as convergence) or
``None``. Rules are combined with :class:`AnyOf`; names resolve through a
registry like solvers and initializations.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

from nmfkit._registry import Registry

__all__ = [
    "Stop", "StopState", "StoppingRule", "RelativeObjectiveChange", "FactorChange", "FixedSweeps", "MaxIter",
    "MaxTime", "AnyOf", "converged_reason", "register_stopping", "get_stopping", "available_stopping",
]


@dataclass(frozen=True)
class Stop:
    """Why a loop stopped."""

    reason: str
    converged: bool


@dataclass
class StopState:
    """What a rule may look at after sweep ``n_iter``.

    ``history`` holds ``(n_iter, objective, elapsed)`` entries, newest last;
    ``new_record`` tells whether the last entry was added after this sweep.
    ``factors`` and ``previous`` map factor names to arrays after and before
    the sweep (``previous`` is only filled for rules with ``needs_previous``).
    ``accepted`` is, for methods that may reject a step (extrapolation), a
    function returning the number of steps accepted since the previous
    evaluation (it reads the device, so rules call it only when they need
    it), and ``None`` for methods whose every step counts.
    """

    n_iter: int
    history: list
    new_record: bool
    factors: dict
    previous: dict | None
    started: float
    backend: Any
    accepted: Callable[[], int] | None = None


class StoppingRule(ABC):
    """Protocol of stopping rules.

    Attributes
    ----------
    every : int
        Sweeps between two objective evaluations this rule needs (``0``: none).
    needs_previous : bool
        Whether the driver must keep the factors from before each sweep.
    """

    every: int = 0
    needs_previous: bool = False

    @abstractmethod
    def check(self, state: StopState) -> Stop | None:
        """Return a :class:`Stop` to end the loop, else ``None``."""

    def progress(self) -> str | None:
        """The last measured criterion, for messages, e.g. ``"relative objective change 3e-03 > tol=1e-04"``."""
        return None


def converged_reason(change: float, tol: float, sweeps: int) -> str:
    """The stop reason of :class:`RelativeObjectiveChange` (batched replicates state theirs the same way)."""
    return (f"converged: relative objective change {change:.3e} <= tol={tol:g} "
            f"over {sweeps} sweep{'s' if sweeps != 1 else ''}")


@dataclass
class RelativeObjectiveChange(StoppingRule):
    """Converged when ``(f_prev - f) / |f_prev| <= tol`` between two evaluations ``every`` sweeps apart.

    The denominator is floored at ``1e-12 * |f_0|`` (``f_0``: the objective at
    the start), so fits that reach an exact factorization stop instead of
    chasing round-off. Three things are never convergence: ``tol = 0`` (the
    loop runs to its limits), an objective that is no longer a positive
    finite number (underflow to 0, overflow, NaN), and a stretch of sweeps in
    which a method that may reject steps (extrapolation) accepted none, so
    the objective of its accepted iterates did not move for that reason. The
    reason given names the sweeps actually between the two evaluations.

    Parameters
    ----------
    tol : float, default=1e-4
    every : int, default=10
        Sweeps between evaluations (scikit-learn's MU checks every 10 sweeps).
    absolute : bool, default=False
        Compare ``|f_prev - f|`` instead of the decrease, so that an objective
        that rises by more than ``tol`` keeps the loop going (the rule of the
        GNMF and persistent-NMF reference codes, whose updates are not monotone).
    """

    tol: float = 1e-4
    every: int = 10
    absolute: bool = False
    _last: float | None = field(default=None, repr=False)
    _note: str | None = field(default=None, repr=False)

    def check(self, state: StopState) -> Stop | None:
        if not state.new_record or len(state.history) < 2:
            return None
        (n_prev, prev), (n_cur, cur) = state.history[-2][:2], state.history[-1][:2]
        if not (math.isfinite(prev) and math.isfinite(cur)):
            self._last, self._note = None, f"the objective is not finite ({cur!r})"
            return None
        # an objective that fell to round-off level (exact fits) is measured against the start
        scale = max(abs(prev), 1e-12 * abs(state.history[0][1]))
        if not scale > 0 or (cur == 0.0 and state.history[0][1] == 0.0):
            self._last, self._note = None, "the objective is 0 (underflow, or an all-zero problem)"
            return None
        self._last = (prev - cur) / scale
        if self.absolute:
            self._last = abs(self._last)
        self._note = None
        if self.tol > 0 and self._last <= self.tol:
            sweeps = n_cur - n_prev
            if state.accepted is not None and state.accepted() == 0:
                self._note = f"no step accepted in the last {sweeps} sweeps"
                return None
            return Stop(converged_reason(self._last, self.tol, sweeps), True)
        return None

    def progress(self) -> str | None:
        if self._note is not None:
            return self._note
        if self._last is None:
            return None
        if self.tol == 0:
            return f"relative objective change {self._last:.3e}; tol=0 never counts as converged"
        return f"relative objective change {self._last:.3e} > tol={self.tol:g}"


@dataclass
class FactorChange(StoppingRule):
    """Converged when every factor changed little over one sweep (NMF.jl's rule).

    With ``per_component=True`` (default) the test holds when, for every
    component ``j``,
    ``||W[:, j] - W_prev[:, j]|| <= tol * ||W[:, j] + W_prev[:, j]||`` and the
    same for the rows of ``H``. The denominator is the norm of the *sum*; the
    norms are *not* squared unless ``squared=True`` (then
    ``||.||^2 <= tol * ||.||^2``). An all-zero component (0/0) counts as
    converged. The rule is scale invariant. ``tol = 0`` never converges.

    Parameters
    ----------
    tol : float, default=1e-4
    per_component : bool, default=True
        Whole-matrix norms when False.
    squared : bool, default=False
        Compare squared norms (the printed form of Guo & Holy's eq. 17).

    References
    ----------
    .. [1] Y. Guo and T. E. Holy, "NMF-Merge: ...", IEEE Trans. Signal
       Process., 2025 (stopping rule of NMF.jl, PR #83).
    """

    tol: float = 1e-4
    per_component: bool = True
    squared: bool = False
    every: int = field(default=0, init=False, repr=False)
    needs_previous: bool = field(default=True, init=False, repr=False)
    _last: float | None = field(default=None, repr=False)

    def _ratio(self, F: Any, P: Any, axis: int, xp: Any) -> Any:
        diff, total = F - P, F + P
        if self.per_component:
            d = xp.sum(diff * diff, axis=axis)
            s = xp.sum(total * total, axis=axis)
        else:
            d, s = xp.sum(diff * diff), xp.sum(total * total)
        # 0/0 (an all-zero component before and after) counts as no change
        return xp.max(xp.where(s > 0, d / xp.where(s > 0, s, 1.0), xp.where(d > 0, xp.inf, 0.0)))

    def check(self, state: StopState) -> Stop | None:
        xp = state.backend.xp
        worst = 0.0
        previous = state.previous or {}
        for name, F in state.factors.items():
            P = previous[name]
            # W-like factors (n, k): components are columns; H-like (k, m): rows
            axis = 0 if name.startswith("W") else 1
            worst = xp.maximum(worst, self._ratio(F, P, axis, xp))
        ratio_sq = state.backend.to_float(worst)
        self._last = ratio_sq if self.squared else ratio_sq**0.5
        if self.tol > 0 and self._last <= self.tol:  # tol = 0: run to the limits
            kind = "per-component " if self.per_component else ""
            sq = "squared " if self.squared else ""
            return Stop(f"converged: {kind}relative factor change ({sq}norms) {self._last:.3e} "
                        f"<= tol={self.tol:g}", True)
        return None

    def progress(self) -> str | None:
        if self._last is None:
            return None
        return f"relative factor change {self._last:.3e} > tol={self.tol:g}"


@dataclass
class MaxIter(StoppingRule):
    """Stop after ``max_iter`` sweeps (not convergence; the driver warns)."""

    max_iter: int = 200

    def check(self, state: StopState) -> Stop | None:
        if state.n_iter >= self.max_iter:
            return Stop(f"max_iter={self.max_iter} reached", False)
        return None


@dataclass
class FixedSweeps(StoppingRule):
    """Run exactly ``n_sweeps`` sweeps: the intended end, so no warning, but not convergence either.

    The rule of methods analysed with a fixed budget (e.g. deep beta-NMF). No
    criterion was tested, so the fit reports ``converged=False`` and the
    reason "completed the requested N sweeps". As a name, ``stop="fixed"``
    runs ``max_iter`` sweeps.
    """

    n_sweeps: int = 100

    def check(self, state: StopState) -> Stop | None:
        if state.n_iter >= self.n_sweeps:
            return Stop(f"completed the requested {self.n_sweeps} sweeps (a fixed budget, no convergence test)",
                        False)
        return None


@dataclass
class MaxTime(StoppingRule):
    """Stop once ``max_time`` seconds have elapsed (not convergence)."""

    max_time: float = 60.0

    def check(self, state: StopState) -> Stop | None:
        if time.perf_counter() - state.started >= self.max_time:
            return Stop(f"max_time={self.max_time:g}s reached", False)
        return None


class AnyOf(StoppingRule):
    """Stop when any of the rules says so (the first one listed wins ties)."""

    def __init__(self, *rules: StoppingRule) -> None:
        self.rules = rules
        everies = [r.every for r in rules if r.every]
        self.every = min(everies) if everies else 0
        self.needs_previous = any(r.needs_previous for r in rules)

    def check(self, state: StopState) -> Stop | None:
        for rule in self.rules:
            stop = rule.check(state)
            if stop is not None:
                return stop
        return None

    def progress(self) -> str | None:
        for rule in self.rules:
            p = rule.progress()
            if p is not None:
                return p
        return None

    def __repr__(self) -> str:
        return f"AnyOf({', '.join(map(repr, self.rules))})"


_STOPPING = Registry("stopping rule", "rules", StoppingRule)


def register_stopping(name: str, factory: Any, *, aliases: tuple[str, ...] = ()) -> None:
    """Register a factory ``factory(tol=..., max_iter=...) -> StoppingRule`` under ``name``."""
    _STOPPING.register(name, factory, aliases=aliases)


def available_stopping() -> list[str]:
    """Canonical names of the registered convergence rules."""
    return _STOPPING.names()


def get_stopping(stop: str | StoppingRule, *, tol: float, max_iter: int = 200) -> StoppingRule:
    """A rule instance from a name (built from ``tol`` and ``max_iter``) or an instance (returned as is).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid names.
    """
    return _STOPPING.get(stop, tol=tol, max_iter=max_iter)


register_stopping("objective", lambda tol, max_iter: RelativeObjectiveChange(tol),
                  aliases=("relative-objective",))
register_stopping("factor", lambda tol, max_iter: FactorChange(tol), aliases=("factor-change", "per-component"))
register_stopping("fixed", lambda tol, max_iter: FixedSweeps(max_iter), aliases=("max_iter",))
