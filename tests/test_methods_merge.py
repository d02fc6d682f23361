"""NMF-Merge and GSVD recovery: the identities of the method spec and the authors' README numbers."""

import itertools

import numpy as np
import pytest
import scipy.linalg

from nmfkit import nmf
from nmfkit.datasets import plateau_example
from nmfkit.initialization import NNDSVD
from nmfkit.methods.merge import gsvd_recover, merge_components, merge_pair, merge_replay, nmf_merge
from nmfkit.solvers import HALS
from nmfkit.stopping import FactorChange


def unit_pair(rng, m=6, n=9):
    w1, w2 = rng.random(m), rng.random(m)
    return w1 / np.linalg.norm(w1), w2 / np.linalg.norm(w2), rng.random(n), rng.random(n)


@pytest.mark.parametrize("seed", range(20))
def test_merged_pair_is_the_best_rank_one_approximation_and_nonnegative(seed):
    rng = np.random.default_rng(seed)
    w1, w2, h1, h2 = unit_pair(rng)
    if seed % 4 == 0:
        h2 = h2 * (rng.random(h2.size) > 0.6)  # sparse rows
    c = w1 @ w2
    p, u1, u2 = merge_pair(c, h1 @ h1, h1 @ h2, h2 @ h2)
    wm, hm = u1 * w1 + u2 * w2, (u1 + u2 * c) * h1 + (u1 * c + u2) * h2
    M = np.outer(w1, h1) + np.outer(w2, h2)
    U, s, Vt = np.linalg.svd(M)
    np.testing.assert_allclose(np.outer(wm, hm), s[0] * np.outer(U[:, 0], Vt[0]), atol=1e-10)
    np.testing.assert_allclose(p, s[1] ** 2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(M - np.outer(wm, hm)) ** 2, p, rtol=1e-9, atol=1e-12)
    assert np.linalg.norm(wm) == pytest.approx(1.0) and wm.min() >= 0 and hm.min() >= 0
    q, _, _ = merge_pair(c, h2 @ h2, h1 @ h2, h1 @ h1)
    assert q == pytest.approx(p)  # symmetric in (p, q)


def test_merge_pair_edge_cases():
    assert merge_pair(0.3, 0.0, 0.0, 2.0) == (0.0, 0.0, 1.0)
    assert merge_pair(0.3, 2.0, 0.0, 0.0) == (0.0, 1.0, 0.0)
    assert merge_pair(0.0, 4.0, 0.0, 1.0) == (1.0, 1.0, 0.0)  # orthogonal w's and h's: min(a, d)
    assert merge_pair(1.0, 4.0, 1.0, 1.0)[0] == pytest.approx(0.0)  # identical w's


def test_penalty_is_the_change_of_the_model():
    rng = np.random.default_rng(1)
    W, H = rng.random((8, 5)), rng.random((5, 10))
    Wm, Hm, seq = merge_components(W, H, 4)
    assert len(seq) == 1 and Wm.shape == (8, 4)
    np.testing.assert_allclose(np.linalg.norm(W @ H - Wm @ Hm) ** 2, seq[0].penalty, rtol=1e-9)
    assert Wm.min() >= 0 and Hm.min() >= 0


def brute_force(W, H, target):
    """At every step try every alive pair explicitly (SVD of the pair's sum) and merge the cheapest."""
    norms = np.linalg.norm(W, axis=0)
    comps = {i: (W[:, i] / norms[i], H[i] * norms[i]) for i in range(W.shape[1])}
    next_id, pairs = W.shape[1], []
    while len(comps) > target:
        best = None
        for i, j in itertools.combinations(sorted(comps), 2):
            M = np.outer(*comps[i]) + np.outer(*comps[j])
            U, s, Vt = np.linalg.svd(M)
            if best is None or s[1] ** 2 < best[0] - 1e-12:
                best = (s[1] ** 2, i, j, U[:, 0] * np.sign(U[:, 0].sum()), s[0] * Vt[0] * np.sign(U[:, 0].sum()))
        _, i, j, w, h = best
        del comps[i], comps[j]
        comps[next_id] = (w, h)
        pairs.append((i, j))
        next_id += 1
    return pairs, sum(np.outer(*v) for v in comps.values())


@pytest.mark.parametrize("seed", range(8))
def test_greedy_sequence_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    W, H = rng.random((7, 6)) ** 2, rng.random((6, 9)) ** 2
    Wm, Hm, seq = merge_components(W, H, 2)
    pairs, model = brute_force(W, H, 2)
    assert [(s.i, s.j) for s in seq] == pairs
    np.testing.assert_allclose(Wm @ Hm, model, atol=1e-9)
    Wr, Hr = merge_replay(W, H, seq)
    np.testing.assert_allclose(Wr @ Hr, Wm @ Hm, atol=1e-12)
    Wp, Hp = merge_replay(W, H, seq, n_components=4)  # a prefix
    assert Wp.shape[1] == 4


def test_zero_columns_are_dropped_before_merging():
    W = np.array([[1.0, 0.0, 2.0], [0.5, 0.0, 1.0]])
    H = np.ones((3, 4))
    Wm, Hm, seq = merge_components(W, H, 2)
    assert Wm.shape[1] == 2 and seq == []


def test_recovery_directions_match_the_generalized_eigenproblem():
    rng = np.random.default_rng(3)
    X = rng.random((30, 5)) @ rng.random((5, 25)) + 0.01 * rng.random((30, 25))
    r0 = 4
    fit = nmf(X, r0, tol=1e-6, max_iter=3000, random_state=0)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    U0, S0, V0 = U[:, :r0], np.diag(s[:r0]), Vt[:r0].T
    B = (U0.T @ fit.W) @ (fit.H @ V0)
    # S0^2 y = Lambda B^T B y  <=>  B^T B y = (1/Lambda) S0^2 y, a symmetric-definite pencil
    mu, Y = scipy.linalg.eigh(B.T @ B, S0 @ S0)
    expected = np.sort(1.0 / mu)[::-1]
    _, _, lam = gsvd_recover(X, fit.W, fit.H, 1, svd=(U, s, Vt))
    np.testing.assert_allclose(lam, expected, rtol=1e-8)
    # the selected direction is the eigenvector of the largest Lambda (smallest mu), up to scale
    Wr, Hr, _ = gsvd_recover(X, fit.W, fit.H, 1, svd=(U, s, Vt))
    M = B / s[:r0]
    _, gamma, Rt = np.linalg.svd(M)
    y = Rt[np.argmin(gamma)] / s[:r0]
    cos = abs(y @ Y[:, 0]) / (np.linalg.norm(y) * np.linalg.norm(Y[:, 0]))
    assert cos == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("n_add", [1, 2, 3])
def test_gsvd_recover_adds_nonnegative_components_without_increasing_the_error(n_add):
    rng = np.random.default_rng(n_add)
    X = rng.random((40, 6)) @ rng.random((6, 30))
    fit = nmf(X, 3, tol=1e-3, max_iter=500, random_state=0)
    W1, H1, lam = gsvd_recover(X, fit.W, fit.H, n_add)
    assert W1.shape == (40, 3 + n_add) and H1.shape == (3 + n_add, 30)
    assert W1.min() >= 0 and H1.min() >= 0 and len(lam) == 3
    before = np.linalg.norm(X - fit.W @ fit.H)
    after = np.linalg.norm(X - W1 @ H1)
    assert after <= before * (1 + 1e-12)


def test_gsvd_recovers_a_planted_missing_component():
    rng = np.random.default_rng(7)
    Wt = rng.random((50, 4)) * (rng.random((50, 4)) > 0.5) + np.eye(50, 4)
    Ht = rng.random((4, 40)) * (rng.random((4, 40)) > 0.5) + np.eye(4, 40)
    X = Wt @ Ht
    W1, H1, lam = gsvd_recover(X, Wt[:, :3], Ht[:3], 1)
    # X holds the missing part much more strongly than W0 H0 in one direction; others are reproduced
    assert lam[0] > 1.5 and np.all(lam[1:] <= 1.0 + 1e-8)
    polished = nmf(X, 4, W=W1, H=H1, solver="hals", stop="factor", tol=1e-10, max_iter=20000)
    assert np.linalg.norm(X - polished.W @ polished.H) / np.linalg.norm(X) < 1e-6


def test_plateau_example_reproduces_the_authors_readme():
    """NMF-Merge README: standard HALS 1.9519e-4, NMF-Merge 5 -> 4 1.0318e-4 (objvalue / ||X||^2)."""
    X, _, _ = plateau_example()
    init = NNDSVD("zero", leading="uniform", ties="positive", svd="full")
    std = nmf(X, 4, solver=HALS(alpha=0.0), init=init, stop=FactorChange(1e-4), max_iter=10**7, extrapolate=False)
    merged = nmf_merge(X, 4, solver=HALS(alpha=0.0), svd="full")
    ratio = lambda r: 0.5 * np.linalg.norm(X - r.W @ r.H) ** 2 / np.sum(X**2)  # noqa: E731
    assert ratio(std) == pytest.approx(1.9519e-4, rel=5e-4)
    assert ratio(merged) == pytest.approx(1.0318e-4, rel=5e-4)
    assert merged.extras["n_extra"] == 1 and len(merged.extras["merge_sequence"]) == 1
    assert set(merged.extras["stage_times"]) >= {"initial", "recovery", "overcomplete", "merge", "final"}


def test_consistency_metrics():
    from nmfkit.metrics import match_components, permutation_consistency, subspace_consistency

    rng = np.random.default_rng(0)
    W = rng.random((20, 4))
    P = np.eye(4)[[2, 0, 3, 1]]
    scaled = (W @ P) * np.array([2.0, 0.5, 3.0, 1.0])
    assert subspace_consistency(W, scaled) == pytest.approx(0.0, abs=1e-20)
    assert permutation_consistency(W, scaled) == pytest.approx(0.0, abs=1e-20)
    assert match_components(W, scaled)["min_cosine"] == pytest.approx(1.0)
    other = rng.random((20, 4))
    assert subspace_consistency(W, other) > 1e-3
    assert permutation_consistency(W, other) > 1e-3
    mixed = W @ (np.eye(4) + 0.3 * np.ones((4, 4)))  # same subspace, not a permutation
    assert subspace_consistency(W, mixed) == pytest.approx(0.0, abs=1e-18)
    assert permutation_consistency(W, mixed) > 1e-3


def test_nmfmerge_estimator_matches_the_function():
    from nmfkit import NMFMerge

    X, _, _ = plateau_example()
    model = NMFMerge(4, solver=HALS(alpha=0.0), svd="full")
    W = model.fit_transform(X)
    ref = nmf_merge(X, 4, solver=HALS(alpha=0.0), svd="full")
    np.testing.assert_array_equal(W, ref.W)
    np.testing.assert_array_equal(model.components_, ref.H)
    assert model.transform(X).shape == (8, 4)


def test_improves_an_existing_solution():
    """'Improve my existing NMF': start the pipeline from a user's (poor) solution."""
    X, _, _ = plateau_example()
    poor = nmf(X, 4, solver="hals", init="random", random_state=3, max_iter=30, stop="fixed")
    better = nmf_merge(X, 4, W=poor.W, H=poor.H, solver="hals")
    assert np.linalg.norm(X - better.W @ better.H) < np.linalg.norm(X - poor.W @ poor.H)


@pytest.mark.parametrize("solver", ["hals", "gcd", "anls-pg", "mu", "anls-bpp"])
def test_every_frobenius_solver_runs_the_pipeline(solver):
    X, _, _ = plateau_example()
    result = nmf_merge(X, 4, solver=solver, max_iter=3000)
    assert result.W.shape == (8, 4) and result.W.min() >= 0
    assert len(result.extras["merge_sequence"]) == 1


def test_merge_command_writes_the_merge_section(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")
    from nmfkit.cli import main

    X, _, _ = plateau_example()
    path = tmp_path / "x.csv"
    np.savetxt(path, X, delimiter=",")
    out = tmp_path / "out"
    assert main(["merge", str(path), "--rank", "4", "--out", str(out), "--quiet"]) == 0
    assert (out / "merge_penalties.png").stat().st_size > 0
    html = (out / "report.html").read_text()
    assert "NMF-Merge" in html and "merge" in (out / "summary.json").read_text()


def test_gsvd_demo_reproduces_the_authors_readme():
    """GSVD-NMF README: standard HALS stuck near 0.1 (0.0999980), GSVD-NMF 9 -> 10 at 1.23e-10."""
    from nmfkit.datasets import gsvd_demo
    from nmfkit.methods import gsvd_nmf
    from nmfkit.metrics import match_components

    X, W, H = gsvd_demo()
    init = NNDSVD("zero", leading="uniform", ties="positive", svd="full")
    std = nmf(X, 10, solver=HALS(alpha=0.0), init=init, stop=FactorChange(1e-4), max_iter=10**6, extrapolate=False)
    rel = lambda r: np.linalg.norm(X - r.W @ r.H) ** 2 / np.linalg.norm(X) ** 2  # noqa: E731
    assert rel(std) == pytest.approx(0.0999980, abs=1e-6)
    g = gsvd_nmf(X, 10, solver=HALS(alpha=0.0), svd="full", tol_intermediate=1e-2)
    assert rel(g) < 1e-8
    assert match_components(W, g.W, H, g.H)["min_cosine"] > 0.9999
    m = nmf_merge(X, 10, solver=HALS(alpha=0.0), svd="full")
    assert rel(m) < 1e-8
