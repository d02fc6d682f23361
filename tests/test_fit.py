import io
import re
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nmfkit import FitResult, nmf
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.fit import run
from nmfkit.initialization import CustomInit
from nmfkit.stopping import AnyOf, FactorChange, MaxIter
from nmfkit.testing import planted


@pytest.fixture
def X():
    return planted(25, 15, 3, separable=False, sparsity=0.2, rng=0)[0] + 0.05


def test_result_fields_and_history(X):
    result = nmf(X, 3, tol=1e-6, max_iter=2000, random_state=0)
    assert isinstance(result, FitResult)
    assert result.converged and result.stop_reason.startswith("converged: relative objective change")
    assert result.history[0].n_iter == 0 and result.history[-1].n_iter == result.n_iter
    its = [h.n_iter for h in result.history]
    assert its == sorted(its) and all(b - a <= 10 for a, b in zip(its, its[1:], strict=False))
    times = [h.elapsed for h in result.history]
    assert times == sorted(times) and result.elapsed >= times[-1]
    assert result.objective == result.history[-1].objective
    np.testing.assert_allclose(result.objective, 0.5 * np.linalg.norm(X - result.W @ result.H) ** 2, rtol=1e-10)
    assert result.random_state == 0 and result.backend == "numpy"
    assert "FitResult(W(25, 3), H(3, 15)" in repr(result)


def test_callback_can_stop_by_return_or_stopiteration(X):
    seen = []

    def cb(info):
        seen.append(info.n_iter)
        return info.n_iter == 4

    result = nmf(X, 3, callback=cb, max_iter=100)
    assert seen == [1, 2, 3, 4] and result.n_iter == 4
    assert (result.stop_reason, result.converged) == ("callback requested stop", False)

    def cb2(info):
        if info.n_iter == 2:
            raise StopIteration

    assert nmf(X, 3, callback=cb2, max_iter=100).n_iter == 2


def test_any_true_callback_return_stops_the_fit(X):
    # a NumPy comparison returns numpy.bool_, not True: it must stop the fit all the same
    res = nmf(X, 3, callback=lambda info: np.float64(info.n_iter) >= np.float64(3), max_iter=200, tol=0)
    assert res.n_iter == 3 and res.stop_reason == "callback requested stop"
    assert nmf(X, 3, callback=lambda info: np.bool_(info.n_iter == 5), max_iter=200, tol=0).n_iter == 5
    with pytest.warns(ConvergenceWarning):  # a false return goes on, to max_iter
        assert nmf(X, 3, callback=lambda info: np.bool_(False), max_iter=7, tol=0).n_iter == 7
    from nmfkit.methods import persistent_nmf

    Y = np.abs(np.random.default_rng(0).random((30, 12)))
    assert persistent_nmf(Y, 2, max_scales=2, callback=lambda info: np.bool_(info.n_iter >= 3)).n_iter == 3
    with pytest.raises(InvalidInputError, match="neither true nor false"):
        nmf(X, 3, callback=lambda info: np.ones(3), max_iter=5)


def test_callback_sees_objective_when_recorded(X):
    values = []
    nmf(X, 3, callback=lambda info: values.append(info.objective), max_iter=20, tol=0.0, stop="objective")
    assert values[9] is not None and values[0] is None


def test_verbose_prints_one_table(X):
    buf = io.StringIO()
    with redirect_stdout(buf):
        nmf(X, 3, verbose=1, max_iter=500, tol=1e-5)
    lines = buf.getvalue().splitlines()
    assert re.match(r"\s+iter\s+objective\s+rel\. change\s+time \(s\)", lines[0])
    assert lines[-1].startswith("stopped: converged")


def test_max_time_stops_and_warns(X):
    pattern = r"Time limit reached: max_time=1e-09s reached.*Increase max_time or tol\."
    with pytest.warns(ConvergenceWarning, match=pattern):
        result = nmf(X, 3, max_time=1e-9, tol=0.0, max_iter=10**6)
    assert result.stop_reason == "max_time=1e-09s reached" and not result.converged


def test_warm_start_continues_the_same_trajectory(X):
    kw = dict(solver="mu", stop="factor", tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = nmf(X, 3, max_iter=20, random_state=0, **kw)
        first = nmf(X, 3, max_iter=8, random_state=0, **kw)
        rest = nmf(X, 3, W=first.W, H=first.H, max_iter=12, **kw)
        custom = nmf(X, 3, init=CustomInit(first.W, first.H), max_iter=12, **kw)
    np.testing.assert_allclose(rest.W, full.W, rtol=1e-12)
    np.testing.assert_array_equal(rest.W, custom.W)


def test_user_factors_are_copied_not_modified(X):
    W0 = np.full((25, 3), 0.5)
    H0 = np.full((3, 15), 0.5)
    W_keep, H_keep = W0.copy(), H0.copy()
    nmf(X, 3, W=W0, H=H0, max_iter=20)
    np.testing.assert_array_equal(W0, W_keep)
    np.testing.assert_array_equal(H0, H_keep)


def test_update_H_false_projects_onto_known_components(X):
    from scipy.optimize import nnls

    H = nmf(X, 3, tol=1e-8, max_iter=3000, random_state=0).H
    result = nmf(X, H=H, update_H=False, solver="hals", stop="factor", tol=1e-12, max_iter=5000)
    ref = np.array([nnls(H.T, x)[0] for x in X])
    np.testing.assert_allclose(result.W, ref, atol=1e-7)
    assert result.W.shape == (25, 3)


def test_n_components_inferred_from_given_factors(X):
    H = np.ones((2, 15))
    assert nmf(X, H=H, update_H=False, max_iter=5, stop="factor", tol=1.0).W.shape == (25, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert nmf(X, max_iter=2).W.shape == (25, 15)


def test_driver_serves_any_iterative_method():
    """The same loop, stopping rules and result for a method that is not NMF: x <- (x + a/x) / 2."""
    class Heron:
        def step(self, x):
            return (x + 2.0 / x) / 2.0

        def objective(self, x):
            return (x * x - 2.0) ** 2

        def factors(self, x):
            return {"W": np.atleast_2d(x)}

    be = get_backend(np.zeros(1))
    state, info = run(Heron(), np.array(1.0), stop=AnyOf(FactorChange(1e-12), MaxIter(100)), backend=be,
                      record_every=1)
    assert info["converged"] and abs(state - np.sqrt(2)) < 1e-12
    assert info["n_iter"] < 10
    assert [h.objective for h in info["history"]][-1] < 1e-20
