"""Dask fits (nmfkit.distributed) against the in-memory NumPy fits, on a LocalCluster with 2 workers."""

import logging
import os
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

da = pytest.importorskip("dask.array", reason="dask.array is missing: pip install '.[dask]'")
distributed = pytest.importorskip("distributed", reason="distributed is missing: pip install '.[dask]'")

import nmfkit  # noqa: E402
import nmfkit.io  # noqa: E402
from nmfkit import nmf, nmf_distributed  # noqa: E402
from nmfkit.solvers import MU  # noqa: E402

N, M, K = 120, 40, 4


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(7)
    X = rng.random((N, K)) @ rng.random((K, M)) + 0.05 * rng.random((N, M))
    return X, rng.random((N, K)) + 0.1, rng.random((K, M)) + 0.1


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _both(X, Xd, client, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nmf(X, K, extrapolate=False, **kw)
        got = nmf_distributed(Xd, K, client=client, **kw)
    return ref, got


CASES = [("hals", 2.0), ("anls-bpp", 2.0), ("gcd", 2.0), ("mu", 2.0), ("mu", 1.0), ("mu", 0.5), ("mu", 0.0),
         ("mu", 3.0)]


@pytest.mark.parametrize(("solver", "beta"), CASES)
def test_dask_fit_equals_numpy_fit(client, problem, solver, beta):
    X, W0, H0 = problem
    Xd = da.from_array(X, chunks=(35, M))  # four row blocks, the last one short
    ref, got = _both(X, Xd, client, solver=solver, beta_loss=beta, W=W0, H=H0, max_iter=25, tol=1e-6)
    assert got.backend == "dask" and isinstance(got.W, da.Array) and isinstance(got.H, np.ndarray)
    assert got.W.chunks[0] == Xd.chunks[0]
    assert _rel(got.W.compute(), ref.W) < 1e-8
    assert _rel(got.H, ref.H) < 1e-8
    assert got.n_iter == ref.n_iter
    np.testing.assert_allclose([h.objective for h in got.history], [h.objective for h in ref.history], rtol=1e-10)
    assert got.extras["loss_value"] == pytest.approx(ref.extras["loss_value"], rel=1e-10)


def test_hals_inner_passes_share_one_stopping_test(client, problem):
    """Accelerated HALS repeats passes until the *whole* W moves little: blocks must not decide alone."""
    X, W0, H0 = problem
    solver = nmfkit.solvers.HALS(alpha=2.0, delta=0.3)
    assert solver.passes(N, M, N * M, K) > 3
    ref, got = _both(X, da.from_array(X, chunks=(20, M)), client, solver=solver, W=W0, H=H0, max_iter=12,
                     stop="fixed")
    assert _rel(got.W.compute(), ref.W) < 1e-8 and _rel(got.H, ref.H) < 1e-8


@pytest.mark.parametrize(("solver", "beta"), [("hals", 2.0), ("mu", 1.0), ("anls-bpp", 2.0)])
def test_sparse_blocks(client, problem, solver, beta):
    X, W0, H0 = problem
    Xs = X * (np.random.default_rng(1).random(X.shape) < 0.3)
    Xd = da.from_array(Xs, chunks=(50, M)).map_blocks(sp.csr_matrix, meta=sp.csr_matrix((0, 0)))
    ref, got = _both(sp.csr_matrix(Xs), Xd, client, solver=solver, beta_loss=beta, W=W0, H=H0, max_iter=15,
                     stop="fixed")
    assert _rel(got.W.compute(), ref.W) < 1e-8 and _rel(got.H, ref.H) < 1e-8


@pytest.mark.parametrize("solver", ["hals", "mu"])
def test_penalties_and_fixed_components(client, problem, solver):
    X, W0, H0 = problem
    Xd = da.from_array(X, chunks=(40, M))
    kw = {"solver": solver, "W": W0, "H": H0, "max_iter": 15, "stop": "fixed", "alpha_W": 0.01, "l1_ratio": 0.5}
    ref, got = _both(X, Xd, client, **kw)
    assert _rel(got.W.compute(), ref.W) < 1e-8 and _rel(got.H, ref.H) < 1e-8
    assert got.objective == pytest.approx(ref.objective, rel=1e-10)
    ref, got = _both(X, Xd, client, update_H=False, **kw)
    assert _rel(got.W.compute(), ref.W) < 1e-8
    np.testing.assert_array_equal(got.H, H0)


def test_float32_and_column_chunks(client, problem):
    X, W0, H0 = problem
    X32 = X.astype(np.float32)
    Xd = da.from_array(X32, chunks=(30, 15))  # column chunks are merged
    ref, got = _both(X32, Xd, client, solver="mu", W=W0, H=H0, max_iter=10, stop="fixed")
    assert got.W.dtype == np.float32 and got.H.dtype == np.float32
    assert _rel(got.W.compute(), ref.W) < 1e-5 and _rel(got.H, ref.H) < 1e-5


def test_random_start_matches_numpy(client, problem):
    X, _, _ = problem
    ref, got = _both(X, da.from_array(X, chunks=(60, M)), client, init="random", random_state=3, max_iter=10,
                     stop="fixed")
    assert _rel(got.W.compute(), ref.W) < 1e-8 and _rel(got.H, ref.H) < 1e-8


def test_nndsvda_start_fits(client, problem):
    X, _, _ = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = nmf_distributed(da.from_array(X, chunks=(60, M)), K, client=client, random_state=0, max_iter=200,
                              tol=1e-6)
    err = np.linalg.norm(X - got.W.compute() @ got.H) / np.linalg.norm(X)
    assert got.extras["init"] == "nndsvda" and err < 0.05
    values = [h.objective for h in got.history]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(values, values[1:], strict=False))  # HALS never increases it


def test_zarr_and_persisted_sources(client, problem, tmp_path):
    zarr = pytest.importorskip("zarr", reason="zarr is missing: pip install '.[dask]'")
    X, W0, H0 = problem
    z = zarr.open_array(str(tmp_path / "X.zarr"), mode="w", shape=X.shape, chunks=(30, M), dtype="f8")
    z[:] = X
    ref = nmf(X, K, W=W0, H=H0, max_iter=20, stop="fixed", extrapolate=False)
    for Xd in (da.from_zarr(str(tmp_path / "X.zarr")), da.from_array(X, chunks=(30, M)).persist()):
        got = nmf_distributed(Xd, K, client=client, W=W0, H=H0, max_iter=20, stop="fixed")
        assert _rel(got.W.compute(), ref.W) < 1e-8 and _rel(got.H, ref.H) < 1e-8


def test_work_dir_keeps_w_on_disk(client, problem, tmp_path):
    X, W0, H0 = problem
    got = nmf_distributed(da.from_array(X, chunks=(60, M)), K, client=client, W=W0, H=H0, max_iter=7,
                          stop="fixed", work_dir=tmp_path)
    ref = nmf(X, K, W=W0, H=H0, max_iter=7, stop="fixed", extrapolate=False)
    files = sorted(p.name for p in tmp_path.rglob("*.npy"))
    assert files and not [f for f in files if ".tmp" in f]  # written atomically, no leftovers
    assert got.extras["work_dir"] == str(tmp_path)
    assert _rel(got.W.compute(), ref.W) < 1e-8


def test_one_compute_per_evaluation(client, problem):
    """The sweeps between two evaluations run as one graph: the cluster sees one compute per evaluation."""
    X, W0, H0 = problem
    calls = []
    original = client.get

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    client.get = counting
    try:
        got = nmf_distributed(da.from_array(X, chunks=(60, M)), K, client=client, W=W0, H=H0, max_iter=30,
                              stop="fixed", record_every=10)
    finally:
        del client.get
    assert len(got.history) == 4 and len(calls) == 4  # iterations 0, 10, 20, 30


def test_estimator_fits_dask_arrays(client, problem):
    X, _, _ = problem
    Xd = da.from_array(X, chunks=(60, M))
    model = nmfkit.NMF(K, init="random", random_state=0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        W = model.fit_transform(Xd)
        W2 = model.transform(Xd)
    assert isinstance(W, da.Array) and model.components_.shape == (K, M)
    assert _rel(W2.compute(), model.transform(X)) < 1e-8


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"mask": np.ones((N, M))}, "mask: not available for Dask"),
    ({"extrapolate": True}, "extrapolate: not available for Dask"),
    ({"solver": "anls-pg"}, r"does not run on Dask arrays.*'anls-bpp', 'gcd', 'hals', 'mu'"),
    ({"stop": "factor"}, "stop='factor'"),
    ({"init": "spa"}, "cannot start a Dask fit"),
    ({"n_components": 500}, "n_components"),
])
def test_clear_errors(client, problem, kwargs, match):
    X, _, _ = problem
    kwargs = {"n_components": K, **kwargs}
    with pytest.raises(ValueError, match=match):
        nmf(da.from_array(X, chunks=(60, M)), **kwargs)


def test_bad_data_is_named(client, problem):
    X, _, _ = problem
    bad = X.copy()
    bad[3, 4] = -1.0
    with pytest.raises(ValueError, match="1 negative entry, min = -1"):
        nmf(da.from_array(bad, chunks=(60, M)), K)
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        nmf(da.from_array(bad, chunks=(60, M)), K)
    zero = X.copy()
    zero[5] = 0.0
    with pytest.warns(nmfkit._validation.DataWarning, match="1 all-zero row"):
        nmf(da.from_array(zero, chunks=(60, M)), K, max_iter=2, stop="fixed")
    with pytest.raises(ValueError, match="work_dir"):
        nmf_distributed(da.from_array(X, chunks=(60, M)), K, client=client, work_dir="/no/such/folder")


class _KillOnce(MU):
    """MU whose W update kills its worker process once, in the middle of the fit."""

    def __init__(self, folder, after):
        super().__init__()
        self.folder, self.after = str(folder), after

    def update_left(self, problem, W, H):
        with open(os.path.join(self.folder, "calls"), "ab") as f:
            f.write(b".")
        calls = os.path.getsize(os.path.join(self.folder, "calls"))
        if calls >= self.after:
            try:
                os.close(os.open(os.path.join(self.folder, "killed"), os.O_CREAT | os.O_EXCL))
                os._exit(1)  # the worker dies with its tasks and the blocks it holds
            except FileExistsError:
                pass
        return super().update_left(problem, W, H)


def test_fit_survives_a_killed_worker(problem, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    X, W0, H0 = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.CRITICAL)
    with distributed.Client(cluster) as c:
        blocks = 4
        Xd = da.from_array(X, chunks=(N // blocks, M))
        ref = nmf_distributed(Xd, K, client=c, solver=MU(), beta_loss=1.0, W=W0, H=H0, max_iter=25, stop="fixed")
        # sweep 13 of 25: its W updates run after the evaluation at sweep 10, in the second interval
        got = nmf_distributed(Xd, K, client=c, solver=_KillOnce(tmp_path, after=12 * blocks + 2), beta_loss=1.0,
                              W=W0, H=H0, max_iter=25, stop="fixed")
    cluster.close()
    assert (tmp_path / "killed").exists()
    np.testing.assert_array_equal(got.W.compute(), ref.W.compute())
    np.testing.assert_array_equal(got.H, ref.H)
    assert [h.objective for h in got.history] == [h.objective for h in ref.history]


def test_read_rows_opens_files_block_by_block(client, problem, tmp_path):
    import h5py

    X, W0, H0 = problem
    np.save(tmp_path / "X.npy", X)
    with h5py.File(tmp_path / "X.h5", "w") as f:
        f["counts"] = X
    Xs = sp.csr_matrix(X * (X > 1.0))
    anndata = pytest.importorskip("anndata", reason="anndata is missing: pip install '.[anndata]'")
    anndata.AnnData(Xs).write_h5ad(tmp_path / "sparse.h5ad")
    anndata.AnnData(X).write_h5ad(tmp_path / "dense.h5ad")
    for path, key, expected in [("X.npy", None, X), ("X.h5", "counts", X), ("dense.h5ad", None, X),
                                ("sparse.h5ad", None, Xs)]:
        Xd = nmfkit.io.read_rows(tmp_path / path, key=key, block_rows=50)
        assert Xd.chunks[0] == (50, 50, 20) and Xd.shape == X.shape
        got = Xd.compute()
        if sp.issparse(expected):
            assert sp.issparse(got)
            got = got.toarray()
        np.testing.assert_array_equal(got, expected.toarray() if sp.issparse(expected) else expected)
    ref = nmf(X, K, solver="mu", beta_loss=1, W=W0, H=H0, max_iter=10, stop="fixed")
    got = nmf_distributed(nmfkit.io.read_rows(tmp_path / "X.npy", block_rows=40), K, client=client,
                          solver="mu", beta_loss=1, W=W0, H=H0, max_iter=10, stop="fixed")
    assert _rel(got.W.compute(), ref.W) < 1e-8
    with pytest.raises(ValueError, match="pass key="):
        nmfkit.io.read_rows(tmp_path / "X.h5")
    with pytest.raises(KeyError, match="has no 'nope'"):
        nmfkit.io.read_rows(tmp_path / "X.h5", key="nope")
    with pytest.raises(FileNotFoundError, match="no such file"):
        nmfkit.io.read_rows(tmp_path / "missing.npy")


@pytest.mark.parametrize("source", ["npy", "zarr", "memory", "persisted"])
def test_each_use_of_x_reads_its_own_blocks(client, problem, tmp_path, source):
    """Out of core: every use of X in an interval has its own read tasks (released after use), over one
    shared source; X already in memory (an embedded array, a persisted one) is used as it is."""
    from nmfkit.distributed import _DistributedNMF
    from nmfkit.distributed.tasks import Context as _Context
    from nmfkit.losses import BetaDivergence

    X, W0, H0 = problem
    if source == "npy":
        np.save(tmp_path / "X.npy", X)
        Xd = nmfkit.io.read_rows(tmp_path / "X.npy", block_rows=30)
    elif source == "zarr":
        zarr = pytest.importorskip("zarr", reason="zarr is missing: pip install '.[dask]'")
        z = zarr.open_array(str(tmp_path / "X.zarr"), mode="w", shape=X.shape, chunks=(30, M), dtype="f8")
        z[:] = X
        Xd = da.from_zarr(str(tmp_path / "X.zarr"))
    else:
        Xd = da.from_array(X, chunks=(30, M))
        if source == "persisted":
            Xd = Xd.persist()
    ctx = _Context(BetaDivergence(1.0), MU(), (), (), N, M, N * M, True)
    method = _DistributedNMF(Xd, ctx, client, str(tmp_path), K, np.float64)
    state = method.step(method.step(method.start(W0, H0)))
    reads = [set(method.blocks(state.graph, [state.H])) for _ in range(2)]
    if source in ("memory", "persisted"):
        assert reads[0] == reads[1] == set(method.X_keys)
        return
    assert len(reads[0]) == len(reads[1]) == 4 and not reads[0] & reads[1] and not reads[0] & set(method.X_keys)
    roots = [name for name in method.sources]
    assert roots and all(sum(1 for k in state.graph if str(k).find(name) >= 0) <= 1 for name in roots)
    assert method.settle(state)[1] == pytest.approx(nmf(X, K, solver="mu", beta_loss=1, W=W0, H=H0, max_iter=2,
                                                        stop="fixed").objective, rel=1e-12)
