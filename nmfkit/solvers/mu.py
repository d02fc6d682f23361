"""Multiplicative updates for any beta-divergence."""

from __future__ import annotations

from typing import Any

from nmfkit.solvers._base import Problem, Solver

__all__ = ["MU", "LinMU", "multiplicative_step"]


def multiplicative_step(F: Any, num: Any, den: Any, gamma: float, xp: Any, eps: float, delta: float = 0.0) -> Any:
    """``F * (num / den) ** gamma``, the denominator floored at ``eps`` (or shifted by ``delta`` > 0)."""
    ratio = num / (den + delta) if delta > 0 else num / xp.maximum(den, eps)
    if gamma != 1.0:
        ratio = ratio**gamma
    return F * ratio


class MU(Solver):
    """Multiplicative updates (Lee & Seung 2001) with the MM exponent of Févotte & Idier (2011).

    ``W <- W * (num / den) ** gamma(beta)``, where ``den - num`` is the
    gradient of the objective split into its positive and negative parts, and
    ``gamma = 1/(2-beta)`` for beta < 1, ``1`` for 1 <= beta <= 2,
    ``1/(beta-1)`` for beta > 2. With this exponent each update is the exact
    minimizer of a majorizer, so the objective never increases.

    Parameters
    ----------
    floor : float, default=0.0
        Lower bound applied to the factor after each update. With the default
        0, entries that are exactly zero stay zero forever ("zero locking",
        e.g. after an NNDSVD start); a tiny floor such as ``1e-16`` lets them
        move again at the cost of never producing exact zeros.
    delta : float, default=0.0
        When positive, added to every denominator instead of flooring it at
        the machine epsilon (GNMF implementations use ``1e-9``).

    Notes
    -----
    Denominators are floored at the dtype's machine epsilon (or shifted by
    ``delta``), and ``W @ H`` is floored at the same epsilon before negative
    powers (beta < 2).

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
       factorization", NIPS 13, 2001.
    .. [2] C. Févotte and J. Idier, "Algorithms for nonnegative matrix
       factorization with the beta-divergence", Neural Computation 23(9),
       2011. :doi:`10.1162/NECO_a_00168`
    """

    name = "mu"
    losses = "any"
    supports_mask = True
    row_separable = True

    def penalty_edits(self, problem: Problem) -> frozenset[str]:
        return frozenset({"mu"})

    def __init__(self, floor: float = 0.0, delta: float = 0.0) -> None:
        self.floor = floor
        self.delta = delta

    def update_left(self, problem: Problem, W: Any, H: Any) -> Any:
        num, den = problem.loss.mu_terms(problem.X, W, H, backend=problem.backend, mask=problem.mask)
        return self.apply(problem, W, num, den)

    def apply(self, problem: Problem, W: Any, num: Any, den: Any) -> Any:
        """The update from the loss's terms ``num``, ``den`` (n, k): penalties' edits, the step, the floor."""
        backend = problem.backend
        xp = backend.xp
        eps = backend.eps(W.dtype)
        for p in problem.penalties_left:
            num, den = p.edit_mu(num, den, W)
        # den = 0 only where H has an all-zero row
        W = multiplicative_step(W, num, den, problem.loss.mm_exponent, xp, eps, self.delta)
        if self.floor > 0:
            W = xp.maximum(W, self.floor)
        return W


class LinMU(Solver):
    """Lin's modified multiplicative update for the Frobenius loss (Lin 2007), penalties included.

    With ``G = den(W) - num(W)`` the gradient (``num``, ``den`` the negative and
    positive parts, penalties' edits included) and
    ``Wb = W`` where ``G >= 0``, else ``max(W, delta)``:

        ``W <- W - Wb / (den(Wb) + delta) * G``

    where ``den(Wb)`` is the positive part evaluated at ``Wb`` (it is linear in
    the factor). Where ``Wb = W`` this is the classical multiplicative update;
    where the gradient is negative an entry at zero can leave zero, so limit
    points are KKT points, unlike plain MU. Used by persistent NMF (the
    reference code's block update).

    Parameters
    ----------
    delta : float, default=1e-9

    References
    ----------
    .. [1] C.-J. Lin, "On the convergence of multiplicative update algorithms
       for nonnegative matrix factorization", IEEE TNN 18(6), 2007.
       :doi:`10.1109/TNN.2007.895831`
    """

    name = "mu-lin"
    losses = "quadratic"

    def penalty_edits(self, problem: Problem) -> frozenset[str]:
        return frozenset({"mu", "mu_den"})

    def __init__(self, delta: float = 1e-9) -> None:
        self.delta = delta

    def update_left(self, problem: Problem, W: Any, H: Any) -> Any:
        return self.update_from(problem, W, H, problem.backend.matmul(problem.X, H.T))

    def update_from(self, problem: Problem, W: Any, H: Any, XHt: Any) -> Any:
        """:meth:`update_left` from ``X H^T`` (n, k) that the caller has computed (and may reuse)."""
        xp = problem.backend.xp
        HHt = H @ H.T
        num = XHt
        den = W @ HHt
        for p in problem.penalties_left:
            num, den = p.edit_mu(num, den, W)
        G = den - num
        Wb = xp.where(G >= 0, W, xp.maximum(W, self.delta))
        den_b = Wb @ HHt
        for p in problem.penalties_left:
            den_b = p.edit_mu_den(den_b, Wb)
        # non-negative in exact arithmetic (W (num + delta) / (den + delta) where G >= 0); round-off can leave
        # a denormal below zero
        return xp.maximum(W - Wb / (den_b + self.delta) * G, 0.0)
