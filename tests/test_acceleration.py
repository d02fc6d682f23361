"""Extrapolation with restarts (Ang & Gillis 2019) around the quadratic solvers."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nmfkit import nmf
from nmfkit.acceleration import ExtrapolatedNMF, Extrapolation
from nmfkit.backend import get_backend
from nmfkit.losses import BetaDivergence
from nmfkit.penalties import elastic_net
from nmfkit.solvers import HALS, Problem, get_solver
from nmfkit.testing import kkt_residual, planted_noisy

SOLVERS = ["hals", "anls-bpp", "gcd", "anls-pg"]


def _fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return nmf(X, **kw)


@pytest.fixture(scope="module")
def data():
    X, _ = planted_noisy(120, 80, 6, signal_share=0.95, rng=0)
    return X


@pytest.mark.parametrize("restart", ["current", "accepted"])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("penalized", [False, True])
def test_error_read_off_the_statistics_is_the_objective(data, solver, penalized, restart):
    """The restart test compares e_n computed from the H-update statistics: it must be the true objective."""
    n, m = data.shape
    backend = get_backend(data)
    pens_W = elastic_net(0.02, 0.3, m) if penalized else ()
    pens_H = elastic_net(0.05, 0.6, n) if penalized else ()
    problem = Problem(data, data.T, BetaDivergence(2.0), backend, pens_W, pens_H)
    method = ExtrapolatedNMF(problem, get_solver(solver), Extrapolation(restart=restart))
    rng = np.random.default_rng(0)
    state = method.start(rng.random((n, 6)), rng.random((6, m)))
    previous = np.inf
    for _ in range(6):
        state = method.step(state)
        W, H = method.best(state)
        assert state["best"] == pytest.approx(float(problem.objective(W, H)), rel=1e-10)
        f = method.factors(state)  # the pair evaluated at this step
        assert state["error"] == pytest.approx(float(problem.objective(f["W"], f["H"])), rel=1e-10)
        assert float(method.objective(state)) <= previous
        previous = float(method.objective(state))
        assert np.all(f["W"] >= 0) and np.all(f["H"] >= 0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_extrapolation_reaches_a_lower_objective_in_the_same_sweeps(data, solver):
    kw = dict(n_components=6, solver=solver, init="nndsvda", max_iter=60, stop="fixed")
    plain = _fit(data, extrapolate=False, **kw)
    fast = _fit(data, extrapolate=True, **kw)
    assert fast.objective < plain.objective


def test_extrapolated_hals_converges_to_a_kkt_point(data):
    r = _fit(data, n_components=6, solver=HALS(), extrapolate=True, stop="factor", tol=1e-9, max_iter=20000)
    assert r.converged, r.stop_reason
    assert kkt_residual(data, r.W, r.H, 2.0) < 1e-5


def test_penalized_extrapolated_fit_is_a_penalized_kkt_point(data):
    n, m = data.shape
    r = _fit(data, n_components=6, solver="anls-bpp", extrapolate=True, alpha_W=0.01, alpha_H=0.02, l1_ratio=0.5,
             stop="factor", tol=1e-10, max_iter=20000)
    res = kkt_residual(data, r.W, r.H, 2.0, penalties_W=elastic_net(0.01, 0.5, m),
                       penalties_H=elastic_net(0.02, 0.5, n))
    assert res < 1e-5


def test_restarts_cut_beta_and_keep_the_objective_from_running_away(data):
    """With an aggressive start (beta0 = 1, fast growth), restarts fire and the run still ends near the plain fit."""
    params = Extrapolation(beta0=1.0, gamma=1.3, gamma_bar=1.1)
    n, m = data.shape
    problem = Problem(data, data.T, BetaDivergence(2.0), get_backend(data))
    method = ExtrapolatedNMF(problem, HALS(alpha=0.0), params)
    rng = np.random.default_rng(1)
    W0, H0 = rng.random((n, 6)), rng.random((6, m))
    state = method.start(W0, H0)
    betas, errors = [], []
    for _ in range(80):
        state = method.step(state)
        betas.append(float(state["beta"]))
        errors.append(float(state["error"]))
    restarts = [i for i in range(1, len(errors)) if errors[i] > errors[i - 1]]
    assert restarts, "expected at least one restart with these parameters"
    for i in restarts:  # beta divided by eta at each restart
        assert betas[i] == pytest.approx(betas[i - 1] / params.eta)
    plain = _fit(data, n_components=6, solver=HALS(alpha=0.0), W=W0, H=H0, max_iter=80, stop="fixed")
    assert float(state["best"]) <= plain.objective * 1.01


def test_same_seed_same_result(data):
    a = _fit(data, n_components=6, init="random", random_state=4, extrapolate=True, max_iter=30, stop="fixed")
    b = _fit(data, n_components=6, init="random", random_state=4, extrapolate=True, max_iter=30, stop="fixed")
    np.testing.assert_array_equal(a.W, b.W)


@pytest.mark.parametrize(("kw", "match"), [
    (dict(beta_loss=1), "Frobenius"),
    (dict(solver="mu"), "quadratic solver"),
    (dict(mask=np.ones((120, 80))), "no mask"),
    (dict(extrapolate="yes"), "bool, 'auto' or an Extrapolation"),
])
def test_unsupported_combinations_are_named(data, kw, match):
    kw = {"extrapolate": True, **kw}
    with pytest.raises(ValueError, match=match):
        nmf(data, 4, **kw)


def test_bad_parameters():
    with pytest.raises(ValueError, match="beta0"):
        Extrapolation(beta0=1.5)
    with pytest.raises(ValueError, match="gamma < eta"):
        Extrapolation(eta=1.0)
    with pytest.raises(ValueError, match="gamma < eta"):
        Extrapolation(gamma=1.5, eta=1.5)
    with pytest.raises(ValueError, match="restart"):
        Extrapolation(restart="never")


def test_torch_matches_numpy(data):
    torch = pytest.importorskip("torch", reason="torch is missing: pip install '.[torch]'")
    kw = dict(n_components=6, init="nndsvda", extrapolate=True, max_iter=30, stop="fixed")
    a, b = _fit(data, **kw), _fit(torch.as_tensor(data), **kw)
    np.testing.assert_allclose(b.W.numpy(), a.W, rtol=0, atol=1e-6 * np.abs(a.W).max())


def test_estimator_passes_extrapolation_and_transform_ignores_it(data):
    from nmfkit import NMF

    model = NMF(6, extrapolate=True, max_iter=50, stop="fixed", init="nndsvda")
    W = model.fit_transform(data)
    assert model.result_.extras["extrapolation"] == Extrapolation()
    W2 = model.transform(data)
    assert np.linalg.norm(data - W2 @ model.components_) <= np.linalg.norm(data - W @ model.components_) + 1e-9


def test_accepted_restart_returns_to_the_last_accepted_iterates(data):
    """Ang & Gillis's restart: after a rise, the next step starts from the iterates accepted before it."""
    n, m = data.shape
    problem = Problem(data, data.T, BetaDivergence(2.0), get_backend(data))
    method = ExtrapolatedNMF(problem, HALS(alpha=0.0), Extrapolation(beta0=1.0, gamma=1.3, gamma_bar=1.1,
                                                                     restart="accepted"))
    rng = np.random.default_rng(1)
    state = method.start(rng.random((n, 6)), rng.random((6, m)))
    seen = 0
    for _ in range(60):
        new = method.step(state)
        if float(new["error"]) > float(state["error"]):
            seen += 1
            # the same iterates, up to the exact power-of-two balancing of the components' scales
            d = new["W"].max(axis=0) / state["W"].max(axis=0)
            np.testing.assert_array_equal(np.log2(d), np.round(np.log2(d)))
            np.testing.assert_array_equal(new["W_y"], state["W"] * d)
            np.testing.assert_array_equal(new["H_y"], state["H"] / d[:, None])
            np.testing.assert_array_equal(new["W"], state["W"] * d)
            assert float(new["beta_max"]) == pytest.approx(float(state["beta_prev"]))
        state = new
    assert seen > 0


def test_component_scales_stay_balanced():
    """Extrapolation along W D, D^-1 H leaves the loss flat; balancing keeps the scales bounded."""
    rng = np.random.default_rng(0)
    X = rng.poisson(20 * rng.random((100, 5)) @ rng.random((5, 40)) + 1).astype(float)
    r = _fit(X, n_components=5, solver=HALS(alpha=0.0), extrapolate=True, stop="fixed", max_iter=3000)
    nw, nh = np.linalg.norm(r.W, axis=0), np.linalg.norm(r.H, axis=1)
    assert np.all(np.isfinite(r.W)) and np.all(nw / nh < 8) and np.all(nh / nw < 8)


def test_float32_history_is_the_objective_of_the_result(data):
    X = data.astype(np.float32)
    r = _fit(X, n_components=6, extrapolate=True, max_iter=40, stop="fixed", record_every=1)
    assert r.W.dtype == np.float32
    objectives = [h.objective for h in r.history]
    assert all(b <= a for a, b in zip(objectives, objectives[1:], strict=False))
    exact = 0.5 * float(np.sum((data - r.W.astype(np.float64) @ r.H.astype(np.float64)) ** 2))
    assert objectives[-1] == pytest.approx(exact, rel=1e-4)
