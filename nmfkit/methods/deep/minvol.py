"""Minimum-volume deep KL-NMF (Algorithm 2, beta = 1): the log-det term and the W step by ADMM; inputs are trusted."""

from __future__ import annotations

import math
from typing import Any

from nmfkit.losses import BetaDivergence
from nmfkit.methods.deep.special import wright_omega

__all__ = ["logdet_parts", "log10det", "root_q", "column_multipliers", "minvol_last", "minvol_admm"]


def logdet_parts(W: Any, delta: float, xp: Any) -> tuple[Any, Any]:
    """``|A|`` and ``max(-A, 0)`` for ``A = (W^T W + delta I)^-1`` (SPD, so a Cholesky-based inverse)."""
    r = W.shape[1]
    G = W.T @ W + delta * xp.eye(r, dtype=W.dtype)
    L = xp.linalg.cholesky(G)
    Linv = xp.linalg.inv(L)
    A = Linv.T @ Linv
    return xp.abs(A), xp.maximum(-A, 0.0)


def log10det(W: Any, delta: float, xp: Any) -> Any:
    r = W.shape[1]
    L = xp.linalg.cholesky(W.T @ W + delta * xp.eye(r, dtype=W.dtype))
    return 2.0 * xp.sum(xp.log(xp.linalg.diagonal(L))) / math.log(10.0)


def root_q(C: Any, S: Any, T: Any, xp: Any) -> Any:
    """``(sqrt(C^2 + S) - C) / T``, written without cancellation for large positive C."""
    rt = xp.sqrt(C * C + S)
    return xp.where(C > 0, S / (rt + C), rt - C) / T


def column_multipliers(anchor: Any, C: Any, S: Any, T: Any, mu: Any, *, tol: float, max_iter: int,
                        xp: Any) -> tuple[Any, int]:
    """``mu_k`` with ``sum_i anchor_ik q_ik(mu_k) = 1``, ``q = root_q(C + mu, S, T)`` (decreasing, convex)."""
    n = 0
    for n in range(1, max_iter + 1):  # noqa: B007 - n is reported
        Cm = C + mu[None, :]
        rt = xp.sqrt(Cm * Cm + S)
        f = xp.sum(anchor * root_q(Cm, S, T, xp), axis=0) - 1.0
        df = xp.sum(anchor / T * (Cm / xp.maximum(rt, 1e-300) - 1.0), axis=0)
        step = f / xp.minimum(df, -1e-300)
        mu = mu - step
        if bool(xp.max(xp.abs(step)) <= tol * xp.maximum(1.0, xp.max(xp.abs(mu)))):
            break
    return mu, n


def minvol_last(Y: Any, W: Any, H: Any, alpha: float, delta: float, mu: Any, loss: BetaDivergence,
                 backend: Any, *, tol: float, max_iter: int) -> tuple[Any, Any, int]:
    """Min-vol KL multiplicative update of W_L with column sums 1 (Leplat, Gillis & Idier), no proximal term.

    ``W <- W (sqrt((Phi + mu)^2 + eta) - (Phi + mu)) / Psi`` with
    ``Phi = 1 H^T - 4 alpha W A^-``, ``eta = 8 alpha W|A| * ((Y / WH) H^T)``,
    ``Psi = 4 alpha W|A|``. The weight is ``alpha_L`` itself (reference code).
    """
    xp = backend.xp
    eps = backend.eps(W.dtype)
    Aabs, Am = logdet_parts(W, delta, xp)
    num, den = loss.mu_terms(Y, W, H, backend=backend)
    WA = W @ Aabs
    Phi = den - 4.0 * alpha * (W @ Am)
    Psi = 4.0 * alpha * WA
    eta = 2.0 * Psi * num
    mu, n = column_multipliers(W, Phi, eta, Psi, mu, tol=max(tol, 8.0 * eps), max_iter=max_iter, xp=xp)
    Wn = W * root_q(Phi + mu[None, :], eta, Psi, xp)
    return xp.maximum(Wn, eps), mu, n


def minvol_admm(Y: Any, W: Any, H: Any, Wbar: Any, *, lam_l: float, lam_next: float, alpha: float, delta: float,
                 rho: float, exact_prox: bool, accelerated: bool, tol: float, max_iter: int, newton_tol: float,
                 newton_max_iter: int, loss: BetaDivergence, backend: Any) -> tuple[Any, dict]:
    """ADMM on the majorised W_l subproblem of min-vol deep KL-NMF (paper Algorithm 2, lines 8-14).

    ``min_W lambda_l G(W|Wt) + lambda_{l+1} D_KL(W | Wbar) + alpha g(W|Wt)`` s.t. ``W^T e = e``,
    split as ``W = Z``: the W-step is entrywise closed form with column multipliers
    by Newton, the Z-step is ``z = omega(log nu + log Wbar + nu v) / nu``
    (``nu = rho / lambda_{l+1}``), then ``U <- U + W - Z``; stops when
    ``||W - Z||_F <= tol``. Returns the W iterate.

    ``exact_prox=False`` reproduces the reference code: its W-step solves the
    stationarity equation with the proximal gradient ``rho (W / Wt - V)``, and its
    Newton step enforces the column sums on the previous ADMM iterate while the
    update multiplies the anchor Wt, so the sums hold only approximately after the
    first ADMM iteration. ``exact_prox=True`` uses ``rho (W - V)`` and anchors the
    Newton step on Wt, so the column sums hold exactly.
    """
    xp = backend.xp
    eps = backend.eps(W.dtype)
    Wt = W
    Aabs, Am = logdet_parts(Wt, delta, xp)
    num, den = loss.mu_terms(Y, Wt, H, backend=backend)
    a, r = alpha / lam_l, rho / lam_l
    prox = 2.0 * r * Wt if exact_prox else 2.0 * r
    T = 4.0 * a * (Wt @ Aabs) + prox
    S = 2.0 * T * num
    C0 = den - 4.0 * a * (Wt @ Am)
    nu = rho / lam_next
    log_nu_wbar = math.log(nu) + xp.log(Wbar)
    Z, U = Wt, xp.zeros_like(Wt)
    Zh, Uh = Z, U
    mu = xp.zeros(Wt.shape[1], dtype=Wt.dtype)
    Wn, newton, it, residual = Wt, 0, 0, math.inf
    for it in range(1, max_iter + 1):  # noqa: B007 - it is reported
        C = C0 - r * (Zh - Uh)
        anchor = Wt if exact_prox else Wn
        mu, k = column_multipliers(anchor, C, S, T, mu, tol=max(newton_tol, 8.0 * eps), max_iter=newton_max_iter,
                                    xp=xp)
        newton += k
        Wn = xp.maximum(Wt * root_q(C + mu[None, :], S, T, xp), eps)
        Zn = wright_omega(log_nu_wbar + nu * (Wn + Uh), backend) / nu
        Un = Uh + Wn - Zn
        residual = xp.linalg.vector_norm(Wn - Zn)
        if accelerated:
            g = it / (it + 10.0)
            Uh, Zh = Un + g * (Un - U), Zn + g * (Zn - Z)
        else:
            Uh, Zh = Un, Zn
        Z, U = Zn, Un
        if bool(residual <= tol):
            break
    return Wn, {"admm_iterations": it, "newton_iterations": newton, "residual": residual}
