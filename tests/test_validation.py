"""Every bad input gets a clear error; messages are matched exactly."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit import NMF, nmf
from nmfkit._validation import DataWarning


def X_ok(n=6, m=5, seed=0):
    return np.random.default_rng(seed).random((n, m)) + 0.1


def raises(exc, msg):
    return pytest.raises(exc, match=re.escape(msg))


def test_negative_entries_name_count_and_minimum():
    X = X_ok()
    X[0, 0], X[1, 2] = -0.3, -0.25
    msg = ("Negative values in data passed to nmf (X): 2 negative entries, min = -0.3; "
           "NMF needs non-negative input.")
    with raises(ValueError, msg):
        nmf(X, 2)
    with raises(ValueError, msg.replace("nmf (X)", "NMF (X)")):
        NMF(2).fit(X)
    with raises(ValueError, msg.replace("2 negative entries", "2 negative entries")):
        nmf(sp.csr_matrix(X), 2)


def test_single_negative_entry_is_singular():
    X = X_ok()
    X[3, 1] = -1
    with raises(ValueError, "1 negative entry, min = -1;"):
        nmf(X, 2)


def test_nan_without_mask():
    X = X_ok()
    X[0, 0] = X[2, 2] = X[3, 3] = np.nan
    with raises(ValueError, "X contains NaN (3 entries); pass missing='mask' to treat NaN as missing values, "
                            "or remove them."):
        nmf(X, 2)


def test_inf_is_rejected_even_with_missing_mask():
    X = X_ok()
    X[1, 1] = np.inf
    with raises(ValueError, "X contains inf (1 entries); NMF needs finite input."):
        nmf(X, 2, missing="mask")


@pytest.mark.parametrize(("shape", "what"), [((0, 5), "sample"), ((4, 0), "feature")])
def test_empty_input(shape, what):
    with raises(ValueError, f"X is empty: 0 {what}(s) (shape={shape}) while a minimum of 1 is required; "
                            "NMF needs at least one sample and one feature."):
        nmf(np.zeros(shape), 1)


def test_one_dimensional_input():
    msg = ("X must be 2-D (n_samples, n_features); got an array of shape (5,). Reshape your data with "
           "X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample.")
    with raises(ValueError, msg):
        nmf(np.ones(5), 1)


def test_all_zero_matrix():
    with raises(ValueError, "X is all zeros (over its observed entries); there is nothing to factorize."):
        nmf(np.zeros((4, 3)), 1)


@pytest.mark.parametrize("solver", ["mu", "hals", "anls-bpp", "gcd", "anls-pg"])
@pytest.mark.parametrize("sparse", [False, True])
def test_all_zero_rows_and_columns_warn_once_and_stay_exact_zeros(solver, sparse):
    X = X_ok(8, 6)
    X[2] = 0
    X[:, 4] = 0
    Xin = sp.csr_matrix(X) if sparse else X
    msg = ("X has 1 all-zero row and 1 all-zero column; their entries in W (rows) and H (columns) "
           "will be zero.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = nmf(Xin, 2, solver=solver, init="random", max_iter=50, random_state=0)
    data_warnings = [w for w in caught if issubclass(w.category, DataWarning)]
    assert [str(w.message) for w in data_warnings] == [msg]
    assert np.all(np.isfinite(result.W)) and np.all(np.isfinite(result.H))
    assert np.all(result.W[2] == 0)
    assert np.all(result.H[:, 4] == 0)


@pytest.mark.parametrize("k", [0, 6, -1, 2.5, "3"])
def test_n_components_out_of_range(k):
    msg = ("The 'n_components' parameter of nmf must be an int in the range [1, min(n_samples, n_features)] "
           f"= [1, 5] for X of shape (6, 5). Got {k!r} instead.")
    with raises(ValueError, msg):
        nmf(X_ok(), k)


def test_wrong_shape_of_W_and_H():
    X = X_ok()
    with raises(ValueError, "W must have shape (n_samples, n_components) = (6, 2); got (6, 3)."):
        nmf(X, 2, W=np.ones((6, 3)), H=np.ones((2, 5)))
    with raises(ValueError, "H must have shape (n_components, n_features) = (2, 5); got (2, 4)."):
        nmf(X, 2, W=np.ones((6, 2)), H=np.ones((2, 4)))


def test_negative_W_or_H():
    X = X_ok()
    W = np.ones((6, 2))
    W[0, 0] = -0.5
    with raises(ValueError, "W has 1 negative entry (min = -0.5); factors passed to nmf must be non-negative."):
        nmf(X, 2, W=W, H=np.ones((2, 5)))
    H = -np.ones((2, 5))
    with raises(ValueError, "H has 10 negative entries (min = -1); factors passed to nmf must be non-negative."):
        nmf(X, 2, W=np.ones((6, 2)), H=H)


def test_only_one_factor_given():
    with raises(ValueError, "Pass both W and H to start from given factors (or H alone with update_H=False); "
                            "got only W."):
        nmf(X_ok(), 2, W=np.ones((6, 2)))


def test_update_H_false_needs_H():
    with raises(ValueError, "update_H=False needs the fixed components: pass H of shape (n_components, "
                            "n_features) = (2, 5)."):
        nmf(X_ok(), 2, update_H=False)


@pytest.mark.parametrize("bad", ["text", None, {"a": 1}, 3.0])
def test_unsupported_input_types(bad):
    msg = f"X must be a 2-D array-like of numbers or a scipy.sparse matrix; got {type(bad).__name__}."
    with raises(TypeError, msg):
        nmf(bad, 1)


def test_non_numeric_dtype():
    with raises(TypeError, "X must hold numbers; got dtype <U1."):
        nmf(np.array([["a", "b"], ["c", "d"]]), 1)


def test_complex_input():
    with raises(ValueError, "Complex data not supported: X has dtype complex128; NMF needs real non-negative values."):
        nmf(np.ones((3, 3), dtype=complex), 1)


def test_zeros_with_itakura_saito():
    X = X_ok()
    X[0, 0] = 0
    msg = ("X contains zeros (1 entries) and beta_loss=0: the beta-divergence is infinite at x = 0 for beta <= 0 "
           "(e.g. Itakura-Saito). Add a small positive offset to X, mask the zeros, or use beta_loss > 0.")
    with raises(ValueError, msg):
        nmf(X, 2, beta_loss="itakura-saito")
    mask = np.ones_like(X)
    mask[0, 0] = 0  # masked zeros are fine
    result = nmf(X, 2, beta_loss="itakura-saito", mask=mask, max_iter=5, stop="factor", tol=0.0)
    assert np.isfinite(result.objective)


@pytest.mark.parametrize(("kw", "msg"), [
    ({"beta_loss": "kl2"}, "The 'beta_loss' parameter of nmf must be a float >= 0 or one of "
                           "{'frobenius', 'itakura-saito', 'kullback-leibler'}. Got 'kl2' instead."),
    ({"beta_loss": -1}, "The 'beta_loss' parameter of nmf must be a float >= 0 or one of "
                        "{'frobenius', 'itakura-saito', 'kullback-leibler'}. Got -1 instead."),
    ({"max_iter": 0}, "The 'max_iter' parameter of nmf must be an int in the range [1, inf). Got 0 instead."),
    ({"tol": -1.0}, "The 'tol' parameter of nmf must be a float in the range [0, inf). Got -1.0 instead."),
    ({"l1_ratio": 2}, "The 'l1_ratio' parameter of nmf must be a float in the range [0, 1]. Got 2 instead."),
    ({"alpha_W": -0.1}, "The 'alpha_W' parameter of nmf must be a float in the range [0, inf). Got -0.1 instead."),
    ({"missing": "drop"}, "The 'missing' parameter of nmf must be one of {'error', 'mask'}. Got 'drop' instead."),
    ({"init": "svd"}, "Unknown init 'svd'. Valid inits: 'nndsvd', 'nndsvda', 'nndsvdar', 'random', 'snpa', 'spa', "
                      "'custom' (pass W and H), or an Initializer instance."),
    ({"stop": "never"}, "Unknown stopping rule 'never'. Valid rules: 'factor', 'factor-change', 'fixed', "
                        "'max_iter', 'objective', 'per-component', 'relative-objective', or a StoppingRule "
                        "instance."),
    ({"random_state": "seed"}, "The 'random_state' parameter of nmf must be None, an int >= 0, a "
                               "numpy.random.Generator or a numpy.random.RandomState. Got 'seed' instead."),
])
def test_parameter_messages(kw, msg):
    with raises(ValueError, msg):
        nmf(X_ok(), 2, **kw)


def test_mask_errors():
    X = X_ok()
    with raises(ValueError, "mask must have the shape of X (6, 5); got (6, 4)."):
        nmf(X, 2, mask=np.ones((6, 4)))
    with raises(ValueError, "mask has negative weights (min = -1); weights must be >= 0 (0 = missing)."):
        nmf(X, 2, mask=-np.ones((6, 5)))
    with raises(ValueError, "mask is not supported with sparse X; pass a dense X to fit with a mask."):
        nmf(sp.csr_matrix(X), 2, mask=np.ones((6, 5)))


def test_integer_input_becomes_float64_and_float32_is_kept():
    X = (X_ok() * 10).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert nmf(X, 2, max_iter=5).W.dtype == np.float64
        assert nmf(X.astype(np.float32), 2, max_iter=5).W.dtype == np.float32


def test_max_iter_warns_with_what_to_increase():
    from sklearn.exceptions import ConvergenceWarning

    pattern = (r"Maximum number of iterations reached: max_iter=2 reached "
               r"\(relative factor change .* > tol=1e-12\)\. Increase max_iter or tol\.")
    with pytest.warns(ConvergenceWarning, match=pattern):
        result = nmf(X_ok(), 2, stop="factor", tol=1e-12, max_iter=2)
    assert not result.converged
    assert result.stop_reason == "max_iter=2 reached"


def test_init_custom_needs_both_factors_and_init_conflict():
    with raises(ValueError, "Pass both W and H to start from given factors (or H alone with update_H=False); "
                            "got neither."):
        nmf(X_ok(), 2, init="custom")
    with raises(ValueError, "W and H were given, so init must be None or 'custom'; got init='random'."):
        nmf(X_ok(), 2, init="random", W=np.ones((6, 2)), H=np.ones((2, 5)))
    result = nmf(X_ok(), 2, init="custom", W=np.ones((6, 2)), H=np.ones((2, 5)), max_iter=500)
    assert result.extras["init"] == "custom"
