"""Many random restarts at once: replicates as one batch of factors, ``W (b, n, k)`` and ``H (b, k, m)``.

On a GPU one batched product does the work of ``b`` small ones, so the
replicates of rank selection and consensus clustering run together instead of
one after another. Every replicate follows exactly the trajectory of its own
:func:`nmfkit.nmf` fit (same random start from its seed, same updates, same
stopping rule applied to it alone): a replicate that has converged is frozen
while the others go on.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import numpy as np

from nmfkit import _validation as V
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.driver import HistoryEntry
from nmfkit.initialization import RandomInit
from nmfkit.losses import BetaDivergence
from nmfkit.solvers.hals import HALS
from nmfkit.solvers.mu import multiplicative_step
from nmfkit.stopping import converged_reason

__all__ = ["nmf_batch", "BatchResult"]


class BatchResult(list):
    """One ``(W, H, loss)`` per replicate, plus per replicate ``n_iter``, ``converged``, ``stop_reasons`` and
    ``histories`` (lists of :class:`~nmfkit.driver.HistoryEntry`, as a single fit's ``history``), and ``elapsed``."""

    n_iter: list
    converged: list
    stop_reasons: list
    histories: list
    elapsed: float


def _mu_step(X: Any, W: Any, H: Any, *, xp: Any, loss: BetaDivergence, eps: float, backend: Any) -> Any:
    """One multiplicative update of the batched left factor ``W`` (b, n, k) against ``H`` (b, k, m)."""
    num, den = loss.mu_terms(X, W, H, backend=backend)
    return multiplicative_step(W, num, den, loss.mm_exponent, xp, eps)


def _hals_step(X: Any, W: Any, H: Any, *, xp: Any) -> Any:
    """One plain HALS pass over the columns of the batched left factor ``W`` (b, n, k): HALS's own column pass."""
    Ht = xp.permute_dims(H, (0, 2, 1))
    A = X @ Ht
    G = H @ Ht
    W = xp.asarray(W, copy=True)
    HALS.column_pass(W, A, G, HALS.inverse_diagonal(G, xp), xp, track=False)
    return W


def _losses(X: Any, W: Any, H: Any, loss: BetaDivergence, xp: Any, eps: float) -> Any:
    """The loss of every replicate, shape (b,)."""
    return xp.sum(loss.elementwise(X, W @ H, xp, eps), axis=(1, 2))


def nmf_batch(X: Any, n_components: int, seeds: list[int], *, beta_loss: str | float = "frobenius",
              solver: str = "mu", tol: float = 1e-4, max_iter: int = 1000, every: int = 10,
              batch_size: int | None = None) -> BatchResult:
    """Fit one replicate per seed from random starts, all at once.

    Replicate ``i`` starts from ``RandomInit`` drawn with ``numpy.random.default_rng(seeds[i])``,
    exactly as ``nmf(X, n_components, init="random", random_state=seeds[i], ...)``, and stops
    when its relative objective change over ``every`` sweeps falls to ``tol`` or after
    ``max_iter`` sweeps; a stopped replicate is frozen while the others continue.

    Parameters
    ----------
    X : dense array or tensor of shape (n, m)
        Non-negative data (NumPy, or torch on any device).
    n_components : int
    seeds : list of int
        One seed per replicate.
    beta_loss : float or str, default="frobenius"
    solver : {"mu", "hals"}, default="mu"
        ``"mu"`` (any beta; as ``solver="mu"``) or ``"hals"`` (Frobenius; one pass
        per update, as ``solver=HALS(alpha=0)``).
    tol : float, default=1e-4
    max_iter : int, default=1000
    every : int, default=10
        Sweeps between objective evaluations (the only host synchronisations).
    batch_size : int, optional
        Replicates per batch; default: as many as keep ``b * n * m`` entries
        below 2**27 (1 GiB of float64), at least 1.

    Returns
    -------
    BatchResult
        ``[(W, H, loss), ...]`` in seed order, factors as host NumPy arrays, with each
        replicate's sweeps, convergence, stop reason and history of objective values.
    """
    caller = "nmf_batch"
    beta = V.check_beta_loss(beta_loss, caller)
    V.check_options(solver, "solver", caller, ("mu", "hals"))
    if solver == "hals" and beta != 2.0:
        msg = f"nmf_batch: solver='hals' needs the Frobenius loss; got beta_loss={beta:g}. Use solver='mu'."
        raise InvalidInputError(msg)
    X, nan_mask = V.check_data(X, caller=caller, beta=beta)
    backend = get_backend(X)
    if backend.is_sparse(X):
        msg = "nmf_batch needs a dense X (the batched products are dense); fit sparse data replicate by replicate."
        raise InvalidInputError(msg)
    n, m = X.shape
    k = V.check_n_components(n_components, (n, m), caller)
    V.check_zeros(X, None, beta=beta)
    xp = backend.xp
    loss = BetaDivergence(beta)
    eps = backend.eps(X.dtype)
    if batch_size is None:
        batch_size = max(1, (1 << 27) // (n * m))
    host = backend.to_host(X)
    XT = xp.permute_dims(X, (1, 0))
    out = BatchResult()
    out.n_iter, out.converged, out.stop_reasons, out.histories = [], [], [], []
    started = time.perf_counter()
    for start in range(0, len(seeds), batch_size):
        chunk = seeds[start:start + batch_size]
        starts = [RandomInit()(host, k, rng=np.random.default_rng(s)) for s in chunk]
        W = backend.asarray(np.stack([w for w, _ in starts]), like=X)
        H = backend.asarray(np.stack([h for _, h in starts]), like=X)
        active = np.ones(len(chunk), dtype=bool)
        n_iter = np.zeros(len(chunk), dtype=int)
        converged = np.zeros(len(chunk), dtype=bool)
        first = np.asarray(backend.to_numpy(_losses(X, W, H, loss, xp, eps)), dtype=float)
        previous = first.copy()
        histories = [[HistoryEntry(0, float(v), time.perf_counter() - started)] for v in first]
        reasons = [f"max_iter={max_iter} reached"] * len(chunk)
        sweep = 0
        while active.any() and sweep < max_iter:
            keep = backend.asarray(active[:, None, None].astype(host.dtype), like=X) > 0
            step = _hals_step if solver == "hals" else partial(_mu_step, loss=loss, eps=eps, backend=backend)
            Wn = step(X, W, H, xp=xp)
            Hn = xp.permute_dims(step(XT, xp.permute_dims(H, (0, 2, 1)), xp.permute_dims(Wn, (0, 2, 1)), xp=xp),
                                 (0, 2, 1))
            W = xp.where(keep, Wn, W)
            H = xp.where(keep, Hn, H)
            sweep += 1
            n_iter[active] = sweep
            if sweep % every == 0:
                current = np.asarray(backend.to_numpy(_losses(X, W, H, loss, xp, eps)), dtype=float)
                scale = np.maximum(np.maximum(np.abs(previous), 1e-12 * np.abs(first)), 1e-300)
                change = (previous - current) / scale
                done = active & (change <= tol)
                now = time.perf_counter() - started
                for j in np.flatnonzero(active).tolist():
                    histories[j].append(HistoryEntry(sweep, float(current[j]), now))
                    if done[j]:
                        reasons[j] = converged_reason(float(change[j]), tol, every)
                converged |= done
                active &= ~done
                previous = current
        final = np.asarray(backend.to_numpy(_losses(X, W, H, loss, xp, eps)), dtype=float)
        now = time.perf_counter() - started
        for i, h in enumerate(histories):
            if h[-1].n_iter != n_iter[i]:
                h.append(HistoryEntry(int(n_iter[i]), float(final[i]), now))
        Wh, Hh = backend.to_numpy(W), backend.to_numpy(H)
        for i in range(len(chunk)):
            out.append((Wh[i], Hh[i], float(final[i])))
        out.n_iter += n_iter.tolist()
        out.converged += converged.tolist()
        out.stop_reasons += reasons
        out.histories += histories
    out.elapsed = time.perf_counter() - started
    return out
