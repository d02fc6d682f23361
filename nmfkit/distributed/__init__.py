"""NMF of Dask arrays: rows distributed, factors small.

``X`` (n, m) stays a Dask array chunked by rows (read from zarr, HDF5, a
memory map or memory); ``W`` is chunked the same way; ``H`` (k, m) and the
k x k statistics are small and travel as single tasks. A sweep is

1. the W update, row block by row block: every solver here updates the rows
   of ``W`` independently given ``H`` (HALS's passes share one stopping test,
   reduced across the blocks);
2. the H update from sums over the row blocks: ``X^T W`` and ``W^T W`` for the
   Frobenius solvers, the multiplicative-update terms for any beta.

Each block of ``X`` is read once per sweep (twice for HALS with inner
passes), inside the tasks that use it, so a matrix larger than the workers'
memory is never held whole. The sweeps between two objective evaluations form
one Dask graph, run by one ``compute``: it also evaluates the objective and
saves ``W``'s blocks to ``work_dir``. The next sweeps start from those files,
so the history Dask keeps (and replays when a worker is lost) is never longer
than one evaluation interval, and a fit survives the loss of workers.

The arithmetic is the in-memory solvers' own (each task runs them on NumPy or
SciPy blocks): from the same start, a Dask fit gives the NumPy fit's factors
up to the order of floating-point sums.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._validation import InvalidInputError
from nmfkit.distributed import tasks
from nmfkit.driver import FitResult, run
from nmfkit.initialization import NNDSVD, RandomInit
from nmfkit.losses import BetaDivergence
from nmfkit.options import resolve
from nmfkit.penalties import elastic_net
from nmfkit.solvers import HALS, row_separable_solvers
from nmfkit.stopping import StoppingRule

__all__ = ["nmf_distributed", "is_dask_array"]

_FAN_IN = 8  # partial sums added per task in the tree reductions


def is_dask_array(X: Any) -> bool:
    """True for a ``dask.array.Array`` (without importing Dask)."""
    module = type(X).__module__
    if not module.startswith("dask"):
        return False
    import dask.array as da

    return isinstance(X, da.Array)


# -- the method, as the driver loop sees it -----------------------------------------------------------------


@dataclass
class _State:
    """Keys of W's row blocks and of H, and the tasks (a plain Dask graph) that will produce them.

    A W key names a block, or a tuple whose first item is the block (the task that updated it also
    returned statistics).
    """

    W: list
    H: str
    graph: dict


def _item(value: tuple, i: int) -> Any:
    return value[i]


class _DistributedNMF:
    """Alternating NMF over row blocks: ``step`` describes a sweep, ``settle`` runs the pending ones."""

    def __init__(self, X: Any, ctx: tasks.Context, client: Any, work_dir: str, k: int, dtype: Any) -> None:
        self.X = X
        self.rows = X.chunks[0]
        self.ctx = ctx
        self.client = client
        self.work_dir = work_dir
        self.k = k
        self.dtype = dtype
        self.token = uuid.uuid4().hex[:12]
        self.count = 0
        self.settled = 0
        self.loss = float("nan")  # the loss (no penalties) at the last evaluation
        self.paths: list = []  # W's blocks saved at the last evaluation
        self.passes = ctx.solver.passes(ctx.n, ctx.m, ctx.nnz, k) if isinstance(ctx.solver, HALS) else 1
        graph = X.__dask_graph__()
        self.X_keys = [row[0] for row in X.__dask_keys__()]
        self.X_graph = dict(graph)
        # layers without dependencies (the source: a zarr or HDF5 handle, an embedded array, futures of a
        # persisted array) are shared by every read; the tasks above them are cloned per read
        self.sources = [name for name, deps in graph.dependencies.items() if not deps]
        self.rereads = X.name not in self.sources

    def key(self, what: str) -> str:
        self.count += 1
        return f"nmfkit-{what}-{self.token}-{self.count}"

    # -- Iterative -----------------------------------------------------------------------------------------
    def start(self, W: np.ndarray, H: np.ndarray) -> _State:
        """The starting state; W's blocks are written to ``work_dir`` here and read by the tasks."""
        bounds = np.cumsum((0, *self.rows))
        folder = os.path.join(self.work_dir, "W-start")
        os.makedirs(folder, exist_ok=True)
        graph = dict(self.X_graph)
        W_keys = []
        for i, (s, e) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            saved = tasks.save(W[s:e], os.path.join(folder, f"{i:06d}.npy"))
            W_keys.append(self.task(graph, "load", tasks.load, saved))
        H_key = self.key("H0")
        graph[H_key] = H
        self.ctx_key = self.key("context")
        graph[self.ctx_key] = self.ctx
        return _State(W_keys, H_key, graph)

    def blocks(self, graph: dict, after: list) -> list:
        """Keys of X's row blocks, read anew once the tasks ``after`` are done.

        Each use of X in an interval gets its own copy of X's tasks (``bind``), which runs only once the
        factor it waits for exists: a block is read, used and released, and the sweeps of an interval never
        hold X in memory. A persisted X is used as it is.
        """
        if not self.rereads:
            return self.X_keys
        from dask.delayed import Delayed
        from dask.graph_manipulation import bind

        parents = [Delayed(k, {}) for k in after]
        omit = [Delayed(self.X_keys[0], self.X.__dask_graph__(), layer=name) for name in self.sources]
        Xs = bind(self.X, parents, omit=omit, seed=self.key("read"))
        graph.update(Xs.__dask_graph__())
        return [row[0] for row in Xs.__dask_keys__()]

    def step(self, state: _State) -> _State:
        graph, W, H, ctx = state.graph, state.W, state.H, self.ctx_key
        X = self.blocks(graph, [H] if self.ctx.update_H else W)
        if self.passes > 1:
            W, terms = self._hals(graph, X, W, H)
        else:
            W = [self.task(graph, "sweep", tasks.sweep_block, x, w, H, ctx) for x, w in zip(X, W, strict=True)]
            terms = [self.task(graph, "terms", _item, w, 1) for w in W] if self.ctx.update_H else []
        if self.ctx.update_H:
            H = self.task(graph, "H", tasks.update_H, self.tree_sum(graph, terms), H, ctx)
        return _State(W, H, graph)

    def task(self, graph: dict, what: str, func: Callable, *args: Any) -> str:
        key = self.key(what)
        graph[key] = (func, *args)
        return key

    def tree_sum(self, graph: dict, parts: list) -> str:
        """Partial sums ``_FAN_IN`` at a time (a tree: no task receives every block's part)."""
        while len(parts) > 1:
            parts = [self.task(graph, "sum", tasks.add, *parts[i:i + _FAN_IN]) if len(parts[i:i + _FAN_IN]) > 1
                     else parts[i] for i in range(0, len(parts), _FAN_IN)]
        return parts[0]

    def _hals(self, graph: dict, X: list, W: list, H: str) -> tuple[list, list]:
        """HALS's passes on every block, with its stopping test on the summed change."""
        ctx = self.ctx_key
        # a block's tasks pass (W, A, G, change) tuples along (they stay on the block's worker); only the
        # changes, picked out, travel to the sums
        started = [self.task(graph, "hals", tasks.hals_start, x, w, H, ctx) for x, w in zip(X, W, strict=True)]
        W = started
        first = previous = self.tree_sum(graph, [self.task(graph, "change", _item, s, 3) for s in started])
        go: Any = True
        for p in range(1, self.passes):
            if p >= 2:
                go = self.task(graph, "go", tasks.keep_going, go, previous, first, self.ctx.solver.delta)
            W = [self.task(graph, "pass", tasks.hals_pass, w, s, go) for w, s in zip(W, started, strict=True)]
            previous = self.tree_sum(graph, [self.task(graph, "change", _item, w, 1) for w in W])
        W = [self.task(graph, "W", tasks.first, w) for w in W]
        terms = []
        if self.ctx.update_H:
            X = self.blocks(graph, W)
            terms = [self.task(graph, "terms", tasks.block_H_terms, x, w, H, ctx) for x, w in zip(X, W, strict=True)]
        return W, terms

    def settle(self, state: _State) -> tuple[_State, float]:
        """Run the pending sweeps with the objective, save W's blocks, and start again from the files."""
        graph = state.graph
        X = self.blocks(graph, [state.H])
        parts = [self.task(graph, "objective", tasks.block_objective, x, w, state.H, self.ctx_key)
                 for x, w in zip(X, state.W, strict=True)]
        value = self.task(graph, "objective", tasks.objective, parts, state.H, self.ctx_key)
        folder = os.path.join(self.work_dir, f"W-{self.settled % 2}")
        os.makedirs(folder, exist_ok=True)
        paths = [os.path.join(folder, f"{i:06d}.npy") for i in range(len(self.rows))]
        saved = [self.task(graph, "save", tasks.save, w, path) for w, path in zip(state.W, paths, strict=True)]
        try:
            H, (self.loss, total), _ = self.client.get(graph, [state.H, value, saved], sync=True)
        except (FileNotFoundError, PermissionError) as err:
            msg = (f"The workers cannot write to work_dir {self.work_dir!r} ({err}); pass a folder that the "
                   "client and every worker can reach (a shared file system).")
            raise OSError(msg) from err
        self.settled += 1
        self.paths = paths
        graph = dict(self.X_graph)
        W = [self.task(graph, "load", tasks.load, path) for path in paths]
        H_key = self.key("H")
        graph[H_key] = H
        graph[self.ctx_key] = self.ctx
        return _State(W, H_key, graph), float(total)

    def objective(self, state: _State) -> float:
        """The objective at ``state`` (runs the pending sweeps; ``settle`` does it while saving them)."""
        return self.settle(state)[1]

    def factors(self, state: _State) -> dict:
        return {"W": _Pending(self, state, "W"), "H": _Pending(self, state, "H")}

    def load(self, paths: list) -> Any:
        """W as a Dask array reading the saved blocks."""
        import dask.array as da
        from dask import delayed

        # keys named after this fit: another fit writing the same folder must not share them
        return da.concatenate([da.from_delayed(delayed(tasks.load, name=f"nmfkit-result-{self.token}-{i}")(path),
                                               (r, self.k), dtype=self.dtype)
                               for i, (path, r) in enumerate(zip(paths, self.rows, strict=True))])


class _Pending:
    """A factor of a state whose sweeps have not run: ``compute()`` runs them (once per call)."""

    def __init__(self, method: _DistributedNMF, state: _State, which: str) -> None:
        self.method, self.state, self.which = method, state, which
        self.shape = (method.ctx.n, method.k) if which == "W" else (method.k, method.ctx.m)
        self.dtype = method.dtype

    def compute(self) -> np.ndarray:
        keys = self.state.W if self.which == "W" else self.state.H
        out = self.method.client.get(dict(self.state.graph), keys, sync=True)
        return np.concatenate([tasks.first(b) for b in out]) if self.which == "W" else out


class _Summary:
    """Shape and sum of the data, all an initializer needs besides its SVD."""

    def __init__(self, shape: tuple, total: float) -> None:
        self.shape = shape
        self.total = total

    def sum(self) -> float:
        return self.total


def _validate(X: Any, client: Any, beta: float, caller: str) -> tuple[Any, dict]:
    """One pass over X: NaN, inf, negative entries, all-zero rows and columns, the sum and stored entries."""
    import dask

    blocks = list(X.to_delayed().ravel())
    parts = client.compute([dask.delayed(tasks.summary, pure=True)(b) for b in blocks], sync=True)
    sparse = sp.issparse(X._meta)
    V.check_finite("X", sum(p["inf"] for p in parts), sum(p["nan"] for p in parts), "error", sparse, "toarray")
    n_neg = sum(p["neg"] for p in parts)
    V.check_non_negative("X", caller, n_neg, min(p["min"] for p in parts))
    rows = np.concatenate([p["rows"] for p in parts])
    cols = np.logical_or.reduce([p["cols"] for p in parts])
    V.report_zeros(rows, cols, sum(p["zeros"] for p in parts), beta=beta)
    return X, {"sum": sum(p["sum"] for p in parts), "nnz": sum(p["nnz"] for p in parts)}


def _start(X: Any, k: int, init: Any, summary: dict, rng: np.random.Generator, client: Any) -> tuple:
    """Starting factors on the client: random (the data's mean), or NNDSVD from Dask's randomized SVD."""
    import dask.array as da

    shape = _Summary(X.shape, summary["sum"])
    if isinstance(init, RandomInit):
        return init(shape, k, rng=rng)
    if isinstance(init, NNDSVD):
        seed = int(rng.integers(2**31 - 1))
        meta = np.empty((0, 0), dtype=X.dtype)
        dense = X.map_blocks(tasks.dense, dtype=X.dtype, meta=meta) if sp.issparse(X._meta) else X
        U, s, Vt = da.linalg.svd_compressed(dense, k, n_power_iter=4, n_oversamples=10, seed=seed, compute=True)
        U, s, Vt = client.compute([U, s, Vt], sync=True)
        return init(shape, k, rng=rng, svd=(U, s, Vt))
    msg = (f"init={init!r} cannot start a Dask fit: use 'random', 'nndsvd', 'nndsvda', 'nndsvdar' "
           "or give W and H.")
    raise InvalidInputError(msg)


def nmf_distributed(X: Any, n_components: int | None = None, *, beta_loss: str | float = "frobenius",
                    solver: str | Any = "auto", init: Any = None, W: Any = None, H: Any = None,
                    update_H: bool = True, alpha_W: float = 0.0, alpha_H: float | str = "same",
                    l1_ratio: float = 0.0, stop: str | StoppingRule = "objective", record_every: int | None = None,
                    tol: float = 1e-4, max_iter: int = 200, max_time: float | None = None, random_state: Any = None,
                    callback: Callable | None = None, verbose: int = 0, client: Any = None,
                    work_dir: str | os.PathLike | None = None) -> Any:
    """NMF of a Dask array ``X ~ W @ H`` on a Dask cluster, rows distributed.

    Same model, parameters and result as :func:`nmfkit.nmf` (which calls this
    function for Dask input); see the module docstring for how the work is
    split. Each objective evaluation (every ``record_every`` sweeps, default
    10) runs the sweeps since the last one as one Dask computation.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Non-negative data, chunked by rows (columns are rechunked to one block).
        Blocks may be NumPy arrays or scipy.sparse matrices.
    n_components, beta_loss : see :func:`nmfkit.nmf`
        As in :func:`nmfkit.nmf`.
    solver : {"auto", "hals", "anls-bpp", "gcd", "mu"} or Solver, default="auto"
        ``"auto"``: HALS for beta = 2, MU otherwise. HALS with inner passes
        (``alpha > 0``, the default) reads each block of ``X`` twice per sweep;
        the others once.
    init, W, H, update_H : see :func:`nmfkit.nmf`
        ``init`` is ``"random"`` or an NNDSVD variant (from Dask's randomized
        SVD; default ``"nndsvda"``), or ``W`` and ``H`` given as NumPy arrays.
    alpha_W, alpha_H, l1_ratio, stop, record_every, tol : see :func:`nmfkit.nmf`
        ``stop="factor"`` is not available (it needs the factors after every sweep).
    max_iter, max_time, random_state, callback, verbose : see :func:`nmfkit.nmf`
        The factors a ``callback`` receives are pending: their ``compute()``
        runs the sweeps not yet evaluated.
    client : distributed.Client, default=None
        The cluster to run on; ``None``: the current default client, or a
        ``LocalCluster`` started for this fit and closed after it.
    work_dir : str or path, default=None
        A folder the client and every worker can reach, where the blocks of
        ``W`` are saved at each objective evaluation (the fit's resume point
        when workers are lost). ``None``: a temporary folder, removed at the
        end, and the returned ``W`` is held in memory. Given: ``W`` is returned
        as a Dask array reading the saved blocks (under ``W-0`` or ``W-1``).

    Returns
    -------
    FitResult
        ``W`` a Dask array chunked like ``X``'s rows, ``H`` a NumPy array,
        ``backend="dask"``, with the history of objective values.

    Raises
    ------
    ValueError
        For invalid data or parameters, and for options that need the whole
        matrix at once (masks, graph penalties, extrapolation, SPA starts,
        the PG solver).
    """
    import dask.array as da

    caller = V.caller_name("nmf_distributed")
    if not is_dask_array(X):
        msg = f"{caller} takes a dask.array.Array; got {type(X).__module__}.{type(X).__qualname__}."
        raise InvalidInputError(msg)
    opts = resolve(caller, beta_loss=beta_loss, solver=solver, init=init, W=W, H=H, update_H=update_H,
                   alpha_W=alpha_W, alpha_H=alpha_H, l1_ratio=l1_ratio, stop=stop, record_every=record_every, tol=tol,
                   max_iter=max_iter, max_time=max_time, random_state=random_state, callback=callback,
                   verbose=verbose)
    beta, solver_obj, stop_rule = opts.beta, opts.solver, opts.stop
    if stop_rule.needs_previous:
        msg = ("stop='factor' needs the factors after every sweep, which a Dask fit does not gather; "
               "use stop='objective' or 'fixed'.")
        raise InvalidInputError(msg)
    if not solver_obj.row_separable:
        msg = (f"Solver {solver_obj.name!r} does not run on Dask arrays (its W update couples the rows); "
               f"valid: {row_separable_solvers()}.")
        raise InvalidInputError(msg)

    # -- data: rows chunked, float blocks, checked in one pass ------------------------------------------------
    if X.ndim != 2:
        msg = f"Expected a 2-D Dask array for X; got {X.ndim} dimension(s) (shape={X.shape})."
        raise InvalidInputError(msg)
    if any(np.isnan(c) for c in X.chunks[0]) or np.isnan(X.shape[1]):
        msg = "X has unknown chunk sizes; call X.compute_chunk_sizes() first."
        raise InvalidInputError(msg)
    n, m = (int(s) for s in X.shape)
    if n == 0 or m == 0:
        what = "sample" if n == 0 else "feature"
        msg = (f"X is empty: 0 {what}(s) (shape={(n, m)}) while a minimum of 1 is required; "
               "NMF needs at least one sample and one feature.")
        raise InvalidInputError(msg)
    kind = np.dtype(X.dtype).kind
    if kind == "c":
        msg = f"Complex data not supported: X has dtype {X.dtype}; NMF needs real non-negative values."
        raise InvalidInputError(msg)
    if kind not in "biuf":
        msg = f"X must hold numbers; got dtype {X.dtype}."
        raise InvalidInputError(msg)
    dtype = V.float_dtype(np.dtype(X.dtype))
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if sp.issparse(X._meta) or X.dtype != dtype:
        meta = sp.csr_matrix((0, 0), dtype=dtype) if sp.issparse(X._meta) else np.empty((0, 0), dtype=dtype)
        X = X.map_blocks(V.as_numeric, "X", dtype=dtype, meta=meta)  # float blocks, CSR with summed duplicates
    k = opts.rank(n_components, (n, m))

    own_cluster = None
    if client is None:
        client, own_cluster = _default_client()
    temporary = work_dir is None
    folder = tempfile.mkdtemp(prefix="nmfkit-dask-") if work_dir is None else os.fspath(work_dir)
    if not os.path.isdir(folder):
        msg = f"work_dir: the folder {folder} does not exist."
        raise InvalidInputError(msg)
    try:
        X, summary = _validate(X, client, beta, caller)
        # -- starting factors ----------------------------------------------------------------------------------
        given = opts.user_start(k, (n, m), dtype, data_sum=lambda: summary["sum"])
        if given is not None:
            W, H, init_name = given
        else:
            initializer, init_name = opts.start()
            W, H = _start(X, k, initializer, summary, opts.rng, client)
            W, H = np.asarray(W, dtype=dtype), np.asarray(H, dtype=dtype)

        loss = BetaDivergence(beta)
        ctx = tasks.Context(loss, solver_obj, elastic_net(opts.alpha_W, opts.l1_ratio, m),
                       elastic_net(opts.alpha_H, opts.l1_ratio, n), n, m, summary["nnz"], opts.update_H)
        method = _DistributedNMF(X, ctx, client, folder, k, dtype)
        state, info = run(method, method.start(W, H), stop=opts.limits(), backend=_HOST, callback=callback,
                          verbose=opts.verbose, record_every=opts.record_every, warn_name="max_iter")
        H = state.graph[state.H]
        if temporary:
            W = da.from_array(np.concatenate([tasks.load(p) for p in method.paths]), chunks=(X.chunks[0], (k,)))
        else:
            W = method.load(method.paths)
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
        if own_cluster is not None:
            client.close()
            own_cluster.close()
    extras = {"loss_value": method.loss, "solver": solver_obj, "init": init_name, "beta_loss": beta, "loss": loss.name,
              "stopping": stop_rule, "extrapolation": None, "n_blocks": len(X.chunks[0]), "work_dir":
              None if temporary else folder}
    return FitResult(W, H, backend="dask", random_state=opts.seed, extras=extras, **info)


class _HostSync:
    """The driver's host synchronisation for a Dask fit: values arrive as floats from ``settle``."""

    name = "dask"

    @staticmethod
    def to_float(value: Any) -> float:
        return float(value)


_HOST = _HostSync()


def _default_client() -> tuple[Any, Any]:
    """The current default client, or a new LocalCluster's (returned too, to be closed after the fit)."""
    try:
        from distributed import Client, LocalCluster, default_client
    except ImportError as err:  # pragma: no cover - the dask extra installs it
        msg = "Dask fits need dask.distributed: pip install 'nmfkit[dask]'."
        raise ImportError(msg) from err
    try:
        return default_client(), None
    except ValueError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(dashboard_address=None, silence_logs=40)
    return Client(cluster), cluster
