"""Batched replicates follow, replicate by replicate, the trajectories of the sequential fits."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nmfkit import nmf
from nmfkit.batch import nmf_batch
from nmfkit.solvers import HALS
from nmfkit.testing import planted_noisy


@pytest.fixture(scope="module")
def data():
    return planted_noisy(60, 40, 4, signal_share=0.9, rng=0)[0] + 0.01


def _sequential(X, k, seed, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return nmf(X, k, init="random", random_state=seed, extrapolate=False, **kw)


@pytest.mark.parametrize(("solver", "beta"), [("mu", 2.0), ("mu", 1.0), ("mu", 0.5), ("hals", 2.0)])
def test_each_replicate_matches_its_sequential_fit(data, solver, beta):
    seeds = [3, 17, 42, 5, 8]
    out = nmf_batch(data, 4, seeds, beta_loss=beta, solver=solver, tol=1e-4, max_iter=300, batch_size=3)
    for (W, H, loss), seed, n_iter in zip(out, seeds, out.n_iter, strict=True):
        ref = _sequential(data, 4, seed, beta_loss=beta, solver=HALS(alpha=0.0) if solver == "hals" else "mu",
                          tol=1e-4, max_iter=300)
        assert n_iter == ref.n_iter
        np.testing.assert_allclose(W, ref.W, rtol=1e-8, atol=1e-10 * np.abs(ref.W).max())
        np.testing.assert_allclose(H, ref.H, rtol=1e-8, atol=1e-10 * np.abs(ref.H).max())
        assert loss == pytest.approx(ref.extras["loss_value"], rel=1e-9)


@pytest.mark.parametrize(("solver", "beta"), [("mu", 1.0), ("hals", 2.0)])
def test_each_replicate_reports_the_history_and_stop_reason_of_its_sequential_fit(data, solver, beta):
    seeds = [3, 17, 42]
    out = nmf_batch(data, 4, seeds, beta_loss=beta, solver=solver, tol=1e-4, max_iter=120, batch_size=2)
    assert len(out.histories) == len(out.stop_reasons) == len(seeds)
    for seed, history, reason, converged in zip(seeds, out.histories, out.stop_reasons, out.converged, strict=True):
        ref = _sequential(data, 4, seed, beta_loss=beta, solver=HALS(alpha=0.0) if solver == "hals" else "mu",
                          tol=1e-4, max_iter=120)
        assert [h.n_iter for h in history] == [h.n_iter for h in ref.history]
        np.testing.assert_allclose([h.objective for h in history], [h.objective for h in ref.history], rtol=1e-9)
        assert reason == ref.stop_reason and converged == ref.converged


def test_replicates_stop_independently(data):
    out = nmf_batch(data, 4, [1, 2, 3, 4], tol=1e-3, max_iter=500)
    assert all(out.converged)
    assert len(set(out.n_iter)) > 1  # frozen at different sweeps


def test_torch_batch_matches_numpy(data):
    torch = pytest.importorskip("torch", reason="torch is missing: pip install '.[torch]'")
    a = nmf_batch(data, 4, [1, 2], max_iter=50, tol=0.0)
    b = nmf_batch(torch.as_tensor(data), 4, [1, 2], max_iter=50, tol=0.0)
    for (Wa, Ha, la), (Wb, Hb, lb) in zip(a, b, strict=True):
        np.testing.assert_allclose(Wb, Wa, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(Hb, Ha, rtol=1e-10, atol=1e-12)
        assert lb == pytest.approx(la, rel=1e-10)


def test_bad_arguments(data):
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="Frobenius"):
        nmf_batch(data, 3, [0], solver="hals", beta_loss=1)
    with pytest.raises(ValueError, match="dense X"):
        nmf_batch(sp.csr_matrix(data), 3, [0])
    with pytest.raises(ValueError, match="solver"):
        nmf_batch(data, 3, [0], solver="bpp")


def test_replicates_on_a_device_equal_the_sequential_ones(data):
    pytest.importorskip("torch", reason="torch is missing: pip install '.[torch]'")
    from nmfkit.selection import run_replicates

    kw = dict(random_state=7, solver="mu", beta_loss=1, tol=1e-4, max_iter=200)
    seq = run_replicates(data, 3, 4, **kw)
    bat = run_replicates(data, 3, 4, device="cpu", **kw)
    for (Ws, Hs, ls), (Wb, Hb, lb) in zip(seq, bat, strict=True):
        np.testing.assert_allclose(Wb, Ws, rtol=1e-8, atol=1e-10 * np.abs(Ws).max())
        np.testing.assert_allclose(Hb, Hs, rtol=1e-8, atol=1e-10 * np.abs(Hs).max())
        assert lb == pytest.approx(ls, rel=1e-9)


def test_consensus_and_select_rank_take_a_device(data):
    pytest.importorskip("torch", reason="torch is missing: pip install '.[torch]'")
    from nmfkit.selection import consensus, select_rank

    a = consensus(data, 3, 6, random_state=0, solver="mu", max_iter=300)
    b = consensus(data, 3, 6, random_state=0, solver="mu", max_iter=300, device="cpu")
    np.testing.assert_allclose(b.H, a.H, rtol=1e-6, atol=1e-9 * np.abs(a.H).max())
    survey = select_rank(data, [2, 4, 6], n_runs=3, criteria=("error", "consensus", "silhouette"), device="cpu",
                         max_iter=300)
    assert survey.recommended in (2, 4, 6)
    with pytest.raises(ValueError, match="unsupported here: alpha_W"):
        select_rank(data, [2, 3], n_runs=2, device="cpu", alpha_W=0.1)
