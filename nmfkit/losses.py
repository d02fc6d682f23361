"""Beta-divergence losses.

The beta-divergence between non-negative ``x`` and positive ``y`` is

.. math::

    d_\\beta(x \\mid y) = \\frac{x^\\beta + (\\beta - 1) y^\\beta - \\beta x y^{\\beta-1}}
                              {\\beta(\\beta - 1)},

with the limits :math:`x\\log(x/y) - x + y` (Kullback-Leibler, beta = 1) and
:math:`x/y - \\log(x/y) - 1` (Itakura-Saito, beta = 0). Beta = 2 gives half the
squared Euclidean distance, so ``loss = 0.5 * ||X - WH||_F^2`` (scikit-learn's
convention).

For scipy.sparse ``X`` every term that involves ``X`` is evaluated on its
stored entries only; terms that involve every entry of ``W @ H`` use closed
forms (beta = 1, 2) or row blocks of bounded size (other beta), so no dense
``n x m`` array is ever allocated.

References
----------
.. [1] C. Févotte and J. Idier, "Algorithms for nonnegative matrix factorization
   with the beta-divergence", Neural Computation 23(9), 2011.
   :doi:`10.1162/NECO_a_00168`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["BetaDivergence", "BETA_ALIASES", "balancing_weights"]

BETA_ALIASES = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}


@dataclass(frozen=True)
class BetaDivergence:
    """The beta-divergence loss, summed over the (observed) entries.

    Parameters
    ----------
    beta : float
        Any real ``beta >= 0``; see :data:`BETA_ALIASES` for the named ones.
    """

    beta: float

    @classmethod
    def from_param(cls, beta_loss: str | float) -> BetaDivergence:
        """Build from a name in :data:`BETA_ALIASES` or a number (validated by the caller)."""
        if isinstance(beta_loss, str):
            return cls(BETA_ALIASES[beta_loss])
        return cls(float(beta_loss))

    @property
    def is_quadratic(self) -> bool:
        """True for the Frobenius loss (beta = 2)."""
        return self.beta == 2.0

    @property
    def name(self) -> str:
        for alias, value in BETA_ALIASES.items():
            if value == self.beta:
                return alias
        return f"beta={self.beta:g}"

    @property
    def mm_exponent(self) -> float:
        """Exponent gamma(beta) making multiplicative updates monotone (Févotte & Idier 2011)."""
        b = self.beta
        if b < 1.0:
            return 1.0 / (2.0 - b)
        if b > 2.0:
            return 1.0 / (b - 1.0)
        return 1.0

    # -- elementwise divergence on dense arrays ------------------------------------
    def elementwise(self, x: Any, y: Any, xp: Any, eps: float) -> Any:
        """d_beta(x | y) entrywise (dense). ``y`` is floored at eps where needed."""
        b = self.beta
        if b == 2.0:
            d = x - y
            return 0.5 * d * d
        y = xp.maximum(y, eps)  # avoid log(0) and 0 ** negative
        if b == 1.0:
            # x log(x / y) with the convention 0 log 0 = 0
            ratio = xp.where(x > 0, x / y, 1.0)
            return x * xp.log(ratio) - x + y
        if b == 0.0:
            ratio = x / y
            return ratio - xp.log(ratio) - 1.0
        return (x**b + (b - 1.0) * y**b - b * x * y ** (b - 1.0)) / (b * (b - 1.0))

    # -- value ---------------------------------------------------------------------
    def value(self, X: Any, W: Any, H: Any, *, backend: Any, mask: Any = None) -> Any:
        """Sum of ``d_beta(X | W @ H)`` over all (or the masked) entries.

        Parameters
        ----------
        X : {array, sparse matrix} of shape (n, m)
        W : array of shape (n, k)
        H : array of shape (k, m)
        backend : Backend
        mask : array of shape (n, m) or None
            Non-negative weights (0 = missing); dense ``X`` only.

        Returns
        -------
        0-d array
            Not converted to a host float (that is the driver's job).
        """
        xp = backend.xp
        eps = backend.eps(W.dtype)
        b = self.beta
        if mask is not None:
            WH = W @ H
            if b != 2.0:
                WH = xp.maximum(WH, eps)
            # unobserved entries compare WH with itself (d = 0), so no 0 * inf at masked zeros
            return xp.sum(mask * self.elementwise(xp.where(mask > 0, X, WH), WH, xp, eps))
        if not backend.is_sparse(X):
            # row blocks: temporaries stay cache-sized whatever the size of X
            total = 0.0
            for rows in backend.row_blocks(W.shape[0], H.shape[1]):
                total = total + xp.sum(self.elementwise(X[rows], W[rows] @ H, xp, eps))
            return total
        # sparse X: never form W @ H densely
        if b == 2.0:
            # ||X||^2 - 2 <X, WH> + <W^T W, H H^T> cancels badly when the fit is good:
            # accumulate the three terms in float64 (they are O(nnz k + (n + m) k^2) anyway)
            W64, H64 = xp.astype(W, xp.float64), xp.astype(H, xp.float64)
            XHt = backend.matmul(X, H64.T)
            cross = xp.sum(W64 * XHt)
            gram = xp.sum((W64.T @ W64) * (H64 @ H64.T))
            value = 0.5 * (backend.sq_norm(X, dtype=xp.float64) - 2.0 * cross + gram)
            return xp.astype(xp.maximum(value, 0.0), W.dtype)
        # the terms in x live on the support: evaluated block by block (temporaries stay cache-sized)
        on_support = 0.0
        for _, x, y in backend.support_blocks(W, H, X):
            y = xp.maximum(y, eps)
            if b == 1.0:
                on_support = on_support + xp.sum(x * xp.log(xp.where(x > 0, x / y, 1.0)) - x)
            elif b == 0.0:
                # zeros are rejected at the boundary for beta <= 0, so every entry is stored
                ratio = x / y
                on_support = on_support + xp.sum(ratio - xp.log(ratio) - 1.0)
            else:
                on_support = on_support + xp.sum(x**b - b * x * y ** (b - 1.0)) / (b * (b - 1.0))
        if b == 1.0:
            return on_support + xp.sum(xp.sum(W, axis=0) * xp.sum(H, axis=1))
        if b == 0.0:
            return on_support
        # general beta: sum(WH ** b) needs every entry
        total = 0.0
        for rows in backend.row_blocks(W.shape[0], H.shape[1]):
            total = total + xp.sum(xp.maximum(W[rows] @ H, eps) ** b)
        return on_support + total / b

    # -- multiplicative-update terms -------------------------------------------------
    def mu_terms(self, X: Any, W: Any, H: Any, *, backend: Any, mask: Any = None) -> tuple[Any, Any]:
        """Numerator and denominator of the MU step for the LEFT factor ``W``.

        The gradient of the loss with respect to ``W`` is ``den - num`` with

        - ``num = (X * (WH) ** (beta - 2)) @ H.T``
        - ``den = (WH) ** (beta - 1) @ H.T``

        (each entry restricted to the mask when given).

        Dense ``X`` without a mask also takes stacks of factors, ``W`` (b, n, k)
        and ``H`` (b, k, m) (the batched replicates of :mod:`nmfkit.batch`).

        Returns
        -------
        num, den : arrays of shape (n, k), or (b, n, k) for stacks
        """
        xp = backend.xp
        eps = backend.eps(W.dtype)
        b = self.beta
        Ht = xp.matrix_transpose(H)
        if mask is not None:
            WH = W @ H
            if b == 2.0:
                return (mask * X) @ Ht, (mask * WH) @ Ht
            WH = xp.maximum(WH, eps)  # avoid 0 ** negative when beta < 2
            return (mask * X * WH ** (b - 2.0)) @ Ht, (mask * WH ** (b - 1.0)) @ Ht
        if b == 2.0:
            return backend.matmul(X, Ht), W @ (H @ Ht)
        if backend.is_sparse(X):
            # x * (WH)^(beta - 2) on the support, filled block by block: one nnz-sized array
            weighted = xp.empty_like(backend.sparse_data(X))
            for span, x, y in backend.support_blocks(W, H, X):
                y = xp.maximum(y, eps)
                weighted[span] = x / y if b == 1.0 else x * y ** (b - 2.0)
            num = backend.matmul(backend.with_data(X, weighted), Ht)
            if b == 1.0:
                den = xp.broadcast_to(xp.sum(H, axis=1)[None, :], W.shape)
                return num, den
            den = xp.empty_like(W)
            for rows in backend.row_blocks(W.shape[0], H.shape[1]):
                den[rows] = xp.maximum(W[rows] @ H, eps) ** (b - 1.0) @ Ht
            return num, den
        WH = xp.maximum(W @ H, eps)  # avoid 0 ** negative when beta < 2
        if b == 1.0:
            return (X / WH) @ Ht, xp.broadcast_to(xp.sum(H, axis=-1)[..., None, :], W.shape)
        return (X * WH ** (b - 2.0)) @ Ht, WH ** (b - 1.0) @ Ht


def balancing_weights(losses: list[float], eps: float) -> list[float]:
    """``1 / loss`` for each term of a weighted sum, so that every term starts at 1.

    Each loss is floored at ``eps`` times the largest: a term whose loss is
    (nearly) 0, an exact fit, gets a large weight instead of one near 1e308
    that overflows and swamps the others. All losses 0 give weights of 1.
    Used by deep beta-NMF's layer weights and joint NMF's block weights.
    """
    floor = eps * max(losses)
    return [1.0 / max(value, floor) if floor > 0 else 1.0 for value in losses]
