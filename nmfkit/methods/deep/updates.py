"""The block updates of deep beta-NMF (Leplat, Hien, Onwunta & Gillis, Algorithm 1); inputs are trusted.

Each function updates one factor of one layer; :mod:`nmfkit.methods.deep.fitting` chains them.
"""

from __future__ import annotations

import warnings
from typing import Any

from nmfkit.losses import BetaDivergence
from nmfkit.methods.deep.special import wright_omega
from nmfkit.solvers.mu import multiplicative_step

__all__ = ["mu_left", "mu_right", "sum_to_one_multipliers", "constrained_right", "coupled_left", "normalize"]


def mu_left(Y: Any, W: Any, H: Any, loss: BetaDivergence, backend: Any) -> Any:
    """Standard beta multiplicative update of the left factor W of ``Y ≈ W H`` (floored at eps)."""
    eps = backend.eps(W.dtype)
    num, den = loss.mu_terms(Y, W, H, backend=backend)
    # the solvers' MU step with the denominator shifted by eps (the reference code's guard), then floored
    return backend.xp.maximum(multiplicative_step(W, num, den, loss.mm_exponent, backend.xp, eps, delta=eps), eps)


def mu_right(Y: Any, W: Any, H: Any, loss: BetaDivergence, backend: Any) -> Any:
    """Standard beta multiplicative update of H: the left update on the transposed problem."""
    return mu_left(backend.transpose(Y), H.T, W.T, loss, backend).T


def sum_to_one_multipliers(P: Any, D: Any, *, tol: float, max_iter: int, guard: float,
                            xp: Any) -> tuple[Any, int]:
    """Per-row multipliers ``mu_k`` with ``sum_j P_kj / (D_kj - mu_k + guard) = 1``.

    ``phi_k(mu) = sum_j P_kj / (D_kj - mu + guard)`` is increasing and convex on
    ``mu < min_j D_kj + guard``. Newton starts at ``mu_0 = D_kj* - P_kj*`` with
    ``j* = argmin_j D_kj`` (where ``phi_k >= 1``), to the right of the root, and
    then decreases monotonically to it without overshooting; a step that would
    leave the domain is clipped. Stops when ``max |delta mu| <= tol * scale`` with
    ``scale = max(1, |mu|, |min_j D_kj|)``: ``D - mu`` is only known to that
    relative precision.
    """
    j = xp.argmin(D, axis=1)
    rows = xp.arange(D.shape[0])
    pole = D[rows, j] + guard
    mu = D[rows, j] - P[rows, j]
    n = 0
    for n in range(1, max_iter + 1):  # noqa: B007 - n is reported
        gap = D - mu[:, None] + guard
        phi = xp.sum(P / gap, axis=1)
        dphi = xp.sum(P / (gap * gap), axis=1)
        step = (phi - 1.0) / xp.maximum(dphi, 1e-300)
        new = xp.minimum(mu - step, pole - 0.5 * (pole - mu))  # stay left of the pole
        delta = xp.max(xp.abs(new - mu))
        mu = new
        if bool(delta <= tol * xp.maximum(1.0, xp.max(xp.maximum(xp.abs(mu), xp.abs(pole))))):
            break
    else:
        from sklearn.exceptions import ConvergenceWarning  # loaded when needed

        warnings.warn(f"Newton for the sum-to-one multipliers reached its cap of {max_iter} iterations; "
                      "the normalisation holds only after the final rescaling.", ConvergenceWarning, stacklevel=4)
    return mu, n


def constrained_right(Y: Any, W: Any, H: Any, loss: BetaDivergence, backend: Any, *, axis: int,
                       tol: float, max_iter: int) -> tuple[Any, int]:
    """The H update of Leplat, Gillis & Idier (2021) with ``H e = e`` (``axis=1``) or ``e^T H = e^T`` (``axis=0``).

    ``H_kj <- H_kj C_kj / (D_kj - mu)`` with ``C = W^T((WH)^(beta-2) Y)``,
    ``D = W^T (WH)^(beta-1)`` (valid for beta in [1, 2], where the MM exponent is 1)
    and ``mu`` (one per row or per column) from :func:`sum_to_one_multipliers`.
    The updated H is then rescaled to meet the constraint exactly (a correction
    of the size of the Newton tolerance) and floored at eps.
    """
    xp = backend.xp
    eps = backend.eps(W.dtype)
    numT, denT = loss.mu_terms(backend.transpose(Y), H.T, W.T, backend=backend)  # (n, r): C^T, D^T
    C, D = (numT.T, denT.T) if axis == 1 else (numT, denT)  # one multiplier per row of C
    Hs = H if axis == 1 else H.T
    guard = 1e-8 if axis == 1 else eps  # the reference code's guards (rows, cols)
    P = Hs * C
    tol = max(tol, 8.0 * eps)  # a relative step below round-off is never reached in float32
    mu, n = sum_to_one_multipliers(P, D, tol=tol, max_iter=max_iter, guard=guard, xp=xp)
    new = P / (D - mu[:, None] + guard)
    new = new / xp.sum(new, axis=1, keepdims=True)
    new = xp.maximum(new, eps)
    return (new if axis == 1 else new.T), n


def coupled_left(Y: Any, W: Any, H: Any, Wbar: Any, lam: float, loss: BetaDivergence, backend: Any) -> Any:
    """Closed-form MM update of W_l (l < L) for ``D(Y | W H) + lam * D(W | Wbar)``.

    ``lam = lambda_{l+1} / lambda_l``. The data term is majorised (Jensen, anchored
    at the current W) and the coupling term is kept exact; the minimiser is
    entrywise:

    - beta = 1: ``w = b / (lam * omega(log(b / lam) + a / lam))`` with
      ``a = sum_j H_kj - lam log Wbar``, ``b = W (Y / WH) H^T`` and ``omega`` the
      Wright omega function (the paper's Lambert-W form ``W0((b/lam) exp(a/lam))``
      overflows);
    - beta = 3/2: the positive root in ``u = sqrt(w)`` of ``A u^2 - C u - B = 0``;
    - beta = 2: ``W (Y H^T + lam Wbar) / (W H H^T + lam W)``.
    """
    xp = backend.xp
    eps = backend.eps(W.dtype)
    num, den = loss.mu_terms(Y, W, H, backend=backend)
    b = loss.beta
    if b == 1.0:
        a = den - lam * xp.log(Wbar)
        bb = xp.maximum(W * num, eps)
        w = bb / (lam * wright_omega(xp.log(bb / lam) + a / lam, backend))
    elif b == 1.5:
        sW = xp.sqrt(W)
        A = den / sW + 2.0 * lam
        B = sW * num
        C = 2.0 * lam * xp.sqrt(Wbar)
        root = (C + xp.sqrt(C * C + 4.0 * A * B)) / A
        w = 0.25 * root * root
    else:
        w = W * (num + lam * Wbar) / (den + lam * W + eps)
    return xp.maximum(w, eps)


def normalize(W: Any, H: Any, mode: str, xp: Any) -> tuple[Any, Any]:
    """Rescale without changing ``W @ H``: ``"rows"`` makes H's rows sum to 1, ``"wcols"`` W's columns."""
    if mode == "rows":
        s = xp.sum(H, axis=1)
        return W * s[None, :], H / s[:, None]
    s = xp.sum(W, axis=0)
    return W / s[None, :], H * s[:, None]
