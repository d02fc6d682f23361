import re
import time

import numpy as np
import pytest

from nmfkit.backend import get_backend
from nmfkit.fit import HistoryEntry
from nmfkit.stopping import (
    AnyOf,
    FactorChange,
    MaxIter,
    MaxTime,
    RelativeObjectiveChange,
    StopState,
    available_stopping,
    get_stopping,
)

BE = get_backend(np.zeros(1))


def state(n_iter=1, history=(), new_record=True, factors=None, previous=None, started=None):
    return StopState(n_iter, [HistoryEntry(*h) for h in history], new_record, factors or {}, previous,
                     time.perf_counter() if started is None else started, BE)


def test_relative_objective_change_on_synthetic_histories():
    rule = RelativeObjectiveChange(tol=1e-3, every=10)
    assert rule.check(state(10, [(0, 100.0, 0), (10, 50.0, 0)])) is None
    assert rule.progress() == "relative objective change 5.000e-01 > tol=0.001"
    stop = rule.check(state(20, [(0, 100.0, 0), (10, 50.0, 0), (20, 49.99, 0)]))
    assert stop.converged
    assert stop.reason == "converged: relative objective change 2.000e-04 <= tol=0.001 over 10 sweeps"
    # only looks when a new objective value was recorded
    assert rule.check(state(21, [(0, 100.0, 0), (10, 50.0, 0), (20, 49.99, 0)], new_record=False)) is None


def test_relative_objective_change_at_round_off_level_converges():
    rule = RelativeObjectiveChange(tol=1e-6)
    stop = rule.check(state(20, [(0, 1e3, 0), (10, 1e-27, 0), (20, 3e-27, 0)]))
    assert stop is not None and stop.converged


def test_factor_change_per_component_unsquared():
    W_prev = np.array([[1.0, 0.0], [1.0, 0.0]])
    W = np.array([[1.0, 0.0], [1.0 + 2e-4, 0.0]])  # the all-zero component counts as unchanged (0/0)
    H = np.ones((2, 3))
    rule = FactorChange(tol=1e-4)
    expected = 2e-4 / np.linalg.norm(W[:, 0] + W_prev[:, 0])
    stop = rule.check(state(factors={"W": W, "H": H}, previous={"W": W_prev, "H": H}))
    assert stop is not None
    assert rule._last == pytest.approx(expected)
    tight = FactorChange(tol=1e-5)
    assert tight.check(state(factors={"W": W, "H": H}, previous={"W": W_prev, "H": H})) is None
    squared = FactorChange(tol=expected**2 * 1.01, squared=True)
    assert squared.check(state(factors={"W": W, "H": H}, previous={"W": W_prev, "H": H})) is not None


def test_factor_change_is_per_component_not_global():
    """A small component that moved a lot blocks convergence even when the whole matrix barely moved."""
    W_prev = np.array([[1000.0, 1e-3], [1000.0, 1e-3]])
    W = np.array([[1000.0, 2e-3], [1000.0, 2e-3]])
    H = np.ones((2, 2))
    args = dict(factors={"W": W, "H": H}, previous={"W": W_prev, "H": H})
    assert FactorChange(tol=1e-4, per_component=False).check(state(**args)) is not None
    assert FactorChange(tol=1e-4).check(state(**args)) is None


def test_factor_change_scale_invariant():
    rng = np.random.default_rng(0)
    W, Wp, H, Hp = rng.random((5, 2)), rng.random((5, 2)), rng.random((2, 4)), rng.random((2, 4))
    a, b = FactorChange(1.0), FactorChange(1.0)
    a.check(state(factors={"W": W, "H": H}, previous={"W": Wp, "H": Hp}))
    b.check(state(factors={"W": 7 * W, "H": 3 * H}, previous={"W": 7 * Wp, "H": 3 * Hp}))
    assert a._last == pytest.approx(b._last)


def test_limits_and_any_of():
    assert MaxIter(5).check(state(4)) is None
    stop = MaxIter(5).check(state(5))
    assert (stop.reason, stop.converged) == ("max_iter=5 reached", False)
    stop = MaxTime(0.01).check(state(started=time.perf_counter() - 1))
    assert (stop.reason, stop.converged) == ("max_time=0.01s reached", False)
    rule = AnyOf(RelativeObjectiveChange(1e-3, every=5), MaxIter(3))
    assert rule.every == 5 and not rule.needs_previous
    assert rule.check(state(3, [(0, 1.0, 0)], new_record=False)).reason == "max_iter=3 reached"


def test_registry():
    assert available_stopping() == ["factor", "fixed", "objective"]
    assert get_stopping("fixed", tol=1.0, max_iter=7).n_sweeps == 7
    assert isinstance(get_stopping("factor", tol=1e-3), FactorChange)
    assert get_stopping("objective", tol=1e-3).tol == 1e-3
    inst = FactorChange(1e-2)
    assert get_stopping(inst, tol=1.0) is inst
    with pytest.raises(ValueError, match=re.escape("Unknown stopping rule 'x'. Valid rules: 'factor', ")):
        get_stopping("x", tol=1.0)


def test_fixed_sweeps_is_a_normal_end_without_warning():
    import warnings

    from nmfkit import nmf

    X = np.random.default_rng(0).random((10, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = nmf(X, 2, stop="fixed", max_iter=7)
    assert result.n_iter == 7 and not result.converged  # the budget was spent; no criterion was tested
    assert result.stop_reason == "completed the requested 7 sweeps (a fixed budget, no convergence test)"
