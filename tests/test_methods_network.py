"""Network NMF: symmetric NMF by penalized ANLS, directed graphs, community labels."""

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit.methods import communities, network_nmf, symmetric_nmf
from nmfkit.testing import match_components


def planted_graph(n=60, k=3, seed=0):
    rng = np.random.default_rng(seed)
    H = rng.random((n, k)) * (rng.random((n, k)) < 0.4)
    H[np.arange(n), rng.integers(k, size=n)] += 1.0  # every node in some community
    return H @ H.T, H


def test_symmetric_nmf_recovers_planted_memberships_and_is_monotone():
    A, H = planted_graph()
    res = symmetric_nmf(A, 3, tol=1e-10, max_iter=3000, random_state=0)
    assert res.extras["symmetric_error"] < 1e-4
    assert res.extras["gap"] < 1e-4
    assert match_components(H, res.W)["cosine_W"].min() > 0.999
    values = [h.objective for h in res.history]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(values, values[1:], strict=False))
    np.testing.assert_allclose(res.W @ res.H, res.W @ res.W.T)


def test_symmetric_nmf_kkt_at_convergence():
    A, _ = planted_graph(n=40, k=3, seed=1)
    A = A + 0.05 * np.random.default_rng(1).random(A.shape)
    A = (A + A.T) / 2  # noisy, so not exactly factorizable
    res = symmetric_nmf(A, 3, tol=1e-12, max_iter=5000, random_state=1)
    M = res.W
    grad = (M @ M.T - A) @ M  # gradient of 0.25 ||A - M M^T||^2
    scale = np.abs(A @ M).max()
    assert np.abs(np.minimum(M, grad)).max() < 1e-4 * scale
    assert grad.min() > -1e-4 * scale


def test_sparse_input_and_solvers_agree():
    A, _ = planted_graph(n=30, k=2, seed=2)
    dense = symmetric_nmf(A, 2, random_state=3, tol=1e-10, max_iter=2000)
    sparse = symmetric_nmf(sp.csr_matrix(A), 2, random_state=3, tol=1e-10, max_iter=2000)
    np.testing.assert_allclose(dense.W, sparse.W, atol=1e-8)
    hals = symmetric_nmf(A, 2, solver="hals", random_state=3, tol=1e-12, max_iter=5000)
    assert hals.extras["symmetric_error"] == pytest.approx(dense.extras["symmetric_error"], abs=1e-5)


def test_karate_factions(data_dir):
    from nmfkit.datasets import load_karate

    d = load_karate(data_dir)
    truth = (d.labels == "Officer").astype(int)
    for seed in range(3):
        lab = communities(network_nmf(d.X, 2, random_state=seed).W)
        assert min((lab != truth).sum(), (lab == truth).sum()) <= 2


def test_directed_graphs_and_errors():
    rng = np.random.default_rng(4)
    W, H = rng.random((25, 2)), rng.random((2, 25))
    A = W @ H  # not symmetric
    res = network_nmf(A, 2, random_state=0, tol=1e-10, max_iter=3000)
    assert res.extras["directed"] is True
    assert np.linalg.norm(A - res.W @ res.H) < 1e-3 * np.linalg.norm(A)
    with pytest.raises(ValueError, match="not symmetric"):
        symmetric_nmf(A, 2)
    with pytest.raises(ValueError, match="square"):
        symmetric_nmf(A[:, :10], 2)
    M = np.array([[0.7, 0.3], [0.1, 0.9], [0.5, 0.5]])
    np.testing.assert_array_equal(communities(M), [0, 1, 0])
    np.testing.assert_array_equal(communities(M, threshold=0.4), [[True, False], [False, True], [True, True]])
