"""The loop every method shares, what it returns, and what a method gives it.

:func:`run` iterates an :class:`Iterative` until a stopping rule fires,
evaluates the objective when a rule is due (the only host synchronisations),
keeps the :class:`HistoryEntry` list, prints the progress table, calls the
user's callback, saves checkpoints and warns when a limit, not convergence,
ended the loop. It knows nothing of losses, solvers, data types or where the
work runs: :func:`nmfkit.nmf`, the Dask fit and every method in
:mod:`nmfkit.methods` hand it their own :class:`Iterative`.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from nmfkit.stopping import Stop, StoppingRule, StopState

if TYPE_CHECKING:  # pragma: no cover
    from nmfkit.backend import Backend
    from nmfkit.checkpoint import Checkpoint

__all__ = ["FitResult", "HistoryEntry", "Iterative", "CallbackInfo", "run"]


class HistoryEntry(NamedTuple):
    """One objective evaluation: after ``n_iter`` sweeps, ``elapsed`` seconds into the fit."""

    n_iter: int
    objective: float
    elapsed: float


@dataclass
class FitResult:
    """What every fit returns.

    Attributes
    ----------
    W : array of shape (n_samples, n_components)
    H : array of shape (n_components, n_features)
    n_iter : int
        Sweeps performed (one sweep updates every factor once).
    converged : bool
        Whether a convergence rule (not a limit or a callback) stopped the loop.
    stop_reason : str
        Why the loop stopped, e.g. ``"converged: relative objective change 8.1e-05 <= tol=0.0001 ..."``.
    objective : float
        Final objective (loss plus penalties).
    history : list of HistoryEntry
        Objective values at iteration 0 and every check, with elapsed seconds.
    elapsed : float
        Seconds spent in the loop (initialization excluded).
    backend : str
    random_state : int or None
        The seed, when an int was given.
    extras : dict
        Method-specific results (solver, init, loss name, ...).
    """

    W: Any
    H: Any
    n_iter: int
    converged: bool
    stop_reason: str
    objective: float
    history: list = field(default_factory=list)
    elapsed: float = 0.0
    backend: str = "numpy"
    random_state: int | None = None
    extras: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        shape = f"W{tuple(self.W.shape)}, H{tuple(self.H.shape)}"
        return (f"FitResult({shape}, n_iter={self.n_iter}, converged={self.converged}, "
                f"objective={self.objective:.6g}, stop_reason={self.stop_reason!r})")


class Iterative(Protocol):
    """What the driver needs from a method. State is opaque to the driver.

    A method whose steps only describe work (a Dask graph) also has
    ``settle(state) -> (state, objective)``: the driver calls it instead of
    ``objective`` at every evaluation, so the pending sweeps run once, together
    with the objective.
    """

    def step(self, state: Any) -> Any: ...

    def objective(self, state: Any) -> Any: ...

    def factors(self, state: Any) -> dict: ...


@dataclass
class CallbackInfo:
    """Passed to ``callback`` after each sweep; return True (or raise StopIteration) to stop."""

    n_iter: int
    factors: dict
    elapsed: float
    objective: float | None


class _Printer:
    """The one progress table (``verbose >= 1``)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self.header = False

    def row(self, n_iter: int, objective: float, previous: float | None, elapsed: float) -> None:
        if not self.header:
            print(f"{'iter':>8}  {'objective':>14}  {'rel. change':>12}  {'time (s)':>9}", file=self.stream)
            self.header = True
        change = "" if previous is None or previous == 0 else f"{(previous - objective) / abs(previous):12.3e}"
        print(f"{n_iter:8d}  {objective:14.6e}  {change:>12}  {elapsed:9.3f}", file=self.stream)

    def stop(self, reason: str) -> None:
        print(f"stopped: {reason}", file=self.stream)


class _Count:
    """A count left on the device, read (one host synchronisation) only when called."""

    def __init__(self, backend: Any, value: Any) -> None:
        self.backend, self.value = backend, value

    def __call__(self) -> int:
        return int(self.backend.to_float(self.value))


def run(method: Iterative, state: Any, *, stop: StoppingRule, backend: Backend | Any,
        callback: Callable[[CallbackInfo], Any] | None = None, verbose: int = 0,
        record_every: int | None = None, warn_name: str = "max_iter", checkpoint: Checkpoint | None = None,
        resumed: tuple[int, list, float] | None = None) -> tuple[Any, dict]:
    """Iterate ``method.step`` until ``stop`` fires; the loop every method shares.

    Parameters
    ----------
    method : Iterative
    state : any
        Initial state for ``method.step``.
    stop : StoppingRule
        Usually an :class:`~nmfkit.stopping.AnyOf` of a convergence rule and limits.
    backend : Backend
        Used for the only host synchronisations: objective values when due.
    callback : callable, optional
        ``callback(CallbackInfo)`` after every sweep; any true return (a NumPy or torch bool
        included) or StopIteration stops, None and false values go on.
    verbose : int, default=0
        Print a progress row at each objective evaluation.
    record_every : int, optional
        Sweeps between objective evaluations; default ``stop.every`` or 10.
    warn_name : str, default="max_iter"
        The parameter the ConvergenceWarning tells the user to increase.
    checkpoint : Checkpoint, optional
        Save ``state``, the sweep count and the history every ``checkpoint.every`` sweeps.
    resumed : (n_iter, history, elapsed), optional
        Continue a run saved by a checkpoint (``state`` is its saved state).

    Returns
    -------
    state : any
        Final state.
    info : dict
        ``n_iter, converged, stop_reason, objective, history, elapsed``.
    """
    every = record_every or stop.every or 10
    printer = _Printer() if verbose else None
    n_iter, history, elapsed0 = resumed if resumed is not None else (0, [], 0.0)
    history = [HistoryEntry(int(h[0]), float(h[1]), float(h[2])) for h in history]
    started = time.perf_counter() - elapsed0

    settle = getattr(method, "settle", None)
    count_accepted = getattr(method, "accepted_steps", None)  # methods that may reject a step
    counted: Any = None  # the count at the previous evaluation, left on the device

    def record(n: int) -> float:
        nonlocal state
        if settle is not None:
            state, value = settle(state)  # lazy methods: state materialised and objective in one pass
        else:
            value = backend.to_float(method.objective(state))
        elapsed = time.perf_counter() - started
        if printer is not None:
            printer.row(n, value, history[-1].objective if history else None, elapsed)
        history.append(HistoryEntry(n, value, elapsed))
        return value

    if not history:
        record(0)
    outcome: Stop | None = None
    while outcome is None:
        previous = None
        if stop.needs_previous:
            previous = {k: backend.xp.asarray(v, copy=True) for k, v in method.factors(state).items()}
        state = method.step(state)
        n_iter += 1
        new_record = n_iter % every == 0
        accepted: _Count | None = None
        if new_record:
            record(n_iter)
            if count_accepted is not None:
                now = count_accepted(state)
                accepted = _Count(backend, now if counted is None else now - counted)
                counted = now
        outcome = stop.check(StopState(n_iter, history, new_record, method.factors(state), previous,
                                       started, backend, accepted))
        if outcome is None and callback is not None:
            progress_info = CallbackInfo(n_iter, method.factors(state), time.perf_counter() - started,
                                         history[-1].objective if new_record else None)
            try:
                if _asks_to_stop(callback(progress_info)):
                    outcome = Stop("callback requested stop", False)
            except StopIteration:
                outcome = Stop("callback requested stop", False)
        if outcome is None and checkpoint is not None and n_iter % checkpoint.every == 0:
            checkpoint.save(n_iter, state, history, time.perf_counter() - started, backend)
    if history[-1].n_iter != n_iter:
        record(n_iter)
    elapsed = time.perf_counter() - started
    if printer is not None:
        printer.stop(outcome.reason)
    if not outcome.converged and outcome.reason.startswith(("max_iter", "max_time")):
        from sklearn.exceptions import ConvergenceWarning  # scikit-learn's class, loaded when needed

        progress = stop.progress()
        detail = f" ({progress})" if progress else ""
        if outcome.reason.startswith("max_iter"):
            msg = f"Maximum number of iterations reached: {outcome.reason}{detail}. Increase {warn_name} or tol."
        else:
            msg = f"Time limit reached: {outcome.reason}{detail}. Increase max_time or tol."
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    info = {"n_iter": n_iter, "converged": outcome.converged, "stop_reason": outcome.reason,
            "objective": history[-1].objective, "history": history, "elapsed": elapsed}
    return state, info


def _asks_to_stop(answer: Any) -> bool:
    """Whether a callback's return asks the loop to stop: any true value (``numpy.bool_(True)``, a 0-d tensor);
    None goes on. A value with no single truth value (an array of several entries) is refused, by name."""
    if answer is None:
        return False
    try:
        return bool(answer)
    except (TypeError, ValueError, RuntimeError):
        from nmfkit._validation import InvalidInputError

        msg = (f"A callback returned {type(answer).__name__!s} {answer!r:.60}, which is neither true nor false; "
               "return True (or raise StopIteration) to stop the fit, None or False to go on.")
        raise InvalidInputError(msg) from None
