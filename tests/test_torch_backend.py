"""The PyTorch backend: every solver, loss, penalty and initialization against NumPy (float64, 1e-6).

CPU tests always run (torch is a test dependency); CUDA tests skip with a reason when no GPU is present.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import nmfkit
from nmfkit import nmf
from nmfkit.backend import get_backend
from nmfkit.initialization import available_initializers
from nmfkit.penalties import GraphLaplacian, Proximity
from nmfkit.solvers import available_solvers, get_solver

torch = pytest.importorskip("torch", reason="torch is missing: pip install '.[torch]'")

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="no CUDA GPU on this machine (torch.cuda.is_available() is False)")
RTOL = 1e-6


def _data(n: int = 40, m: int = 30, k: int = 4, density: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.random((n, k)) @ rng.random((k, m)) + 0.05 * rng.random((n, m))
    if density < 1.0:
        X = X * (rng.random((n, m)) < density)
    return X


def _tensor(X: np.ndarray | sp.spmatrix, device: str = "cpu") -> torch.Tensor:
    if sp.issparse(X):
        X = X.tocsr()
        return torch.sparse_csr_tensor(torch.as_tensor(X.indptr), torch.as_tensor(X.indices),
                                       torch.as_tensor(X.data), size=X.shape, device=device)
    return torch.as_tensor(X, device=device)


def _fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return nmf(X, **kw)


def _close(a, b, rtol=RTOL):
    a = np.asarray(a)
    b = b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    scale = max(np.abs(a).max(), 1e-300)
    assert np.abs(a - b).max() <= rtol * scale, np.abs(a - b).max() / scale


def _cases():
    for solver in available_solvers():
        losses = [2.0, 1.0, 0.0, 0.5, 1.5, 3.0] if get_solver(solver).losses == "any" else [2.0]
        for beta in losses:
            yield solver, beta


@pytest.mark.parametrize(("solver", "beta"), list(_cases()))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_every_solver_on_torch_matches_numpy(solver, beta, sparse):
    X = _data(density=0.6 if sparse and beta > 0 else 1.0)
    if beta <= 0:
        X = X + 0.1  # Itakura-Saito needs positive entries
    Xn = sp.csr_matrix(X) if sparse else X
    kw = dict(n_components=4, solver=solver, beta_loss=beta, init="random", random_state=0, max_iter=25,
              stop="fixed")
    a = _fit(Xn, **kw)
    b = _fit(_tensor(Xn), **kw)
    assert isinstance(b.W, torch.Tensor) and b.W.dtype == torch.float64 and b.backend == "torch"
    _close(a.W, b.W)
    _close(a.H, b.H)
    assert b.objective == pytest.approx(a.objective, rel=RTOL)
    assert [h.objective for h in b.history] == pytest.approx([h.objective for h in a.history], rel=RTOL)


@pytest.mark.parametrize("init", [i for i in available_initializers() if i != "custom"])
def test_initializations_give_the_numpy_start(init):
    X = _data()
    kw = dict(n_components=4, init=init, random_state=3, max_iter=1, stop="fixed")
    a, b = _fit(X, **kw), _fit(_tensor(X), **kw)
    _close(a.W, b.W)
    _close(a.H, b.H)


@pytest.mark.parametrize("solver", ["hals", "mu"])
def test_masks_and_missing_values(solver):
    X = _data()
    rng = np.random.default_rng(1)
    X[rng.random(X.shape) < 0.2] = np.nan
    kw = dict(n_components=4, solver=solver, missing="mask", init="random", random_state=0, max_iter=20,
              stop="fixed")
    a, b = _fit(X, **kw), _fit(_tensor(X), **kw)
    _close(a.W, b.W)
    _close(a.H, b.H)


@pytest.mark.parametrize("solver", ["hals", "anls-bpp", "gcd", "anls-pg", "mu"])
def test_elastic_net_penalties(solver):
    X = _data()
    kw = dict(n_components=4, solver=solver, alpha_W=0.01, alpha_H=0.02, l1_ratio=0.3, init="nndsvda",
              max_iter=20, stop="fixed")
    a, b = _fit(X, **kw), _fit(_tensor(X), **kw)
    _close(a.W, b.W)
    assert b.objective == pytest.approx(a.objective, rel=RTOL)


@pytest.mark.parametrize("graph", ["dense", "sparse"])
def test_graph_and_proximity_penalties_move_to_the_device(graph):
    X = _data()
    rng = np.random.default_rng(2)
    A = (rng.random((40, 40)) < 0.1).astype(float)
    A = np.triu(A, 1)
    A = A + A.T
    A = sp.csr_matrix(A) if graph == "sparse" else A
    target = rng.random((30, 4))
    kw = dict(n_components=4, solver="mu", init="nndsvda", max_iter=20, stop="fixed",
              penalties_W=[GraphLaplacian(0.5, A)], penalties_H=[Proximity(0.1, target)])
    a, b = _fit(X, **kw), _fit(_tensor(X), **kw)
    _close(a.W, b.W)
    _close(a.H, b.H)


def test_fixed_components_and_custom_start():
    X = _data()
    ref = _fit(X, n_components=4, max_iter=50)
    a = _fit(X, n_components=4, H=ref.H, update_H=False, max_iter=30, stop="fixed")
    b = _fit(_tensor(X), n_components=4, H=torch.as_tensor(ref.H), update_H=False, max_iter=30, stop="fixed")
    _close(a.W, b.W)
    c = _fit(_tensor(X), n_components=4, W=ref.W, H=ref.H, max_iter=5, stop="fixed")
    d = _fit(X, n_components=4, W=ref.W, H=ref.H, max_iter=5, stop="fixed")
    _close(d.W, c.W)


def test_float32_stays_float32_and_converges():
    X = _data().astype(np.float32)
    r = _fit(_tensor(X), n_components=4, tol=1e-6, max_iter=500)
    assert r.W.dtype == torch.float32 and r.H.dtype == torch.float32
    rel = float(torch.linalg.norm(torch.as_tensor(X) - r.W @ r.H) / np.linalg.norm(X))
    assert rel < 0.05


def test_integer_tensors_become_float64_on_the_cpu():
    X = torch.as_tensor(np.round(10 * _data()).astype(np.int64))
    r = _fit(X, n_components=3, beta_loss="kullback-leibler", max_iter=5, stop="fixed")
    assert r.W.dtype == torch.float64


def test_coo_input_is_summed_and_converted():
    X = sp.coo_matrix(_data(density=0.5))
    t = torch.sparse_coo_tensor(np.vstack([X.row, X.col]), X.data, size=X.shape)
    kw = dict(n_components=4, solver="mu", beta_loss=1, init="random", random_state=0, max_iter=10, stop="fixed")
    _close(_fit(X.tocsr(), **kw).W, _fit(t, **kw).W)


def test_bad_tensors_are_rejected_with_the_numpy_messages():
    X = _data()
    bad = X.copy()
    bad[0, 0] = -1.0
    with pytest.raises(ValueError, match="Negative values"):
        nmf(_tensor(bad), 2)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="inf"):
        nmf(_tensor(bad), 2)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        nmf(_tensor(bad), 2)
    with pytest.raises(ValueError, match="zeros"):
        nmf(_tensor(X * (X > 0.5)), 2, beta_loss="itakura-saito")
    with pytest.raises(ValueError, match="all zeros"):
        nmf(torch.zeros(4, 3, dtype=torch.float64), 2)
    with pytest.raises(TypeError, match="different backends"):
        get_backend(_tensor(X), X)


def test_the_loop_does_not_synchronise_between_checks(monkeypatch):
    """Host scalars cross only when the objective is due (every 10 sweeps here) for MU, plain and extrapolated HALS.

    Besides the history points: the final loss value and, before the loop, the data's largest entry
    (the range check of nmfkit._validation.safe_scale).
    """
    X = _tensor(_data())
    backend = get_backend(X)
    calls = []
    original = type(backend).to_float

    def counting(self, scalar):
        calls.append(1)
        return original(self, scalar)

    monkeypatch.setattr(type(backend), "to_float", counting)
    for solver, extrapolate in (("mu", False), (get_solver("hals", alpha=0.0), False),
                                   (get_solver("hals", alpha=0.0), True)):
        calls.clear()
        _fit(X, n_components=4, solver=solver, init="random", random_state=0, max_iter=40, stop="fixed",
             extrapolate=extrapolate)
        assert len(calls) <= 40 // 10 + 3  # history points, the final loss value, the range check


def test_wright_omega_matches_scipy():
    from scipy.special import wrightomega

    z = np.concatenate([np.linspace(-700, 50, 2001), np.logspace(1, 8, 200)])
    from nmfkit.methods.deep.special import wright_omega

    backend = get_backend(torch.zeros(1))
    w = wright_omega(torch.as_tensor(z), backend).numpy()
    ref = wrightomega(z)
    assert np.max(np.abs(w - ref) / ref) < 1e-13


def test_deep_kl_nmf_runs_on_torch():
    """The research methods use the same backend layer (here deep KL-NMF with its Wright-omega step)."""
    from nmfkit.methods.deep import deep_nmf

    X = _data(60, 40, 6) + 0.01
    kw = dict(beta_loss=1, max_iter=5, random_state=0)
    try:
        a = deep_nmf(X, [4, 2], **kw)
        b = deep_nmf(_tensor(X), [4, 2], **kw)
    except TypeError as err:  # pragma: no cover - signature guard
        pytest.skip(f"deep_nmf signature: {err}")
    _close(a.W, b.W if not isinstance(b.W, list) else b.W[0])


# -- CUDA ------------------------------------------------------------------------------------------

@needs_cuda
@pytest.mark.parametrize(("solver", "beta"), [("hals", 2.0), ("anls-bpp", 2.0), ("gcd", 2.0), ("anls-pg", 2.0),
                                              ("mu", 2.0), ("mu", 1.0), ("mu", 0.5), ("mu-lin", 2.0)])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_cuda_matches_numpy(solver, beta, sparse):
    X = _data(density=0.6 if sparse else 1.0)
    Xn = sp.csr_matrix(X) if sparse else X
    kw = dict(n_components=4, solver=solver, beta_loss=beta, init="random", random_state=0, max_iter=25,
              stop="fixed")
    a = _fit(Xn, **kw)
    b = _fit(_tensor(Xn, device="cuda"), **kw)
    assert b.W.device.type == "cuda"
    _close(a.W, b.W, rtol=1e-6)
    assert b.objective == pytest.approx(a.objective, rel=1e-6)


@needs_cuda
def test_cuda_integer_counts_default_to_float32():
    X = torch.as_tensor(np.round(10 * _data()).astype(np.int64), device="cuda")
    r = _fit(X, n_components=3, beta_loss=1, max_iter=5, stop="fixed")
    assert r.W.dtype == torch.float32 and r.W.device.type == "cuda"


def test_version_is_exposed():
    assert nmfkit.__version__
