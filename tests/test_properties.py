"""Property-based checks (hypothesis): one sweep of any solver on any small non-negative matrix."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nmfkit import nmf
from nmfkit.backend import get_backend
from nmfkit.losses import BetaDivergence

matrices = st.integers(2, 7).flatmap(
    lambda n: st.integers(2, 7).flatmap(
        lambda m: arrays(np.float64, (n, m), elements=st.floats(0.0, 10.0, allow_subnormal=False))))

SOLVERS = [("mu", 2.0), ("mu", 1.0), ("mu", 0.5), ("hals", 2.0), ("anls-bpp", 2.0), ("gcd", 2.0),
           ("anls-pg", 2.0)]


@settings(max_examples=40, deadline=None)
@given(X=matrices, case=st.sampled_from(SOLVERS), seed=st.integers(0, 2**16))
def test_one_sweep_keeps_factors_valid_and_does_not_increase_the_objective(X, case, seed):
    solver, beta = case
    if not np.any(X > 0):
        X[0, 0] = 1.0
    k = min(2, *X.shape)
    rng = np.random.default_rng(seed)
    W0 = rng.random((X.shape[0], k)) + 0.01
    H0 = rng.random((k, X.shape[1])) + 0.01
    loss = BetaDivergence(beta)
    before = float(loss.value(X, W0, H0, backend=get_backend(X)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nmf(X, k, solver=solver, beta_loss=beta, W=W0, H=H0, max_iter=1)
    assert np.all(np.isfinite(result.W)) and np.all(np.isfinite(result.H))
    assert result.W.min() >= 0 and result.H.min() >= 0
    assert result.objective <= before * (1 + 1e-9) + 1e-12
