"""Every input format reads, with labels; `nmfkit fit` keeps them in W.tsv and H.tsv."""

import csv
import gzip

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from nmfkit.cli import main
from nmfkit.io import InputError, read_matrix

pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")

ROWS = ["s1", "s2", "s3", "s4", "s5", "s6"]
COLS = ["g1", "g2", "g3", "g4", "g5"]


@pytest.fixture
def values():
    return np.random.default_rng(0).random((6, 5)) + 0.1


def write_delimited(path, values, delimiter, header=True, index=True):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        if header:
            w.writerow(([""] if index else []) + COLS)
        for name, row in zip(ROWS, values, strict=True):
            w.writerow(([name] if index else []) + [f"{v:.17g}" for v in row])


def read_tsv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return rows[0][1:], [r[0] for r in rows[1:]], np.array([[float(v) for v in r[1:]] for r in rows[1:]])


def fit_and_check_labels(tmp_path, path, rows, cols, extra=()):
    out = tmp_path / "out"
    rc = main(["fit", str(path), "--rank", "2", "--out", str(out), "--quiet", *extra])
    assert rc == 0
    comps, samples, W = read_tsv(out / "W.tsv")
    assert samples == rows and comps == ["component_1", "component_2"] and W.shape == (len(rows), 2)
    feats, comp_rows, H = read_tsv(out / "H.tsv")
    assert feats == cols and comp_rows == ["component_1", "component_2"]
    for name in ("summary.json", "convergence.png", "components.png", "report.html"):
        assert (out / name).stat().st_size > 0
    return W, H


@pytest.mark.parametrize(("suffix", "delimiter"), [(".csv", ","), (".tsv", "\t"), (".txt", "\t")])
def test_delimited_with_header_and_index(tmp_path, values, suffix, delimiter):
    path = tmp_path / f"data{suffix}"
    write_delimited(path, values, delimiter)
    m = read_matrix(path)
    np.testing.assert_allclose(m.X, values)
    assert m.row_names == ROWS and m.col_names == COLS
    fit_and_check_labels(tmp_path, path, ROWS, COLS)


def test_delimited_without_header_or_index(tmp_path, values):
    path = tmp_path / "plain.csv"
    write_delimited(path, values, ",", header=False, index=False)
    m = read_matrix(path)
    np.testing.assert_allclose(m.X, values)
    assert m.row_names == [str(i) for i in range(6)] and m.col_names == [str(i) for i in range(5)]


def test_gzipped_csv_and_transpose(tmp_path, values):
    path = tmp_path / "data.csv.gz"
    plain = tmp_path / "plain.csv"
    write_delimited(plain, values, ",")
    path.write_bytes(gzip.compress(plain.read_bytes()))
    m = read_matrix(path, transpose=True)
    np.testing.assert_allclose(m.X, values.T)
    assert m.row_names == COLS and m.col_names == ROWS
    fit_and_check_labels(tmp_path, path, COLS, ROWS, ["--transpose"])


def test_npy(tmp_path, values):
    np.save(tmp_path / "x.npy", values)
    np.testing.assert_allclose(read_matrix(tmp_path / "x.npy").X, values)
    fit_and_check_labels(tmp_path, tmp_path / "x.npy", [str(i) for i in range(6)], [str(i) for i in range(5)])


def test_npz_dense_with_names_and_sparse(tmp_path, values):
    np.savez(tmp_path / "d.npz", X=values, row_names=np.array(ROWS), col_names=np.array(COLS))
    fit_and_check_labels(tmp_path, tmp_path / "d.npz", ROWS, COLS)
    sp.save_npz(tmp_path / "s.npz", sp.csr_matrix(values))
    m = read_matrix(tmp_path / "s.npz")
    assert sp.issparse(m.X)
    np.testing.assert_allclose(m.X.toarray(), values)


def test_npz_image_shape_gives_an_image_gallery(tmp_path, monkeypatch):
    import nmfkit.plotting as plotting

    seen = {}
    original = plotting.plot_component_images

    def spy(H, image_shape, **kw):
        seen["shape"] = image_shape
        return original(H, image_shape, **kw)

    monkeypatch.setattr(plotting, "plot_component_images", spy)
    X = np.random.default_rng(0).random((10, 12))
    np.savez(tmp_path / "img.npz", X=X, image_shape=np.array([3, 4]))
    assert main(["fit", str(tmp_path / "img.npz"), "--rank", "2", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert seen["shape"] == (3, 4)


def test_npz_never_unpickles(tmp_path):
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="cannot read as NumPy archive"):
        read_matrix(tmp_path / "obj.npz")


@pytest.mark.parametrize("gz", [False, True])
def test_matrix_market(tmp_path, values, gz):
    path = tmp_path / "m.mtx"
    scipy.io.mmwrite(str(path), sp.coo_matrix(values))
    if gz:
        gz_path = tmp_path / "m.mtx.gz"
        gz_path.write_bytes(gzip.compress(path.read_bytes()))
        path = gz_path
    m = read_matrix(path)
    np.testing.assert_allclose(m.X.toarray(), values)
    fit_and_check_labels(tmp_path, path, [str(i) for i in range(6)], [str(i) for i in range(5)])


def test_matlab_variable_choice(tmp_path, values):
    scipy.io.savemat(tmp_path / "m.mat", {"V": values, "small": np.ones((2, 2))})
    m = read_matrix(tmp_path / "m.mat")
    np.testing.assert_allclose(m.X, values)  # the largest 2-D array
    np.testing.assert_allclose(read_matrix(tmp_path / "m.mat", variable="small").X, np.ones((2, 2)))
    with pytest.raises(InputError, match=r"no variable 'Q'; the file has \['V', 'small'\]"):
        read_matrix(tmp_path / "m.mat", variable="Q")
    fit_and_check_labels(tmp_path, tmp_path / "m.mat", [str(i) for i in range(6)], [str(i) for i in range(5)],
                         ["--var", "V"])


def test_10x_h5(tmp_path, values):
    h5py = pytest.importorskip("h5py", reason="h5py is missing: pip install '.[formats]'")
    counts = sp.csc_matrix(np.round(values * 10).T)  # 10x stores genes x cells
    path = tmp_path / "filtered_feature_bc_matrix.h5"
    with h5py.File(path, "w") as fh:
        g = fh.create_group("matrix")
        g["data"], g["indices"], g["indptr"] = counts.data, counts.indices, counts.indptr
        g["shape"] = np.array(counts.shape)
        g["barcodes"] = np.array([r.encode() for r in ROWS])
        f = g.create_group("features")
        f["name"] = np.array([c.encode() for c in COLS])
    m = read_matrix(path)
    np.testing.assert_allclose(m.X.toarray(), np.round(values * 10))
    fit_and_check_labels(tmp_path, path, ROWS, COLS)


def test_h5ad_with_layers(tmp_path, values):
    anndata = pytest.importorskip("anndata", reason="anndata is missing: pip install '.[anndata]'")
    adata = anndata.AnnData(X=values.astype(np.float32))
    adata.obs_names, adata.var_names = ROWS, COLS
    adata.layers["counts"] = np.round(values * 10)
    path = tmp_path / "a.h5ad"
    adata.write_h5ad(path)
    np.testing.assert_allclose(read_matrix(path, layer="counts").X, np.round(values * 10))
    with pytest.raises(InputError, match=r"no layer 'spliced'; layers are \['counts'\]"):
        read_matrix(path, layer="spliced")
    fit_and_check_labels(tmp_path, path, ROWS, COLS, ["--layer", "counts"])


def test_real_10x_h5_and_orl_images(data_dir, tmp_path):
    pytest.importorskip("h5py", reason="h5py is missing: pip install '.[formats]'")
    m = read_matrix(data_dir / "scrna/scanpy_10x_v3_filtered_feature_bc_matrix_1107x507.h5")
    assert m.shape == (1107, 507) and m.row_names[0] == "AAACCCAAGGAGAGTA-1" and m.X.min() >= 0
    orl = read_matrix(data_dir / "faces/orl_faces_10304x400.npz", transpose=True)
    assert orl.shape == (400, 10304) and orl.extras["image_shape"] == [112, 92]
