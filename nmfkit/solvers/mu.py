"""Multiplicative updates for any beta-divergence."""

from __future__ import annotations

from typing import Any

from nmfkit.solvers._base import Problem, Solver

__all__ = ["MU"]


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

    Notes
    -----
    Denominators are floored at the dtype's machine epsilon, and ``W @ H`` is
    floored at the same epsilon before negative powers (beta < 2).

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

    def __init__(self, floor: float = 0.0) -> None:
        self.floor = floor

    def update_left(self, problem: Problem, W: Any, H: Any) -> Any:
        backend = problem.backend
        xp = backend.xp
        eps = backend.eps(W.dtype)
        num, den = problem.loss.mu_terms(problem.X, W, H, backend=backend, mask=problem.mask)
        for p in problem.penalties_left:
            num, den = p.edit_mu(num, den, W)
        ratio = num / xp.maximum(den, eps)  # den = 0 only where H has an all-zero row
        gamma = problem.loss.mm_exponent
        if gamma != 1.0:
            ratio = ratio**gamma
        W = W * ratio
        if self.floor > 0:
            W = xp.maximum(W, self.floor)
        return W
