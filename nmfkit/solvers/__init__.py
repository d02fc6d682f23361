"""Solver registry.

Every solver is a :class:`Solver` strategy that updates the left factor; the
driver obtains the right-factor update by transposition. Names map to classes;
any parameter that takes a name also takes an instance.
"""

from __future__ import annotations

from typing import Any

from nmfkit._registry import Registry
from nmfkit.solvers._base import Problem, QuadraticSolver, Solver, penalized_stats, quadratic_stats
from nmfkit.solvers.anls import ANLSBPP, ANLSPG, nnls_bpp, nnls_project
from nmfkit.solvers.gcd import GreedyCD
from nmfkit.solvers.hals import HALS
from nmfkit.solvers.mu import MU, LinMU

__all__ = [
    "Problem", "Solver", "QuadraticSolver", "quadratic_stats", "penalized_stats", "MU", "LinMU", "HALS", "ANLSBPP",
    "ANLSPG", "GreedyCD",
    "nnls_bpp", "nnls_project", "register_solver", "get_solver", "available_solvers", "resolve_solver",
    "solvers_for", "row_separable_solvers",
]

_SOLVERS = Registry("solver", "solvers", Solver, reserved=("auto",))


def register_solver(name: str, cls: type[Solver], *, aliases: tuple[str, ...] = ()) -> None:
    """Register a :class:`Solver` subclass under ``name`` (and optional aliases).

    Raises
    ------
    KeyError
        If the name or an alias is already taken.
    """
    _SOLVERS.register(name, cls, aliases=aliases)


def available_solvers() -> list[str]:
    """Canonical names of the registered solvers, sorted."""
    return _SOLVERS.names()


def get_solver(solver: str | Solver, **options: Any) -> Solver:
    """A solver instance from a registered name (options go to its constructor) or an instance.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid names.
    """
    return _SOLVERS.get(solver, **options)


def solvers_for(problem: Problem, penalty: Any) -> list[str]:
    """Registered solvers (default options) that can fit ``problem`` with ``penalty`` on one factor."""
    return [name for name in available_solvers()
            if (solver := get_solver(name)).takes_loss(problem) and solver.takes_mask(problem)
            and solver.takes_penalty(problem, penalty)]


def row_separable_solvers() -> list[str]:
    """Registered solvers whose ``W`` update is separable by rows (those a Dask fit runs)."""
    return [name for name in available_solvers() if get_solver(name).row_separable]


def resolve_solver(solver: str | Solver, beta: float) -> Solver:
    """Like :func:`get_solver`, with ``"auto"``: HALS for beta = 2, MU otherwise."""
    if isinstance(solver, str) and solver == "auto":
        return HALS() if beta == 2.0 else MU()
    return get_solver(solver)


register_solver("mu", MU)
register_solver("mu-lin", LinMU, aliases=("lin",))
register_solver("hals", HALS, aliases=("cd",))
register_solver("anls-bpp", ANLSBPP, aliases=("bpp",))
register_solver("anls-pg", ANLSPG, aliases=("alspgrad", "pg"))
register_solver("gcd", GreedyCD, aliases=("greedycd",))
