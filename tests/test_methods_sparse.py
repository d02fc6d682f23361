"""Sparseness-constrained NMF (Hoyer 2004): the projection is exact and nearest; constraints hold; recovery."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nmfkit.methods import hoyer_project, nmf_sc, sparseness
from nmfkit.methods.sparse import _project_rows
from nmfkit.testing import match_components


def test_sparseness_extremes():
    assert sparseness(np.ones(9)) == pytest.approx(0.0)
    assert sparseness(np.eye(9)[3]) == pytest.approx(1.0)


@pytest.mark.parametrize("target", [0.2, 0.5, 0.8])
def test_hoyer_projection_hits_the_norms_and_is_nearest(target):
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    n = 8
    l2 = 1.0
    l1 = np.sqrt(n) - (np.sqrt(n) - 1) * target
    cons = [{"type": "eq", "fun": lambda v: v.sum() - l1}, {"type": "eq", "fun": lambda v: v @ v - l2 * l2}]
    for _ in range(5):
        x = rng.normal(0.3, 1.0, n)
        s = hoyer_project(x, l1, l2)
        assert s.min() >= 0
        assert s.sum() == pytest.approx(l1, rel=1e-10)
        assert np.linalg.norm(s) == pytest.approx(l2, rel=1e-10)
        assert sparseness(s) == pytest.approx(target, abs=1e-10)
        best = np.inf
        for start in [s, np.abs(x) / np.abs(x).sum() * l1, np.full(n, l1 / n) + 0.01 * rng.random(n)]:
            r = minimize(lambda v, x=x: np.sum((v - x) ** 2), start, method="SLSQP", bounds=[(0, None)] * n,
                         constraints=cons, options={"ftol": 1e-14, "maxiter": 500})
            if r.success:
                best = min(best, r.fun)
        assert np.sum((s - x) ** 2) <= best + 1e-7


@pytest.mark.parametrize(("sW", "sH"), [(None, 0.6), (0.5, None), (0.5, 0.6)])
def test_constraints_hold_and_objective_never_increases(sW, sH):
    X = np.random.default_rng(2).random((50, 30))
    with pytest.warns(ConvergenceWarning):  # 300 sweeps are enough to test the invariants
        res = nmf_sc(X, 3, sparseness_W=sW, sparseness_H=sH, random_state=0, max_iter=300, tol=1e-12)
    values = [h.objective for h in res.history]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(values, values[1:], strict=False))
    if sH is not None:
        np.testing.assert_allclose(sparseness(res.H, axis=1), sH, atol=1e-8)
    if sW is not None:
        np.testing.assert_allclose(sparseness(res.W, axis=0), sW, atol=1e-8)
    assert res.W.min() >= 0 and res.H.min() >= 0


def test_planted_sparse_components_are_recovered():
    rng = np.random.default_rng(1)
    H = _project_rows(rng.random((4, 60)), 0.7)
    X = rng.random((100, 4)) @ H
    res = nmf_sc(X, 4, sparseness_H=0.7, random_state=0, max_iter=5000, tol=1e-9)
    assert np.sqrt(2 * res.objective / np.sum(X**2)) < 1e-6
    assert match_components(H.T, res.H.T)["cosine_W"].min() > 0.9999


def test_bad_sparseness_is_rejected():
    with pytest.raises(ValueError, match="sparseness_H"):
        nmf_sc(np.ones((5, 4)), 2, sparseness_H=1.5)


def test_kkt_of_the_free_factor_and_fixed_point_of_the_constrained_one():
    rng = np.random.default_rng(3)
    H0 = _project_rows(rng.random((3, 40)), 0.6)
    X = rng.random((60, 3)) @ H0 + 0.01 * rng.random((60, 40))
    res = nmf_sc(X, 3, sparseness_H=0.6, random_state=0, max_iter=20000, tol=1e-13)
    W, H = res.W, res.H
    grad_W = W @ (H @ H.T) - X @ H.T  # W is free: KKT of min_W>=0 0.5||X - WH||^2
    scale = np.abs(X @ H.T).max()
    assert np.abs(W * grad_W).max() < 1e-4 * scale * W.max()
    assert grad_W.min() > -1e-4 * scale
    # H is constrained: a small projected-gradient step leaves it (nearly) where it is
    grad_H = W.T @ (W @ H - X)
    step = 1e-2 / np.linalg.norm(W.T @ W, 2)
    moved = _project_rows(H - step * grad_H, 0.6) - H
    assert np.linalg.norm(moved) < 1e-3 * np.linalg.norm(step * grad_H) + 1e-9 * np.linalg.norm(H)
