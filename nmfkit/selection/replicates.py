"""Replicate fits from independent random starts: seeds spawned from one ``random_state``, run in parallel."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from nmfkit._progress import track
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.batch import nmf_batch
from nmfkit.fit import nmf
from nmfkit.losses import BETA_ALIASES

__all__ = ["replicate_seeds", "Replicates", "fit_replicate", "run_replicates", "dense"]


def replicate_seeds(random_state: Any, n: int) -> list[int]:
    """``n`` independent seeds spawned from ``random_state`` (``SeedSequence.spawn``): same input, same seeds."""
    if isinstance(random_state, np.random.Generator):
        entropy = int(random_state.integers(2**63))
    elif random_state is None:
        entropy = None
    else:
        entropy = int(random_state)
    return [int(s.generate_state(1, np.uint64)[0] % (2**63)) for s in np.random.SeedSequence(entropy).spawn(n)]


class Replicates(list):
    """One ``(W, H, loss)`` per replicate, in seed order, plus ``converged`` (one bool per replicate)."""

    converged: list


def fit_replicate(X: Any, k: int, seed: int, params: dict) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """One replicate, ``nmf(X, k, random_state=seed, **params)``, as ``(W, H, loss, converged)``, no warning."""
    with warnings.catch_warnings():
        from sklearn.exceptions import ConvergenceWarning  # loaded when needed
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = nmf(X, k, random_state=seed, **params)
    return np.asarray(res.W), np.asarray(res.H), float(res.extras["loss_value"]), bool(res.converged)


def replicate_programs(X: Any, k: int, seed: int, params: dict) -> tuple[np.ndarray, bool]:
    """:func:`fit_replicate` keeping only ``(H, converged)``: what a consensus needs, and little to send back
    from a worker process (``W`` has a row per sample)."""
    _, H, _, converged = fit_replicate(X, k, seed, params)
    return H, converged


def _replicates(runs: Sequence, converged: Sequence[bool]) -> Replicates:
    out = Replicates(runs)
    out.converged = [bool(c) for c in converged]
    return out


_BATCH_SOLVERS = {"auto": None, "mu": "mu", "hals": "hals", "cd": "hals"}


def _batched(X: Any, n_components: int, seeds: list[int], device: str, params: dict) -> Replicates:
    """The replicates as one batch on a torch device (:func:`nmfkit.batch.nmf_batch`)."""
    import torch


    params = dict(params)
    beta_loss = params.pop("beta_loss", "frobenius")
    beta = BETA_ALIASES.get(beta_loss, beta_loss) if isinstance(beta_loss, str) else float(beta_loss)
    solver = params.pop("solver", "auto")
    init = params.pop("init", "random")
    tol = params.pop("tol", 1e-4)
    max_iter = params.pop("max_iter", 1000)
    unsupported = sorted(params)
    if not isinstance(solver, str) or solver not in _BATCH_SOLVERS:
        unsupported.append(f"solver={solver!r}")
    if init != "random":
        unsupported.append(f"init={init!r}")
    if unsupported:
        msg = (f"Replicates on a device run as one batch with random starts, solver 'mu' or 'hals' (plain "
               f"passes), tol and max_iter only; unsupported here: {', '.join(unsupported)}. "
               "Drop device= to run them one by one.")
        raise InvalidInputError(msg)
    batch_solver = _BATCH_SOLVERS[solver] or ("hals" if beta == 2.0 else "mu")
    Xt = torch.as_tensor(dense(X), device=device)
    batch = nmf_batch(Xt, n_components, seeds, beta_loss=beta, solver=batch_solver, tol=tol, max_iter=max_iter)
    return _replicates(batch, batch.converged)


def run_replicates(X: Any, n_components: int, n_runs: int = 10, *, random_state: Any = None, n_jobs: int = 1,
                   progress: bool = False, device: str | None = None,
                   **fit_params: Any) -> Replicates:
    """Fit ``n_runs`` replicates from independent random starts; returns ``(W, H, loss)`` per replicate.

    The list returned also says, in ``.converged``, which replicates met the
    stopping rule before ``max_iter`` (their ConvergenceWarnings are not shown).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    n_runs : int, default=10
    random_state : int, Generator or None
        Spawns one seed per replicate (:func:`replicate_seeds`).
    n_jobs : int, default=1
        Parallel processes (joblib); results do not depend on it.
    progress : bool, default=False
        Progress on stderr: a tqdm bar on a terminal, a log line every 5 s elsewhere.
    device : str, optional
        A torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``): the replicates run
        there as one batch (:func:`nmfkit.batch.nmf_batch`, needs PyTorch), each
        from the same random start as its sequential fit; HALS runs plain passes
        (``HALS(alpha=0)``). Only ``beta_loss``, ``solver`` (``"auto"``,
        ``"mu"``, ``"hals"``), ``tol`` and ``max_iter`` are supported then.
    **fit_params
        Passed to :func:`nmfkit.nmf` (default ``init="random"``, ``max_iter=1000``).
    """
    from joblib import Parallel, delayed

    params = {"init": "random", "max_iter": 1000, **fit_params}
    seeds = replicate_seeds(random_state, n_runs)
    if device is not None:
        return _batched(X, n_components, seeds, device, params)
    jobs = (delayed(fit_replicate)(X, n_components, s, params) for s in seeds)
    done = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)  # in order, counted as they finish
    runs = list(track(done, total=len(seeds), desc=f"rank {n_components}", unit="replicates", enabled=progress))
    return _replicates([r[:3] for r in runs], [r[3] for r in runs])


def dense(X: Any) -> np.ndarray:
    """``X`` as a dense float NumPy array (from SciPy sparse, NumPy or PyTorch)."""
    if sp.issparse(X):
        return X.toarray()
    return np.asarray(get_backend(X).to_numpy(X), dtype=float)
