import re

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit.initialization import NNDSVD, SPA, available_initializers, get_initializer, truncated_svd
from nmfkit.testing import planted


@pytest.fixture
def X():
    return planted(30, 20, 4, separable=False, sparsity=0.3, rng=0)[0] + 0.01


def test_registry_and_unknown_name():
    assert available_initializers() == ["nndsvd", "nndsvda", "nndsvdar", "random", "snpa", "spa"]
    with pytest.raises(ValueError, match=re.escape("Unknown init 'pca'. Valid inits: 'nndsvd', 'nndsvda'")):
        get_initializer("pca")


@pytest.mark.parametrize("name", ["random", "nndsvd", "nndsvda", "nndsvdar", "snpa", "spa"])
@pytest.mark.parametrize("sparse", [False, True])
def test_nonnegative_finite_right_shapes(X, name, sparse):
    Xin = sp.csr_matrix(X) if sparse else X
    W, H = get_initializer(name)(Xin, 4, rng=np.random.default_rng(0))
    assert W.shape == (30, 4) and H.shape == (4, 20)
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(H)) and W.min() >= 0 and H.min() >= 0


def test_nndsvd_variants_differ_only_where_the_base_has_zeros(X):
    rng = np.random.default_rng(0)
    W0, H0 = NNDSVD("zero")(X, 4, rng=rng)
    assert np.sum(W0 == 0) > 0
    for fill in ("mean", "random"):
        W, H = NNDSVD(fill)(X, 4, rng=np.random.default_rng(1))
        np.testing.assert_array_equal(W[W0 > 0], W0[W0 > 0])
        np.testing.assert_array_equal(H[H0 > 0], H0[H0 > 0])
        assert np.all(W[W0 == 0] > 0)
    Wa, _ = NNDSVD("mean")(X, 4, rng=rng)
    np.testing.assert_allclose(Wa[W0 == 0], X.mean())


def test_nndsvd_component_fill_is_one_value_per_component(X):
    W0, _ = NNDSVD("zero")(X, 4, rng=np.random.default_rng(0))
    W, H = NNDSVD("random", random_fill="component")(X, 4, rng=np.random.default_rng(0))
    for j in range(4):
        filled = W[W0[:, j] == 0, j]
        if filled.size:
            assert np.unique(filled).size == 1
            assert filled[0] <= 0.01 * X.mean()


def test_nndsvd_rank_one_pairs_and_scaling(X):
    """Each component is the dominant non-negative part of a singular pair; X -> cX scales by sqrt(c)."""
    U, s, Vt = truncated_svd(X, 4, method="full")
    W, H = NNDSVD("zero", leading="uniform")(X, 4, rng=np.random.default_rng(0))
    for j in range(4):
        x, y = U[:, j], Vt[j]
        part = np.outer(np.maximum(x, 0), np.maximum(y, 0))
        other = np.outer(np.maximum(-x, 0), np.maximum(-y, 0))
        best = part if np.linalg.norm(part) >= np.linalg.norm(other) else other
        np.testing.assert_allclose(np.outer(W[:, j], H[j]), s[j] * best, atol=1e-12)
    W2, H2 = NNDSVD("zero", leading="uniform")(4.0 * X, 4, rng=np.random.default_rng(0))
    np.testing.assert_allclose(W2, 2 * W, atol=1e-12)
    np.testing.assert_allclose(H2, 2 * H, atol=1e-12)


def test_nndsvd_leading_pair_flag_uses_absolute_values(X):
    U, s, Vt = truncated_svd(X, 1, method="full")
    W, H = NNDSVD("zero", leading="special")(X, 1, rng=np.random.default_rng(0))
    np.testing.assert_allclose(W[:, 0], np.sqrt(s[0]) * np.abs(U[:, 0]))


def test_nndsvd_tie_rule():
    # singular pair with m_p == m_n: u = (1, -1)/sqrt2, v = (1, -1)/sqrt2
    u = np.array([1.0, -1.0]) / np.sqrt(2)
    X = 3.0 * np.outer(u, u) + np.eye(2) * 0  # rank one, symmetric
    svd = (u[:, None], np.array([3.0]), u[None, :])
    Wp, _ = NNDSVD("zero", leading="uniform", ties="positive")(X, 1, rng=None, svd=svd)
    Wn, _ = NNDSVD("zero", leading="uniform", ties="negative")(X, 1, rng=None, svd=svd)
    assert Wp[0, 0] > 0 and Wp[1, 0] == 0
    assert Wn[1, 0] > 0 and Wn[0, 0] == 0


def test_nndsvd_bad_flag():
    with pytest.raises(ValueError, match=re.escape("The 'ties' parameter of NNDSVD must be one of "
                                                   "('negative', 'positive'). Got 'up' instead.")):
        NNDSVD(ties="up")


def test_spa_finds_the_pure_samples():
    X, W, H = planted(40, 30, 4, separable=True, sparsity=0.5, rng=7)
    idx = SPA().anchors(X, 4)
    pure = np.flatnonzero((W > 0).sum(axis=1) == 1)
    chosen_parts = {int(np.argmax(W[i])) for i in idx}
    assert set(idx) <= set(pure)
    assert chosen_parts == {0, 1, 2, 3}
    Ws, Hs = SPA()(X, 4, rng=None)
    assert np.linalg.norm(X - Ws @ Hs) < 1e-8 * np.linalg.norm(X)
    idx_sparse = SPA().anchors(sp.csr_matrix(X), 4)  # several pure samples per part: ties may differ
    assert set(idx_sparse) <= set(pure)
    assert [int(np.argmax(W[i])) for i in idx_sparse] == [int(np.argmax(W[i])) for i in idx]


def test_spa_rank_deficient_message():
    X = np.outer(np.arange(1, 6), np.arange(1, 5)).astype(float)
    with pytest.raises(ValueError, match=re.escape("SPA found only 1 linearly independent samples")):
        SPA()(X, 2, rng=None)


def test_randomized_svd_agrees_with_full():
    X = planted(300, 200, 5, separable=False, sparsity=0.0, rng=1)[0]
    _, s_full, _ = truncated_svd(X, 5, method="full")
    _, s_rand, _ = truncated_svd(X, 5, method="randomized", rng=np.random.default_rng(0))
    np.testing.assert_allclose(s_rand, s_full, rtol=1e-8)
