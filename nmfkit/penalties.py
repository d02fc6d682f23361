"""Penalties on one factor.

A penalty never touches the data. It reports its value and edits the
statistics that solvers consume:

- multiplicative updates: the numerator/denominator of the MU step (the
  gradient of the penalty is split into a positive part added to the
  denominator and a negative part added to the numerator; ``edit_mu_den``
  adds the positive part alone, linear in the factor, for Lin's update);
- quadratic solvers (HALS, ANLS, GCD): ``A = X @ H.T`` and ``G = H @ H.T``,
  the linear and quadratic terms of ``0.5 * tr(W G W^T) - tr(A^T W)``;
- weighted HALS (masks): per-entry linear and diagonal terms of one column.

Scaling follows scikit-learn: with ``alpha_W``, ``l1_ratio`` and ``X`` of shape
(n_samples, n_features) the objective gains
``n_features * alpha_W * (l1_ratio * ||W||_1 + 0.5 * (1 - l1_ratio) * ||W||_F^2)``
and likewise for ``H`` with ``n_samples * alpha_H``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from nmfkit._validation import InvalidInputError

__all__ = ["Penalty", "EDITS", "L1", "L2", "GraphLaplacian", "Proximity", "elastic_net", "check_penalties"]

#: the statistics a penalty can edit, one name per ``edit_*`` method; a penalty's ``edits`` lists those it
#: supports, a solver's ``penalty_edits`` those it calls (the boundary checks the two agree before any work)
EDITS = frozenset({"mu", "mu_den", "quadratic", "weighted"})


class Penalty(Protocol):
    """What a penalty on one factor ``F`` provides (``edits``: the names in :data:`EDITS` it supports)."""

    edits: ClassVar[frozenset[str]]

    def value(self, F: Any, xp: Any) -> Any: ...

    def gradient(self, F: Any, xp: Any) -> Any: ...

    def edit_mu(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]: ...

    def edit_mu_den(self, den: Any, F: Any) -> Any: ...

    def edit_quadratic(self, A: Any, G: Any, F: Any, xp: Any) -> tuple[Any, Any]: ...

    def edit_weighted(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]: ...


@dataclass(frozen=True)
class L1:
    """``alpha * sum(F)`` (F is non-negative, so this is its L1 norm)."""

    edits: ClassVar[frozenset[str]] = EDITS

    alpha: float

    def value(self, F: Any, xp: Any) -> Any:
        return self.alpha * xp.sum(F)

    def gradient(self, F: Any, xp: Any) -> Any:
        return xp.full_like(F, self.alpha)

    def edit_mu(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]:
        return num, den + self.alpha

    def edit_mu_den(self, den: Any, F: Any) -> Any:
        return den + self.alpha

    def edit_quadratic(self, A: Any, G: Any, F: Any, xp: Any) -> tuple[Any, Any]:
        return A - self.alpha, G

    def edit_weighted(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]:
        return num - self.alpha, den


@dataclass(frozen=True)
class L2:
    """``0.5 * alpha * ||F||_F^2``."""

    edits: ClassVar[frozenset[str]] = EDITS

    alpha: float

    def value(self, F: Any, xp: Any) -> Any:
        return 0.5 * self.alpha * xp.sum(F * F)

    def gradient(self, F: Any, xp: Any) -> Any:
        return self.alpha * F

    def edit_mu(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]:
        return num, den + self.alpha * F

    def edit_mu_den(self, den: Any, F: Any) -> Any:
        return den + self.alpha * F

    def edit_quadratic(self, A: Any, G: Any, F: Any, xp: Any) -> tuple[Any, Any]:
        k = G.shape[0]
        return A, G + self.alpha * xp.eye(k, dtype=G.dtype)

    def edit_weighted(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]:
        return num, den + self.alpha


class GraphLaplacian:
    """``0.5 * weight * tr(F^T L F)`` with ``L = diag(degree) - A``: rows of F joined by a graph are pulled together.

    ``tr(F^T L F) = 0.5 * sum_ij A_ij ||f_i - f_j||^2`` over the rows ``f_i`` of
    ``F`` (one row per sample: pass the factor in left orientation). The MU
    edit is GNMF's (Cai et al. 2011): ``A F`` joins the numerator and
    ``degree * F`` the denominator. The graph couples rows, so the quadratic
    (per-row Gram) statistics of HALS/ANLS cannot carry it.

    Parameters
    ----------
    weight : float
    adjacency : {array, sparse matrix} of shape (n, n)
        Symmetric non-negative weights, zero diagonal.
    degree : array of shape (n,), optional
        Row sums of ``adjacency`` (computed when omitted).
    memo : bool, default=False
        Keep the last product ``A F`` and reuse it while the same factor object
        comes back (an update's edit and the objective after it share one
        product). Only for callers that never modify a factor in place.
    """

    edits: ClassVar[frozenset[str]] = frozenset({"mu", "mu_den"})  # the graph couples rows

    def __init__(self, weight: float, adjacency: Any, degree: Any = None, *, memo: bool = False) -> None:
        self.weight = weight
        self.adjacency = adjacency
        self.degree = adjacency.sum(axis=1).ravel() if degree is None else degree
        if hasattr(self.degree, "A1"):  # np.matrix from a sparse sum
            self.degree = self.degree.A1
        self.memo = memo
        self._last: tuple[Any, Any] | None = None

    def to_backend(self, backend: Any, like: Any) -> GraphLaplacian:
        """This penalty with its graph on ``like``'s backend, device and dtype."""
        if backend.owns(self.adjacency):
            return self
        return GraphLaplacian(self.weight, backend.asarray(self.adjacency, like=like),
                              backend.asarray(self.degree, like=like), memo=self.memo)

    def _AF(self, F: Any) -> Any:
        if self._last is not None and self._last[0] is F:
            return self._last[1]
        out = self.adjacency @ F
        out = out.toarray() if hasattr(out, "toarray") else out
        if self.memo:
            self._last = (F, out)
        return out

    def value(self, F: Any, xp: Any) -> Any:
        return 0.5 * self.weight * xp.sum(F * (self.degree[:, None] * F - self._AF(F)))

    def gradient(self, F: Any, xp: Any) -> Any:
        return self.weight * (self.degree[:, None] * F - self._AF(F))

    def edit_mu(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]:
        return num + self.weight * self._AF(F), den + self.weight * (self.degree[:, None] * F)

    def edit_mu_den(self, den: Any, F: Any) -> Any:
        return den + self.weight * (self.degree[:, None] * F)

    def edit_quadratic(self, A: Any, G: Any, F: Any, xp: Any) -> tuple[Any, Any]:
        msg = "GraphLaplacian couples the rows of the factor; use solver='mu' or 'mu-lin'."
        raise InvalidInputError(msg)

    def edit_weighted(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]:
        return self.edit_quadratic(num, den, F, None)


@dataclass(frozen=True)
class Proximity:
    """``0.5 * weight * ||F - target||_F^2``: keeps a factor near another one (e.g. the next scale's).

    Parameters
    ----------
    weight : float
    target : array of the factor's shape
    """

    edits: ClassVar[frozenset[str]] = frozenset({"mu", "mu_den", "quadratic"})
    weight: float
    target: Any

    def to_backend(self, backend: Any, like: Any) -> Proximity:
        """This penalty with its target on ``like``'s backend, device and dtype."""
        if backend.owns(self.target):
            return self
        return Proximity(self.weight, backend.asarray(self.target, like=like))

    def value(self, F: Any, xp: Any) -> Any:
        d = F - self.target
        return 0.5 * self.weight * xp.sum(d * d)

    def gradient(self, F: Any, xp: Any) -> Any:
        return self.weight * (F - self.target)

    def edit_mu(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]:
        return num + self.weight * self.target, den + self.weight * F

    def edit_mu_den(self, den: Any, F: Any) -> Any:
        return den + self.weight * F

    def edit_quadratic(self, A: Any, G: Any, F: Any, xp: Any) -> tuple[Any, Any]:
        k = G.shape[0]
        return A + self.weight * self.target, G + self.weight * xp.eye(k, dtype=G.dtype)

    def edit_weighted(self, num: Any, den: Any, F: Any) -> tuple[Any, Any]:
        msg = "Proximity is not available with masks (weighted HALS); use solver='mu'."
        raise InvalidInputError(msg)


def elastic_net(alpha: float, l1_ratio: float, scale: int) -> tuple[Penalty, ...]:
    """The scikit-learn-scaled L1/L2 pair for one factor (zero terms omitted).

    Parameters
    ----------
    alpha : float
        Penalty strength (``alpha_W`` or ``alpha_H``).
    l1_ratio : float
        Share of L1, in [0, 1].
    scale : int
        The other dimension of ``X``: ``n_features`` for ``W``, ``n_samples`` for ``H``
        (scikit-learn's scaling).

    Returns
    -------
    tuple of Penalty
        ``L1(scale * alpha * l1_ratio)`` and ``L2(scale * alpha * (1 - l1_ratio))``, each only if non-zero.
    """
    out: list[Penalty] = []
    l1 = scale * alpha * l1_ratio
    l2 = scale * alpha * (1.0 - l1_ratio)
    if l1 > 0:
        out.append(L1(l1))
    if l2 > 0:
        out.append(L2(l2))
    return tuple(out)


def check_penalties(penalties: Any, name: str, size: int, backend: Any, like: Any) -> tuple:
    """``penalties`` (the ``penalties_W`` or ``penalties_H`` option) checked and moved to ``like``'s backend.

    Each must be a penalty (value and edits), and a graph must join the ``size``
    rows of its factor (samples for ``W``, features for ``H``).
    """
    out = []
    for pen in tuple(penalties):
        if not all(hasattr(pen, a) for a in ("value", "edit_mu", "edit_quadratic")):
            msg = f"{name} must hold penalties from nmfkit.penalties; got {pen!r}."
            raise InvalidInputError(msg)
        adjacency = getattr(pen, "adjacency", None)
        if adjacency is not None and adjacency.shape != (size, size):
            msg = (f"{name}: the graph must have shape ({size}, {size}) "
                   f"({'n_samples' if name == 'penalties_W' else 'n_features'}); got {adjacency.shape}.")
            raise InvalidInputError(msg)
        out.append(pen.to_backend(backend, like) if hasattr(pen, "to_backend") else pen)
    return tuple(out)
