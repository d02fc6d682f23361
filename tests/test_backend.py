import re

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit.backend import available_backends, get_backend, register_backend


def test_numpy_backend_is_inferred_for_dense_and_sparse():
    assert get_backend(np.ones((2, 2))).name == "numpy"
    assert get_backend(sp.csr_matrix(np.ones((2, 2))), None, np.ones(2)).name == "numpy"
    assert "numpy" in available_backends()


def test_unsupported_type_names_it():
    with pytest.raises(TypeError, match=re.escape("Unsupported array type builtins.list; nmfkit accepts arrays "
                                                  "of the backends ['numpy', 'torch'].")):
        get_backend([1, 2])


def test_register_twice_is_an_error():
    with pytest.raises(KeyError, match="already registered"):
        register_backend("numpy", lambda: None)


@pytest.mark.parametrize("density", [0.1, 0.005], ids=["dense-blocks", "gathered"])
def test_support_blocks_tile_the_stored_entries_and_match_dense(rng, density):
    X = sp.random(500, 400, density=density, format="csr", random_state=0)
    W, H = rng.random((500, 4)), rng.random((4, 400))
    be = get_backend(X)
    got = np.full(X.nnz, np.nan)
    covered = 0
    for span, x, y in be.support_blocks(W, H, X):
        np.testing.assert_array_equal(x, X.data[span])
        got[span] = y
        covered += span.stop - span.start
    assert covered == X.nnz
    rows, cols = X.nonzero()
    np.testing.assert_allclose(got, (W @ H)[rows, cols], rtol=1e-13)


def test_row_blocks_cover_all_rows_with_bounded_size(monkeypatch):
    import nmfkit.backend._numpy as mod

    monkeypatch.setattr(mod, "_BLOCK_ENTRIES", 100)
    be = get_backend(np.zeros(1))
    blocks = be.row_blocks(37, 30)
    covered = np.concatenate([np.arange(37)[b] for b in blocks])
    np.testing.assert_array_equal(covered, np.arange(37))
    assert all((b.stop - b.start) * 30 <= 100 for b in blocks)


def test_random_draws_come_from_the_generator():
    be = get_backend(np.zeros(1))
    like = np.zeros(1, dtype=np.float32)
    a = be.random((3, 2), np.random.default_rng(5), like=like)
    b = be.random((3, 2), np.random.default_rng(5), like=like)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
