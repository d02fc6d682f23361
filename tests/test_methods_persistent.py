"""Persistent NMF: topology against brute force, graphs, metrics by hand, the published circles embeddings."""

import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit.graphs import spread_indices
from nmfkit.methods.persistent import (
    ScaleGraphs,
    death_times,
    embed_new_samples,
    gnmf,
    knn_graph,
    persistence_scales,
    persistent_nmf,
    preprocess_counts,
    sample_distances,
)
from nmfkit.metrics import clustering_accuracy, clustering_scores, kmeans_scores, purity


def kruskal_deaths(D):
    """Brute force: scan every pair by stable-sorted distance, union-find, record the merging lengths."""
    N = D.shape[0]
    parent = list(range(N))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    iu, ju = np.triu_indices(N, 1)
    deaths = []
    for e in np.argsort(D[iu, ju], kind="stable"):
        a, b = find(iu[e]), find(ju[e])
        if a != b:
            parent[a] = b
            deaths.append(D[iu[e], ju[e]])
    return np.array(deaths)


def points(seed, n=25, dim=3, duplicates=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, dim)) * 10
    for i in range(duplicates):
        X[-1 - i] = X[i]
    return X


@pytest.mark.parametrize("seed", range(6))
def test_mst_death_times_match_brute_force_union_find(seed):
    D = sample_distances(points(seed, n=15 + seed, duplicates=seed % 3))
    # a duplicated sample's distances differ from its twin's by round-off (the Gram product rounds rows
    # differently), and which twin merges first is arbitrary: equal up to a few ulps
    np.testing.assert_allclose(death_times(D), kruskal_deaths(D), rtol=1e-14, atol=0)
    assert len(death_times(D)) == D.shape[0] - 1


def test_sample_distances_match_scipy():
    from scipy.spatial.distance import cdist

    X = points(1)
    np.testing.assert_allclose(sample_distances(X), cdist(X, X), atol=1e-12)
    assert np.all(np.diag(sample_distances(X)) == 0)


@pytest.mark.parametrize("seed", range(3))
def test_scale_graphs_components_and_weights(seed):
    X = points(seed, n=20)
    D = sample_distances(X)
    eps = persistence_scales(D)
    N = D.shape[0]
    assert len(eps) == N and eps[-1] == pytest.approx(D.max() + 1e-9)
    graphs = ScaleGraphs(D, eps)
    for t in range(N):
        assert graphs.n_components(t) == N - t  # t is 0-based: N - (t + 1) + 1
        A, deg = graphs.adjacency(t)
        A = A.toarray() if sp.issparse(A) else A
        expected = np.where((D < eps[t]) & ~np.eye(N, dtype=bool), np.exp(-D**2 / eps[t] ** 1.5), 0.0)
        np.testing.assert_allclose(A, expected, rtol=1e-15, atol=0)
        np.testing.assert_allclose(deg, expected.sum(axis=1), rtol=1e-13)
    A0, _ = graphs.adjacency(0)
    assert (A0.nnz if sp.issparse(A0) else np.count_nonzero(A0)) == 0  # strict threshold: no edges at t = 1
    AT, _ = graphs.adjacency(N - 1)
    assert np.count_nonzero(AT.toarray() if sp.issparse(AT) else AT) == N * (N - 1)  # complete


def test_inclusive_threshold_keeps_the_mst_edge():
    D = sample_distances(points(4, n=10))
    eps = persistence_scales(D)
    assert ScaleGraphs(D, eps, threshold="inclusive").n_components(0) == 9


def test_scale_set_options():
    D = sample_distances(points(5, n=30))
    full = persistence_scales(D)
    assert len(persistence_scales(D, include_complete_graph=False)) == 29
    few = persistence_scales(D, max_scales=6, schedule="gaps")
    assert len(few) == 6 and few[0] == full[0] and few[-1] == full[-1]
    assert set(few).issubset(set(full))
    gaps = np.diff(full)
    chosen = [np.flatnonzero(full == v)[0] for v in few[1:-1]]
    assert min(gaps[chosen]) >= np.sort(gaps[1:-1])[-4]  # the most persistent levels
    dup = D.copy()
    X = points(5, n=30, duplicates=2)
    assert len(persistence_scales(sample_distances(X), dedupe=True)) < len(persistence_scales(sample_distances(X)))
    with pytest.raises(ValueError, match="max_scales"):
        persistence_scales(dup, max_scales=1)


def test_spread_schedule_is_geometric_from_both_ends():
    for T, m in [(80, 14), (700, 21), (10000, 54), (5, 3)]:
        idx = spread_indices(T, m)
        assert len(idx) == m and idx[0] == 0 and idx[-1] == T - 1 and np.all(np.diff(idx) > 0)
    idx = spread_indices(10000, 29)
    fine, coarse = idx[:6] + 1, 10000 - idx[-6:]  # scale number t near the finest, components near the coarsest
    assert np.all(np.diff(np.log(fine)) < np.log(2.5)) and np.all(np.diff(np.log(coarse[::-1])) < np.log(2.5))
    assert np.array_equal(spread_indices(10, 20), np.arange(10))
    D = sample_distances(points(5, n=30))
    full = persistence_scales(D)
    np.testing.assert_array_equal(persistence_scales(D, max_scales=6), full[spread_indices(30, 6)])
    with pytest.raises(ValueError, match="schedule"):
        persistence_scales(D, max_scales=6, schedule="middle")


def test_auto_scales_keep_every_scale_on_small_data_and_few_on_large():
    from nmfkit.methods.persistent import AUTO_ALL_SCALES, auto_max_scales

    assert auto_max_scales(80) is None and auto_max_scales(AUTO_ALL_SCALES) is None
    assert auto_max_scales(AUTO_ALL_SCALES + 1) == 27 and auto_max_scales(10000) == 54
    X = np.random.default_rng(0).random((120, 8))
    res = persistent_nmf(X, 2, lambdas=(1.0, 1.0, 1.0), n_sweeps=1)
    assert res.extras["n_scales"] == auto_max_scales(120) == 28
    D = sample_distances(X)
    full = persistence_scales(D)
    np.testing.assert_array_equal(res.extras["eps"], full[spread_indices(120, 28)])
    assert persistent_nmf(X, 2, lambdas=(1.0, 1.0, 1.0), n_sweeps=1, max_scales=None).extras["n_scales"] == 120
    with pytest.raises(ValueError, match="max_scales"):
        persistent_nmf(X, 2, max_scales=1)


def dense(A):
    return A.toarray() if sp.issparse(A) else A


def test_graphs_from_distances_equal_the_edge_list_graphs():
    """Beyond max_edge_list pairs the graphs are thresholded from D: the same graphs, dense and sparse."""
    X = points(2, n=300)
    D = sample_distances(X)
    eps = persistence_scales(D)
    listed = ScaleGraphs(D, eps)
    direct = ScaleGraphs(D, eps, max_edge_list=0)
    assert listed.d is not None and direct.d is None
    for t in (0, 1, 150, 250, 298, 299):
        A1, d1 = listed.adjacency(t)
        A2, d2 = direct.adjacency(t)
        assert sp.issparse(A1) == sp.issparse(A2)
        np.testing.assert_array_equal(dense(A1), dense(A2))
        np.testing.assert_allclose(d1, d2, rtol=1e-13)
        assert listed.n_edges(t) == direct.n_edges(t)
        assert direct.adjacency(t)[0] is A2  # the last graph is kept
    assert [direct.n_components(t) for t in range(300)] == list(range(300, 0, -1))


# -- metrics ---------------------------------------------------------------------------------------
def test_metrics_against_hand_computed_values():
    truth = [0, 0, 0, 1, 1, 1, 2, 2]
    pred = [1, 1, 0, 0, 0, 0, 2, 2]
    # clusters: 1 -> {0, 0} (2), 0 -> {0, 1, 1, 1} (3 of class 1), 2 -> {2, 2} (2): purity 7/8
    assert purity(truth, pred) == pytest.approx(7 / 8)
    # best matching 1->0 (2), 0->1 (3), 2->2 (2): 7/8
    assert clustering_accuracy(truth, pred) == pytest.approx(7 / 8)
    assert clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    assert purity([0, 1, 0, 1], [0, 0, 0, 0]) == 0.5
    s = clustering_scores([0, 0, 1, 1], [1, 1, 0, 0])
    assert s["ari"] == pytest.approx(1.0) and s["nmi"] == pytest.approx(1.0) and s["average"] == pytest.approx(1.0)
    # ARI by hand, table [[2, 1], [0, 3]]: index 1 + 3 = 4, rows 3 + 3 = 6, columns 1 + 6 = 7, C(6, 2) = 15,
    # expected 6 * 7 / 15 = 2.8, max (6 + 7) / 2 = 6.5 -> (4 - 2.8) / (6.5 - 2.8)
    assert clustering_scores([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1])["ari"] == pytest.approx(1.2 / 3.7)
    X = np.vstack([np.zeros((5, 2)), np.ones((5, 2)) * 10]) + np.random.default_rng(0).random((10, 2))
    k = kmeans_scores(X, [0] * 5 + [1] * 5)
    assert k["accuracy"] == 1.0 and len(k["labels_pred"]) == 10


# -- the published synthetic result -----------------------------------------------------------------
def test_circles_reproduce_the_published_embeddings(data_dir):
    import scipy.io

    path = data_dir / "synthetic/pnmf_3D_concentric_circles.mat"
    ref_path = data_dir / "reference/pnmf_circles_published_H.mat"
    if not path.exists() or not ref_path.exists():
        pytest.skip("circles data not available")
    X = scipy.io.loadmat(path)["X"]  # (80 points, 100 dims): samples in rows already
    ref = scipy.io.loadmat(ref_path)["pNMF"]
    # 1. scale set
    D = sample_distances(X)
    eps = persistence_scales(D)
    assert len(eps) == 80
    assert eps[0] == pytest.approx(11.4005, abs=1e-4) and eps[78] == pytest.approx(33.0344, abs=1e-4)
    assert D.max() == pytest.approx(102.0474, abs=1e-4)
    # 2. graphs
    graphs = ScaleGraphs(D, eps)
    assert [graphs.n_components(t) for t in range(80)] == list(range(80, 0, -1))
    # 3. trace and 4. embeddings
    res = persistent_nmf(X, 2)
    objective = res.extras["sweep_objective"]
    assert objective[0] == pytest.approx(5.394e7, rel=1e-3)
    published = [50264219.59, 50017074.59, 49646603.67, 49727608.00, 49555488.75, 49532599.05, 49446458.29,
                 49448174.11, 49392727.75, 49388445.03]
    np.testing.assert_allclose(objective[1:], published, rtol=1e-9)
    np.testing.assert_allclose(res.extras["inner_iterations"][:3].mean(axis=1), [91, 53, 18], atol=0.5)
    H = res.extras["H_paper"]
    rel = np.linalg.norm(H - ref, axis=(1, 2)) / np.linalg.norm(ref, axis=(1, 2))
    assert rel.max() <= 1e-6
    assert np.abs(H - ref).max() <= 1e-9 * np.abs(ref).max()


# -- the algorithm -------------------------------------------------------------------------------------
def two_blobs(seed=0, n=24, m=12):
    rng = np.random.default_rng(seed)
    centers = rng.random((2, m)) * 4
    labels = np.repeat([0, 1], n // 2)
    X = centers[labels] + 0.3 * rng.random((n, m))
    return X, labels


def test_monotone_variant_decreases_the_total_objective():
    X, _ = two_blobs()
    res = persistent_nmf(X, 3, lambdas=(1.0, 1.0, 1.0), n_sweeps=5, faithful=False)
    obj = np.array(res.extras["sweep_objective"])
    assert np.all(np.diff(obj) <= 1e-10 * obj[0]), np.diff(obj)
    assert obj[-1] < obj[0]


def test_outputs_shapes_and_the_fine_scale_separates_blobs():
    X, labels = two_blobs(1)
    res = persistent_nmf(X, 2, lambdas=(1.0, 1.0, 1.0), n_sweeps=3, return_bases=True)
    ex = res.extras
    T = ex["n_scales"]
    assert T == 24 and ex["embeddings"].shape == (T, 24, 2) and ex["H_paper"].shape == (T, 2, 24)
    assert ex["bases"].shape == (T, 2, 12) and ex["inner_iterations"].shape == (3, T)
    np.testing.assert_array_equal(res.W, ex["embeddings"][0])
    assert ex["n_components_per_scale"] == list(range(24, 0, -1))
    assert np.all(ex["embeddings"] >= 0)
    assert kmeans_scores(ex["embeddings"][0], labels)["accuracy"] == 1.0


def test_max_scales_subsamples():
    X, _ = two_blobs(2)
    res = persistent_nmf(X, 2, lambdas=(1.0, 1.0, 1.0), n_sweeps=2, max_scales=5)
    assert res.extras["n_scales"] == 5 and res.extras["embeddings"].shape[0] == 5


def test_duplicate_points_give_zero_death_times_and_no_nan():
    X, _ = two_blobs(3)
    X[5] = X[4]
    res = persistent_nmf(X, 2, lambdas=(1.0, 1.0, 1.0), n_sweeps=2)
    assert res.extras["eps"][0] == 0.0
    assert np.all(np.isfinite(res.extras["embeddings"]))


def test_gnmf_decreases_its_objective_and_knn_graph_is_symmetric():
    X, labels = two_blobs(4)
    A = knn_graph(X, 4)
    assert (A != A.T).nnz == 0 and A.diagonal().sum() == 0 and A.nnz >= 4 * 24
    short = gnmf(X, 2, graph=A, lam=1.0, max_iter=1)
    long = gnmf(X, 2, graph=A, lam=1.0, max_iter=500, tol=1e-9)
    assert long.objective < short.objective
    assert kmeans_scores(long.W, labels)["accuracy"] == 1.0


def test_embedding_new_samples_solves_its_problem():
    X, _ = two_blobs(5)
    res = persistent_nmf(X[:20], 2, lambdas=(1.0, 1.0, 1.0), n_sweeps=2, return_bases=True)
    t = 3
    E, B, eps = res.extras["embeddings"][t], res.extras["bases"][t], res.extras["eps"][t]
    W = embed_new_samples(X[20:], X[:20], E, B, eps, lambdas=(1.0, 1.0, 1.0))
    assert W.shape == (4, 2) and W.min() >= 0
    # KKT of min ||x - wB||^2 + l1 sum_j a_j ||w - w_j||^2 + l3 ||w||^2 for each new sample
    d = np.linalg.norm(X[20:, None] - X[None, :20], axis=2)
    a = np.where(d < eps, np.exp(-d**2 / eps**1.5), 0)
    grad = W @ B @ B.T - X[20:] @ B.T + a.sum(1)[:, None] * W - a @ E + W
    assert np.all(np.abs(grad[W > 1e-10]) < 1e-8) and np.all(grad[W <= 1e-10] > -1e-8)


def test_persistent_estimator_transform():
    from nmfkit import PersistentNMF

    X, _ = two_blobs(6)
    model = PersistentNMF(2, lambdas=(1.0, 1.0, 1.0), n_sweeps=2, scale=3)
    U = model.fit_transform(X)
    np.testing.assert_array_equal(U, model.embeddings_[2])
    np.testing.assert_array_equal(model.transform(X[::-1]), U[::-1])  # training rows are recognised
    new = model.transform(X[:3] + 0.01)
    assert new.shape == (3, 2) and np.all(np.isfinite(new))
    model.set_params(scale=99)
    with pytest.raises(ValueError, match="scale must be"):
        model.transform(X)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"lambdas": (1.0, 1.0)}, "lambdas"),
    ({"lambdas": (1.0, -1.0, 1.0)}, "lambdas"),
    ({"n_sweeps": 0}, "n_sweeps"),
    ({"threshold": "fuzzy"}, "threshold"),
    ({"n_components": 99}, "n_components"),
])
def test_bad_parameters_are_named(kwargs, match):
    X, _ = two_blobs(7)
    with pytest.raises(ValueError, match=match):
        persistent_nmf(X, **{"n_components": 2, **kwargs})


def test_bad_data():
    X, _ = two_blobs(7)
    with pytest.raises(ValueError, match="Negative"):
        persistent_nmf(-X, 2)
    with pytest.raises(ValueError, match="at least 2 samples"):
        persistent_nmf(X[:1], 1)
    with pytest.raises(ValueError, match="no counts"):
        preprocess_counts(np.vstack([X, np.zeros(X.shape[1])]))
    P = preprocess_counts(X)
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0)
    np.testing.assert_allclose(P[0] / P[0, 0], np.log10(1 + X[0]) / np.log10(1 + X[0, 0]))


def test_default_rank_is_ceil_sqrt_n():
    X, _ = two_blobs(8, n=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = persistent_nmf(X, lambdas=(1.0, 1.0, 1.0), n_sweeps=1)
    assert res.W.shape[1] == 5


def test_persistent_command(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")
    from nmfkit.cli import main

    X, labels = two_blobs(9)
    path = tmp_path / "x.csv"
    np.savetxt(path, X, delimiter=",")
    lab = tmp_path / "labels.txt"
    lab.write_text("\n".join(map(str, labels)) + "\n")
    out = tmp_path / "out"
    assert main(["persistent", str(path), "--rank", "2", "--lambdas", "1,1,1", "--sweeps", "2", "--labels", str(lab),
                 "--show-scales", "1,5,24", "--out", str(out), "--quiet"]) == 0
    for name in ("barcode.png", "embeddings.png", "scores_by_scale.png", "embeddings.npz", "embedding_t5.tsv",
                 "scores_by_scale.tsv", "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert "Persistent NMF" in (out / "report.html").read_text()
    assert np.load(out / "embeddings.npz")["embeddings"].shape == (24, 24, 2)
    assert main(["persistent", str(path), "--labels", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o2"),
                 "--quiet"]) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("a\nb\n")
    assert main(["persistent", str(path), "--labels", str(bad), "--out", str(tmp_path / "o3"), "--quiet"]) == 2
    assert not (tmp_path / "o3").exists()
    assert main(["persistent", str(path), "--max-scales", "many", "--out", str(tmp_path / "o4"), "--quiet"]) == 2
    assert main(["persistent", str(path), "--rank", "2", "--sweeps", "1", "--max-scales", "6", "--out",
                 str(tmp_path / "o5"), "--quiet"]) == 0
    assert np.load(tmp_path / "o5" / "embeddings.npz")["embeddings"].shape == (6, 24, 2)
    assert "6 of the 24 scales" in (tmp_path / "o5" / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    W, H = np.loadtxt(out / "W.tsv", skiprows=1, usecols=(1, 2)), np.loadtxt(out / "H.tsv", skiprows=1,
                                                                             usecols=range(1, 13))
    assert summary["relative_error"] == pytest.approx(np.linalg.norm(X - W @ H) / np.linalg.norm(X), rel=1e-6)
    # with --preprocess the error is that of the preprocessed data the fit factorized
    assert main(["persistent", str(path), "--rank", "2", "--sweeps", "1", "--preprocess", "--out",
                 str(tmp_path / "o6"), "--quiet"]) == 0
    W = np.loadtxt(tmp_path / "o6" / "W.tsv", skiprows=1, usecols=(1, 2))
    H = np.loadtxt(tmp_path / "o6" / "H.tsv", skiprows=1, usecols=range(1, 13))
    Xp = preprocess_counts(X)
    assert json.loads((tmp_path / "o6" / "summary.json").read_text())["relative_error"] == pytest.approx(
        np.linalg.norm(Xp - W @ H) / np.linalg.norm(Xp), rel=1e-6)


def test_without_stored_bases_memory_variant_runs_and_separates():
    X, labels = two_blobs(10)
    res = persistent_nmf(X, 2, lambdas=(1.0, 1.0, 1.0), n_sweeps=3, store_bases=False)
    ref = persistent_nmf(X, 2, lambdas=(1.0, 1.0, 1.0), n_sweeps=3)
    assert res.H.shape == (2, X.shape[1]) and np.all(np.isfinite(res.extras["embeddings"]))
    assert kmeans_scores(res.W, labels)["accuracy"] == 1.0
    obj, full = res.extras["sweep_objective"], ref.extras["sweep_objective"]
    assert obj[0] == pytest.approx(full[0], rel=1e-12)  # same chain, same starting objective
    assert obj[-1] < obj[0]
    with pytest.raises(ValueError, match="store_bases"):
        persistent_nmf(X, 2, store_bases=False, return_bases=True)


@pytest.mark.parametrize("init", ["random", "nndsvdar"])
def test_gnmf_random_state_seeds_the_random_starts(init):
    X = np.random.default_rng(0).random((30, 12)) + 0.05
    fit = lambda seed: gnmf(X, 3, init=init, random_state=seed, max_iter=40)  # noqa: E731
    a, b, c = fit(1), fit(2), fit(1)
    assert not np.array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.W, c.W)
    assert a.random_state == 1


def test_gnmf_default_start_is_the_reference_nndsvda_whatever_the_seed():
    X = np.random.default_rng(0).random((30, 12)) + 0.05
    np.testing.assert_array_equal(gnmf(X, 3, random_state=1, max_iter=40).W, gnmf(X, 3, random_state=2, max_iter=40).W)


def test_persistent_random_state_seeds_the_random_starts():
    X = np.random.default_rng(0).random((24, 10)) + 0.05
    kw = dict(n_sweeps=2, inner_max_iter=30, gnmf_max_iter=30, start="random")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b, c = (persistent_nmf(X, 3, random_state=s, **kw) for s in (1, 2, 1))
    assert not np.array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.W, c.W)
    assert a.random_state == 1


@pytest.mark.parametrize("normalize", [True, False])
def test_block_objective_from_the_step_products_equals_the_direct_one(normalize):
    """After a step the block's objective reuses X H^T (no pass over X); it must equal the direct evaluation."""
    from nmfkit.backend import get_backend
    from nmfkit.losses import BetaDivergence
    from nmfkit.methods.persistent import _Block
    from nmfkit.penalties import L2, GraphLaplacian, Proximity
    from nmfkit.solvers import MU, LinMU, Problem

    rng = np.random.default_rng(0)
    X = rng.random((20, 300))
    A = rng.random((20, 20)) * (rng.random((20, 20)) < 0.3)
    A = A + A.T
    np.fill_diagonal(A, 0.0)
    pens = (GraphLaplacian(1.0, A), Proximity(0.5, rng.random((20, 3))), L2(0.1))
    problem = Problem(X, X.T, BetaDivergence(2.0), get_backend(X), penalties_left=pens)
    for solver in (LinMU(1e-9), MU(delta=1e-9)):
        block = _Block(problem, solver, normalize)
        state = (rng.random((20, 3)) + 0.1, rng.random((3, 300)) + 0.1)
        for _ in range(3):
            state = block.step(state)
            fast = float(block.objective(state))
            direct = 2.0 * float(problem.objective(*state))
            assert fast == pytest.approx(direct, rel=1e-10)


def test_laplacian_increments_between_scales_obey_their_bound():
    """The theory's Laplacian-increment bound holds at every pair of consecutive scales, and is attained."""
    from nmfkit.graphs import ScaleGraphs, persistence_scales, sample_distances

    X = np.random.default_rng(3).random((40, 6))
    D = sample_distances(X)
    graphs = ScaleGraphs(D, persistence_scales(D))
    pairs = graphs.laplacian_increments()
    assert all(inc <= bound * (1 + 1e-12) + 1e-12 for inc, bound in pairs)
    assert max(inc / bound for inc, bound in pairs if bound > 0) > 0.999  # one new edge: the bound is exact
    # the bound is not vacuous: a wrong one (half of it) fails somewhere
    assert any(inc > 0.5 * bound for inc, bound in pairs)


# -- TNMF and kTNMF baselines' graphs ------------------------------------------------------------
def _cloud(n=40, seed=3):
    return np.random.default_rng(seed).random((n, 6))


def test_tnmf_graph_levels_match_a_direct_count():
    from nmfkit.graphs import sample_distances, tnmf_graph

    X = _cloud()
    w = np.array([1, 0, 1, 0, 1, 0, 1, 1], float)
    A = tnmf_graph(X, 7, weights=w).toarray()
    # direct construction: kernel on the 7 nearest, levels, fuzzy union
    D = sample_distances(X)
    K = np.zeros_like(D)
    for i in range(len(X)):
        nn = np.argsort(D[i])[1:8]
        K[i, nn] = np.exp(-D[i, nn] ** 2 / D.max() ** 1.5)
    vals = K[K > 0]
    lo, hi = vals.min(), vals.max()
    wn = w / w.sum()
    B = np.zeros_like(K)
    for i in range(8):
        B += wn[7 - i] * ((K >= lo + i / 8 * (hi - lo)) & (K > 0))
    expected = B + B.T - B * B.T
    np.testing.assert_allclose(A, expected, atol=1e-12)
    assert np.allclose(A, A.T) and A.max() <= 1 + 1e-12 and np.all(np.diag(A) == 0)
    # the strongest edge of every row carries all the weight: 1
    assert np.isclose(A.max(), 1.0)


def test_tnmf_and_ktnmf_graphs_reduce_to_binary_knn():
    from nmfkit.graphs import knn_graph, ktnmf_graph, tnmf_graph

    X = _cloud()
    last = [0] * 7 + [1]
    binary = knn_graph(X, 5, weight="binary").toarray()
    np.testing.assert_array_equal(tnmf_graph(X, 5, weights=last).toarray(), binary)  # level 0 holds every k-NN edge
    np.testing.assert_array_equal(ktnmf_graph(X, weights=last).toarray(), knn_graph(X, 8, weight="binary").toarray())
    np.testing.assert_array_equal(ktnmf_graph(X, weights=[1]).toarray(), knn_graph(X, 1, weight="binary").toarray())
    # with every rank weighted, nearer neighbours carry more: the q-th nearest gets w_q + ... + w_L
    A = ktnmf_graph(X, weights=np.ones(8))
    D = np.linalg.norm(X[:, None] - X[None], axis=2)
    i = 0
    order = np.argsort(D[i])[1:9]
    directed = (8 - np.arange(8)) / 8
    assert np.all(A.toarray()[i, order] >= directed - 1e-12)


def test_graph_weights_are_validated():
    from nmfkit._validation import InvalidInputError
    from nmfkit.graphs import ktnmf_graph, tnmf_graph

    with pytest.raises(InvalidInputError, match="weights"):
        tnmf_graph(_cloud(), weights=[0, 0])
    with pytest.raises(InvalidInputError, match="weights"):
        ktnmf_graph(_cloud(), weights=[1, -1])


def test_select_scale_picks_the_clustered_embedding_without_labels():
    from nmfkit.methods import select_scale

    rng = np.random.default_rng(0)
    centres = np.eye(3) * 5 + 1
    labels = np.repeat(np.arange(3), 20)
    clustered = centres[labels] + 0.1 * rng.random((60, 3))
    noise = [rng.random((60, 3)) for _ in range(4)]
    E = np.stack(noise[:2] + [clustered] + noise[2:])
    out = select_scale(E, 3)
    assert out["scale"] == 2
    assert out["silhouettes"][2] > 0.9 > out["silhouettes"].max(initial=0, where=np.arange(5) != 2)
    # the chosen scale's clusters are the planted groups (up to their names)
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(labels, out["labels"]) == 1.0
    # identical embeddings tie: the finest scale wins
    assert select_scale(np.stack([clustered, clustered]), 3)["scale"] == 0


def test_select_scale_validates_its_input():
    from nmfkit._validation import InvalidInputError
    from nmfkit.methods import select_scale

    with pytest.raises(InvalidInputError, match="shape"):
        select_scale(np.ones((4, 3)), 2)
    with pytest.raises(InvalidInputError, match="n_clusters"):
        select_scale(np.random.default_rng(0).random((2, 10, 3)), 1)


def test_sparse_counts_stay_sparse_and_give_the_dense_result():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), 8)
    C = rng.poisson(rng.lognormal(-1.5, 1.2, (3, 400))[labels])
    C = C[:, C.sum(axis=0) > 0]
    Ps, Pd = preprocess_counts(sp.csr_matrix(C)), preprocess_counts(C)
    assert sp.issparse(Ps) and Ps.nnz == np.count_nonzero(C)
    np.testing.assert_allclose(Ps.toarray(), Pd, atol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rs = persistent_nmf(Ps, 3, lambdas=(1, 1, 1), n_sweeps=3)
        rd = persistent_nmf(Pd, 3, lambdas=(1, 1, 1), n_sweeps=3)
    np.testing.assert_allclose(rs.extras["embeddings"], rd.extras["embeddings"], rtol=1e-9, atol=1e-12)
    assert rs.objective == pytest.approx(rd.objective, rel=1e-12)


def test_zero_scale_joins_duplicates_with_weight_one_under_the_inclusive_threshold():
    X = points(6, n=12, duplicates=2)
    D = sample_distances(X)
    eps = persistence_scales(D)
    assert eps[0] == 0.0
    for max_edge_list in (2**23, 0):
        strict, _ = ScaleGraphs(D, eps, max_edge_list=max_edge_list).adjacency(0)
        inclusive, degree = ScaleGraphs(D, eps, threshold="inclusive", max_edge_list=max_edge_list).adjacency(0)
        assert not np.any(dense(strict))
        expected = ((D == 0) & ~np.eye(12, dtype=bool)).astype(float)
        np.testing.assert_array_equal(dense(inclusive), expected)
        np.testing.assert_array_equal(degree, expected.sum(axis=1))
