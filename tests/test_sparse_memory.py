"""Fits on scipy.sparse input never build a dense n x m array."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nmfkit import nmf
from nmfkit.testing import peak_traced_bytes


def sparse_data(n, m, density, seed=0, full=False):
    rng = np.random.default_rng(seed)
    if full:
        return sp.csr_matrix(rng.random((n, m)) + 0.5)
    X = sp.random(n, m, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data += 0.1
    # every row and column touched, so no all-zero warning
    X = X + sp.csr_matrix((np.ones(n), (np.arange(n), np.arange(n) % m)), shape=(n, m))
    X = X + sp.csr_matrix((np.ones(m), (np.arange(m) % n, np.arange(m))), shape=(n, m))
    return X.tocsr()


@pytest.fixture
def no_densify(monkeypatch):
    """Make every way of densifying a scipy.sparse matrix raise."""
    def boom(self, *args, **kwargs):
        raise AssertionError("sparse X was densified")

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array, sp.coo_array):
        for name in ("toarray", "todense"):
            monkeypatch.setattr(cls, name, boom)
        monkeypatch.setattr(cls, "__array__", boom, raising=False)


peak_bytes = peak_traced_bytes


@pytest.mark.parametrize("beta", [1.0, 1.5, 0.5, 2.0])
def test_kl_and_general_beta_on_sparse_stay_below_a_dense_array(beta, no_densify):
    n, m, k = 3000, 2500, 5
    X = sparse_data(n, m, 0.002)
    dense_bytes = n * m * 8  # 60 MB

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            nmf(X, k, solver="mu", beta_loss=beta, init="random", max_iter=3, random_state=0)

    peak = peak_bytes(fit)
    # row-blocked temporaries hold at most 2**20 entries (8 MB); a dense n x m array would be 60 MB
    assert peak < dense_bytes / 3, f"peak {peak / 1e6:.1f} MB"


def test_itakura_saito_on_sparse_never_densifies(no_densify):
    """IS needs every entry stored (zeros are undefined for beta <= 0); X is still never densified."""
    X = sparse_data(60, 40, 1.0, full=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = nmf(X, 3, solver="mu", beta_loss="itakura-saito", init="random", max_iter=20, random_state=0)
    assert np.all(np.isfinite(result.W)) and result.W.min() >= 0


def test_itakura_saito_sparse_matches_dense():
    X = sparse_data(60, 40, 1.0, full=True)
    kw = dict(solver="mu", beta_loss="itakura-saito", init="random", max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = nmf(X, 3, **kw)
        b = nmf(X.toarray(), 3, **kw)
    np.testing.assert_allclose(a.W, b.W, rtol=1e-9)
    np.testing.assert_allclose(a.objective, b.objective, rtol=1e-10)


@pytest.mark.parametrize("solver", ["hals", "anls-bpp", "gcd", "anls-pg"])
def test_frobenius_solvers_on_sparse_never_densify(solver, no_densify):
    X = sparse_data(200, 150, 0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = nmf(X, 3, solver=solver, init="random", max_iter=5, random_state=0)
    assert np.isfinite(result.objective)
