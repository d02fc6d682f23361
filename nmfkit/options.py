"""The options every NMF fit shares, resolved once: what :func:`nmfkit.nmf` and the Dask fit both take.

:func:`resolve` checks the loss, penalties' strengths, tolerances and limits,
the stopping rule, the random state, the solver and the start, and returns a
:class:`FitOptions`; its methods give the rank, the user's starting factors
(checked against the data) and the stopping rule with the limits. Where the
work then runs (in memory, on a GPU, on a Dask cluster) is the caller's
business. :data:`ENGINES` says which inputs another fit function takes over,
without loading it until such an input arrives.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nmfkit import _validation as V
from nmfkit import defaults as D
from nmfkit._validation import InvalidInputError
from nmfkit.initialization import CustomInit, Initializer, get_initializer
from nmfkit.solvers import Solver, resolve_solver
from nmfkit.stopping import AnyOf, MaxIter, MaxTime, StoppingRule, get_stopping

__all__ = ["FitOptions", "resolve", "Engine", "ENGINES", "engine_for"]


@dataclass
class FitOptions:
    """A fit's options, checked (see :func:`resolve`); the factors ``W`` and ``H`` as the user gave them."""

    caller: str
    beta: float
    alpha_W: float
    alpha_H: float
    l1_ratio: float
    tol: float
    max_iter: int
    max_time: float | None
    verbose: int
    record_every: int | None
    stop: StoppingRule
    rng: np.random.Generator
    seed: int | None
    solver: Solver
    init: Any
    initializer: Initializer | None
    custom: bool
    W: Any
    H: Any
    update_H: bool
    callback: Callable | None

    def rank(self, n_components: Any, shape: tuple[int, int]) -> int:
        """``n_components`` checked; ``None``: from ``H`` or ``W`` when given, else ``min(shape)``."""
        if n_components is None:
            if self.H is not None:
                n_components = np.shape(self.H)[0]
            elif self.W is not None:
                n_components = np.shape(self.W)[1]
            else:
                n_components = min(shape)
        return V.check_n_components(n_components, shape, self.caller)

    def user_start(self, k: int, shape: tuple[int, int], dtype: Any,
                   data_sum: Callable[[], float]) -> tuple[np.ndarray, np.ndarray, str] | None:
        """Starting factors the user gave, checked: ``(W, H, init_name)``; None when an initializer must run.

        With ``update_H=False``, ``H`` (the fixed components) is required and a missing ``W`` starts
        constant at the data's scale, ``sqrt(mean(X) / k)`` (``data_sum()`` is called only then).
        """
        W, H, caller = self.W, self.H, self.caller
        n, m = shape
        if not self.update_H:
            if H is None:
                msg = (f"update_H=False needs the fixed components: pass H of shape (n_components, n_features) "
                       f"= {(k, m)}.")
                raise InvalidInputError(msg)
            H = V.check_factor(H, "H", (k, m), dtype, caller)
            if W is None:  # constant start at the data's scale (as scikit-learn); the solver does the work
                W = np.full((n, k), np.sqrt(data_sum() / (n * m) / k), dtype=V.host_dtype(dtype))
            else:
                W = V.check_factor(W, "W", (n, k), dtype, caller)
            return W, H, "fixed H"
        if not (self.custom or W is not None or H is not None):
            return None
        if W is None or H is None:
            msg = (f"Pass both W and H to start from given factors (or H alone with update_H=False); "
                   f"got {'only W' if W is not None else 'only H' if H is not None else 'neither'}.")
            raise InvalidInputError(msg)
        if self.initializer is not None and not isinstance(self.initializer, CustomInit):
            msg = f"W and H were given, so init must be None or 'custom'; got init={self.init!r}."
            raise InvalidInputError(msg)
        return V.check_factor(W, "W", (n, k), dtype, caller), V.check_factor(H, "H", (k, m), dtype, caller), "custom"

    def start(self) -> tuple[Initializer, str]:
        """The initializer to run when the user gave no factors, and its name for the result."""
        name = self.init if isinstance(self.init, str) else (D.INIT if self.init is None else repr(self.initializer))
        return self.initializer or get_initializer(D.INIT), name

    def limits(self) -> AnyOf:
        """The convergence rule with ``max_iter`` and, when given, ``max_time``."""
        rules: list[StoppingRule] = [self.stop, MaxIter(self.max_iter)]
        if self.max_time is not None:
            rules.append(MaxTime(self.max_time))
        return AnyOf(*rules)


def resolve(caller: str, *, beta_loss: Any, solver: Any, init: Any, W: Any, H: Any, update_H: Any, alpha_W: Any,
            alpha_H: Any, l1_ratio: Any, stop: Any, record_every: Any, tol: Any, max_iter: Any, max_time: Any,
            random_state: Any, callback: Any, verbose: Any) -> FitOptions:
    """Check the options of :func:`nmfkit.nmf` that do not depend on the data; see its parameters."""
    checked = V.check_fit_options(caller, beta_loss=beta_loss, alpha_W=alpha_W, alpha_H=alpha_H, l1_ratio=l1_ratio,
                                  tol=tol, max_iter=max_iter, max_time=max_time, verbose=verbose,
                                  record_every=record_every, update_H=update_H, callback=callback)
    stop_rule = get_stopping(stop, tol=checked["tol"], max_iter=checked["max_iter"])
    rng, seed = V.check_random_state(random_state, caller)
    solver_obj = resolve_solver(solver, checked["beta"])
    custom = isinstance(init, str) and init == "custom"
    initializer = None if init is None or custom else get_initializer(init)
    if isinstance(initializer, CustomInit):
        W, H, custom = initializer.W, initializer.H, True
    return FitOptions(caller, checked["beta"], checked["alpha_W"], checked["alpha_H"], checked["l1_ratio"],
                      checked["tol"], checked["max_iter"], checked["max_time"], checked["verbose"],
                      checked["record_every"], stop_rule, rng, seed, solver_obj, init, initializer, custom, W, H,
                      bool(update_H), callback)


# -- other engines: inputs another fit function takes over ---------------------------------------------------
@dataclass(frozen=True)
class Engine:
    """A fit function for one kind of input, named by import path and loaded only when such input arrives.

    Parameters
    ----------
    name : str
        The kind of input, for messages (``"Dask"``).
    packages : tuple of str
        Top-level packages whose array types it may take (tested without importing anything).
    accepts : str
        ``"module:function"``: ``function(X) -> bool`` says whether it takes ``X``.
    fit : str
        ``"module:function"`` called as :func:`nmfkit.nmf` would be.
    lacks : tuple of str
        Options of :func:`nmfkit.nmf` it does not take.
    why : str
        Why (ends the message that refuses them).
    """

    name: str
    packages: tuple[str, ...]
    accepts: str
    fit: str
    lacks: tuple[str, ...] = ()
    why: str = ""

    @staticmethod
    def _load(path: str) -> Callable:
        module, _, name = path.partition(":")
        return getattr(importlib.import_module(module), name)

    def takes(self, X: Any) -> bool:
        """Whether ``X`` is this engine's (its type's package first, so no other package is imported)."""
        return type(X).__module__.split(".")[0] in self.packages and bool(self._load(self.accepts)(X))

    def refuse(self, given: dict[str, bool]) -> None:
        """Raise naming the options in ``given`` (name -> set by the user) that this engine lacks."""
        named = [k for k, v in given.items() if v and k.split("=")[0] in self.lacks]
        if named:
            msg = f"{', '.join(named)}: not available for {self.name} arrays ({self.why})."
            raise InvalidInputError(msg)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._load(self.fit)(*args, **kwargs)


#: the engines :func:`nmfkit.nmf` hands inputs to, tried in order
ENGINES: list[Engine] = [
    Engine("Dask", ("dask",), "nmfkit.distributed:is_dask_array", "nmfkit.distributed:nmf_distributed",
           lacks=("mask", "missing", "penalties_W", "penalties_H", "extrapolate", "checkpoint"),
           why="a Dask fit saves its own state at every evaluation; see nmfkit.nmf_distributed"),
]


def engine_for(X: Any) -> Engine | None:
    """The engine that takes ``X``, or None for in-memory data (NumPy, SciPy, PyTorch)."""
    return next((e for e in ENGINES if e.takes(X)), None)
