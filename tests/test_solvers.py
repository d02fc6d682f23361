"""The shared solver contract (ARCHITECTURE section 4), run over every registered solver."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nmfkit import nmf
from nmfkit._validation import DataWarning
from nmfkit.backend import get_backend
from nmfkit.losses import BetaDivergence
from nmfkit.solvers import HALS, MU, available_solvers, get_solver
from nmfkit.testing import ARRAY_TYPES, kkt_residual, laurberg_problem, match_components, planted

MU_BETAS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
# the cases come from the registry: a solver registered later is held to the same contract
SOLVERS = available_solvers()
QUADRATIC = [s for s in SOLVERS if get_solver(s).losses == "quadratic"]
CASES = [(s, b) for s in SOLVERS if get_solver(s).losses == "any" for b in MU_BETAS] + [(s, 2.0) for s in QUADRATIC]
# fits from scratch to tight tolerances; mu-lin (persistent NMF's block update, which starts from a converged
# GNMF) is left out of them: it needs far more sweeps than these tests allow
FITTING = [s for s in SOLVERS if s != "mu-lin"]
DTYPES = [np.float32, np.float64]


def test_registry_lists_every_solver():
    assert available_solvers() == ["anls-bpp", "anls-pg", "gcd", "hals", "mu", "mu-lin"]


def test_solvers_declare_what_they_support():
    """The declarations the boundary checks (losses, masks, penalty edits, rows apart for Dask)."""
    from nmfkit.solvers import row_separable_solvers

    assert row_separable_solvers() == ["anls-bpp", "gcd", "hals", "mu"]
    assert [s for s in SOLVERS if get_solver(s).supports_mask] == ["hals", "mu"]
    assert [s for s in SOLVERS if get_solver(s).losses == "any"] == ["mu"]


def positive_data(dtype=np.float64, n=30, m=20, k=3, seed=0):
    """Strictly positive low-rank-plus-noise data (valid for every beta, including 0)."""
    X, _, _ = planted(n, m, k, separable=False, sparsity=0.0, rng=seed)
    rng = np.random.default_rng(seed + 1)
    return (X + 0.05 + 0.05 * rng.random(X.shape)).astype(dtype)


def sweep_objectives(X, k, solver, beta, n_sweeps, **kw):
    """Objective after every sweep, evaluated independently of the solver."""
    values = []
    be = get_backend(X)
    loss = BetaDivergence(beta)

    def cb(info):
        W, H = info.factors["W"], info.factors["H"]
        values.append(float(loss.value(X, W, H, backend=be)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nmf(X, k, solver=solver, beta_loss=beta, max_iter=n_sweeps, stop="factor", tol=0.0, extrapolate=False,
            random_state=0, callback=cb, **kw)
    return np.asarray(values)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("array_type", list(ARRAY_TYPES))
@pytest.mark.parametrize(("solver", "beta"), CASES)
def test_objective_never_increases(solver, beta, array_type, dtype):
    X = ARRAY_TYPES[array_type](positive_data(dtype))
    values = sweep_objectives(X, 3, solver, beta, 25, init="random")
    slack = 1e-10 if dtype == np.float64 else 1e-5
    increases = np.diff(values) / np.abs(values[:-1])
    assert increases.max() <= slack, f"objective increased by {increases.max():.3e} (relative)"
    assert values[-1] < values[0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("array_type", list(ARRAY_TYPES))
@pytest.mark.parametrize(("solver", "beta"), CASES)
@pytest.mark.parametrize("init", ["random", "nndsvd", "nndsvda", "nndsvdar", "spa"])
def test_factors_stay_nonnegative_finite_and_keep_dtype(solver, beta, array_type, dtype, init):
    X = ARRAY_TYPES[array_type](positive_data(dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = nmf(X, 3, solver=solver, beta_loss=beta, init=init, max_iter=15, random_state=0)
    for F in (result.W, result.H):
        assert F.dtype == dtype
        assert np.all(np.isfinite(F))
        assert F.min() >= 0
    assert np.isfinite(result.objective)


KKT_LIMIT = {"hals": 1e-6, "anls-bpp": 1e-6, "gcd": 1e-6, "anls-pg": 1e-5, "mu": 1e-4, "mu-lin": 1e-4}


@pytest.mark.parametrize(("solver", "beta"), CASES)
def test_kkt_residual_small_at_convergence(solver, beta):
    X = positive_data(np.float64)
    result = nmf(X, 3, solver=solver, beta_loss=beta, init="nndsvda", stop="factor",
                 tol=1e-9 if solver not in ("mu", "mu-lin") else 1e-6, max_iter=20000, random_state=0)
    assert result.converged, result.stop_reason
    assert kkt_residual(X, result.W, result.H, beta) < KKT_LIMIT[solver]


@pytest.mark.parametrize(("solver", "beta"), CASES)
def test_planted_separable_factors_are_recovered(solver, beta):
    X, W, H = planted(40, 30, 3, separable=True, sparsity=0.5, rng=3)
    if beta <= 0:
        pytest.skip("separable planted data has zeros, undefined for beta <= 0")
    result = nmf(X, 3, solver=solver, beta_loss=beta, init="random", stop="factor", tol=1e-8,
                 max_iter=20000, random_state=1)
    match = match_components(W, result.W, H, result.H)
    assert match["min_cosine"] > 0.999


@pytest.mark.parametrize("solver", FITTING)
def test_laurberg_unique_problem_is_recovered(solver):
    X, W, H = laurberg_problem()
    result = nmf(X, 3, solver=solver, init="random", stop="factor", tol=1e-10, max_iter=50000,
                 random_state=2)
    match = match_components(W, result.W, H, result.H)
    assert match["min_cosine"] > 0.999


@pytest.mark.parametrize(("solver", "beta"), CASES)
def test_sparse_equals_dense(solver, beta):
    X = positive_data(np.float64)
    if beta > 0:
        X[X < np.quantile(X, 0.3)] = 0.0  # a real sparse pattern where it is defined
    # accelerated HALS repeats passes by the cost ratio of its statistics, which depends on nnz(X):
    # compare the pass-for-pass identical plain HALS
    algo = HALS(alpha=0.0) if solver == "hals" else solver
    kw = dict(solver=algo, beta_loss=beta, init="random", stop="factor", tol=0.0, max_iter=20, random_state=0,
              extrapolate=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DataWarning)
        dense = nmf(X, 3, **kw)
        sparse = nmf(sp.csr_matrix(X), 3, **kw)
    np.testing.assert_allclose(sparse.W, dense.W, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(sparse.H, dense.H, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(sparse.objective, dense.objective, rtol=1e-9)


@pytest.mark.parametrize(("solver", "beta"), [("mu", b) for b in MU_BETAS] + [("hals", 2.0)])
def test_full_mask_equals_no_mask(solver, beta):
    X = positive_data(np.float64)
    algo = HALS(alpha=0.0) if solver == "hals" else MU()  # weighted HALS does one pass per update
    kw = dict(solver=algo, beta_loss=beta, init="random", stop="factor", tol=0.0, max_iter=20, random_state=0,
              extrapolate=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = nmf(X, 3, **kw)
        masked = nmf(X, 3, mask=np.ones_like(X, dtype=bool), **kw)
    np.testing.assert_allclose(masked.W, plain.W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(masked.H, plain.H, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("solver", "beta"), [("mu", 1.0), ("mu", 2.0), ("hals", 2.0)])
def test_masked_fit_ignores_missing_entries_and_monotone(solver, beta, rng):
    X, _, _ = planted(30, 20, 3, separable=True, sparsity=0.3, rng=5)
    mask = rng.random(X.shape) > 0.2
    corrupted = np.where(mask, X, 1e3)  # garbage where unobserved
    result = nmf(corrupted, 3, solver=solver, beta_loss=beta, mask=mask, init="random", stop="factor",
                 tol=1e-9, max_iter=20000, random_state=0)
    err = np.linalg.norm((X - result.W @ result.H)) / np.linalg.norm(X)
    assert err < 1e-2  # the full matrix is completed from 80% of its entries
    assert np.all(np.diff([h.objective for h in result.history]) <= 1e-9 * result.history[0].objective)


@pytest.mark.parametrize(("solver", "beta"), [("mu", 1.0), ("hals", 2.0)])
def test_nan_with_missing_mask_equals_explicit_mask(solver, beta, rng):
    X = positive_data(np.float64)
    mask = rng.random(X.shape) > 0.2
    Xnan = np.where(mask, X, np.nan)
    kw = dict(solver=solver, beta_loss=beta, init="random", stop="factor", tol=0.0, max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = nmf(Xnan, 3, missing="mask", **kw)
        b = nmf(np.where(mask, X, 0.0), 3, mask=mask, **kw)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.H, b.H)


@pytest.mark.parametrize(("solver", "beta"), CASES)
def test_float32_agrees_with_float64(solver, beta):
    X = positive_data(np.float64)
    kw = dict(solver=solver, beta_loss=beta, init="nndsvda", stop="factor", tol=0.0, max_iter=10, extrapolate=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r64 = nmf(X, 3, **kw)
        r32 = nmf(X.astype(np.float32), 3, **kw)
    assert r32.W.dtype == np.float32
    np.testing.assert_allclose(r32.objective, r64.objective, rtol=1e-4)


@pytest.mark.parametrize(("solver", "beta"), CASES)
def test_update_H_false_keeps_H_bit_identical(solver, beta):
    X = positive_data(np.float64)
    H = np.random.default_rng(0).random((3, X.shape[1])) + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = nmf(X, 3, solver=solver, beta_loss=beta, H=H, update_H=False, max_iter=30)
    np.testing.assert_array_equal(result.H, H)
    assert result.H is not H


@pytest.mark.parametrize(("solver", "beta"), CASES)
def test_same_random_state_same_result(solver, beta):
    X = positive_data(np.float64)
    kw = dict(solver=solver, beta_loss=beta, init="random", max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = nmf(X, 3, random_state=7, **kw)
        b = nmf(X, 3, random_state=7, **kw)
        c = nmf(X, 3, random_state=8, **kw)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.H, b.H)
    assert not np.array_equal(a.W, c.W)


@pytest.mark.parametrize("solver", FITTING)
def test_l1_penalty_increases_zeros_and_l2_lowers_norms(solver):
    X = positive_data(np.float64, n=40, m=30, k=4)
    kw = dict(solver=solver, init="nndsvda", stop="factor", tol=1e-7, max_iter=3000, random_state=0)
    base = nmf(X, 4, **kw)
    l1 = nmf(X, 4, alpha_W=0.05, l1_ratio=1.0, **kw)
    l2 = nmf(X, 4, alpha_W=0.5, l1_ratio=0.0, **kw)
    zeros = lambda r: np.sum(r.W <= 1e-10) + np.sum(r.H <= 1e-10)  # noqa: E731
    assert zeros(l1) > zeros(base)
    sq_norm = lambda r: np.linalg.norm(r.W) ** 2 + np.linalg.norm(r.H) ** 2  # noqa: E731
    assert sq_norm(l2) < sq_norm(base)


@pytest.mark.parametrize("solver", FITTING)
def test_penalized_kkt(solver):
    from nmfkit.penalties import elastic_net

    X = positive_data(np.float64)
    n, m = X.shape
    result = nmf(X, 3, solver=solver, alpha_W=0.01, alpha_H=0.02, l1_ratio=0.5, init="nndsvda", stop="factor",
                 tol=1e-9 if solver != "mu" else 1e-7, max_iter=20000)
    r = kkt_residual(X, result.W, result.H, 2.0, penalties_W=elastic_net(0.01, 0.5, m),
                     penalties_H=elastic_net(0.02, 0.5, n))
    assert r < KKT_LIMIT[solver]


@pytest.mark.parametrize("solver", QUADRATIC)
@pytest.mark.parametrize("beta_loss", ["kullback-leibler", 1.5])
def test_quadratic_solver_rejects_other_losses_naming_mu(solver, beta_loss):
    X = positive_data()
    name = {"kullback-leibler": "kullback-leibler", 1.5: "beta=1.5"}[beta_loss]
    beta = {"kullback-leibler": 1, 1.5: 1.5}[beta_loss]
    msg = (f"Solver '{solver}' supports only the Frobenius loss (beta_loss=2); got beta_loss={beta:g} ({name}). "
           "Use solver='mu', which supports every beta >= 0.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        nmf(X, 3, solver=solver, beta_loss=beta_loss)


@pytest.mark.parametrize("solver", ["anls-bpp", "gcd", "anls-pg"])
def test_solvers_without_masks_say_which_do(solver):
    X = positive_data()
    msg = (f"Solver '{solver}' does not support masks or missing values; "
           "use solver='hals' (Frobenius) or solver='mu' (any beta).")
    with pytest.raises(ValueError, match=re.escape(msg)):
        nmf(X, 3, solver=solver, mask=np.ones_like(X))


def test_unknown_solver_lists_valid_names():
    msg = ("Unknown solver 'newton'. Valid solvers: 'alspgrad', 'anls-bpp', 'anls-pg', 'auto', 'bpp', 'cd', "
           "'gcd', 'greedycd', 'hals', 'lin', 'mu', 'mu-lin', 'pg', or a Solver instance.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        get_solver("newton")
    with pytest.raises(ValueError, match=re.escape(msg)):
        nmf(positive_data(), 2, solver="newton")


def test_auto_solver_is_hals_for_frobenius_and_mu_otherwise():
    X = positive_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert isinstance(nmf(X, 2, max_iter=2).extras["solver"], HALS)
        assert isinstance(nmf(X, 2, beta_loss=1, max_iter=2).extras["solver"], MU)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "grouped"])
def test_nnls_bpp_matches_scipy_nnls_column_by_column(batched, monkeypatch):
    """Many distinct passive sets: solved as one batch of masked systems, or group by group."""
    from scipy.optimize import nnls

    import nmfkit.solvers.anls as anls
    from nmfkit.solvers import nnls_bpp

    monkeypatch.setattr(anls, "_BATCH_GROUPS", 0 if batched else 10**9)
    rng = np.random.default_rng(3)
    A = rng.standard_normal((30, 8))
    Y = rng.standard_normal((30, 200))
    G, B = A.T @ A, A.T @ Y
    X = nnls_bpp(G, B, np.zeros(B.shape, dtype=bool), get_backend(G))
    ref = np.column_stack([nnls(A, Y[:, j])[0] for j in range(Y.shape[1])])
    np.testing.assert_allclose(X, ref, atol=1e-10)
