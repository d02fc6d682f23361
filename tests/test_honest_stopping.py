"""Honest stopping and robust defaults: what "converged" may mean, extreme scales, extrapolation never worse.

- a stretch in which every step was rejected is not convergence, nor is ``tol = 0``, nor an objective
  that underflowed;
- the reason names the sweeps actually between the two evaluations;
- data scaled by 1e-300 or 1e300 give the relative error of the unscaled data;
- extrapolated fits end at or below the plain solver's objective after the same sweeps, on dense,
  sparse and float32 problems (and on CBCL, where the projection used to kill components).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nmfkit import nmf
from nmfkit.backend import get_backend
from nmfkit.fit import run
from nmfkit.stopping import AnyOf, MaxIter, RelativeObjectiveChange
from nmfkit.testing import planted_noisy


class _Rejecting:
    """A method whose every step is rejected: the objective of its accepted iterates never moves."""

    def step(self, state):
        return state + 1

    def objective(self, state):
        return 5.0

    def factors(self, state):
        return {}

    def accepted_steps(self, state):
        return 0


class _Accepting(_Rejecting):
    def accepted_steps(self, state):
        return state


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kw)


def test_rejected_steps_are_not_convergence():
    stop = AnyOf(RelativeObjectiveChange(1e-4, every=10), MaxIter(50))
    with pytest.warns(ConvergenceWarning, match="no step accepted in the last 10 sweeps"):
        _, info = run(_Rejecting(), 0, stop=stop, backend=get_backend(np.zeros(1)))
    assert not info["converged"] and info["n_iter"] == 50
    # the same flat objective with accepted steps is convergence, after the first interval
    _, info = run(_Accepting(), 0, stop=AnyOf(RelativeObjectiveChange(1e-4, every=10), MaxIter(50)),
                  backend=get_backend(np.zeros(1)))
    assert info["converged"] and info["n_iter"] == 10


def test_an_extrapolated_fit_does_not_converge_on_a_rejected_step():
    """Every evaluation (record_every=1) of an aggressive extrapolation: a converged fit must have made progress."""
    from nmfkit.acceleration import Extrapolation

    X = np.log1p(sp.random(400, 120, density=0.2, format="csr", random_state=0, data_rvs=lambda n: 50 * np.ones(n)))
    X = X + sp.csr_matrix(np.outer(np.linspace(0, 1, 400), np.linspace(0, 1, 120)))
    params = Extrapolation(beta0=1.0, gamma=1.3, gamma_bar=1.1)
    res = _quiet(nmf, X, 8, extrapolate=params, record_every=1, tol=1e-5, max_iter=3000, random_state=0)
    longer = _quiet(nmf, X, 8, extrapolate=params, record_every=1, tol=0.0, max_iter=res.n_iter + 300,
                    random_state=0)
    # stopping was no false alarm: 300 more sweeps gain little
    assert (res.objective - longer.objective) / res.objective < 1e-3
    if res.converged:
        assert "over 1 sweep" in res.stop_reason


@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("stop", ["objective", "factor"])
def test_tol_zero_runs_to_max_iter(extrapolate, stop):
    rng = np.random.default_rng(0)
    X = rng.random((40, 3)) @ rng.random((3, 30))  # exact rank 3: the objective reaches round-off
    with pytest.warns(ConvergenceWarning, match="max_iter=300"):
        res = nmf(X, 3, tol=0.0, max_iter=300, stop=stop, extrapolate=extrapolate and stop == "objective",
                  random_state=0)
    assert res.n_iter == 300 and not res.converged


def test_the_reason_names_the_sweeps_between_evaluations():
    X, _ = planted_noisy(60, 40, 4, signal_share=0.9, rng=1)
    res = nmf(X, 4, record_every=3, random_state=0)
    assert res.converged and res.stop_reason.endswith("over 3 sweeps")
    assert res.n_iter % 3 == 0


@pytest.mark.parametrize("matrix", ["dense", "csr"])
@pytest.mark.parametrize("beta", [2.0, 1.0])
def test_extreme_scales_give_the_relative_error_of_the_unscaled_data(matrix, beta):
    rng = np.random.default_rng(3)
    X = rng.poisson(5 * rng.random((60, 4)) @ rng.random((4, 30)) + 0.5).astype(float)
    if matrix == "csr":
        X = sp.csr_matrix(X)

    def rel_error(s):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow, no ConvergenceWarning
            res = nmf(X * s, 4, beta_loss=beta, random_state=0)
        W = res.W / s  # back to the unscaled data's units, to measure the error there
        dense = X.toarray() if sp.issparse(X) else X
        return np.linalg.norm(dense - W @ res.H) / np.linalg.norm(dense), res

    base, _ = rel_error(1.0)
    for s in (1e-300, 1e-310, 1e154, 1e300):
        err, res = rel_error(s)
        assert err == pytest.approx(base, rel=2e-3), s
        assert res.extras["data_scale"] != 1.0
        assert np.all(np.isfinite(res.W)) and np.all(np.isfinite(res.H))


def test_float32_at_extreme_scales():
    rng = np.random.default_rng(4)
    X = (rng.random((50, 3)) @ rng.random((3, 20)) + 0.1).astype(np.float32)
    ref = nmf(X, 3, random_state=0)
    for s in (1e-30, 1e30):
        res = nmf(X * np.float32(s), 3, random_state=0)
        assert res.W.dtype == np.float32
        rel = np.linalg.norm(X - (res.W / np.float32(s)) @ res.H) / np.linalg.norm(X)
        assert rel == pytest.approx(np.linalg.norm(X - ref.W @ ref.H) / np.linalg.norm(X), rel=1e-2)


def test_extreme_scales_with_penalties_are_refused_with_a_message():
    X = np.random.default_rng(0).random((20, 10)) * 1e300
    with pytest.raises(ValueError, match="penalties"):
        nmf(X, 2, alpha_W=0.1)


def _suite():
    rng = np.random.default_rng(11)
    dense, _ = planted_noisy(150, 90, 6, signal_share=0.9, rng=2)
    counts = sp.csr_matrix(rng.poisson(0.3 * rng.random((300, 8)) @ rng.random((8, 120))).astype(float))
    counts = counts[np.asarray(counts.getnnz(axis=1)) > 0][:, np.asarray(counts.getnnz(axis=0)) > 0]
    logcounts = counts.copy()
    logcounts.data = np.log1p(logcounts.data)
    return {"dense r=6": (dense, 6), "dense r=12": (dense, 12), "dense float32 r=6": (dense.astype(np.float32), 6),
            "sparse counts r=8": (counts, 8), "sparse log r=5": (logcounts, 5),
            "sparse log float32 r=10": (logcounts.astype(np.float32), 10)}


@pytest.mark.parametrize("solver", ["hals", "anls-bpp"])
@pytest.mark.parametrize("problem", list(_suite()))
def test_extrapolation_ends_at_or_below_the_plain_solver(problem, solver):
    X, k = _suite()[problem]
    kw = dict(solver=solver, init="nndsvda", stop="fixed", max_iter=150, random_state=0)
    plain = nmf(X, k, extrapolate=False, **kw)
    fast = nmf(X, k, extrapolate=True, **kw)
    assert fast.objective <= plain.objective * (1 + 1e-6)
    assert np.all(fast.H.max(axis=1) > 0), "a component died"


def test_extrapolation_keeps_every_cbcl_component(data_dir):
    """ANLS-BPP + extrapolation on CBCL r = 49 used to kill 21 components and stall at 1.13 %."""
    import scipy.io

    X = np.asarray(scipy.io.loadmat(data_dir / "faces/cbcl_faces_361x2429.mat")["X"], dtype=np.float64)
    kw = dict(solver="anls-bpp", init="nndsvda", stop="fixed", max_iter=40)
    plain = nmf(X, 49, extrapolate=False, **kw)
    fast = nmf(X, 49, extrapolate=True, **kw)
    assert np.all(fast.W.max(axis=0) > 0) and np.all(fast.H.max(axis=1) > 0)
    assert fast.objective <= plain.objective


@pytest.mark.parametrize(("solver", "beta"), [("hals", 2.0), ("anls-bpp", 2.0), ("gcd", 2.0), ("anls-pg", 2.0),
                                              ("mu", 2.0), ("mu", 1.0), ("mu", 0.5)])
@pytest.mark.parametrize("magnitude", [1e-300, 1e-200, 1e300])
def test_a_given_start_at_unit_scale_stays_finite_on_extreme_data(solver, beta, magnitude):
    """Unit factors for data at 1e-200 would overflow once divided by the data's scale: fitted as given."""
    rng = np.random.default_rng(5)
    X = rng.random((6, 5)) * (rng.random((6, 5)) > 0.3) * magnitude
    X[0, 0] = magnitude
    W0, H0 = rng.random((6, 2)) + 0.01, rng.random((2, 5)) + 0.01
    res = _quiet(nmf, X, 2, solver=solver, beta_loss=beta, W=W0, H=H0, max_iter=1)
    assert np.all(np.isfinite(res.W)) and np.all(np.isfinite(res.H))
    assert res.W.min() >= 0 and res.H.min() >= 0


def test_a_fixed_components_start_is_scaled_with_the_data():
    """update_H=False builds its constant W from the data's mean before the data are rescaled, once."""
    rng = np.random.default_rng(6)
    H = rng.random((3, 20)) + 0.1
    X = (rng.random((30, 3)) @ H) * 1e-300
    res = nmf(X, 3, H=H, update_H=False, random_state=0)
    rel = np.linalg.norm(X / 1e-300 - (res.W / 1e-300) @ H) / np.linalg.norm(X / 1e-300)
    assert rel < 1e-3
