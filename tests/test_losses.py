import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit.backend import get_backend
from nmfkit.losses import BetaDivergence

BETAS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]


def naive(X, Y, beta):
    """Textbook elementwise beta-divergence, summed."""
    if beta == 2:
        return 0.5 * np.sum((X - Y) ** 2)
    if beta == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(X > 0, X * np.log(X / Y), 0.0)
        return np.sum(t - X + Y)
    if beta == 0:
        return np.sum(X / Y - np.log(X / Y) - 1)
    return np.sum((X**beta + (beta - 1) * Y**beta - beta * X * Y ** (beta - 1)) / (beta * (beta - 1)))


@pytest.fixture
def factors(rng):
    W = rng.random((7, 3)) + 0.1
    H = rng.random((3, 5)) + 0.1
    X = rng.random((7, 5)) * (rng.random((7, 5)) > 0.4)
    X[X == 0] = 0.0
    return X, W, H


@pytest.mark.parametrize("beta", BETAS)
def test_value_matches_textbook_formula(factors, beta):
    X, W, H = factors
    if beta <= 0:
        X = X + 0.5  # zeros are undefined for beta <= 0
    loss = BetaDivergence(beta)
    got = loss.value(X, W, H, backend=get_backend(X))
    np.testing.assert_allclose(got, naive(X, W @ H, beta), rtol=1e-12)


@pytest.mark.parametrize("beta", BETAS)
def test_sparse_value_equals_dense(factors, beta):
    X, W, H = factors
    if beta <= 0:
        X = X + 0.5
    loss = BetaDivergence(beta)
    dense = loss.value(X, W, H, backend=get_backend(X))
    Xs = sp.csr_matrix(X)
    sparse = loss.value(Xs, W, H, backend=get_backend(Xs))
    np.testing.assert_allclose(sparse, dense, rtol=1e-12)


@pytest.mark.parametrize("beta", BETAS)
def test_masked_value_is_the_sum_over_observed_entries(factors, rng, beta):
    X, W, H = factors
    X = X + 0.5
    M = (rng.random(X.shape) > 0.3).astype(float)
    loss = BetaDivergence(beta)
    got = loss.value(X, W, H, backend=get_backend(X), mask=M)
    Y = W @ H
    expected = sum(naive(X[i:i + 1, j:j + 1], Y[i:i + 1, j:j + 1], beta)
                   for i in range(X.shape[0]) for j in range(X.shape[1]) if M[i, j])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    full = loss.value(X, W, H, backend=get_backend(X), mask=np.ones_like(X))
    np.testing.assert_allclose(full, loss.value(X, W, H, backend=get_backend(X)), rtol=1e-13)


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.0])
def test_value_is_continuous_in_beta(factors, beta):
    X, W, H = factors
    X = X + 0.5
    be = get_backend(X)
    at = BetaDivergence(beta).value(X, W, H, backend=be)
    for d in (1e-6, -1e-6):
        if beta + d < 0:
            continue
        near = BetaDivergence(beta + d).value(X, W, H, backend=be)
        np.testing.assert_allclose(near, at, rtol=1e-4)


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("kind", ["dense", "csr", "masked"])
def test_mu_terms_are_the_gradient(factors, rng, beta, kind):
    """den - num equals the finite-difference gradient of the loss with respect to W."""
    X, W, H = factors
    X = X + 0.5
    mask = (rng.random(X.shape) > 0.3).astype(float) if kind == "masked" else None
    Xin = sp.csr_matrix(X) if kind == "csr" else X
    be = get_backend(Xin)
    loss = BetaDivergence(beta)
    num, den = loss.mu_terms(Xin, W, H, backend=be, mask=mask)
    grad = np.asarray(den - num)
    fd = np.zeros_like(W)
    h = 1e-6
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            Wp, Wm = W.copy(), W.copy()
            Wp[i, j] += h
            Wm[i, j] -= h
            fd[i, j] = (loss.value(Xin, Wp, H, backend=be, mask=mask)
                        - loss.value(Xin, Wm, H, backend=be, mask=mask)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


def test_aliases_and_exponent():
    assert BetaDivergence.from_param("frobenius").beta == 2.0
    assert BetaDivergence.from_param("kullback-leibler").beta == 1.0
    assert BetaDivergence.from_param("itakura-saito").beta == 0.0
    assert BetaDivergence(0.0).mm_exponent == pytest.approx(0.5)
    assert BetaDivergence(1.5).mm_exponent == 1.0
    assert BetaDivergence(3.0).mm_exponent == pytest.approx(0.5)
