"""Deep beta-NMF: every block update is a descent step, the constraints hold, the special-function updates
solve their equations, and the deep model beats the multilayer one on the deeper layers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import lambertw

from nmfkit.backend import get_backend
from nmfkit.losses import BetaDivergence
from nmfkit.methods.deep import deep_nmf, hoyer_sparsity, layer_features, multilayer_nmf
from nmfkit.methods.deep.minvol import column_multipliers, log10det, logdet_parts, minvol_admm, minvol_last
from nmfkit.methods.deep.special import wright_omega
from nmfkit.methods.deep.updates import constrained_right, coupled_left, mu_left, mu_right, normalize

BACKEND = get_backend(np.empty(1))
XP = BACKEND.xp
BETAS = [1.0, 1.5, 2.0]


def problem(seed, m=30, n=25, r=5, spread=False):
    rng = np.random.default_rng(seed)
    Y = rng.random((m, r)) @ rng.random((r, n)) + 0.05 * rng.random((m, n))
    if spread:  # values spanning 1e-12 .. 1e6
        Y = 10.0 ** rng.uniform(-12, 6, size=(m, n))
    W, H = rng.random((m, r)) + 0.01, rng.random((r, n)) + 0.01
    return Y, W, H / H.sum(axis=1, keepdims=True), rng


def D(loss, Y, W, H):
    return float(loss.value(Y, W, H, backend=BACKEND))


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("seed", range(4))
def test_coupled_w_update_never_increases_its_block_objective(beta, seed):
    Y, W, H, rng = problem(seed)
    loss = BetaDivergence(beta)
    Wbar = rng.random(W.shape) * 2 + 1e-3
    lam = [0.3, 1.0, 4.0][seed % 3]

    def block(Wc):
        return D(loss, Y, Wc, H) + lam * float(XP.sum(loss.elementwise(Wc, Wbar, XP, 1e-300)))

    values = [block(W)]
    for _ in range(30):
        W = coupled_left(Y, W, H, Wbar, lam, loss, BACKEND)
        values.append(block(W))
        assert W.min() > 0 and np.all(np.isfinite(W))
    assert np.all(np.diff(values) <= 1e-12 * abs(values[0]))
    assert values[-1] < values[0]


@pytest.mark.parametrize("axis", [1, 0])
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("seed", range(3))
def test_constrained_h_update_descends_and_keeps_the_sums_at_one(beta, axis, seed):
    Y, W, H, _ = problem(seed)
    if axis == 0:
        H = H / H.sum(axis=0, keepdims=True)
    loss = BetaDivergence(beta)
    values = [D(loss, Y, W, H)]
    for _ in range(30):
        H, n = constrained_right(Y, W, H, loss, BACKEND, axis=axis, tol=1e-10, max_iter=10_000)
        np.testing.assert_allclose(H.sum(axis=axis), 1.0, atol=1e-8)
        values.append(D(loss, Y, W, H))
        assert n >= 1 and H.min() > 0
    assert np.all(np.diff(values) <= 1e-10 * abs(values[0]))


def test_newton_multipliers_decrease_monotonically_from_the_right():
    from nmfkit.methods.deep.updates import sum_to_one_multipliers

    rng = np.random.default_rng(3)
    P, Dm = rng.random((4, 12)), rng.random((4, 12)) + 0.5
    trail = []
    for cap in range(1, 40):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mu, _ = sum_to_one_multipliers(P, Dm, tol=0.0, max_iter=cap, guard=1e-8, xp=XP)
        trail.append(mu)
    trail = np.array(trail)
    assert np.all(np.diff(trail, axis=0) <= 1e-15)
    phis = (P[None] / (Dm[None] - trail[:, :, None] + 1e-8)).sum(axis=2)
    assert np.all(phis >= 1.0 - 1e-12)  # every iterate stays right of the root
    phi = phis[-1]
    np.testing.assert_allclose(phi, 1.0, rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_kl_w_update_solves_its_stationarity_equation_and_matches_lambert_w(seed):
    Y, W, H, rng = problem(seed)
    loss = BetaDivergence(1.0)
    lam = [0.05, 0.5, 2.0, 10.0, 1.0][seed]
    Wbar = rng.random(W.shape) + 1e-2
    new = coupled_left(Y, W, H, Wbar, lam, loss, BACKEND)
    num, den = loss.mu_terms(Y, W, H, backend=BACKEND)
    a, b = den - lam * np.log(Wbar), W * num
    residual = a - b / new + lam * np.log(new)
    np.testing.assert_allclose(residual / (np.abs(a) + b / new), 0.0, atol=1e-10)
    lambert = b / (lam * lambertw((b / lam) * np.exp(a / lam)).real)  # fine here, overflows on real data
    np.testing.assert_allclose(new, lambert, rtol=1e-12)


def test_kl_w_update_does_not_overflow_where_lambert_w_would():
    Y, W, H, _ = problem(0)
    Wbar = np.full(W.shape, 1e-300)  # a / lam ~ 7e4: exp overflows
    with np.errstate(over="raise"):
        new = coupled_left(Y, W, H, Wbar, 0.01, BetaDivergence(1.0), BACKEND)
    assert np.all(np.isfinite(new)) and new.min() > 0


def test_three_halves_update_zeroes_the_majoriser_gradient():
    Y, W, H, rng = problem(1)
    loss, lam = BetaDivergence(1.5), 0.7
    Wbar = rng.random(W.shape) + 0.1
    new = coupled_left(Y, W, H, Wbar, lam, loss, BACKEND)
    num, den = loss.mu_terms(Y, W, H, backend=BACKEND)
    # gradient of the Jensen majoriser of D(Y|WH) plus lam * d/dw D_3/2(w | Wbar) = 2 lam (sqrt(w) - sqrt(Wbar))
    grad = den * np.sqrt(new / W) - num * np.sqrt(W / new) + 2 * lam * (np.sqrt(new) - np.sqrt(Wbar))
    np.testing.assert_allclose(grad / (den + num + lam), 0.0, atol=1e-12)


@pytest.mark.parametrize("mode", ["rows", "wcols"])
def test_normalisations_leave_the_product_unchanged(mode):
    _, W, H, _ = problem(2)
    W2, H2 = normalize(W, H, mode, XP)
    np.testing.assert_allclose(W2 @ H2, W @ H, rtol=1e-13)
    sums = H2.sum(axis=1) if mode == "rows" else W2.sum(axis=0)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-13)


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("normalization", ["rows", "cols"])
def test_deep_objective_is_monotone_and_constraints_hold(beta, normalization):
    Y, *_ = problem(4, m=40, n=30, r=6)
    res = deep_nmf(Y, [6, 4, 2], beta, normalization=normalization, max_iter=60, init_iter=40, random_state=0)
    obj = np.array([h.objective for h in res.history])
    assert np.all(np.diff(obj) <= 1e-9 * obj[0]), np.diff(obj).max()
    axis = 1 if normalization == "rows" else 0
    for H in res.extras["H_layers"]:
        np.testing.assert_allclose(H.sum(axis=axis), 1.0, atol=1e-8)
    assert res.extras["layer_history"].shape == (61, 3)
    lam, e0 = res.extras["lambdas"], res.extras["initial_errors"]
    np.testing.assert_allclose(np.array(lam) * np.array(e0), 1.0)
    assert obj[0] == pytest.approx(3.0)
    assert not res.converged and "completed the requested 60 sweeps" in res.stop_reason  # a budget, not a test


@pytest.mark.parametrize("beta", BETAS)
def test_extreme_inputs_give_finite_factors(beta):
    Y, *_ = problem(5, spread=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        res = deep_nmf(Y, [5, 3], beta, max_iter=20, init_iter=20, random_state=1)
    for F in res.extras["W_layers"] + res.extras["H_layers"]:
        assert np.all(np.isfinite(F)) and F.min() > 0
    assert np.isfinite(res.objective)


def test_extreme_inputs_min_vol():
    Y, *_ = problem(6, spread=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = deep_nmf(Y, [5, 3], min_vol=True, max_iter=5, init_iter=20, random_state=1, admm_max_iter=20)
    for F in res.extras["W_layers"] + res.extras["H_layers"]:
        assert np.all(np.isfinite(F))


def planted_deep(seed=0, m=200, n=60):
    """X = W3 H3 H2 H1 + noise: a genuinely hierarchical model."""
    rng = np.random.default_rng(seed)
    H1 = rng.random((8, n)) ** 4
    H2 = rng.random((4, 8)) ** 4
    W2 = rng.random((m, 4)) ** 2
    X = W2 @ H2 @ H1 + 0.01 * rng.random((m, n))
    return X


def test_deep_trades_layer_one_for_much_better_deeper_layers():
    X = planted_deep()
    base = multilayer_nmf(X, [8, 4], max_iter=400, random_state=3)
    deep = deep_nmf(X, [8, 4], max_iter=200, init_iter=200, random_state=3)
    ratio = np.array(deep.extras["layer_errors"]) / np.array(base.extras["layer_errors"])
    assert ratio[1] < 0.8, ratio
    assert np.all(np.isfinite(ratio))


def test_same_seed_same_result_and_reset_seed_option():
    X = planted_deep(1)
    a = deep_nmf(X, [6, 3], max_iter=20, init_iter=20, random_state=7)
    b = deep_nmf(X, [6, 3], max_iter=20, init_iter=20, random_state=7)
    for Fa, Fb in zip(a.extras["W_layers"] + a.extras["H_layers"], b.extras["W_layers"] + b.extras["H_layers"],
                      strict=True):
        np.testing.assert_array_equal(Fa, Fb)
    c = multilayer_nmf(X, [6, 3], max_iter=5, tol=0, random_state=7, reset_seed=True)
    d = multilayer_nmf(X, [6, 3], max_iter=5, tol=0, random_state=7)
    assert not np.allclose(c.extras["W_layers"][1], d.extras["W_layers"][1])


def test_multilayer_layers_chain_and_use_the_accuracy_stop():
    X = planted_deep(2)
    res = multilayer_nmf(X, [8, 4, 2], max_iter=2000, tol=1e-4, random_state=0)
    Ws, Hs = res.extras["W_layers"], res.extras["H_layers"]
    assert [W.shape for W in Ws] == [(200, 8), (200, 4), (200, 2)]
    assert [H.shape for H in Hs] == [(8, 60), (4, 8), (2, 4)]
    for H in Hs:
        np.testing.assert_allclose(H.sum(axis=1), 1.0, rtol=1e-12)
    loss = BetaDivergence(1.0)
    for l, e in enumerate(res.extras["layer_errors"]):  # noqa: E741
        Y = X if l == 0 else Ws[l - 1]
        assert e == pytest.approx(D(loss, Y, Ws[l], Hs[l]))
    its = res.extras["layer_iterations"]
    assert max(its) <= 2000 and min(its) < 2000  # the deeper layers stop by the accuracy test
    h = res.extras["layer_histories"][its.index(min(its))]
    assert (h[-2].objective - h[-1].objective) <= 1e-4 * h[-2].objective


def test_layer_features_and_hoyer_sparsity():
    X = planted_deep(3)
    res = multilayer_nmf(X, [6, 3], max_iter=50, random_state=0)
    F = layer_features(res)
    np.testing.assert_allclose(F[1], res.extras["H_layers"][1] @ res.extras["H_layers"][0])
    assert hoyer_sparsity(np.ones((1, 9)))[0] == pytest.approx(0.0)
    assert hoyer_sparsity(np.eye(5))[0] == pytest.approx(1.0)
    assert np.isnan(hoyer_sparsity(np.zeros((1, 4)))[0])
    assert np.isnan(hoyer_sparsity(np.ones((3, 1)))).all()


def test_sparse_input_matches_dense():
    X = planted_deep(4)
    X[X < np.quantile(X, 0.5)] = 0.0
    X[:, :2] += 0.1  # no all-zero rows or columns
    X[:2] += 0.1
    dense = deep_nmf(X, [6, 3], max_iter=15, init_iter=15, random_state=2)
    sparse = deep_nmf(sp.csr_matrix(X), [6, 3], max_iter=15, init_iter=15, random_state=2)
    np.testing.assert_allclose(sparse.extras["layer_errors"], dense.extras["layer_errors"], rtol=1e-8)


# -- minimum volume ----------------------------------------------------------------------------
def test_logdet_parts_and_value():
    _, W, _, _ = problem(7)
    Aabs, Am = logdet_parts(W, 1.0, XP)
    A = np.linalg.inv(W.T @ W + np.eye(W.shape[1]))
    np.testing.assert_allclose(Aabs, np.abs(A), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(Am, np.maximum(-A, 0), rtol=1e-10, atol=1e-14)
    assert float(log10det(W, 1.0, XP)) == pytest.approx(np.linalg.slogdet(W.T @ W + np.eye(5))[1] / np.log(10))


@pytest.mark.parametrize("exact", [False, True])
def test_admm_w_step_stationarity_and_z_step(exact):
    Y, W, H, rng = problem(8)
    W = W / W.sum(axis=0)
    loss = BetaDivergence(1.0)
    Wbar = rng.random(W.shape) * 0.05 + 1e-3
    lam_l, lam_next, alpha, rho, delta = 1.3, 0.6, 0.2, 10.0, 1.0
    # one ADMM iteration from Z = W, U = 0: the W-step must satisfy its stationarity equation
    new, info = minvol_admm(Y, W, H, Wbar, lam_l=lam_l, lam_next=lam_next, alpha=alpha, delta=delta, rho=rho,
                             exact_prox=exact, accelerated=False, tol=0.0, max_iter=1, newton_tol=1e-14,
                             newton_max_iter=1000, loss=loss, backend=BACKEND)
    Aabs, Am = logdet_parts(W, delta, XP)
    num, den = loss.mu_terms(Y, W, H, backend=BACKEND)
    b = W * num
    # mu from the column sums (first iteration: the Newton anchor is W in both variants)
    np.testing.assert_allclose(new.sum(axis=0), 1.0, atol=1e-10)
    prox = rho / lam_l * ((new / W - W) if not exact else (new - W))  # V = Z - U = W
    stat = den - b / new - 4 * alpha / lam_l * (W @ Am) + 2 * alpha / lam_l * (W @ Aabs) * new / W + prox
    mu = -(stat.mean(axis=0))
    np.testing.assert_allclose(stat + mu, 0.0, atol=1e-8 * np.abs(stat).max())
    wrong = rho / lam_l * ((new - W) if not exact else (new / W - W))
    stat_wrong = stat - prox + wrong
    assert np.abs(stat_wrong - stat_wrong.mean(axis=0)).max() > 1e-3  # the two proximal forms differ
    # Z-step residual: log(z / Wbar) + nu (z - v) = 0 for v = W + U
    nu = rho / lam_next
    z = wright_omega(np.log(nu) + np.log(Wbar) + nu * new, BACKEND) / nu
    np.testing.assert_allclose(np.log(z / Wbar) + nu * (z - new), 0.0, atol=1e-12)


def test_exact_prox_admm_keeps_column_sums_and_the_code_variant_is_approximate():
    Y, W, H, rng = problem(9)
    W = W / W.sum(axis=0)
    Wbar = rng.random(W.shape) * 0.05 + 1e-3
    kw = {"lam_l": 1.0, "lam_next": 1.0, "alpha": 0.1, "delta": 1.0, "rho": 100.0, "accelerated": True,
          "tol": 1e-12, "max_iter": 50, "newton_tol": 1e-14, "newton_max_iter": 1000,
          "loss": BetaDivergence(1.0), "backend": BACKEND}
    exact, _ = minvol_admm(Y, W, H, Wbar, exact_prox=True, **kw)
    np.testing.assert_allclose(exact.sum(axis=0), 1.0, atol=1e-10)
    code, info = minvol_admm(Y, W, H, Wbar, exact_prox=False, **kw)
    assert np.all(np.isfinite(code)) and info["admm_iterations"] == 50


def test_minvol_last_layer_column_sums():
    Y, W, H, _ = problem(10)
    W = W / W.sum(axis=0)
    mu = np.zeros(W.shape[1])
    for _ in range(5):
        W, mu, n = minvol_last(Y, W, H, 0.3, 1.0, mu, BetaDivergence(1.0), BACKEND, tol=1e-14, max_iter=1000)
        np.testing.assert_allclose(W.sum(axis=0), 1.0, atol=1e-10)
        H = mu_right(Y, W, H, BetaDivergence(1.0), BACKEND)


def test_column_multipliers_newton_solves_the_sum():
    rng = np.random.default_rng(11)
    anchor, C, S, T = rng.random((20, 3)), rng.normal(size=(20, 3)), rng.random((20, 3)), rng.random((20, 3)) + .1
    mu, _ = column_multipliers(anchor, C, S, T, np.zeros(3), tol=1e-15, max_iter=200, xp=XP)
    Cm = C + mu
    q = (np.sqrt(Cm**2 + S) - Cm) / T
    np.testing.assert_allclose((anchor * q).sum(axis=0), 1.0, rtol=1e-12)


def test_min_vol_deep_run_reports_its_terms():
    X = planted_deep(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = deep_nmf(X, [6, 3], min_vol=True, exact_prox=True, max_iter=10, init_iter=50, random_state=0,
                       alphas=[0.05, 0.05])
    ex = res.extras
    assert ex["method"] == "deep-min-vol" and len(ex["alphas"]) == 2 and all(a > 0 for a in ex["alphas"])
    for W in ex["W_layers"]:
        np.testing.assert_allclose(W.sum(axis=0), 1.0, atol=1e-8)
    expected = sum(lam * e for lam, e in zip(ex["lambdas"], ex["layer_errors"], strict=True)) + sum(
        a * v for a, v in zip(ex["alphas"], ex["log10det"], strict=True))
    assert res.objective == pytest.approx(expected, rel=1e-10)
    # alpha calibration: alpha~ = alpha e / |log10 det| at the initialisation
    ml = ex["init"]
    Ws0 = [W / W.sum(axis=0) for W in ml.extras["W_layers"]]
    ratio = ex["alphas"][0] * abs(float(log10det(Ws0[0], 1.0, XP))) / ex["initial_errors"][0]
    assert ratio == pytest.approx(0.05, rel=1e-8)


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"ranks": [4, 4]}, "strictly decreasing"),
    ({"ranks": [3, 5]}, "strictly decreasing"),
    ({"ranks": 4}, "sequence"),
    ({"ranks": [100, 2]}, "first rank"),
    ({"ranks": [4, 2], "beta_loss": 0.5}, "supports beta_loss"),
    ({"ranks": [4, 2], "beta_loss": "frobenius", "min_vol": True}, "KL"),
    ({"ranks": [4, 2], "lambdas": [1.0]}, "one value per layer"),
    ({"ranks": [4, 2], "lambdas": [1.0, -1.0]}, "positive"),
    ({"ranks": [4, 2], "normalization": "diag"}, "normalization"),
    ({"ranks": [4, 2], "max_iter": 0}, "max_iter"),
])
def test_bad_parameters_are_named(kwargs, match):
    X = planted_deep(6)[:20, :15]
    with pytest.raises(ValueError, match=match):
        deep_nmf(X, **kwargs)


def test_negative_data_rejected():
    X = -planted_deep(6)
    with pytest.raises(ValueError, match="Negative values"):
        multilayer_nmf(X, [3, 2])


def test_float32_is_kept():
    X = planted_deep(7).astype(np.float32)
    res = deep_nmf(X, [5, 2], max_iter=10, init_iter=10, random_state=0)
    assert all(F.dtype == np.float32 for F in res.extras["W_layers"] + res.extras["H_layers"])
    assert all(np.isfinite(F).all() for F in res.extras["W_layers"])


def test_mu_helpers_are_transposes_of_each_other():
    Y, W, H, _ = problem(12)
    loss = BetaDivergence(1.0)
    np.testing.assert_allclose(mu_right(Y, W, H, loss, BACKEND), mu_left(Y.T, H.T, W.T, loss, BACKEND).T)


# -- estimator and command line -----------------------------------------------------------------
def test_deepnmf_estimator_gives_every_layers_usage():
    from nmfkit import DeepNMF

    X = planted_deep(8)
    model = DeepNMF([6, 3], max_iter=150, init_iter=150, random_state=0)
    U = model.fit_transform(X)
    assert U.shape == (X.shape[0], 9)
    assert [F.shape for F in model.layer_components_] == [(6, X.shape[1]), (3, X.shape[1])]
    layers = model.transform_layers(X[:20])
    assert [W.shape for W in layers] == [(20, 6), (20, 3)]
    # transform (from a flat start) and fit_transform (polished from the fit) reach the same usages
    np.testing.assert_allclose(model.transform(X[:20]), U[:20], rtol=2e-2, atol=1e-3 * U.max())
    # the fitted usages are near the optimum of the W-subproblem: the fit's own W's are not improved by much
    fitted = np.hstack(model.W_layers_)
    assert np.abs(fitted - U).max() <= 0.05 * U.max()
    names = model.get_feature_names_out()
    assert len(names) == 9 and names[0] == "deepnmf0"
    np.testing.assert_allclose(model.inverse_transform(U), U[:, :6] @ model.components_)
    with pytest.raises(ValueError, match="needs ranks"):
        DeepNMF().fit(X)


def test_deep_command_writes_every_layer(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")
    from nmfkit.cli import main

    X = planted_deep(9, m=64, n=16)
    path = tmp_path / "x.csv"
    np.savetxt(path, X, delimiter=",")
    out = tmp_path / "out"
    assert main(["deep", str(path), "--ranks", "6,3", "--loss", "kl", "--max-iter", "20", "--init-iter", "20",
                 "--image-shape", "4x4", "--out", str(out), "--quiet"]) == 0
    for name in ("W1.tsv", "H1.tsv", "W2.tsv", "H2.tsv", "features2.tsv", "deep_layers.png", "layer_errors.png"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text()
    assert "Deep layers" in html and "Hoyer" in html
    H2 = np.loadtxt(out / "H2.tsv", skiprows=1, usecols=range(1, 7))
    np.testing.assert_allclose(H2.sum(axis=1), 1.0, atol=1e-6)
    out2 = tmp_path / "out2"
    assert main(["deep", str(path), "--ranks", "6,3", "--min-vol", "--max-iter", "3", "--init-iter", "20",
                 "--out", str(out2), "--quiet"]) == 0
    assert "log10 det" in (out2 / "report.html").read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["--ranks", "6,6"], "strictly decreasing"),
    (["--ranks", "six"], "comma-separated integers"),
    (["--ranks", "6,3", "--image-shape", "3x3"], "pixels"),
    (["--ranks", "6,3", "--loss", "fro", "--min-vol"], "KL"),
])
def test_deep_command_errors_are_one_line(tmp_path, capsys, argv, message):
    from nmfkit.cli import main

    path = tmp_path / "x.csv"
    np.savetxt(path, planted_deep(9, m=64, n=16), delimiter=",")
    assert main(["deep", str(path), *argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nmfkit: error:") and message in err and "\n" not in err
    assert not (tmp_path / "o").exists()


def test_paper_variants_last_layer_and_update_order():
    Y, *_ = problem(13, m=40, n=30, r=6)
    res = deep_nmf(Y, [6, 3], 1, last_layer="paper", max_iter=40, init_iter=30, random_state=0)
    obj = np.array([h.objective for h in res.history])
    assert np.all(np.diff(obj) <= 1e-9 * obj[0])
    for H in res.extras["H_layers"]:
        np.testing.assert_allclose(H.sum(axis=1), 1.0, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mv = deep_nmf(Y, [6, 3], min_vol=True, order="paper", exact_prox=True, max_iter=5, init_iter=30,
                      random_state=0, admm_max_iter=30)
    for W in mv.extras["W_layers"]:
        np.testing.assert_allclose(W.sum(axis=0), 1.0, atol=1e-8)


@pytest.mark.parametrize("alpha", [1.0, 100.0])
def test_minvol_last_layer_descends_on_what_it_minimises(alpha):
    # the MM minimises D_KL + alpha * ln det(W^T W + delta I) (natural log; the reported objective uses log10
    # and the layer weights, as in the reference code, so only this form is monotone)
    rng = np.random.default_rng(14)
    X = rng.random((40, 3)) @ rng.random((3, 120))
    W = rng.random((40, 3))
    W, H, mu = W / W.sum(axis=0), rng.random((3, 120)) * 5, np.zeros(3)
    loss = BetaDivergence(1.0)

    def f(W, H):
        return D(loss, X, W, H) + alpha * np.linalg.slogdet(W.T @ W + np.eye(3))[1]

    values = [f(W, H)]
    for _ in range(40):
        W, mu, _ = minvol_last(X, W, H, alpha, 1.0, mu, loss, BACKEND, tol=1e-14, max_iter=1000)
        values.append(f(W, H))
        H = mu_right(X, W, H, loss, BACKEND)
        values.append(f(W, H))
    assert np.all(np.diff(values) <= 1e-9 * abs(values[0]))


# -- the data-centric loss (eq. 3) ----------------------------------------------------------------
@pytest.mark.parametrize("beta", BETAS)
def test_data_centric_h_terms_are_the_split_gradient(beta):
    """den - num is the gradient of D(X | A H B) in H (finite differences)."""
    from nmfkit.methods.deep.datacentric import h_terms

    rng = np.random.default_rng(1)
    X, A, H, B = rng.random((9, 7)) + 0.2, rng.random((9, 3)) + 0.1, rng.random((3, 4)) + 0.1, rng.random((4, 7))
    loss = BetaDivergence(beta)
    num, den = h_terms(X, X.T, A, H, B, loss, BACKEND)
    value = lambda Hx: float(loss.value(X, A, Hx @ B, backend=BACKEND))  # noqa: E731
    fd = np.zeros_like(H)
    for idx in np.ndindex(H.shape):
        up, down = H.copy(), H.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        fd[idx] = (value(up) - value(down)) / 2e-6
    np.testing.assert_allclose(den - num, fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("beta", BETAS)
def test_data_centric_objective_never_increases_and_rows_of_H_sum_to_one(beta):
    from nmfkit.methods.deep.datacentric import products

    rng = np.random.default_rng(0)
    X = rng.poisson(3.0, (40, 30)).astype(float) + 0.1
    result = deep_nmf(X, [6, 3, 2], beta_loss=beta, model="data-centric", max_iter=40, random_state=0)
    values = np.array([h.objective for h in result.history])
    assert np.all(np.diff(values) <= 1e-12 * values[0])
    assert values[-1] < values[0]
    Ws, Hs = result.extras["W_layers"], result.extras["H_layers"]
    for H in Hs:
        np.testing.assert_allclose(H.sum(axis=1), 1.0, rtol=1e-12)
    loss = BetaDivergence(beta)
    direct = [float(loss.value(X, W, products(Hs, 0, i + 1), backend=BACKEND)) for i, W in enumerate(Ws)]
    np.testing.assert_allclose(result.extras["layer_errors"], direct, rtol=1e-12)
    weighted = sum(lam * e for lam, e in zip(result.extras["lambdas"], direct, strict=True))
    assert result.objective == pytest.approx(weighted, rel=1e-12)


def test_data_centric_refuses_what_it_does_not_define():
    X = np.random.default_rng(0).random((20, 15)) + 0.1
    with pytest.raises(ValueError, match="data-centric"):
        deep_nmf(X, [4, 2], model="data-centric", min_vol=True)
    with pytest.raises(ValueError, match="model"):
        deep_nmf(X, [4, 2], model="centric")
