"""Every loader: shape, non-negativity and labels (skipped when the shared data folder is absent)."""

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit import datasets

CASES = {
    # name: (kwargs, shape, labels expected, number of distinct labels or None)
    "cbcl": ({}, (2429, 361), False, None),
    "orl": ({}, (400, 10304), True, 40),
    "samson": ({}, (9025, 156), False, None),
    "moffett": ({}, (2500, 159), False, None),
    "piano_mary": ({}, (586, 129), False, None),
    "piano_mhll": ({}, (294, 257), False, None),
    "tdt2": ({}, (9394, 500), True, 30),
    "classic3": ({}, (300, 5577), True, 3),
    "mouse_10k": ({}, (10000, 1000), False, None),
    "pbmc68k_reduced": ({}, (700, 765), True, 10),
    "pbmc_small": ({}, (80, 230), True, None),
    "gse57249": ({}, (49, 25737), True, 3),
    "breast21": ({}, (21, 96), False, None),
    "cosmic": ({}, (86, 96), False, None),
    "mini_acc": ({}, None, False, None),
    "karate": ({}, (34, 34), False, None),
    "emg_gestures": ({}, None, True, None),
    "lcms": ({}, (564, 5000), False, None),
    "he_optical_density": ({}, None, False, None),
    "golub": ({}, (38, 5000), True, 3),
    "concentric_circles": ({}, (80, 100), True, 4),
}


def check(ds, shape, has_labels, n_labels):
    X = ds.X
    values = X.data if sp.issparse(X) else np.asarray(X)
    assert np.all(np.isfinite(values)) and values.min() >= 0
    if shape is not None:
        assert X.shape == shape
    assert len(ds.sample_names) == X.shape[0] and len(ds.feature_names) == X.shape[1]
    assert ds.description and ds.source
    if has_labels:
        assert ds.labels is not None and len(ds.labels) == X.shape[0]
        if n_labels is not None:
            assert len(np.unique(ds.labels)) == n_labels


@pytest.mark.parametrize("name", list(CASES))
def test_loader(name, data_dir):
    if name == "pbmc68k_reduced":
        pytest.importorskip("anndata", reason="anndata is missing: pip install '.[anndata]'")
    if name == "he_optical_density":
        pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")
    kwargs, shape, has_labels, n_labels = CASES[name]
    check(datasets.load(name, data_dir=data_dir, **kwargs), shape, has_labels, n_labels)


def test_specific_contents(data_dir):
    samson = datasets.load_samson(data_dir)
    assert samson.extras["endmembers"].shape == (3, 156)
    np.testing.assert_allclose(samson.extras["abundances"].sum(axis=1), 1.0, atol=1e-6)
    for kind, n in (("SBS", 86), ("DBS", 20), ("ID", 23)):
        sig = datasets.load_cosmic(data_dir, kind=kind)
        assert sig.X.shape[0] == n
        np.testing.assert_allclose(sig.X.sum(axis=1), 1.0, atol=1e-3)
    karate = datasets.load_karate(data_dir)
    assert karate.X.sum() == 2 * 78 and np.array_equal(karate.X, karate.X.T)
    acc = datasets.load_mini_acc(data_dir)
    assert set(acc.extras["blocks"]) == {"RNASeq2GeneNorm", "miRNASeqGene"}
    assert acc.X.shape[1] == 198 + 471 and len(set(acc.sample_names)) == acc.X.shape[0]
    assert set(datasets.load_gse57249(data_dir).labels) == {"zygote", "two-cell", "four-cell"}
    cbcl = datasets.load_cbcl(data_dir)
    assert cbcl.image_shape == (19, 19)


def test_missing_file_names_every_place_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("NMFKIT_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as err:
        datasets.registry.find("faces/not_there.mat", data_dir=tmp_path / "arg")
    message = str(err.value)
    for place in datasets.data_dirs(tmp_path / "arg"):
        assert str(place / "faces/not_there.mat") in message
    assert str(tmp_path / "env") in message and ".cache" in message


def test_digits_ship_with_scikit_learn():
    check(datasets.load_digits(), (1797, 64), True, 10)


def test_available_lists_every_loader():
    names = [d["name"] for d in datasets.available()]
    assert set(CASES) | {"digits"} <= set(names)


def test_synthetic_generators():
    ds = datasets.make_planted(30, 20, 3, noise="poisson", noise_level=0.1, random_state=0)
    assert ds.X.shape == (30, 20) and ds.X.min() >= 0 and ds.extras["W"].shape == (30, 3)
    sparse = datasets.make_planted(30, 20, 3, density=0.3, sparse=True, random_state=0)
    assert sp.issparse(sparse.X)
    sep = datasets.make_near_separable(50, 10, 4, noise_level=0.0, random_state=0)
    np.testing.assert_allclose(sep.X[sep.extras["anchors"]], sep.extras["H"])
    circles = datasets.make_concentric_circles(15, 40, random_state=0)
    assert circles.X.shape == (60, 40) and circles.X.min() >= 1.0
    assert np.bincount(circles.labels).tolist() == [15, 15, 15, 15]
    P = circles.extras["points_3d"]
    within = np.linalg.norm(P[:15].mean(axis=0) - P[15:30].mean(axis=0))
    between = np.linalg.norm(P[:30].mean(axis=0) - P[30:].mean(axis=0))
    assert between > 5 * within  # two scales: circles share a centre, centres are far apart
    X, W, H = datasets.plateau_example()
    assert (X**2).sum() == 322344 and X[0].tolist() == [84, 161, 138, 83, 79, 6, 12, 92]


def test_magnitude_spectrogram_of_a_tone():
    fs = 8000.0
    t = np.arange(8000) / fs
    S, freqs, _ = datasets.magnitude_spectrogram(np.sin(2 * np.pi * 1000 * t), n_fft=256, hop=128, fs=fs)
    assert S.shape[0] == 129
    assert abs(freqs[np.argmax(S[:, S.shape[1] // 2])] - 1000) <= fs / 256
