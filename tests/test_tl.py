"""nmfkit.tl and nmfkit.pl: NMF of AnnData objects, stored in scanpy's conventions."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

anndata = pytest.importorskip("anndata", reason="anndata is missing: pip install '.[anndata]'")

import nmfkit  # noqa: E402
import nmfkit.tl as tl  # noqa: E402
from nmfkit import datasets  # noqa: E402

SUMMARY = {"params", "n_iter", "converged", "stop_reason", "objective", "history", "genes_used", "programs"}


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _check_stored(adata, key, k, n_genes_used):
    n, g = adata.shape
    W, C = adata.obsm[f"X_{key}"], adata.varm[f"{key.upper()}_components"]
    assert W.shape == (n, k) and C.shape == (g, k)
    assert np.all(W >= 0) and np.all(C >= 0)
    info = adata.uns[key]
    assert SUMMARY <= set(info)
    assert info["genes_used"].shape == (g,) and int(info["genes_used"].sum()) == n_genes_used
    assert np.all(C[~info["genes_used"]] == 0)  # genes left out are padded with zeros
    assert list(info["programs"]) == [f"{key}_{i}" for i in range(1, k + 1)]
    assert info["params"]["n_components"] == k
    assert info["history"].ndim == 2 and info["history"].shape[1] == 3
    if len(info["history"]):  # iterative fits (a consensus has none)
        assert info["history"][-1, 0] == info["n_iter"]
        assert info["history"][-1, 1] == pytest.approx(info["objective"])


@pytest.fixture
def pbmc(data_dir):
    path = data_dir / "scrna" / "pbmc68k_reduced.h5ad"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return _quiet(anndata.read_h5ad, path)


def test_pbmc68k_raw_log_normalized(pbmc, tmp_path):
    """pbmc68k_reduced: X is scaled (negative), raw.X log-normalized; fit raw, store, round-trip through h5ad."""
    before = set(pbmc.obsm), set(pbmc.varm)
    with pytest.raises(ValueError, match=r"adata.X has negative values .*use_raw=True"):
        tl.nmf(pbmc, 6)
    assert (set(pbmc.obsm), set(pbmc.varm)) == before  # nothing written on failure
    _quiet(tl.nmf, pbmc, 8, use_raw=True, max_iter=400, tol=1e-5)
    _check_stored(pbmc, "nmf", 8, pbmc.n_vars)
    info = pbmc.uns["nmf"]
    assert info["params"]["data"] == "adata.raw.X" and info["params"]["beta_loss"] == 2.0
    assert info["loss_value"] == pytest.approx(info["objective"])  # no penalties: the objective is the loss
    # the stored factors are the fit's: same as nmfkit.nmf on raw.X with the same seed
    ref = _quiet(nmfkit.nmf, pbmc.raw.X, 8, max_iter=400, tol=1e-5, random_state=0)
    np.testing.assert_allclose(pbmc.obsm["X_nmf"], ref.W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(pbmc.varm["NMF_components"], ref.H.T, rtol=1e-10, atol=1e-12)
    # programs are known PBMC populations: monocyte (LYZ), NK (GNLY/NKG7) and B/plasma (IGJ/CD79A) genes lead
    top = tl.top_genes(pbmc, n_genes=3)
    assert top.shape == (3, 8) and list(top.columns) == list(info["programs"])
    leaders = set(top.iloc[0])
    assert "LYZ" in leaders and leaders & {"GNLY", "NKG7"}
    pbmc.write_h5ad(tmp_path / "fit.h5ad")
    back = _quiet(anndata.read_h5ad, tmp_path / "fit.h5ad")
    _check_stored(back, "nmf", 8, pbmc.n_vars)
    np.testing.assert_array_equal(back.obsm["X_nmf"], pbmc.obsm["X_nmf"])
    assert back.uns["nmf"]["stop_reason"] == info["stop_reason"]


def test_gene_subset_and_copy(pbmc):
    hvg = np.asarray(pbmc.var["highly_variable"])
    out = _quiet(tl.nmf, pbmc, 5, use_raw=True, genes="highly_variable", key_added="hvg", copy=True, max_iter=50)
    assert "X_hvg" not in pbmc.obsm and "X_hvg" in out.obsm  # copy=True leaves the input alone
    _check_stored(out, "hvg", 5, int(hvg.sum()))
    assert out.uns["hvg"]["params"]["genes"] == "highly_variable"
    names = list(pbmc.var_names[:40])
    out = _quiet(tl.nmf, pbmc, 3, use_raw=True, genes=names, copy=True, max_iter=20)
    _check_stored(out, "nmf", 3, 40)
    with pytest.raises(KeyError, match="not a column of adata.var"):
        tl.nmf(pbmc, 3, use_raw=True, genes="nope")
    with pytest.raises(KeyError, match="no layer 'counts'"):
        tl.nmf(pbmc, 3, layer="counts")
    with pytest.raises(TypeError, match="takes an AnnData"):
        tl.nmf(np.ones((3, 3)), 1)


def test_mouse_counts_sparse_kl(data_dir):
    """The 10x mouse counts (10 000 cells x 1000 genes, CSR) as sparse AnnData, fitted with KL."""
    ds = datasets.load_mouse_10k(data_dir)
    adata = anndata.AnnData(sp.csr_matrix(ds.X, dtype=np.float32))
    adata.var_names = ds.feature_names
    _quiet(tl.nmf, adata, 10, beta_loss="kullback-leibler", max_iter=60, tol=1e-4)
    assert sp.issparse(adata.X)
    _check_stored(adata, "nmf", 10, 1000)
    assert adata.obsm["X_nmf"].dtype == np.float32  # float32 kept
    ref = _quiet(nmfkit.nmf, sp.csr_matrix(ds.X, dtype=np.float32), 10, beta_loss="kullback-leibler",
                 max_iter=60, tol=1e-4, random_state=0)
    np.testing.assert_allclose(adata.obsm["X_nmf"], ref.W, rtol=1e-5)
    assert adata.uns["nmf"]["params"]["beta_loss"] == 1.0
    assert adata.uns["nmf"]["loss_value"] == pytest.approx(ref.extras["loss_value"], rel=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_backed_anndata(tmp_path, sparse):
    rng = np.random.default_rng(0)
    X = rng.poisson(1.0, (120, 30)).astype(np.float64)
    X[:, 0] += 1
    a = anndata.AnnData(sp.csr_matrix(X) if sparse else X)
    a.layers["counts"] = a.X.copy()
    a.write_h5ad(tmp_path / "a.h5ad")
    backed = anndata.read_h5ad(tmp_path / "a.h5ad", backed="r")
    _quiet(tl.nmf, backed, 4, beta_loss=1, max_iter=30)
    same = sp.csr_matrix(X) if sparse else X  # same input type, same start
    ref = _quiet(nmfkit.nmf, same, 4, beta_loss=1, max_iter=30, random_state=0)
    np.testing.assert_allclose(backed.obsm["X_nmf"], ref.W, rtol=1e-10, atol=1e-12)
    _check_stored(backed, "nmf", 4, 30)
    _quiet(tl.nmf, backed, 4, layer="counts", key_added="layer", max_iter=30)
    ref = _quiet(nmfkit.nmf, same, 4, max_iter=30, random_state=0)
    np.testing.assert_allclose(backed.obsm["X_layer"], ref.W, rtol=1e-10, atol=1e-12)
    backed.file.close()


def test_consensus_and_persistent(pbmc):
    small = pbmc[:150].copy()
    _quiet(tl.consensus, small, 4, n_runs=4, use_raw=True, max_iter=100)
    _check_stored(small, "cnmf", 4, small.n_vars)
    info = small.uns["cnmf"]
    assert info["n_runs"] == 4 and info["component_silhouette"].shape == (4,) and -1 <= info["stability"] <= 1
    programs = small.varm["CNMF_components"]
    assert programs.dtype == small.X.dtype  # float32 data, float32 programs
    np.testing.assert_allclose(programs.sum(axis=0), 1.0, rtol=4 * np.finfo(programs.dtype).eps * programs.shape[0])
    _quiet(tl.persistent, small, 5, use_raw=True, max_scales=3, n_sweeps=2)
    _check_stored(small, "pnmf", 5, small.n_vars)
    T = small.uns["pnmf"]["n_scales"]
    assert T == 3 and small.uns["pnmf"]["scales"].shape == (T,)
    for t in range(T):
        assert small.obsm[f"X_pnmf_scale{t}"].shape == (150, 5)
    np.testing.assert_array_equal(small.obsm["X_pnmf_scale0"], small.obsm["X_pnmf"])  # the finest scale


def test_top_genes_long_table():
    rng = np.random.default_rng(1)
    a = anndata.AnnData(rng.random((40, 12)))
    a.var_names = [f"g{i}" for i in range(12)]
    _quiet(tl.nmf, a, 3, max_iter=50)
    long = tl.top_genes(a, n_genes=4, loadings=True)
    assert list(long.columns) == ["program", "rank", "gene", "loading"] and len(long) == 12
    C = a.varm["NMF_components"]
    for _, row in long.iterrows():
        j = int(row["program"].split("_")[1]) - 1
        assert row["loading"] == C[list(a.var_names).index(row["gene"]), j]
        assert (C[:, j] > row["loading"]).sum() == row["rank"] - 1  # rank r: r - 1 genes load more
    with pytest.raises(KeyError, match="run nmfkit.tl.nmf"):
        tl.top_genes(a, key="other")


def test_plots_follow_scanpy(pbmc):
    pytest.importorskip("scanpy", reason="scanpy is missing: pip install '.[scanpy]'")
    import matplotlib

    matplotlib.use("Agg")
    import nmfkit.pl as pl

    _quiet(tl.nmf, pbmc, 4, use_raw=True, max_iter=50)
    obs, obsm = list(pbmc.obs.columns), set(pbmc.obsm)
    axes = _quiet(pl.usage, pbmc, basis="umap", show=False)
    assert len(axes) == 4 and [ax.get_title() for ax in axes] == ["nmf_1", "nmf_2", "nmf_3", "nmf_4"]
    axes = _quiet(pl.usage, pbmc, programs=["nmf_2", 3], show=False)
    assert [ax.get_title() for ax in axes] == ["nmf_2", "nmf_3"]
    _quiet(pl.top_genes, pbmc, programs=[1, 2], n_genes=5, show=False)
    fig = matplotlib.pyplot.gcf()
    labels = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert set(tl.top_genes(pbmc, n_genes=5)["nmf_1"]) <= labels  # program 1's top genes are drawn
    assert list(pbmc.obs.columns) == obs and set(pbmc.obsm) == obsm  # the plots leave adata unchanged
    with pytest.raises(KeyError, match="X_tsne"):
        pl.usage(pbmc, basis="tsne")
    with pytest.raises(ValueError, match="numbered 1 to 4"):
        pl.usage(pbmc, programs=[5])
    matplotlib.pyplot.close("all")
