"""The problem a solver sees, the solver strategy, and the shared quadratic statistics."""

from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nmfkit._validation import InvalidInputError
from nmfkit.losses import BetaDivergence

__all__ = ["Problem", "Solver", "QuadraticSolver", "quadratic_stats", "penalized_stats"]


@dataclass(frozen=True)
class Problem:
    """One NMF problem ``X ~ W @ H``, seen from the left factor ``W``.

    Parameters
    ----------
    X : {array, sparse matrix} of shape (n, m)
    XT : {array, sparse matrix} of shape (m, n)
        ``X`` transposed, computed once (CSR on both sides for sparse input).
    loss : BetaDivergence
    backend : Backend
    penalties_left : tuple of Penalty
        Penalties on ``W``.
    penalties_right : tuple of Penalty
        Penalties on the right factor, applied to it in left orientation (``H.T``).
    mask, maskT : array of shape (n, m) and (m, n), or None
        Non-negative weights of the entries (0 = missing).
    """

    X: Any
    XT: Any
    loss: BetaDivergence
    backend: Any
    penalties_left: tuple = ()
    penalties_right: tuple = ()
    mask: Any = None
    maskT: Any = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def T(self) -> Problem:
        """The transposed problem ``X.T ~ H.T @ W.T`` (its left factor is ``H.T``)."""
        back = self._cache.get("T_of")  # the problem this one is the transpose of, held weakly: no cycle, so a
        if back is not None and back() is not None:  # problem and its graphs are freed when the last user drops it
            return back()
        if "T" not in self._cache:
            t = Problem(self.XT, self.X, self.loss, self.backend, self.penalties_right,
                        self.penalties_left, self.maskT, self.mask)
            t._cache["T_of"] = weakref.ref(self)
            self._cache["T"] = t
        return self._cache["T"]

    @property
    def nnz(self) -> int:
        """Number of stored entries of ``X``."""
        if self.backend.is_sparse(self.X):
            return int(self.backend.sparse_data(self.X).shape[0])
        return int(self.X.shape[0] * self.X.shape[1])

    def objective(self, W: Any, H: Any) -> Any:
        """Loss plus every penalty value, as a 0-d array."""
        xp = self.backend.xp
        total = self.loss.value(self.X, W, H, backend=self.backend, mask=self.mask)
        for p in self.penalties_left:
            total = total + p.value(W, xp)
        for p in self.penalties_right:
            total = total + p.value(H.T, xp)
        return total


def quadratic_stats(problem: Problem, W: Any, H: Any) -> tuple[Any, Any]:
    """``A = X @ H.T`` and ``G = H @ H.T``, edited by the left penalties.

    The W-subproblem of the Frobenius loss is
    ``min_{W >= 0} 0.5 * tr(W G W^T) - tr(A^T W)`` (+ const).
    """
    return penalized_stats(problem, problem.backend.matmul(problem.X, H.T), H @ H.T, W)


def penalized_stats(problem: Problem, A: Any, G: Any, W: Any) -> tuple[Any, Any]:
    """The statistics ``A`` (n, k) and ``G`` (k, k) edited by ``problem``'s left penalties at ``W``."""
    for p in problem.penalties_left:
        A, G = p.edit_quadratic(A, G, W, problem.backend.xp)
    return A, G


class Solver(ABC):
    """A strategy that decreases the objective over the left factor.

    Subclasses implement :meth:`update_left` only; the driver updates ``H`` as
    ``update_left(problem.T, H.T, W.T).T``.
    """

    name: ClassVar[str]
    #: ``"quadratic"`` (Frobenius only) or ``"any"`` (every beta >= 0)
    losses: ClassVar[str] = "quadratic"
    supports_mask: ClassVar[bool] = False
    supports_sparse: ClassVar[bool] = True
    #: whether each row of ``W`` is updated from its own row of ``X`` alone, so that row blocks can be
    #: updated apart (what a Dask fit needs); such a solver is either quadratic or has MU's ``apply``
    row_separable: ClassVar[bool] = False

    def penalty_edits(self, problem: Problem) -> frozenset[str]:
        """The penalty edits (:data:`nmfkit.penalties.EDITS`) this solver calls on ``problem``."""
        return frozenset({"quadratic"})

    def takes_loss(self, problem: Problem) -> bool:
        """Whether this solver fits ``problem``'s loss."""
        return self.losses == "any" or problem.loss.is_quadratic

    def takes_mask(self, problem: Problem) -> bool:
        """Whether this solver fits ``problem``'s mask (or it has none)."""
        return problem.mask is None or self.supports_mask

    def takes_penalty(self, problem: Problem, penalty: Any) -> bool:
        """Whether ``penalty`` supports every edit this solver calls on ``problem`` (one that does not say: yes)."""
        return self.penalty_edits(problem) <= getattr(penalty, "edits", self.penalty_edits(problem))

    def check(self, problem: Problem) -> None:
        """Raise naming what this solver cannot do (loss, mask, a penalty) and a solver that can."""
        if not self.takes_loss(problem):
            msg = (
                f"Solver '{self.name}' supports only the Frobenius loss (beta_loss=2); "
                f"got beta_loss={problem.loss.beta:g} ({problem.loss.name}). "
                "Use solver='mu', which supports every beta >= 0."
            )
            raise InvalidInputError(msg)
        if not self.takes_mask(problem):
            msg = (
                f"Solver '{self.name}' does not support masks or missing values; "
                "use solver='hals' (Frobenius) or solver='mu' (any beta)."
            )
            raise InvalidInputError(msg)
        for side, penalties in (("W", problem.penalties_left), ("H", problem.penalties_right)):
            for penalty in penalties:
                if not self.takes_penalty(problem, penalty):
                    from nmfkit.solvers import solvers_for  # (the registry imports this module)

                    masked = " with a mask" if problem.mask is not None else ""
                    able = ", ".join(solvers_for(problem, penalty)) or "none"
                    msg = (f"{type(penalty).__name__} (on {side}) is not available with solver "
                           f"'{self.name}'{masked}: it edits only the {', '.join(sorted(penalty.edits))} "
                           f"statistics; solvers that take it: {able}.")
                    raise InvalidInputError(msg)

    @abstractmethod
    def update_left(self, problem: Problem, W: Any, H: Any) -> Any:
        """Return a new ``W`` (shape (n, k)) that does not increase the objective."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class QuadraticSolver(Solver):
    """A Frobenius solver that works from the statistics ``A = X H^T`` and ``G = H H^T`` alone.

    Subclasses implement :meth:`solve`; extrapolation (:mod:`nmfkit.acceleration`)
    calls it with statistics it has computed itself.
    """

    def update_left(self, problem: Problem, W: Any, H: Any) -> Any:
        A, G = quadratic_stats(problem, W, H)
        return self.solve(problem, W, A, G)

    @abstractmethod
    def solve(self, problem: Problem, W: Any, A: Any, G: Any) -> Any:
        """Update ``W`` (n, k) from ``A = X H^T`` (n, k) and ``G = H H^T`` (k, k), penalties included."""
