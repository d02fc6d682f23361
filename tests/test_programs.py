"""cNMF's program outputs against their definitions: TPM, programs in TPM units, z-scored gene scores."""

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit._validation import InvalidInputError
from nmfkit.selection import gene_scores, scale_genes, tpm, tpm_programs, variable_genes


def planted(n=60, genes=40, k=3, seed=0):
    rng = np.random.default_rng(seed)
    U = rng.random((n, k)) + 0.05
    S = rng.random((k, genes)) * (rng.random((k, genes)) < 0.6)
    return U, S


def test_tpm_rows_sum_to_a_million_and_sparse_stays_sparse():
    C = np.random.default_rng(1).poisson(2.0, (20, 30)) + np.eye(20, 30, dtype=int)
    T = tpm(C)
    np.testing.assert_allclose(T.sum(axis=1), 1e6)
    Ts = tpm(sp.csr_matrix(C))
    assert sp.issparse(Ts)
    np.testing.assert_allclose(Ts.toarray(), T)
    with pytest.raises(InvalidInputError, match="no counts"):
        tpm(np.vstack([C, np.zeros(30)]))


def test_tpm_programs_recover_planted_spectra():
    U, S = planted()
    Un = U / U.sum(axis=1, keepdims=True)
    T = Un @ S  # exactly a mixture of the programs with usages summing to one per cell
    P = tpm_programs(U * 7.0, T)  # the usages' scale does not matter: they are normalised per cell
    np.testing.assert_allclose(P, S, rtol=1e-8, atol=1e-10)
    assert P.min() >= 0
    N = tpm_programs(U, sp.csr_matrix(T), normalize=True)  # sparse TPM, each program scaled to 10^6
    np.testing.assert_allclose(N, S / S.sum(axis=1, keepdims=True) * 1e6, rtol=1e-8, atol=1e-6)


def test_tpm_programs_is_the_nonnegative_least_squares_fit():
    rng = np.random.default_rng(3)
    U, S = planted(seed=3)
    T = U / U.sum(axis=1, keepdims=True) @ S + 0.05 * rng.random((60, 40))
    P = tpm_programs(U, T)
    Un = U / U.sum(axis=1, keepdims=True)
    from scipy.optimize import nnls

    Sfit = np.column_stack([nnls(Un, T[:, j])[0] for j in range(T.shape[1])])
    np.testing.assert_allclose(P, Sfit, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(tpm_programs(U, sp.csr_matrix(T)), P, rtol=1e-10, atol=1e-12)


def test_gene_scores_regress_z_scored_tpm_on_usages():
    rng = np.random.default_rng(4)
    U, _ = planted(seed=4)
    T = rng.random((60, 25)) * 100
    T[:, 5] = 3.0  # a gene that never varies scores zero
    B = gene_scores(U, sp.csr_matrix(T))
    Z = (T - T.mean(axis=0)) / np.where(T.std(axis=0) > 0, T.std(axis=0), 1.0)
    Z[:, 5] = 0.0
    coef, *_ = np.linalg.lstsq(U, Z, rcond=None)
    np.testing.assert_allclose(B, coef, atol=1e-10)
    assert np.all(B[:, 5] == 0)
    # scaling a program's usage by c divides its scores by c and leaves the others alone
    D = np.diag([2.0, 1.0, 0.5])
    np.testing.assert_allclose(gene_scores(U @ D, T), np.linalg.inv(D) @ B, atol=1e-10)


def test_usages_are_validated():
    with pytest.raises(InvalidInputError, match="shape"):
        gene_scores(np.ones((5, 2)), np.ones((6, 3)))
    with pytest.raises(InvalidInputError, match="non-negative"):
        tpm_programs(-np.ones((6, 2)), np.ones((6, 3)))


def overdispersed_counts(seed=0, cells=400, genes=300, noisy=30):
    """Poisson genes plus ``noisy`` genes with cell-to-cell gamma noise (negative binomial, over-dispersed)."""
    rng = np.random.default_rng(seed)
    mu = rng.lognormal(0.5, 1.0, genes)
    rate = np.tile(mu, (cells, 1))
    rate[:, :noisy] *= rng.gamma(0.5, 2.0, (cells, noisy))  # mean 1, variance 2: Fano grows with the mean
    return rng.poisson(rate), noisy


def test_variable_genes_find_the_overdispersed_ones():
    C, noisy = overdispersed_counts()
    T = tpm(C)
    out = variable_genes(T, n_genes=noisy)
    assert out["mask"].sum() == noisy
    assert np.mean(out["order"] < noisy) >= 0.9  # nearly all selected genes are the planted over-dispersed ones
    # sparse input gives the same choice
    assert np.array_equal(variable_genes(sp.csr_matrix(T), n_genes=noisy)["order"], out["order"])


def test_variable_genes_follow_the_expected_fano_definition():
    rng = np.random.default_rng(2)
    T = rng.gamma(2.0, 1.0, (50, 60)) * rng.lognormal(0, 1, 60)
    out = variable_genes(T, n_genes=10)
    m, v = T.mean(axis=0), T.var(axis=0)
    f = v / m
    top = np.argsort(-m)[:20]
    A = np.min(np.sqrt(v[top]) / m[top])
    lo_m, hi_m = np.quantile(m, [0.1, 0.9])
    lo_f, hi_f = np.quantile(f, [0.1, 0.9])
    box = (f > lo_f) & (f < hi_f) & (m > lo_m) & (m < hi_m)
    B2 = np.median(f[box])
    ratio = f / (A**2 * m + B2)
    assert out["A"] == pytest.approx(A) and out["B"] ** 2 == pytest.approx(B2)
    np.testing.assert_allclose(out["fano_ratio"], ratio)
    assert set(out["order"]) == set(np.argsort(-ratio)[:10])


def test_scale_genes_gives_unit_sample_variance_and_keeps_zeros():
    C, _ = overdispersed_counts(seed=5)
    C[:, 7] = 0
    C[0, 7] = 4  # a gene with a single count still scales; a constant gene is left alone
    C[:, 8] = 3
    keep = np.arange(20)
    S = scale_genes(C, keep)
    sd = S.std(axis=0, ddof=1)
    np.testing.assert_allclose(np.delete(sd, 8), 1.0)
    np.testing.assert_array_equal(S[:, 8], 3.0)
    assert np.all((S == 0) == (C[:, keep] == 0))
    Ss = scale_genes(sp.csr_matrix(C), keep)
    assert sp.issparse(Ss)
    np.testing.assert_allclose(Ss.toarray(), S)


def test_tl_gene_programs_runs_the_cnmf_workflow_and_recovers_planted_programs():
    anndata = pytest.importorskip("anndata")
    from nmfkit import tl
    from nmfkit.metrics import match_components

    rng = np.random.default_rng(7)
    cells, genes, k = 300, 150, 3
    labels = np.repeat(np.arange(k), cells // k)
    U = 0.1 * rng.random((cells, k))
    U[np.arange(cells), labels] += 1.0  # each cell mostly one program
    S = rng.gamma(0.3, 1.0, (k, genes)) * (rng.random((k, genes)) < 0.5) + 1e-3
    S /= S.sum(axis=1, keepdims=True)
    depth = rng.integers(2000, 5000, cells)[:, None]
    counts = rng.poisson(depth * (U / U.sum(axis=1, keepdims=True)) @ S)
    adata = anndata.AnnData(sp.csr_matrix(counts.astype(np.float32)))
    tl.gene_programs(adata, ranks=[2, 3, 4], n_runs=6, n_genes=100, random_state=0)
    info = adata.uns["programs"]
    sel = info["k_selection"]
    assert list(sel["ranks"]) == [2, 3, 4] and len(sel["stability"]) == 3 and len(sel["prediction_error"]) == 3
    assert info["n_components"] == [2, 3, 4][int(np.argmax(sel["stability"]))]  # the default: highest stability
    assert np.all(np.diff(sel["prediction_error"]) < 0)  # more programs, smaller error
    tl.gene_programs(adata, ranks=[2, 3, 4], n_components=3, n_runs=6, n_genes=100, random_state=0)
    W = adata.obsm["X_programs"]
    assert W.shape == (cells, 3) and adata.varm["PROGRAMS_tpm"].shape == (genes, 3)
    assert adata.varm["PROGRAMS_scores"].shape == (genes, 3) and adata.var["programs_variable"].sum() == 100
    # the programs in TPM units are the planted ones (every gene, not only the variable ones)
    P = adata.varm["PROGRAMS_tpm"].T
    m = match_components(S.T, P.T)
    assert m["min_cosine"] > 0.95
    # the stored outputs are those of the pure workflow; the gene scores agree with their definition on the
    # consensus usages (cnmf scores before its final usage refit)
    from nmfkit.selection import gene_programs

    gp = gene_programs(adata.X, ranks=[2, 3, 4], n_components=3, n_runs=6, n_genes=100, random_state=0)
    np.testing.assert_allclose(W, gp.usages)
    np.testing.assert_allclose(adata.varm["PROGRAMS_scores"].T, gp.scores)
    np.testing.assert_allclose(gp.scores, gene_scores(gp.consensus.W, tpm(adata.X).toarray()), atol=1e-8)
    # the replicate programs behind the consensus: every run's k programs, clustered or filtered out
    rep = adata.uns["programs"]["replicates"]
    assert rep["components"].shape == (6 * 3, 100)
    kept = rep["labels"] >= 0
    assert kept.mean() == pytest.approx(adata.uns["programs"]["kept"])
    assert np.array_equal(~kept, rep["local_density"] > rep["density_threshold"])
    assert set(rep["labels"][kept]) == {0, 1, 2}
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from nmfkit import pl

    fig = pl.clustergram(adata)
    assert fig.axes[1].images[0].get_array().shape == (int(kept.sum()), int(kept.sum()))
    with pytest.raises(InvalidInputError, match="not among ranks"):
        tl.gene_programs(adata, ranks=[2, 3], n_components=5)


def test_k_selection_plot_draws_the_stored_table(tmp_path):
    anndata = pytest.importorskip("anndata")
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from nmfkit import pl

    adata = anndata.AnnData(np.ones((3, 2)))
    adata.uns["programs"] = {"n_components": 3, "k_selection": {
        "ranks": np.array([2, 3, 4]), "stability": np.array([0.5, 0.9, 0.7]),
        "prediction_error": np.array([30.0, 20.0, 15.0])}}
    ax, err = pl.k_selection(adata, save=str(tmp_path / "k.png"))
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [0.5, 0.9, 0.7])
    np.testing.assert_array_equal(err.lines[0].get_ydata(), [30.0, 20.0, 15.0])
    assert (tmp_path / "k.png").stat().st_size > 0
    with pytest.raises(KeyError, match="gene_programs"):
        pl.k_selection(anndata.AnnData(np.ones((3, 2))))


def test_an_interrupted_survey_resumes_to_the_same_result(tmp_path, monkeypatch):
    anndata = pytest.importorskip("anndata")
    from nmfkit import tl
    from nmfkit.selection import components

    rng = np.random.default_rng(11)
    counts = rng.poisson(rng.gamma(0.5, 4.0, (1, 80)) * rng.gamma(2.0, 1.0, (120, 1)) + rng.random((120, 80)))
    counts[:, 0] += 1
    base = anndata.AnnData(counts.astype(float))
    ckpt = tmp_path / "survey"
    fresh = tl.gene_programs(base, ranks=[2, 3, 4], n_runs=4, n_genes=40, copy=True)

    calls = []
    real = components.consensus_of

    def interrupted(X, k, *args, **kwargs):  # the survey dies while fitting rank 4
        calls.append(k)
        if k == 4:
            raise KeyboardInterrupt
        return real(X, k, *args, **kwargs)

    monkeypatch.setattr(components, "consensus_of", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tl.gene_programs(base, ranks=[2, 3, 4], n_runs=4, n_genes=40, checkpoint=ckpt, copy=True)
    assert sorted(p.name for p in ckpt.iterdir()) == ["rank_2.npz", "rank_3.npz"]  # no half-written file
    calls.clear()
    monkeypatch.setattr(components, "consensus_of", lambda X, k, *a, **kw: (calls.append(k), real(X, k, *a, **kw))[1])
    resumed = tl.gene_programs(base, ranks=[2, 3, 4], n_runs=4, n_genes=40, checkpoint=ckpt, copy=True)
    assert calls == [4]  # only the unfinished rank was fitted again
    for name in ("stability", "prediction_error"):
        got, want = (a.uns["programs"]["k_selection"][name] for a in (resumed, fresh))
        np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(resumed.obsm["X_programs"], fresh.obsm["X_programs"])
    np.testing.assert_allclose(resumed.varm["PROGRAMS_scores"], fresh.varm["PROGRAMS_scores"])
    with pytest.raises(InvalidInputError, match="n_runs"):
        tl.gene_programs(base, ranks=[2, 3], n_runs=5, n_genes=40, checkpoint=ckpt, copy=True)


def planted_counts(cells=240, genes=90, k=3, seed=5):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(k), cells // k)
    U = 0.1 * rng.random((cells, k))
    U[np.arange(cells), labels] += 1.0
    S = rng.gamma(0.3, 1.0, (k, genes)) * (rng.random((k, genes)) < 0.5) + 1e-3
    S /= S.sum(axis=1, keepdims=True)
    depth = rng.integers(1500, 4000, cells)[:, None]
    return rng.poisson(depth * (U / U.sum(axis=1, keepdims=True)) @ S).astype(float)


def test_gene_programs_outputs_follow_their_definitions():
    from scipy.optimize import nnls
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from nmfkit.selection import gene_programs

    C = planted_counts()
    gp = gene_programs(sp.csr_matrix(C), [2, 3, 4], n_runs=5, n_genes=60, random_state=1)
    T = tpm(C)
    genes = variable_genes(T, 60)["mask"]
    Xn = scale_genes(C, genes)
    assert np.array_equal(gp.genes, genes)
    for i, k in enumerate(gp.ranks):
        ex = gp.fits[k].extras
        P = np.asarray(ex["replicate_components"])
        assert P.shape == (5 * k, 60)
        np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0)
        # k-selection stability: silhouette of every replicate program (no density filter) in k k-means clusters
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(P)
        assert gp.stability[i] == pytest.approx(silhouette_score(P, labels), abs=1e-9)
        # prediction error: usages refitted by NNLS to the clusters' medians (unit sums), on the scaled counts
        H = np.vstack([np.median(P[labels == g], axis=0) for g in range(k)])
        H /= H.sum(axis=1, keepdims=True)
        Wref = np.vstack([nnls(H.T, x)[0] for x in Xn])
        assert gp.prediction_error[i] == pytest.approx(np.sum((Xn - Wref @ H) ** 2), rel=1e-6)
        # density filter: a program is kept when its mean distance to its round(0.3 * runs) nearest is <= 0.5
        D = np.linalg.norm(P[:, None] - P[None], axis=2)
        np.fill_diagonal(D, np.inf)
        density = np.sort(D, axis=1)[:, :2].mean(axis=1)
        np.testing.assert_allclose(ex["local_density"], density, atol=1e-7)
        assert np.array_equal(np.asarray(ex["replicate_labels"]) >= 0, density <= 0.5)
    assert gp.n_components == gp.ranks[int(np.argmax(gp.stability))]
    # the consensus usages are exact NNLS against the consensus programs, ordered by total usage
    W, H = np.asarray(gp.consensus.W), gp.spectra
    np.testing.assert_allclose(W, np.vstack([nnls(H.T, x)[0] for x in Xn]), rtol=1e-6, atol=1e-8)
    share = (W / W.sum(axis=1, keepdims=True)).sum(axis=0)
    assert np.all(np.diff(share) <= 0)
    np.testing.assert_allclose(H.sum(axis=1), 1.0)
    # TPM programs and gene scores from the consensus usages; final usages as cnmf's last refit
    np.testing.assert_allclose(gp.tpm, tpm_programs(W, T), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(gp.scores, gene_scores(W, T), atol=1e-8)
    sd0 = T[:, genes].std(axis=0)
    sd1 = T[:, genes].std(axis=0, ddof=1)
    S = gp.tpm[:, genes] / sd0
    final = np.vstack([nnls(S.T, x)[0] for x in T[:, genes] / sd1])
    np.testing.assert_allclose(gp.usages, final, rtol=1e-6, atol=1e-8 * final.max())
    # dense input gives the same programs
    gd = gene_programs(C, [2, 3, 4], n_runs=5, n_genes=60, random_state=1)
    np.testing.assert_allclose(gd.scores, gp.scores, rtol=1e-6, atol=1e-8)
    assert gd.n_components == gp.n_components
    # another seed, other replicates
    other = gene_programs(C, [3], n_runs=5, n_genes=60, random_state=2)
    assert not np.allclose(other.fits[3].extras["replicate_components"], gp.fits[3].extras["replicate_components"])


def test_gene_programs_refuses_what_it_cannot_use():
    from nmfkit.selection import gene_programs

    C = planted_counts()
    with pytest.raises(InvalidInputError, match="not among ranks"):
        gene_programs(C, [2, 3], n_components=4)
    with pytest.raises(InvalidInputError, match="ranks must be positive"):
        gene_programs(C, [0, 2])
    with pytest.raises(InvalidInputError, match="n_runs"):
        gene_programs(C, [2], n_runs=1)
    with pytest.raises(InvalidInputError, match="no counts"):
        gene_programs(np.vstack([C, np.zeros(C.shape[1])]), [2])
    with pytest.raises(InvalidInputError, match="n_jobs"):
        gene_programs(C, [2], n_jobs=0)


def test_programs_command_writes_every_output_and_resumes(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from nmfkit.cli import main

    C = planted_counts()
    path = tmp_path / "counts.csv"
    np.savetxt(path, C, delimiter=",", fmt="%d")
    out = tmp_path / "res"
    args = [str(path), "--ranks", "2:4", "--runs", "4", "--genes", "60", "--out", str(out), "--quiet"]
    assert main(["programs", *args]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"k_selection.tsv", "k_selection.png", "clustergram.png", "usages.tsv", "usages_raw.tsv",
                     "spectra.tsv", "programs_tpm.tsv", "gene_scores.tsv", "top_genes.tsv", "variable_genes.txt",
                     "summary.json", "report.html"}
    assert not (tmp_path / "res.checkpoint").exists()  # the default checkpoint is removed once the outputs exist
    import json

    summary = json.loads((out / "summary.json").read_text())
    k = summary["n_components"]
    usages = np.loadtxt(out / "usages.tsv", skiprows=1, usecols=range(1, k + 1))
    np.testing.assert_allclose(usages.sum(axis=1), 1.0, atol=1e-8)
    scores = np.loadtxt(out / "gene_scores.tsv", skiprows=1, usecols=range(1, k + 1))
    assert scores.shape == (C.shape[1], k)
    assert len((out / "variable_genes.txt").read_text().split()) == 60
    # an explicit checkpoint folder is kept and a second run resumes from it, to the same result
    ckpt = tmp_path / "ck"
    assert main(["programs", *args, "--force", "--checkpoint", str(ckpt), "--rank", "3"]) == 0
    first = (out / "gene_scores.tsv").read_text()
    assert sorted(p.name for p in ckpt.iterdir()) == ["rank_2.npz", "rank_3.npz", "rank_4.npz"]
    args[-1:] = []  # not quiet: say that it resumes
    assert main(["programs", *args, "--force", "--checkpoint", str(ckpt), "--rank", "3"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert (out / "gene_scores.tsv").read_text() == first
    capsys.readouterr()
    assert main(["programs", str(path), "--ranks", "2:x", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--ranks" in err
