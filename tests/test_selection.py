"""Rank selection: the criteria's values on cases with known answers."""

import numpy as np
import pytest

from nmfkit.selection import (
    bicross_validation_error,
    consensus_matrix,
    cophenetic_correlation,
    dispersion,
    knee,
    match_runs,
    permuted,
    replicate_seeds,
    run_replicates,
    select_rank,
    silhouette_stability,
)
from nmfkit.testing import planted, planted_noisy


def test_consensus_of_identical_clusterings_is_binary_with_perfect_scores():
    W = np.array([[1, 0], [2, 0], [0, 1], [0, 3.0]])
    C = consensus_matrix([W, W * 2, W[:, ::-1][:, ::-1]])
    np.testing.assert_array_equal(C, [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
    assert cophenetic_correlation(C) == pytest.approx(1.0)
    assert dispersion(C) == pytest.approx(1.0)


def test_dispersion_and_cophenetic_known_values():
    assert dispersion(np.full((4, 4), 0.5)) == 0.0
    # two runs disagreeing on one sample: C has entries 1, 0.5, 0
    W1 = np.array([[1, 0], [1, 0], [0, 1], [0, 1.0]])
    W2 = np.array([[1, 0], [1, 0], [1, 0], [0, 1.0]])
    C = consensus_matrix([W1, W2])
    expected = np.array([[1, 1, .5, 0], [1, 1, .5, 0], [.5, .5, 1, .5], [0, 0, .5, 1]])
    np.testing.assert_array_equal(C, expected)
    # 16 entries: 10 at 0 or 1 (value 1), 6 at 0.5 (value 0) -> 10 / 16
    assert dispersion(C) == pytest.approx(10 / 16)
    # distances 1 - C (condensed, pairs 01 02 03 12 13 23) = 0, .5, 1, .5, 1, .5; average linkage:
    # {0,1} at 0, then 2 joins at 0.5 (mean of .5, .5), then 3 at mean(1, 1, .5) = 2.5 / 3
    d = np.array([0, .5, 1, .5, 1, .5])
    coph = np.array([0, .5, 2.5 / 3, .5, 2.5 / 3, 2.5 / 3])
    assert cophenetic_correlation(C) == pytest.approx(np.corrcoef(d, coph)[0, 1])
    assert cophenetic_correlation(C) < 1.0


def test_bicross_validation_is_zero_at_the_true_rank_of_an_exact_matrix():
    X, _, _ = planted(40, 30, 3, separable=True, sparsity=0.3, rng=0)
    errors = {k: bicross_validation_error(X, k, random_state=0, tol=1e-10, max_iter=20000) for k in (1, 2, 3)}
    assert errors[3] < 1e-8
    assert errors[1] > errors[2] > 1e3 * errors[3]


def test_replicates_are_reproducible_and_independent_of_jobs():
    assert replicate_seeds(5, 3) == replicate_seeds(5, 3)
    assert len(set(replicate_seeds(5, 10))) == 10
    X, _, _ = planted(20, 15, 2, rng=1)
    a = run_replicates(X, 2, 3, random_state=4, max_iter=50)
    b = run_replicates(X, 2, 3, random_state=4, max_iter=50, n_jobs=2)
    for (Wa, Ha, la), (Wb, Hb, lb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(Ha, Hb)
        assert la == lb


def test_match_runs_and_silhouette():
    rng = np.random.default_rng(0)
    base = rng.random((3, 20)) ** 4  # distinct, fairly sparse profiles
    perms = [rng.permutation(3) for _ in range(6)]
    Hs = [base[p] * rng.uniform(0.5, 2, (3, 1)) + 0.001 * rng.random((3, 20)) for p in perms]
    centroids, assignment = match_runs(Hs)
    group_of_true = {perms[0][i]: assignment[0, i] for i in range(3)}
    for r, p in enumerate(perms):
        for i in range(3):  # component i of run r is base[p[i]]: it must sit with base[p[i]] of run 0
            assert assignment[r, i] == group_of_true[p[i]]
    s = silhouette_stability(Hs)
    assert s["mean"] > 0.9 and s["min_group"] > 0.9
    noisy = [rng.random((3, 20)) for _ in range(6)]
    assert silhouette_stability(noisy)["mean"] < s["mean"]


def test_knee_and_permuted():
    assert knee([1, 2, 3, 4, 5], [10, 3, 2.5, 2.2, 2.0]) == 2
    assert knee([1, 2, 3], [3, 2, 1]) is None
    X = np.arange(12.0).reshape(4, 3)
    P = permuted(X, 0)
    np.testing.assert_array_equal(np.sort(P, axis=0), np.sort(X, axis=0))


def test_select_rank_recommends_the_planted_rank():
    X, _, _ = planted(50, 40, 4, separable=False, sparsity=0.5, rng=3)
    rng = np.random.default_rng(0)
    Xn = np.maximum(X + rng.normal(0, 0.2 * X.std(), X.shape), 0)
    survey = select_rank(Xn, range(2, 7), n_runs=4, random_state=0)
    assert survey.recommended == 4, survey.summary()
    assert set(survey.table) >= {"relative_error", "cophenetic", "dispersion", "silhouette", "bcv_error"}
    assert all(len(v) == 5 for v in survey.table.values())
    assert "rank" in survey.summary()
    pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")
    fig = survey.plot()
    assert len(fig.axes) >= 3
    with pytest.raises(ValueError, match="Unknown criteria"):
        select_rank(Xn, [2, 3], criteria=["magic"])


def test_recommendation_rule_cv_tolerance_and_stability_cap():
    from nmfkit.selection.survey import _recommend

    ranks = [2, 3, 4, 5, 6]
    table = {"bcv_error": [0.5, 0.3, 0.2, 0.196, 0.195], "silhouette_min": [1.0, 1.0, 1.0, 1.0, 0.3]}
    assert _recommend(ranks, table, 0.05)[0] == 4  # 0.2 is within 5 % of 0.195
    assert _recommend(ranks, table, 0.0)[0] == 5  # the minimum 6 is capped: rank 6 is not reproducible
    table["silhouette_min"] = [1.0, 1.0, 0.5, 1.0, 0.3]
    assert _recommend(ranks, table, 0.0)[0] == 5  # the cap is the largest stable rank, not the first unstable one
    rec, why = _recommend(ranks, {"silhouette_min": [1.0, 0.9, 0.2, 0.1, 0.1]})
    assert rec == 3 and "stability" in why[0]


@pytest.mark.parametrize("noise", ["gaussian", "poisson"])
def test_planted_noisy_signal_share(noise):
    X, S = planted_noisy(120, 60, 4, noise=noise, signal_share=0.8, rng=2)
    share = 1 - np.sum((X - S) ** 2) / np.sum((X - X.mean()) ** 2)
    assert X.min() >= 0
    assert np.linalg.matrix_rank(S) == 4
    assert share == pytest.approx(0.8, abs=1e-9 if noise == "gaussian" else 0.02)
    with pytest.raises(ValueError, match="noise"):
        planted_noisy(10, 10, 2, noise="laplace")


@pytest.mark.parametrize(("k", "noise", "share", "seed"), [(3, "gaussian", 0.95, 0), (3, "poisson", 0.8, 1),
                                                           (5, "gaussian", 0.8, 2)])
def test_select_rank_on_the_benchmark_planted_data(k, noise, share, seed):
    """A fast version of benchmarks/selection (planted part): same generator and rule, fewer ranks and runs."""
    X, _ = planted_noisy(200, 100, k, noise=noise, signal_share=share, rng=1000 * k + seed)
    X = X[X.sum(axis=1) > 0][:, X.sum(axis=0) > 0]
    survey = select_rank(X, range(k - 1, k + 3), n_runs=4, random_state=seed, criteria=("error", "silhouette", "bcv"))
    assert survey.recommended == k, survey.summary()


def test_consensus_recovers_planted_components_and_drops_outliers():
    from nmfkit.metrics import match_components
    from nmfkit.selection import consensus

    X, W, H = planted(60, 40, 4, separable=True, sparsity=0.4, rng=5)
    res = consensus(X, 4, n_runs=8, random_state=1, max_iter=500)
    assert res.H.shape == (4, 40) and res.W.shape == (60, 4)
    np.testing.assert_allclose(res.H.sum(axis=1), 1.0)
    assert match_components(H.T, res.H.T)["min_cosine"] > 0.99
    assert 0.5 < res.extras["kept"] <= 1.0 and res.extras["stability"] > 0.8
    # W is the exact NNLS refit for the consensus components
    from nmfkit.solvers import nnls_project
    np.testing.assert_allclose(res.W, nnls_project(X, res.H), atol=1e-10)
    noise = np.random.default_rng(0).random((30, 20))  # no structure: replicates disagree
    with pytest.raises(ValueError, match="density_threshold"):
        consensus(noise, 4, n_runs=3, density_threshold=1e-3, max_iter=100)


@pytest.mark.parametrize("scheme", ["samples", "poisson", "multinomial"])
def test_bootstrap_intervals_cover_the_reference(scheme):
    from nmfkit.selection import bootstrap

    rng = np.random.default_rng(2)
    H = rng.random((3, 25)) ** 3
    W = rng.random((80, 3)) * 50
    X = rng.poisson(W @ H).astype(float)
    out = bootstrap(X, 3, n_boot=12, scheme=scheme, random_state=3, max_iter=300)
    assert out["samples"].shape == (12, 3, 25) and out["cosine"].shape == (12, 3)
    assert np.all(out["lower"] <= out["mean"] + 1e-12) and np.all(out["mean"] <= out["upper"] + 1e-12)
    assert np.median(out["cosine"]) > 0.9
    inside = (out["reference"] >= out["lower"] - 1e-3) & (out["reference"] <= out["upper"] + 1e-3)
    assert inside.mean() > 0.8


def test_rank_and_consensus_commands(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")
    from nmfkit.cli import main

    X, _, _ = planted(40, 30, 3, separable=True, sparsity=0.4, rng=7)
    path = tmp_path / "x.csv"
    np.savetxt(path, X + 0.01, delimiter=",")
    out = tmp_path / "rank"
    assert main(["rank", str(path), "--ranks", "2:4", "--runs", "3", "--out", str(out), "--quiet"]) == 0
    for name in ("rank_survey.tsv", "rank_survey.png", "summary.json", "report.html"):
        assert (out / name).stat().st_size > 0
    import json

    assert json.loads((out / "summary.json").read_text())["recommended"] == 3
    out2 = tmp_path / "cons"
    assert main(["consensus", str(path), "--rank", "3", "--runs", "4", "--out", str(out2), "--quiet"]) == 0
    assert "Consensus" in (out2 / "report.html").read_text() and (out2 / "H.tsv").stat().st_size > 0
    assert main(["rank", str(path), "--ranks", "a:b", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert main(["rank", str(path), "--ranks", "2:3", "--criteria", "vibes", "--out", str(tmp_path / "bad2"),
                 "--quiet"]) == 2
    assert not (tmp_path / "bad").exists() and not (tmp_path / "bad2").exists()


def test_assign_to_reference_recovers_a_planted_mixture():
    from nmfkit.metrics import assign_to_reference

    rng = np.random.default_rng(4)
    R = rng.random((12, 96)) ** 4  # peaky, signature-like profiles
    Y = np.vstack([0.3 * R[2] + 0.7 * R[5], R[9]])
    out = assign_to_reference(Y, R, names=[f"S{i}" for i in range(12)])
    np.testing.assert_allclose(out["cosine"], 1.0, atol=1e-10)
    assert [n for n, _ in out["terms"][0]] == ["S5", "S2"]
    np.testing.assert_allclose([w for _, w in out["terms"][0]], [0.7, 0.3], atol=1e-8)
    assert out["terms"][1] == [("S9", 1.0)]
    assert np.count_nonzero(out["weights"][1]) == 1
    one = assign_to_reference(Y[:1], R, max_components=1)
    assert np.count_nonzero(one["weights"]) == 1 and one["cosine"][0] < 1
    with pytest.raises(ValueError, match="features"):
        assign_to_reference(Y[:, :10], R)


def test_stability_reason_cites_every_rank_that_fails():
    """Issue 19: 'reproducible up to rank 6' beside a table with 0.567 at rank 2 and 0.264 at rank 5."""
    from nmfkit.selection.survey import _recommend

    ranks = [2, 3, 4, 5, 6]
    rec, why = _recommend(ranks, {"silhouette_min": [0.567, 0.91, 0.85, 0.264, 0.83]})
    assert rec == 6
    text = " ".join(why)
    assert "up to rank" not in text
    assert "2 (0.567)" in text and "5 (0.264)" in text and "at ranks 3, 4, 6" in text
    rec, why = _recommend(ranks, {"silhouette_min": [0.5, 0.4, 0.3, 0.2, 0.1], "relative_error": [5, 4, 3, 2, 1]})
    assert "sets no cap" in " ".join(why) and "0.1" in " ".join(why)
