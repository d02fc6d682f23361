"""Separable NMF: SPA and SNPA find planted anchors; the capped-simplex projection is exact."""

import numpy as np
import pytest

import nmfkit
from nmfkit.initialization import _project_capped_simplex, get_initializer
from nmfkit.methods import separable_nmf, snpa, spa


def near_separable(n=200, m=40, k=5, noise=0.0, seed=0):
    """``X = W H`` whose first k rows of W (before shuffling) are the identity: k pure samples."""
    rng = np.random.default_rng(seed)
    H = rng.random((k, m))
    W = np.vstack([np.eye(k), 0.9 * rng.dirichlet(0.5 * np.ones(k), n - k)])
    perm = rng.permutation(n)
    X = W[perm] @ H
    X = np.maximum(X + noise * X.mean() * rng.standard_normal(X.shape), 0.0)
    return X, sorted(np.flatnonzero(perm < k).tolist())


@pytest.mark.parametrize("noise", [0.0, 0.01, 0.05])
@pytest.mark.parametrize("finder", [spa, snpa])
def test_anchors_of_near_separable_data_are_found(finder, noise):
    X, anchors = near_separable(noise=noise)
    assert sorted(finder(X, 5).tolist()) == anchors


def test_snpa_finds_anchors_beyond_the_rank():
    # four anchors in three dimensions: SPA cannot (rank 3), SNPA can (the fourth is outside the hull)
    H = np.array([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6], [0.45, 0.45, 0.1]])
    W = np.vstack([np.eye(4), np.random.default_rng(1).dirichlet(np.ones(4), 50)])
    X = W @ H
    assert sorted(snpa(X, 4).tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="linearly independent"):
        spa(X, 4)
    with pytest.raises(ValueError, match="convex hull"):
        snpa(X, 5)


def test_capped_simplex_projection_is_the_nearest_feasible_point():
    from scipy.optimize import minimize

    rng = np.random.default_rng(2)
    V = rng.normal(0.2, 0.6, (20, 4))
    P = _project_capped_simplex(V)
    assert P.min() >= 0 and P.sum(axis=1).max() <= 1 + 1e-12
    for v, p in zip(V, P, strict=True):
        res = minimize(lambda w, v=v: np.sum((w - v) ** 2), np.full(4, 0.1), method="SLSQP", bounds=[(0, None)] * 4,
                       constraints=[{"type": "ineq", "fun": lambda w: 1 - w.sum()}], options={"ftol": 1e-14})
        np.testing.assert_allclose(p, res.x, atol=1e-6)


def test_separable_nmf_is_exact_on_separable_data_and_snpa_is_an_init():
    X, anchors = near_separable(noise=0.0, seed=3)
    for algorithm in ("snpa", "spa"):
        res = separable_nmf(X, 5, algorithm=algorithm)
        assert sorted(res.extras["anchors"].tolist()) == anchors
        assert res.objective < 1e-20 * np.sum(X**2)
        assert res.W.min() >= 0
    W0, H0 = get_initializer("snpa")(X, 5, rng=np.random.default_rng(0))
    np.testing.assert_allclose(W0 @ H0, X, atol=1e-10)
    fit = nmfkit.nmf(X, 5, init="snpa", max_iter=20)
    assert fit.extras["loss_value"] < 1e-18 * np.sum(X**2)
    with pytest.raises(ValueError, match="valid: snpa, spa"):
        separable_nmf(X, 5, algorithm="xray")
    with pytest.raises(ValueError):
        separable_nmf(-X, 5)


def test_separable_weights_satisfy_kkt_on_noisy_data():
    X, _ = near_separable(noise=0.05, seed=4)
    res = separable_nmf(X, 5)
    W, H = res.W, res.H
    grad = W @ (H @ H.T) - X @ H.T  # W = argmin_{W >= 0} 0.5 ||X - W H||^2 for the anchors H
    scale = np.abs(X @ H.T).max()
    assert np.abs(W * grad).max() < 1e-8 * scale * W.max()
    assert grad.min() > -1e-8 * scale
