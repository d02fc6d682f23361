"""Online (minibatch) NMF and partial_fit."""

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit import MiniBatchNMF, online_nmf
from nmfkit.online import OnlineState, partial_fit_batch
from nmfkit.testing import match_components, planted


@pytest.fixture(scope="module")
def exact():
    X, W, H = planted(300, 40, 4, rng=0)
    return X, W, H


def test_frobenius_online_recovers_planted_components(exact):
    X, _, H = exact
    r = online_nmf(X, 4, batch_size=50, n_epochs=40, forget_factor=0.9, random_state=0)
    assert np.linalg.norm(X - r.W @ r.H) / np.linalg.norm(X) < 1e-2
    assert match_components(H.T, r.H.T)["min_cosine"] > 0.99


@pytest.mark.parametrize("beta", [2.0, 1.0, 0.5])
def test_epoch_objectives_fall(exact, beta):
    X = exact[0] + 0.05
    r = online_nmf(X, 4, beta_loss=beta, batch_size=60, n_epochs=8, random_state=1)
    objectives = [h.objective for h in r.history]
    assert all(b < a for a, b in zip(objectives, objectives[1:], strict=False))
    assert objectives[-1] < 0.3 * objectives[0]


def test_one_batch_without_memory_is_the_batch_mu_step(exact):
    """With one batch holding every row and nothing remembered, the H update is nmf's MU step."""
    from nmfkit.backend import get_backend
    from nmfkit.losses import BetaDivergence
    from nmfkit.solvers import MU, Problem

    X = exact[0] + 0.05
    rng = np.random.default_rng(0)
    H = rng.random((4, 40))
    for beta in (1.0, 0.5, 3.0):
        state = OnlineState(H=H.copy(), beta=beta)
        W = partial_fit_batch(state, X, rho=0.0, inner=30)
        problem = Problem(X, X.T, BetaDivergence(beta), get_backend(X))
        expected = MU().update_left(problem.T, H.T, W.T).T
        np.testing.assert_allclose(state.H, expected, rtol=1e-10)


def test_partial_fit_is_the_online_update(exact):
    X = exact[0]
    model = MiniBatchNMF(4, random_state=3, forget_factor=0.8)
    for start in range(0, 300, 75):
        model.partial_fit(X[start:start + 75])
    assert model.n_batches_ == 4
    # the same four updates by hand, from the same start
    from nmfkit.initialization import RandomInit

    _, H0 = RandomInit()(X[:75], 4, rng=np.random.default_rng(3))
    state = OnlineState(H=H0)
    for start in range(0, 300, 75):
        partial_fit_batch(state, X[start:start + 75], rho=0.8)
    np.testing.assert_array_equal(model.components_, state.H)
    W = model.transform(X)
    assert W.shape == (300, 4) and np.all(W >= 0)


def test_sparse_and_torch_inputs(exact):
    X = sp.csr_matrix(exact[0] * (exact[0] > np.median(exact[0])))
    r = online_nmf(X, 4, beta_loss=1, batch_size=100, n_epochs=3, random_state=0)
    assert r.W.shape == (300, 4) and np.isfinite(r.objective)
    torch = pytest.importorskip("torch", reason="torch is missing: pip install '.[torch]'")
    a = online_nmf(exact[0], 4, batch_size=100, n_epochs=2, random_state=0)
    b = online_nmf(torch.as_tensor(exact[0]), 4, batch_size=100, n_epochs=2, random_state=0)
    np.testing.assert_allclose(b.H.numpy(), a.H, rtol=1e-6, atol=1e-9)


def test_estimator_fit_and_bad_arguments(exact):
    X = exact[0]
    model = MiniBatchNMF(4, batch_size=64, n_epochs=3, random_state=0).fit(X)
    assert model.components_.shape == (4, 40) and model.result_.n_iter == 3
    with pytest.raises(ValueError, match="forget_factor"):
        online_nmf(X, 4, forget_factor=0.0)
    with pytest.raises(ValueError, match="batch_size"):
        online_nmf(X, 4, batch_size=0)
    with pytest.raises(ValueError, match="Negative"):
        MiniBatchNMF(2).partial_fit(-X)


def test_online_fit_reports_like_every_fit():
    """The driver runs the epochs: a history per epoch, a fixed-budget stop reason, a progress table."""
    import contextlib
    import io


    rng = np.random.default_rng(0)
    X = rng.poisson(3.0, (60, 40)).astype(float) + 0.1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = online_nmf(X, 3, batch_size=20, n_epochs=3, random_state=0, verbose=1)
    assert [h.n_iter for h in result.history] == [0, 1, 2, 3]
    assert result.n_iter == 3 and not result.converged
    assert result.stop_reason == "completed the requested 3 sweeps (a fixed budget, no convergence test)"
    assert result.objective == result.history[-1].objective
    table = out.getvalue().splitlines()
    assert table[0].split() == ["iter", "objective", "rel.", "change", "time", "(s)"]
    assert len(table) == 1 + 4 + 1 and table[-1].startswith("stopped: completed the requested 3 sweeps")
