"""Graph and spatial NMF: graph builders, monotone objective, KKT, and spatial domains recovered."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import nmfkit
from nmfkit.graphs import knn_graph, spatial_graph
from nmfkit.methods import graph_nmf
from nmfkit.penalties import L2, GraphLaplacian
from nmfkit.testing import kkt_residual


def spatial_domains(seed=0, g=30):
    """Counts on a g x g grid with three wavy spatial domains, each with its own gene program."""
    rng = np.random.default_rng(seed)
    xy = np.stack(np.meshgrid(np.arange(g), np.arange(g)), -1).reshape(-1, 2).astype(float)
    domain = np.digitize(xy[:, 0] + 3 * np.sin(xy[:, 1] / 4), [10, 20])
    H = rng.gamma(0.5, 1.0, (3, 50)) * (rng.random((3, 50)) < 0.5)
    X = rng.poisson((np.eye(3)[domain] + 0.3) @ H * 0.3).astype(float)
    return X[:, X.sum(axis=0) > 0], xy, domain


def test_spatial_graph_builders():
    xy = np.stack(np.meshgrid(np.arange(5), np.arange(4)), -1).reshape(-1, 2).astype(float)
    A = spatial_graph(xy, n_neighbors=4)
    assert (A != A.T).nnz == 0 and A.diagonal().sum() == 0
    assert np.asarray(A.sum(axis=1)).min() >= 4
    R = spatial_graph(xy, radius=1.01)  # the 4-neighbourhood of a grid
    degree = np.asarray(R.sum(axis=1)).ravel()
    assert sorted(set(degree.tolist())) == [2.0, 3.0, 4.0]
    G = spatial_graph(xy, radius=1.5, weight="gaussian", bandwidth=1.0)
    np.testing.assert_allclose(sorted(set(np.round(G.data, 12))), np.round([np.exp(-1.0), np.exp(-0.5)], 12))
    with pytest.raises(ValueError, match="radius"):
        spatial_graph(xy, radius=-1)
    with pytest.raises(ValueError, match="weight"):
        spatial_graph(xy, weight="cosine")
    K = knn_graph(np.random.default_rng(0).random((20, 3)), 3, weight="binary")
    assert (K != K.T).nnz == 0 and set(K.data) == {1.0}


def test_graph_nmf_is_monotone_and_satisfies_kkt():
    X, xy, _ = spatial_domains(seed=1, g=15)
    res = graph_nmf(X, 3, coords=xy, lam=2.0, tol=1e-10, max_iter=4000, random_state=0)
    values = [h.objective for h in res.history]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(values, values[1:], strict=False))
    A = res.extras["graph"]
    kkt = kkt_residual(X, res.W, res.H, penalties_W=(GraphLaplacian(2.0, A),), penalties_H=(L2(2.0),))
    assert kkt < 1e-3


def test_spatial_penalty_recovers_the_domains_better_than_plain_nmf():
    X, xy, domain = spatial_domains()
    keep = X.sum(axis=1) > 0
    X, xy, domain = X[keep], xy[keep], domain[keep]
    plain = nmfkit.nmf(X, 3, solver="mu", beta_loss="kullback-leibler", max_iter=2000, tol=1e-5, random_state=0)
    spatial = graph_nmf(X, 3, coords=xy, lam=10.0, beta_loss="kullback-leibler", random_state=0)
    ari_plain = adjusted_rand_score(domain, plain.W.argmax(axis=1))
    ari_spatial = adjusted_rand_score(domain, spatial.W.argmax(axis=1))
    assert ari_spatial > 0.8 > ari_plain
    A = spatial.extras["graph"]
    deg = np.asarray(A.sum(axis=1)).ravel()
    rough_plain = np.sum(plain.W * (deg[:, None] * plain.W - A @ plain.W)) / np.sum(plain.W**2)
    assert spatial.extras["smoothness"] < 0.5 * rough_plain


def test_feature_graph_is_the_transposed_problem():
    X, _, _ = spatial_domains(seed=2, g=10)
    A = knn_graph(X.T, 4, weight="binary")
    f = graph_nmf(X, 3, graph=A, on="features", lam=1.0, tol=1e-8, random_state=0)
    t = graph_nmf(X.T, 3, graph=A, on="samples", lam=1.0, tol=1e-8, random_state=0)
    assert f.objective == pytest.approx(t.objective, rel=1e-6)
    R = t.W @ t.H  # NNDSVDa of X and of X.T agree up to rounding, so the fits agree closely
    np.testing.assert_allclose(f.H.T @ f.W.T, R, rtol=0, atol=1e-3 * R.max())


def test_graph_errors():
    X = np.random.default_rng(0).random((10, 6))
    with pytest.raises(ValueError, match="shape"):
        graph_nmf(X, 2, graph=np.eye(6))
    with pytest.raises(ValueError, match="symmetric"):
        graph_nmf(X, 2, graph=np.triu(np.ones((10, 10)), 1))
    with pytest.raises(ValueError, match="coords"):
        graph_nmf(X, 2, coords=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="graph must have shape"):
        nmfkit.nmf(X, 2, solver="mu", penalties_W=(GraphLaplacian(1.0, np.eye(6)),))
