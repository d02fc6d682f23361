"""Solver registry.

Every solver is a :class:`Solver` strategy that updates the left factor; the
driver obtains the right-factor update by transposition. Names map to classes;
any parameter that takes a name also takes an instance.
"""

from __future__ import annotations

from typing import Any

from nmfkit.solvers._base import Problem, Solver, quadratic_stats
from nmfkit.solvers.anls import ANLSBPP, ANLSPG, nnls_bpp
from nmfkit.solvers.gcd import GreedyCD
from nmfkit.solvers.hals import HALS
from nmfkit.solvers.mu import MU

__all__ = [
    "Problem", "Solver", "quadratic_stats", "MU", "HALS", "ANLSBPP", "ANLSPG", "GreedyCD",
    "nnls_bpp", "register_solver", "get_solver", "available_solvers", "resolve_solver",
]

_SOLVERS: dict[str, type[Solver]] = {}
_ALIASES: dict[str, str] = {}


def register_solver(name: str, cls: type[Solver], *, aliases: tuple[str, ...] = ()) -> None:
    """Register a :class:`Solver` subclass under ``name`` (and optional aliases).

    Raises
    ------
    KeyError
        If the name or an alias is already taken.
    """
    for key in (name, *aliases):
        if key in _SOLVERS or key in _ALIASES or key == "auto":
            msg = f"A solver named {key!r} is already registered."
            raise KeyError(msg)
    _SOLVERS[name] = cls
    for alias in aliases:
        _ALIASES[alias] = name


def available_solvers() -> list[str]:
    """Canonical names of the registered solvers, sorted."""
    return sorted(_SOLVERS)


def _valid_names() -> str:
    names = sorted([*_SOLVERS, *_ALIASES, "auto"])
    return ", ".join(repr(n) for n in names)


def get_solver(solver: str | Solver, **options: Any) -> Solver:
    """A solver instance from a registered name (options go to its constructor) or an instance.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid names.
    """
    if isinstance(solver, Solver):
        return solver
    if isinstance(solver, str):
        key = _ALIASES.get(solver, solver)
        if key in _SOLVERS:
            return _SOLVERS[key](**options)
    msg = f"Unknown solver {solver!r}. Valid solvers: {_valid_names()}, or a Solver instance."
    raise ValueError(msg)


def resolve_solver(solver: str | Solver, beta: float) -> Solver:
    """Like :func:`get_solver`, with ``"auto"``: HALS for beta = 2, MU otherwise."""
    if isinstance(solver, str) and solver == "auto":
        return HALS() if beta == 2.0 else MU()
    return get_solver(solver)


register_solver("mu", MU)
register_solver("hals", HALS, aliases=("cd",))
register_solver("anls-bpp", ANLSBPP, aliases=("bpp",))
register_solver("anls-pg", ANLSPG, aliases=("alspgrad", "pg"))
register_solver("gcd", GreedyCD, aliases=("greedycd",))
