"""What the tasks of a Dask fit run on the workers, block by block (module-level, unpickled by reference).

Each function takes NumPy or SciPy row blocks and the small :class:`Context`
and runs the in-memory solvers' own arithmetic on them.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit.backend import get_backend
from nmfkit.losses import BetaDivergence
from nmfkit.solvers import HALS, Problem, QuadraticSolver, penalized_stats, quadratic_stats

__all__ = ["Context", "sweep_block", "block_H_terms", "add", "update_H", "hals_start", "hals_pass", "keep_going",
           "block_objective", "objective", "summary", "save", "load", "first"]


@dataclass(frozen=True)
class Context:
    """Everything a block task needs besides its arrays (small; pickled into the graph)."""

    loss: BetaDivergence
    solver: Any
    penalties_W: tuple
    penalties_H: tuple
    n: int
    m: int
    nnz: int
    update_H: bool

    @property
    def backend(self) -> Any:
        return get_backend(np.empty(0))

    def block(self, X: Any) -> Problem:
        """The problem restricted to a row block of ``X``."""
        backend = self.backend
        return Problem(X, backend.transpose(X), self.loss, backend, self.penalties_W, self.penalties_H)

    def right(self) -> Transposed:
        """The transposed problem as the H update sees it: shapes, entry count and penalties, no data."""
        return Transposed(Shape((self.m, self.n)), Shape((self.n, self.m)), self.loss, self.backend,
                           self.penalties_H, self.penalties_W, stored=self.nnz)

    @property
    def quadratic(self) -> bool:
        return isinstance(self.solver, QuadraticSolver)


@dataclass(frozen=True)
class Shape:
    """Stands for ``X.T`` in the H update, which needs only its shape."""

    shape: tuple


@dataclass(frozen=True)
class Transposed(Problem):
    """``Problem.T`` without the data: the H update works from reduced statistics."""

    stored: int = field(default=0)

    @property
    def nnz(self) -> int:
        return self.stored


def first(value: Any) -> Any:
    """A block of W, from a task that returned it alone or first in a tuple."""
    return value[0] if isinstance(value, tuple) else value


def dense(X: Any) -> np.ndarray:
    return X.toarray() if sp.issparse(X) else X


def summary(X: Any) -> dict:
    """What validation needs of one block: counts, extremes, non-zero lines, sum and stored entries."""
    values = X.data if sp.issparse(X) else X
    out: dict[str, Any] = {**V.value_counts(values), "sum": float(np.sum(values, dtype=np.float64)),
                           "nnz": int(X.nnz) if sp.issparse(X) else int(X.size)}
    if out["nan"] == 0 and out["inf"] == 0:
        out["rows"], out["cols"], out["zeros"] = V.zero_lines(X, None)
    return out


def sweep_block(X: Any, W: Any, H: Any, ctx: Context) -> tuple[Any, Any]:
    """The W update of one row block, then its share of the H update's statistics."""
    problem = ctx.block(X)
    W = ctx.solver.update_left(problem, first(W), H)
    return W, (H_terms(problem, W, H, ctx) if ctx.update_H else None)


def H_terms(problem: Problem, W: Any, H: Any, ctx: Context) -> tuple[Any, Any]:
    """One row block's share: ``(X^T W, W^T W)`` (Frobenius solvers) or the MU terms ``(num, den)`` for ``H^T``."""
    if ctx.quadratic:
        return problem.backend.matmul(problem.XT, W), W.T @ W
    return problem.loss.mu_terms(problem.XT, H.T, W.T, backend=problem.backend)


def block_H_terms(X: Any, W: Any, H: Any, ctx: Context) -> tuple[Any, Any]:
    return H_terms(ctx.block(X), W, H, ctx)


def add(*parts: Any) -> Any:
    """Sum of statistics: arrays, tuples of arrays or floats."""
    if isinstance(parts[0], tuple):
        return tuple(add(*group) for group in zip(*parts, strict=True))
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def update_H(terms: tuple, H: Any, ctx: Context) -> Any:
    """The H update from the summed statistics, exactly as ``solver.update_left(problem.T, H.T, W.T).T``."""
    right = ctx.right()
    Ht = H.T
    if ctx.quadratic:
        A, G = terms
        A, G = penalized_stats(right, A, G, Ht)
        return ctx.solver.solve(right, Ht, A, G).T
    num, den = terms
    return ctx.solver.apply(right, Ht, num, den).T


def hals_start(X: Any, W: Any, H: Any, ctx: Context) -> tuple[Any, Any, Any, Any]:
    """HALS on a row block: the statistics ``A``, ``G`` and the first (tracked) pass."""
    problem = ctx.block(X)
    W = first(W)
    A, G = quadratic_stats(problem, W, H)
    W, change = hals_pass(W, (W, A, G), True)
    return W, A, G, change


def hals_pass(W: Any, started: tuple, go: bool) -> tuple[Any, Any]:
    """One Gauss-Seidel pass over a block's columns when ``go``; the block and ``||dW||^2``.

    ``started`` is :func:`hals_start`'s ``(W, A, G, change)``.
    """
    W, A, G = first(W), started[1], started[2]
    if not go:
        return W, 0.0
    xp = get_backend(W).xp
    W = np.array(W, copy=True)
    change = HALS.column_pass(W, A, G, HALS.inverse_diagonal(G, xp), xp, track=True)
    return W, change


def keep_going(go: bool, change: Any, first: Any, delta: float) -> bool:
    """HALS's rule: repeat while a pass changes W by more than ``delta`` times the first pass did."""
    return bool(go) and not float(change) <= delta**2 * float(first)


def block_objective(X: Any, W: Any, H: Any, ctx: Context) -> tuple[float, float]:
    """A row block's loss, and its share of the penalties on W."""
    backend = ctx.backend
    W = first(W)
    penalty = 0.0
    for p in ctx.penalties_W:
        penalty += float(p.value(W, backend.xp))
    return float(ctx.loss.value(X, W, H, backend=backend)), penalty


def objective(parts: list, H: Any, ctx: Context) -> tuple[float, float]:
    """``(loss, loss + penalties)`` from the blocks' parts."""
    loss = float(sum(p[0] for p in parts))
    total = loss + float(sum(p[1] for p in parts))
    for p in ctx.penalties_H:
        total += float(p.value(H.T, np))
    return loss, total


def save(W: Any, path: str) -> str:
    """Write a block of W atomically (a temporary file, then a rename)."""
    tmp = f"{path}.{uuid.uuid4().hex}.tmp.npy"
    np.save(tmp, first(W))
    os.replace(tmp, path)
    return path


def load(path: str) -> np.ndarray:
    return np.load(path)
