import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from nmfkit import NMF, DeepNMF, MiniBatchNMF, NMFMerge, PersistentNMF, nmf


@parametrize_with_checks([NMF(n_components=2, random_state=0, max_iter=500), NMFMerge(n_components=2, random_state=0),
                          DeepNMF(ranks=[2, 1], random_state=0, max_iter=100, init_iter=100),
                          PersistentNMF(n_components=2, n_sweeps=1),
                          MiniBatchNMF(n_components=2, batch_size=8, n_epochs=3, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_estimator_parameters_mirror_the_function():
    """Every estimator parameter is a keyword of nmf with the same default (tensorly's wrapper check)."""
    est = inspect.signature(NMF.__init__).parameters
    fun = inspect.signature(nmf).parameters
    for name, p in est.items():
        if name == "self":
            continue
        assert name in fun, name
        assert p.default == fun[name].default, name


def test_function_equals_estimator(rng):
    X = rng.random((20, 12))
    kw = dict(solver="hals", init="nndsvda", tol=1e-6, max_iter=300, random_state=0)
    result = nmf(X, 3, **kw)
    model = NMF(3, **kw)
    W = model.fit_transform(X)
    np.testing.assert_array_equal(W, result.W)
    np.testing.assert_array_equal(model.components_, result.H)
    assert model.n_iter_ == result.n_iter
    np.testing.assert_allclose(model.reconstruction_err_, np.linalg.norm(X - result.W @ result.H), rtol=1e-10)
    assert model.result_.stop_reason == result.stop_reason


def test_transform_is_the_nnls_solution_and_close_to_fit_transform(rng):
    from scipy.optimize import nnls

    X = rng.random((15, 10))
    model = NMF(3, tol=1e-8, max_iter=5000, random_state=0)
    W_fit = model.fit_transform(X)
    W = model.transform(X)
    ref = np.array([nnls(model.components_.T, x)[0] for x in X])
    np.testing.assert_allclose(W, ref, atol=1e-10)
    np.testing.assert_allclose(W, W_fit, atol=1e-4)
    np.testing.assert_allclose(model.inverse_transform(W), W @ model.components_)


@pytest.mark.parametrize("beta_loss", ["kullback-leibler", 1.5])
def test_transform_other_losses_keeps_components(rng, beta_loss):
    X = rng.random((15, 10)) + 0.1
    model = NMF(3, beta_loss=beta_loss, max_iter=2000, tol=1e-6, random_state=0).fit(X)
    H = model.components_.copy()
    W = model.transform(X)
    np.testing.assert_array_equal(model.components_, H)
    assert W.shape == (15, 3) and W.min() >= 0


def test_sparse_input(rng):
    X = sp.random(30, 20, density=0.3, random_state=0, format="csr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        W = NMF(2, random_state=0).fit_transform(X)
    assert W.shape == (30, 2)


def test_mask_through_estimator(rng):
    X = rng.random((20, 10))
    mask = rng.random(X.shape) > 0.2
    model = NMF(2, solver="mu", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, mask=mask)
        ref = nmf(X, 2, solver="mu", max_iter=50, random_state=0, mask=mask)
    np.testing.assert_array_equal(model.components_, ref.H)
