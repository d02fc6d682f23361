"""Checkpoint and resume: an interrupted fit, resumed, ends exactly as an uninterrupted one."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nmfkit import nmf
from nmfkit.checkpoint import CheckpointMismatch
from nmfkit.testing import planted_noisy


class Crash(Exception):
    """Stands for a killed process."""


def _crash_at(n):
    def callback(info):
        if info.n_iter == n:
            raise Crash
    return callback


@pytest.fixture(scope="module")
def data():
    return planted_noisy(80, 50, 4, signal_share=0.95, rng=2)[0] + 0.01


def _fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return nmf(X, **kw)


CASES = {
    "hals": dict(solver="hals", stop="objective", tol=1e-7, max_iter=400),
    "mu-kl": dict(solver="mu", beta_loss=1, stop="objective", tol=1e-7, max_iter=400),
    "extrapolated-bpp": dict(solver="anls-bpp", extrapolate=True, stop="factor", tol=1e-7, max_iter=400),
    "gcd-fixed": dict(solver="gcd", stop="fixed", max_iter=75),
}


@pytest.mark.parametrize("case", list(CASES))
def test_interrupted_fit_resumes_to_the_uninterrupted_result(data, case, tmp_path):
    kw = dict(n_components=4, init="random", random_state=5, **CASES[case])
    reference = _fit(data, **kw)
    path = tmp_path / "fit.npz"
    with pytest.raises(Crash):
        _fit(data, checkpoint=path, checkpoint_every=20, callback=_crash_at(55), **kw)
    assert path.is_file()
    resumed = _fit(data, checkpoint=path, checkpoint_every=20, **kw)
    assert resumed.n_iter == reference.n_iter
    assert resumed.stop_reason == reference.stop_reason
    np.testing.assert_array_equal(resumed.W, reference.W)
    np.testing.assert_array_equal(resumed.H, reference.H)
    assert [h.objective for h in resumed.history] == [h.objective for h in reference.history]


def test_sparse_and_torch_resume(data, tmp_path):
    X = sp.csr_matrix(data * (data > np.median(data)))
    kw = dict(n_components=3, solver="mu", beta_loss=1, init="nndsvda", random_state=0, stop="fixed", max_iter=50)
    reference = _fit(X, **kw)
    with pytest.raises(Crash):
        _fit(X, checkpoint=tmp_path / "s.npz", checkpoint_every=10, callback=_crash_at(33), **kw)
    np.testing.assert_array_equal(_fit(X, checkpoint=tmp_path / "s.npz", **kw).W, reference.W)
    torch = pytest.importorskip("torch", reason="torch is missing: pip install '.[torch]'")
    T = torch.as_tensor(data)
    ref_t = _fit(T, **kw)
    with pytest.raises(Crash):
        _fit(T, checkpoint=tmp_path / "t.npz", checkpoint_every=10, callback=_crash_at(21), **kw)
    out = _fit(T, checkpoint=tmp_path / "t.npz", **kw)
    assert isinstance(out.W, torch.Tensor)
    assert torch.equal(out.W, ref_t.W)


def test_a_checkpoint_of_another_problem_is_refused(data, tmp_path):
    path = tmp_path / "fit.npz"
    _fit(data, n_components=3, checkpoint=path, checkpoint_every=5, max_iter=20, stop="fixed")
    with pytest.raises(CheckpointMismatch, match="n_components: saved 3, now 4"):
        nmf(data, 4, checkpoint=path)
    with pytest.raises(CheckpointMismatch, match="sum"):
        nmf(data * 2, 3, checkpoint=path, max_iter=20, stop="fixed")


def test_a_failed_write_keeps_the_previous_checkpoint(data, tmp_path, monkeypatch):
    import nmfkit.checkpoint as ck

    path = tmp_path / "fit.npz"
    kw = dict(n_components=3, init="random", random_state=1, stop="fixed", max_iter=40)
    calls = {"n": 0}
    real = np.savez

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(ck.np, "savez", flaky)
    with pytest.raises(OSError, match="disk full"):
        _fit(data, checkpoint=path, checkpoint_every=10, **kw)
    monkeypatch.setattr(ck.np, "savez", real)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.npz"]  # no temporary left behind
    resumed = _fit(data, checkpoint=path, checkpoint_every=10, **kw)  # from sweep 10
    np.testing.assert_array_equal(resumed.W, _fit(data, **kw).W)


def test_bad_checkpoint_arguments(data, tmp_path):
    bad = tmp_path / "junk.npz"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not an nmfkit checkpoint"):
        nmf(data, 3, checkpoint=bad)
    with pytest.raises(ValueError, match="does not exist"):
        nmf(data, 3, checkpoint=tmp_path / "missing" / "fit.npz")
    with pytest.raises(ValueError, match="checkpoint_every"):
        nmf(data, 3, checkpoint=tmp_path / "a.npz", checkpoint_every=0)
