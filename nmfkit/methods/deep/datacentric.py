"""Deep beta-NMF with the data-centric loss (the paper's eq. 3), for comparison with the layer-centric one.

    min  sum_l lambda_l D_beta(X | W_l H_l ... H_1)    s.t.  H_l e = e,  W_l, H_l >= 0

Every layer approximates the data itself. Block majorization-minimization:

- ``W_l`` appears in term ``l`` only: the standard multiplicative update of
  ``D(X | W_l P_l)`` with ``P_l = H_l ... H_1``;
- ``H_l`` appears in the terms ``j >= l`` as ``D(X | A_j H_l B)`` with
  ``A_j = W_j H_j ... H_{l+1}`` and ``B = H_{l-1} ... H_1``; the majorizers of
  the terms add up, and their minimizer is ``H_l (num / den)^gamma(beta)`` with
  ``num = sum_j lambda_j A_j^T ((A_j H_l B)^(beta-2) * X) B^T`` and
  ``den = sum_j lambda_j A_j^T (A_j H_l B)^(beta-1) B^T``;
- the constraint is then met without changing any term: the rows of ``H_l``
  are divided by their sums ``s``, ``W_l`` and the columns of ``H_{l+1}`` are
  multiplied by ``s``.

So every sweep leaves the objective no larger (inputs are trusted here).
"""

from __future__ import annotations

from typing import Any, Sequence

from nmfkit.losses import BetaDivergence
from nmfkit.methods.deep.updates import mu_left
from nmfkit.solvers.mu import multiplicative_step

__all__ = ["DataCentric", "products", "h_terms"]


def products(Hs: Sequence[Any], lo: int, hi: int) -> Any:
    """``H_{hi-1} ... H_lo`` (0-based, ``hi > lo``), or None for the empty product."""
    out = None
    for H in Hs[lo:hi]:
        out = H if out is None else H @ out
    return out


def h_terms(X: Any, XT: Any, A: Any, H: Any, B: Any, loss: BetaDivergence, backend: Any) -> tuple[Any, Any]:
    """The multiplicative-update terms of ``H`` in ``D(X | A H B)`` (``B`` None for the identity)."""
    G = H if B is None else H @ B  # X ~ A G
    numT, denT = loss.mu_terms(XT, G.T, A.T, backend=backend)  # G^T's terms, shape (M, r)
    if B is None:
        return numT.T, denT.T
    return numT.T @ B.T, denT.T @ B.T


class DataCentric:
    """The data-centric deep objective as the driver runs it: one sweep updates H_l then W_l, layer by layer."""

    def __init__(self, X: Any, loss: BetaDivergence, lambdas: Sequence[float], backend: Any) -> None:
        self.X, self.XT, self.loss, self.backend = X, backend.transpose(X), loss, backend
        self.lambdas = [float(v) for v in lambdas]
        self.layer_history: list[tuple[int, list[float]]] = []
        self.sweeps = 0

    def step(self, state: tuple) -> tuple:
        Ws, Hs = list(state[0]), list(state[1])
        xp, eps = self.backend.xp, self.backend.eps(Ws[0].dtype)
        L = len(Ws)
        for l in range(L):  # noqa: E741 - the paper's layer index
            B = products(Hs, 0, l)
            num = den = None
            for j in range(l, L):
                above = products(Hs, l + 1, j + 1)
                A = Ws[j] if above is None else Ws[j] @ above
                n, d = h_terms(self.X, self.XT, A, Hs[l], B, self.loss, self.backend)
                num = self.lambdas[j] * n if num is None else num + self.lambdas[j] * n
                den = self.lambdas[j] * d if den is None else den + self.lambdas[j] * d
            H = xp.maximum(multiplicative_step(Hs[l], num, den, self.loss.mm_exponent, xp, eps, delta=eps), eps)
            s = xp.sum(H, axis=1)
            Hs[l] = H / s[:, None]
            Ws[l] = Ws[l] * s[None, :]
            if l + 1 < L:
                Hs[l + 1] = Hs[l + 1] * s[None, :]
            Ws[l] = mu_left(self.X, Ws[l], products(Hs, 0, l + 1), self.loss, self.backend)
        self.sweeps += 1
        return (tuple(Ws), tuple(Hs))

    def errors(self, state: tuple) -> list:
        """``D(X | W_l H_l ... H_1)`` for every layer."""
        Ws, Hs = state
        return [self.loss.value(self.X, W, products(Hs, 0, l + 1), backend=self.backend)
                for l, W in enumerate(Ws)]  # noqa: E741

    def objective(self, state: tuple) -> Any:
        errors = self.errors(state)
        self.layer_history.append((self.sweeps, [self.backend.to_float(e) for e in errors]))
        return sum(lam * e for lam, e in zip(self.lambdas, errors, strict=True))

    def factors(self, state: tuple) -> dict:
        Ws, Hs = state
        out = {f"W{l + 1}": W for l, W in enumerate(Ws)}  # noqa: E741
        out.update({f"H{l + 1}": H for l, H in enumerate(Hs)})  # noqa: E741
        return out
