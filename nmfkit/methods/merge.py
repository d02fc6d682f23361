"""NMF-Merge and GSVD feature recovery (Guo & Holy).

Orientation: the papers factor X (m x n) ~ W (m x r) H (r x n), which is also
nmfkit's public ``X ~ W @ H``; no transposition is needed. A *component* is a
column of W with the matching row of H.

- :func:`merge_pair`: the optimal merge of two components into one (closed form).
- :func:`merge_components`: greedy optimal pairwise merges down to a target count
  (min-heap with lazy deletion), returning the merge sequence and penalties.
- :func:`merge_replay`: apply a recorded sequence (or a prefix of it).
- :func:`gsvd_recover`: add components that X contains and W H does not reproduce
  (the GSVD step, done with one ordinary SVD).
- :func:`nmf_merge`: the pipeline initial NMF -> recovery -> over-complete NMF ->
  merge -> final NMF, with per-stage timings.

References
----------
.. [1] Y. Guo and T. E. Holy, "An optimal pairwise merge algorithm improves the
   quality and consistency of nonnegative matrix factorization", IEEE Trans.
   Signal Process. 73, 2025. :doi:`10.1109/TSP.2025.3585893`
.. [2] Y. Guo and T. E. Holy, "Recovering missing features in nonnegative matrix
   factorization via generalized singular value decomposition", iScience, 2026.
   :doi:`10.1016/j.isci.2026.114708`
"""

from __future__ import annotations

import heapq
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.fit import nmf
from nmfkit.initialization import NNDSVD, truncated_svd
from nmfkit.solvers.anls import nnls_bpp
from nmfkit.stopping import FactorChange

__all__ = ["MergeStep", "merge_pair", "merge_components", "merge_replay", "gsvd_recover", "nmf_merge", "gsvd_nmf"]


@dataclass(frozen=True)
class MergeStep:
    """One merge: components ``i`` and ``j`` became ``new`` at model change ``penalty``.

    Ids: the input components are ``0 .. r-1`` (after dropping all-zero W
    columns); each merge creates the next id.
    """

    i: int
    j: int
    new: int
    penalty: float


def merge_pair(c: float, a: float, b: float, d: float) -> tuple[float, float, float]:
    """Penalty and mixing weights of the optimal merge of two components.

    For unit-norm ``w_p, w_q`` and rows ``h_p, h_q`` with ``c = w_p.w_q``,
    ``a = |h_p|^2``, ``b = h_p.h_q``, ``d = |h_q|^2``, the best rank-one
    replacement of ``w_p h_p^T + w_q h_q^T`` is ``w_m h_m^T`` with
    ``w_m = u1 w_p + u2 w_q`` (unit norm) and
    ``h_m = (u1 + u2 c) h_p + (u1 c + u2) h_q``; the penalty
    ``||w_p h_p^T + w_q h_q^T - w_m h_m^T||_F^2`` is the smaller eigenvalue
    ``delta / lambda_max`` (the stable form).

    Returns
    -------
    penalty, u1, u2 : float
        ``u1, u2 >= 0`` for non-negative inputs.
    """
    if a <= 0.0:
        return 0.0, 0.0, 1.0  # h_p = 0: keep q
    if d <= 0.0:
        return 0.0, 1.0, 0.0
    c = min(max(c, 0.0), 1.0)  # round-off guard
    tau = a + 2.0 * c * b + d
    delta = max((1.0 - c * c) * (a * d - b * b), 0.0)
    disc = np.sqrt(max(tau * tau / 4.0 - delta, 0.0))
    lam_max = tau / 2.0 + disc
    penalty = delta / lam_max
    den = 2.0 * (b + c * d)
    if den <= 0.0:  # orthogonal w's and h's: keep the larger component
        return (float(d), 1.0, 0.0) if a >= d else (float(a), 0.0, 1.0)
    xi = (a - d + 2.0 * disc) / den
    norm = np.sqrt(1.0 + 2.0 * xi * c + xi * xi)
    return float(penalty), float(xi / norm), float(1.0 / norm)


def _merged(wi: np.ndarray, wj: np.ndarray, hi: np.ndarray, hj: np.ndarray, c: float, u1: float,
            u2: float) -> tuple[np.ndarray, np.ndarray]:
    """The merged component ``(u1 w_i + u2 w_j, (u1 + u2 c) h_i + (u1 c + u2) h_j)``."""
    return u1 * wi + u2 * wj, (u1 + u2 * c) * hi + (u1 * c + u2) * hj


def _normalize(W: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    norms = np.linalg.norm(W, axis=0)
    keep = np.flatnonzero(norms > 0)
    return W[:, keep] / norms[keep], H[keep] * norms[keep, None], keep


def merge_components(W: Any, H: Any, n_components: int, *, errstop: float = np.inf
                     ) -> tuple[np.ndarray, np.ndarray, list[MergeStep]]:
    """Greedy optimal pairwise merges of the components of ``W @ H`` down to ``n_components``.

    W's columns are first scaled to unit norm (H absorbs the scale) and all-zero
    columns are dropped. Then the pair with the smallest penalty is merged, the
    merged component gets a new id, and the new pairs enter a min-heap; entries
    that name a merged-away component are skipped when they surface (lazy
    deletion). Ties are broken by ``(i, j)``. Penalties cost O(1) from cached
    Gram matrices.

    Parameters
    ----------
    W : array of shape (m, r)
    H : array of shape (r, n)
    n_components : int
        Target number of components (``<= r``).
    errstop : float, default=inf
        Stop early when the cheapest merge costs more than this.

    Returns
    -------
    W : ndarray of shape (m, r_out)
        Unit-norm columns: surviving originals first, then merged ones in creation order.
    H : ndarray of shape (r_out, n)
    sequence : list of MergeStep
    """
    W, H, _ = _normalize(np.array(W, dtype=float), np.array(H, dtype=float))
    ws = list(W.T)
    hs = list(H)
    r = len(ws)
    Gw = np.zeros((2 * r, 2 * r))
    Gh = np.zeros((2 * r, 2 * r))
    Gw[:r, :r] = W.T @ W
    Gh[:r, :r] = H @ H.T
    alive = [True] * r
    heap: list[tuple[float, int, int, float, float]] = []
    for j in range(r):
        for i in range(j):
            p, u1, u2 = merge_pair(Gw[i, j], Gh[i, i], Gh[i, j], Gh[j, j])
            heap.append((p, i, j, u1, u2))
    heapq.heapify(heap)
    count, sequence = r, []
    while count > n_components and heap:
        p, i, j, u1, u2 = heap[0]
        if not (alive[i] and alive[j]):
            heapq.heappop(heap)
            continue
        if p > errstop:
            break
        heapq.heappop(heap)
        c = Gw[i, j]
        w, h = _merged(ws[i], ws[j], hs[i], hs[j], c, u1, u2)
        new = len(ws)
        ws.append(w)
        hs.append(h)
        alive[i] = alive[j] = False
        alive.append(True)
        sequence.append(MergeStep(i, j, new, p))
        others = [k for k in range(new) if alive[k]]
        if others:
            Wk = np.array([ws[k] for k in others])
            Hk = np.array([hs[k] for k in others])
            Gw[others, new] = Gw[new, others] = Wk @ w
            Gh[others, new] = Gh[new, others] = Hk @ h
        Gw[new, new] = w @ w
        Gh[new, new] = h @ h
        for k in others:
            pk, v1, v2 = merge_pair(Gw[k, new], Gh[k, k], Gh[k, new], Gh[new, new])
            heapq.heappush(heap, (pk, k, new, v1, v2))
        count -= 1
    ids = [k for k in range(len(ws)) if alive[k]]
    return np.column_stack([ws[k] for k in ids]), np.vstack([hs[k] for k in ids]), sequence


def merge_replay(W: Any, H: Any, sequence: list[MergeStep], n_components: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Apply a recorded merge sequence (all of it, or until ``n_components`` remain).

    The ids in ``sequence`` refer to the components of ``W, H`` after the same
    normalization :func:`merge_components` applies.
    """
    W, H, _ = _normalize(np.array(W, dtype=float), np.array(H, dtype=float))
    ws, hs = list(W.T), list(H)
    alive = [True] * len(ws)
    count = len(ws)
    for step in sequence:
        if n_components is not None and count <= n_components:
            break
        wi, wj, hi, hj = ws[step.i], ws[step.j], hs[step.i], hs[step.j]
        c = float(wi @ wj)
        _, u1, u2 = merge_pair(c, float(hi @ hi), float(hi @ hj), float(hj @ hj))
        w, h = _merged(wi, wj, hi, hj, c, u1, u2)
        ws.append(w)
        hs.append(h)
        alive[step.i] = alive[step.j] = False
        alive.append(True)
        count -= 1
    ids = [k for k in range(len(ws)) if alive[k]]
    return np.column_stack([ws[k] for k in ids]), np.vstack([hs[k] for k in ids])


def _nnls_gram(G: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``argmin_{z >= 0} z^T G z - 2 q^T z`` by block principal pivoting."""
    return nnls_bpp(G, q[:, None], np.ones((len(q), 1), dtype=bool), get_backend(G))[:, 0]


def _sign_pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dominant sign quadrant of ``x y^T`` (NNDSVD step with zero fill, ties to the positive part)."""
    xp, xn, yp, yn = np.maximum(x, 0), np.maximum(-x, 0), np.maximum(y, 0), np.maximum(-y, 0)
    mp = np.linalg.norm(xp) * np.linalg.norm(yp)
    mn = np.linalg.norm(xn) * np.linalg.norm(yn)
    u, v, m = (xp, yp, mp) if mp >= mn else (xn, yn, mn)
    if m == 0:
        return np.zeros_like(x), np.zeros_like(y)
    s = np.sqrt(m)
    return s * u / np.linalg.norm(u), s * v / np.linalg.norm(v)


def gsvd_recover(X: Any, W: Any, H: Any, n_add: int, svd: tuple | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add ``n_add`` non-negative components that ``X`` contains and ``W @ H`` does not reproduce.

    With ``U0, s0, V0`` the leading ``r0`` singular triplets of X (``r0`` = the
    current rank) and ``B = U0^T W H V0``, the candidate directions maximize
    ``||X v||^2 / ||P_U0 W H v||^2`` over ``v = V0 y``: the generalized
    eigenproblem ``S0^2 y = L B^T B y``, solved here by one SVD of
    ``B S0^{-1}`` (``L = 1 / gamma^2``, largest first). The new rows of H are
    ``(V0 Y)^T``; the old columns of W are rescaled and the new ones fitted in
    closed form, made non-negative by the NNDSVD sign step, and all columns are
    finally rebalanced by NNLS.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (m, n)
    W : ndarray of shape (m, r0)
    H : ndarray of shape (r0, n)
    n_add : int
        ``1 <= n_add <= r0``.
    svd : tuple (U, s, Vt), optional
        An SVD of X with at least ``r0`` triplets (computed when omitted).

    Returns
    -------
    W : ndarray of shape (m, r0 + n_add)
    H : ndarray of shape (r0 + n_add, n)
    Lambda : ndarray of shape (r0,)
        Squared generalized singular values, descending (``inf`` where W H has no energy).

    Notes
    -----
    [derived] When the rebalanced result fits worse than the input (possible when
    a rescaling weight is zero), the rebalance is redone from the unscaled W,
    which contains the input as a feasible point, so the fitting error never
    increases.
    """
    import scipy.sparse as sp

    W0, H0 = np.asarray(W, dtype=float), np.asarray(H, dtype=float)
    r0 = W0.shape[1]
    if not 1 <= n_add <= r0:
        msg = f"n_add must be in [1, r0] = [1, {r0}] (the current rank); got {n_add}."
        raise InvalidInputError(msg)
    U, s, Vt = svd if svd is not None else truncated_svd(X, r0, method="auto")
    U0, s0, V0 = U[:, :r0], np.asarray(s[:r0], dtype=float), Vt[:r0].T
    if s0[-1] <= np.sqrt(np.finfo(float).eps) * s0[0]:
        msg = f"X is numerically rank deficient at rank {r0} (s[{r0}] <= sqrt(eps) s[1]); lower the rank."
        raise InvalidInputError(msg)
    B = (U0.T @ W0) @ (H0 @ V0)
    _, gamma, Rt = np.linalg.svd(B / s0[None, :])
    order = np.argsort(gamma, kind="stable")
    tiny = np.sqrt(np.finfo(float).eps) * max(gamma.max(), np.finfo(float).tiny)
    lam = np.where(gamma[order] > tiny, 1.0 / np.maximum(gamma[order], tiny) ** 2, np.inf)
    n_inf = int(np.sum(np.isinf(lam)))
    if n_add < n_inf:
        warnings.warn(f"n_add={n_add} is less than the rank deficiency of W @ H ({n_inf}).", UserWarning,
                      stacklevel=2)
    Y = Rt.T[:, order[:n_add]] / s0[:, None]
    Hadd = (V0 @ Y).T
    XHa = np.asarray(X @ Hadd.T)
    XH0 = np.asarray(X @ H0.T)
    G = Hadd @ Hadd.T
    C0 = H0 @ Hadd.T
    Ginv_C0t = np.linalg.solve(G, C0.T)
    A = (W0.T @ W0) * (H0 @ H0.T - C0 @ Ginv_C0t)
    b = np.einsum("ij,ji->i", C0 @ np.linalg.solve(G, XHa.T), W0) - np.einsum("ij,ij->j", W0, XH0)
    try:
        np.linalg.cholesky(A)
        alpha = _nnls_gram(A, -b)
    except np.linalg.LinAlgError:
        warnings.warn("The rescaling problem is not positive definite; using alpha = 1.", UserWarning, stacklevel=2)
        alpha = np.ones(r0)
    Wadd = (XHa - W0 @ (alpha[:, None] * C0)) @ np.linalg.inv(G)
    alpha = np.abs(alpha)
    pairs = [_sign_pair(Wadd[:, j], Hadd[j]) for j in range(n_add)]
    Wadd = np.column_stack([p[0] for p in pairs])
    Hadd = np.vstack([p[1] for p in pairs])
    H1 = np.vstack([H0, Hadd])
    sqX = float(X.multiply(X).sum()) if sp.issparse(X) else float(np.sum(np.asarray(X) ** 2))

    def rebalance(W1: np.ndarray) -> tuple[np.ndarray, float]:
        XH1 = np.asarray(X @ H1.T)
        gram = (W1.T @ W1) * (H1 @ H1.T)
        beta = _nnls_gram(gram, np.einsum("ij,ij->j", W1, XH1))
        Wb = W1 * beta
        err = sqX - 2.0 * np.sum(Wb * XH1) + np.sum((Wb.T @ Wb) * (H1 @ H1.T))
        return Wb, err

    W_out, err = rebalance(np.column_stack([W0 * alpha, Wadd]))
    base = sqX - 2.0 * np.sum(W0 * XH0) + np.sum((W0.T @ W0) * (H0 @ H0.T))
    if err > base:
        W_out, err = rebalance(np.column_stack([W0, Wadd]))
    return np.abs(W_out), np.abs(H1), lam


@shared_docs
def nmf_merge(X: Any, n_components: int, *, n_extra: int | None = None, solver: Any = "hals",
              tol_intermediate: float = 1e-2, tol_final: float = 1e-4, W: Any = None, H: Any = None,
              max_iter: int = 10**6, svd: str = "auto", random_state: Any = None, verbose: int = 0) -> Any:
    """NMF-Merge: initial NMF, GSVD recovery of ``n_extra`` components, over-complete NMF,
    greedy optimal merges back to ``n_components``, final NMF.

    Every NMF stage uses the per-component relative factor-change rule (NMF.jl,
    unsquared norms) with the stage's tolerance.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
    n_components : int
        Final rank r.
    n_extra : int, optional
        Extra components k; default ``max(1, round(0.2 r))``. At most r, and
        capped so that ``r + k <= min(m, n)``.
    solver : str or Solver, default="hals"
        Any Frobenius solver.
    tol_intermediate : float, default=1e-2
        Tolerance of the initial and over-complete NMF.
    tol_final : float, default=1e-4
        Tolerance of the final NMF.
    W, H : array-like, optional
        A starting (or existing) solution of rank r to improve; default NNDSVD
        (zero fill, NMF.jl variant) from the truncated SVD reused by the recovery.
    max_iter : int, default=10**6
        Sweep cap of each stage (a warning says when it is hit).
    svd : {"auto", "full", "randomized"}, default="auto"
    random_state : int, Generator or None
        Only used by a randomized SVD.
    {verbose}

    Returns
    -------
    FitResult
        Of the final stage; ``extras`` adds ``stage_times`` (initial, recovery,
        overcomplete, merge, final), ``stage_iterations``, ``merge_sequence``,
        ``overcomplete`` (W, H), ``Lambda`` and ``n_extra``.
    """
    Xv, _ = V.check_data(X, caller="nmf_merge")
    r = V.check_n_components(n_components, Xv.shape, "nmf_merge")
    k = max(1, int(round(0.2 * r))) if n_extra is None else int(n_extra)
    if not 0 <= k <= r:
        msg = f"n_extra must be in [0, n_components] = [0, {r}]; got {n_extra}."
        raise InvalidInputError(msg)
    # the over-complete rank cannot exceed min(m, n); with no room the pipeline is a plain two-stage NMF
    k = min(k, min(Xv.shape) - r)
    rng, _ = V.check_random_state(random_state, "nmf_merge")
    times: dict[str, float] = {}
    its: dict[str, int] = {}

    def stage(name: str, W0: Any, H0: Any, tol: float) -> Any:
        t0 = time.perf_counter()
        with V.calling("nmf_merge"):
            res = nmf(Xv, W0.shape[1], solver=solver, W=W0, H=H0, stop=FactorChange(tol), max_iter=max_iter,
                      extrapolate=False, verbose=verbose)
        times[name] = time.perf_counter() - t0
        its[name] = res.n_iter
        return res

    t0 = time.perf_counter()
    f = truncated_svd(Xv, r, method=svd, rng=rng)
    if W is None or H is None:
        W, H = NNDSVD("zero", leading="uniform", ties="positive")(Xv, r, rng=rng, svd=f)
    times["svd_and_init"] = time.perf_counter() - t0
    first = stage("initial", np.asarray(W, float), np.asarray(H, float), tol_intermediate)
    if k == 0:
        final = stage("final", first.W, first.H, tol_final)
        final.extras.update(stage_times=times, stage_iterations=its, merge_sequence=[], n_extra=0)
        return final
    t0 = time.perf_counter()
    Wr, Hr, lam = gsvd_recover(Xv, first.W, first.H, k, svd=f)
    times["recovery"] = time.perf_counter() - t0
    over = stage("overcomplete", Wr, Hr, tol_intermediate)
    t0 = time.perf_counter()
    Wm, Hm, seq = merge_components(over.W, over.H, r)
    times["merge"] = time.perf_counter() - t0
    final = stage("final", Wm, Hm, tol_final)
    final.extras.update(stage_times=times, stage_iterations=its, merge_sequence=seq, n_extra=k,
                        overcomplete=(over.W, over.H), Lambda=lam, initial=(first.W, first.H))
    return final


@shared_docs
def gsvd_nmf(X: Any, n_components: int, *, n_initial: int | None = None, solver: Any = "hals",
             tol_intermediate: float | None = None, tol_final: float = 1e-4, max_iter: int = 10**6,
             svd: str = "auto", random_state: Any = None) -> Any:
    """GSVD-NMF: NMF at rank ``n_initial`` (default r - 1), GSVD recovery up to ``n_components``, final NMF.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
    n_components : int
    n_initial : int, optional
        Rank of the under-complete fit; ``n_components - n_initial <= n_initial``.
    solver : str or Solver, default="hals"
    tol_intermediate : float, optional
        Tolerance of the under-complete fit; default ``tol_final`` (the authors' default).
    tol_final : float, default=1e-4
    max_iter : int, default=10**6
    svd : {"auto", "full", "randomized"}, default="auto"
    {random_state}

    Returns
    -------
    FitResult
        ``extras`` adds ``Lambda``, ``stage_times`` and ``stage_iterations``.
    """
    Xv, _ = V.check_data(X, caller="gsvd_nmf")
    r = V.check_n_components(n_components, Xv.shape, "gsvd_nmf")
    r1 = r - 1 if n_initial is None else int(n_initial)
    if not 1 <= r1 < r or r - r1 > r1:
        msg = (f"n_initial must satisfy 1 <= n_initial < n_components and n_components - n_initial <= n_initial; "
               f"got {r1}.")
        raise InvalidInputError(msg)
    rng, _ = V.check_random_state(random_state, "gsvd_nmf")
    tol_intermediate = tol_final if tol_intermediate is None else tol_intermediate
    times, its = {}, {}
    t0 = time.perf_counter()
    f = truncated_svd(Xv, r, method=svd, rng=rng)
    leading = (f[0][:, :r1], f[1][:r1], f[2][:r1])
    W0, H0 = NNDSVD("zero", leading="uniform", ties="positive")(Xv, r1, rng=rng, svd=leading)
    with V.calling("gsvd_nmf"):
        first = nmf(Xv, r1, solver=solver, W=W0, H=H0, stop=FactorChange(tol_intermediate), max_iter=max_iter,
                    extrapolate=False)
    times["initial"], its["initial"] = time.perf_counter() - t0, first.n_iter
    t0 = time.perf_counter()
    W1, H1, lam = gsvd_recover(Xv, first.W, first.H, r - r1, svd=f)
    times["recovery"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with V.calling("gsvd_nmf"):
        final = nmf(Xv, r, solver=solver, W=W1, H=H1, stop=FactorChange(tol_final), max_iter=max_iter,
                    extrapolate=False)
    times["final"], its["final"] = time.perf_counter() - t0, final.n_iter
    final.extras.update(Lambda=lam, stage_times=times, stage_iterations=its)
    return final
