"""Persistent NMF (Zhang, Miao & Li): the published synthetic result, single-cell clustering, and cost.

Parts (choose with --parts):

- ``circles``: the spec's checks in order on the 3-D concentric circles (scale set, graphs, the
  per-sweep objective against the published trace, every H_t against the published array).
- ``singlecell``: GSE57249 (49 cells, 3 stages) and scanpy's pbmc68k_reduced (700 cells, 10 bulk
  labels) with the paper's preprocessing (log10(1 + x), unit-norm cells; pbmc68k's raw.X is
  log1p-normalized, so expm1 first), k = ceil(sqrt(N)), lambda = (1, 1, 1): pNMF at t = 1 and at its
  label-selected best scale, NMF and GNMF from the same NNDSVDa start, scored by k-means
  (n_init = 10, random_state = 0): ARI, NMI, purity, accuracy and their mean.
- ``compare``: the paper's comparison on every labelled single-cell set here, over seeds
  (``--seeds GSE57249=10 pbmc68k_reduced=10``): NMF, GNMF, TNMF, kTNMF, PCA and pNMF at t = 1, at
  the scale chosen without labels (silhouette, ``select_scale``) and at the label-selected best.
- ``features``: seconds of the default call against the number of genes (271 planted-count cells,
  ``--genes 2000 5000 15000``, sparse and dense input) and on GSE57249.
- ``cost``: wall time and peak memory (max RSS of a fresh process) of nmfkit and of a dense port of
  the reference algorithm (``dense_port.py``: three dense N x N matrices per scale) on scaled-up
  circles with N = 80, 400, 800 (k = 2, 10 sweeps); the port is skipped where its matrices alone
  would exceed ``--port-limit-gb``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/persistent/run.py [--parts circles singlecell cost]

Results: ``benchmarks/persistent/results/{persistent.json, persistent.md, *.png}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data"
sys.path.insert(0, str(HERE.parent))  # benchmarks/_common.py
from _common import commands, write_atomic  # noqa: E402

PUBLISHED = [50264219.59, 50017074.59, 49646603.67, 49727608.00, 49555488.75, 49532599.05, 49446458.29,
             49448174.11, 49392727.75, 49388445.03]


# -- circles -----------------------------------------------------------------------------------------
def part_circles(results: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scipy.io

    from nmfkit.methods import persistent_nmf
    from nmfkit.methods.persistent import ScaleGraphs, persistence_scales, sample_distances

    d = scipy.io.loadmat(DATA / "synthetic/pnmf_3D_concentric_circles.mat")
    X, y = d["X"], np.asarray(d["Y"]).ravel()
    ref = scipy.io.loadmat(DATA / "reference/pnmf_circles_published_H.mat")["pNMF"]
    D = sample_distances(X)
    eps = persistence_scales(D)
    graphs = ScaleGraphs(D, eps)
    t0 = time.perf_counter()
    res = persistent_nmf(X, 2)
    seconds = time.perf_counter() - t0
    H = res.extras["H_paper"]
    rel = np.linalg.norm(H - ref, axis=(1, 2)) / np.linalg.norm(ref, axis=(1, 2))
    A0, _ = graphs.adjacency(0)
    out = {"T": len(eps), "eps_1": float(eps[0]), "eps_79": float(eps[78]), "diameter": float(D.max()),
           "G1_edges": int(A0.nnz if hasattr(A0, "nnz") else np.count_nonzero(A0)), "components": [graphs.n_components(t) for t in range(len(eps))],
           "objective_initial": res.extras["sweep_objective"][0], "objective": res.extras["sweep_objective"][1:],
           "published_objective": PUBLISHED,
           "objective_max_rel_diff": float(np.max(np.abs(np.array(res.extras["sweep_objective"][1:])
                                                         - PUBLISHED) / np.array(PUBLISHED))),
           "mean_inner_iterations": res.extras["inner_iterations"].mean(axis=1).tolist(),
           "H_max_rel_frobenius_error": float(rel.max()), "H_max_abs_error": float(np.abs(H - ref).max()),
           "H_max_abs_reference": float(np.abs(ref).max()), "seconds": seconds}
    shows = [1, 10, 20, 40, 60, 70, 80]
    fig, axes = plt.subplots(1, len(shows), figsize=(2.3 * len(shows), 2.5), layout="constrained")
    for ax, t in zip(axes, shows, strict=True):
        ax.scatter(H[t - 1, 0], H[t - 1, 1], c=y, s=8, cmap="tab10")
        ax.set_title(f"H_{t}", fontsize=9)
        ax.tick_params(labelsize=6)
    fig.suptitle("pNMF embeddings of the 3-D concentric circles (nmfkit; equal to the published array)", fontsize=9)
    fig.savefig(results / "circles_embeddings.png", dpi=110)
    plt.close(fig)
    print(f"[circles] max rel. error {rel.max():.2e}, objective max rel. diff {out['objective_max_rel_diff']:.2e}",
          flush=True)
    return out


# -- single cell ---------------------------------------------------------------------------------------
def part_singlecell(results: Path) -> dict:
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nmfkit.initialization import NNDSVD
    from nmfkit.methods import gnmf, knn_graph, persistent_nmf
    from nmfkit.metrics import kmeans_scores

    out = {}
    keys = ("ari", "nmi", "purity", "accuracy", "average")
    for name, Xp, labels in single_cell_sets():
        N = Xp.shape[0]
        k = math.ceil(math.sqrt(N))
        t0 = time.perf_counter()
        res = persistent_nmf(Xp, k, lambdas=(1.0, 1.0, 1.0), max_scales=None)  # every scale, as the paper
        t_p = time.perf_counter() - t0
        scores = [kmeans_scores(E, labels) for E in res.extras["embeddings"]]
        best = int(np.argmax([s["average"] for s in scores]))
        W0, H0 = NNDSVD("mean", leading="special", ties="negative", threshold=1e-8, svd="full")(
            Xp, k, rng=np.random.default_rng(0))
        plain = gnmf(Xp, k, lam=0.0, W=W0, H=H0)
        graph = gnmf(Xp, k, graph=knn_graph(Xp, 5), lam=0.1, W=W0, H=H0)
        rows = {"NMF": kmeans_scores(plain.W, labels), "GNMF (5-NN heat kernel, lambda 0.1)":
                kmeans_scores(graph.W, labels), "pNMF (t = 1)": scores[0],
                f"pNMF-best (t = {best + 1}, label-selected)": scores[best]}
        out[name] = {"cells": N, "genes": int(Xp.shape[1]), "classes": int(len(np.unique(labels))), "k": k,
                     "scales": res.extras["n_scales"], "seconds_pnmf": t_p,
                     "table": {m: {key: s[key] for key in keys} for m, s in rows.items()},
                     "curve": {key: [s[key] for s in scores] for key in keys}}
        fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
        for key in ("ari", "nmi", "purity", "accuracy"):
            ax.plot(np.arange(1, len(scores) + 1), out[name]["curve"][key], label=key)
        for m, s in (("NMF", rows["NMF"]), ("GNMF", rows["GNMF (5-NN heat kernel, lambda 0.1)"])):
            ax.axhline(s["ari"], ls="--", lw=0.8, color="gray")
            ax.text(1, s["ari"], f"{m} ARI", fontsize=6, va="bottom")
        ax.set_xlabel("scale index t (1 = finest)")
        ax.set_title(f"{name}: k-means on each pNMF scale", fontsize=9)
        ax.legend(fontsize=7)
        fig.savefig(results / f"{name}_scores.png", dpi=110)
        plt.close(fig)
        print(f"[singlecell] {name}: " + "; ".join(f"{m} avg {s['average']:.3f}" for m, s in rows.items())
              + f" ({t_p:.0f} s)", flush=True)
    return out


# -- the paper's comparison, seeded ---------------------------------------------------------------------
COMPARE_METHODS = ("NMF", "GNMF", "TNMF", "kTNMF", "PCA", "pNMF (t = 1)", "pNMF (silhouette-selected t)",
                   "pNMF-best (label-selected t)")


def single_cell_sets():
    import scipy.sparse as sp

    from nmfkit.datasets import load_gse57249, load_pbmc68k_reduced
    from nmfkit.methods import preprocess_counts

    for name, loader in (("GSE57249", load_gse57249), ("pbmc68k_reduced", load_pbmc68k_reduced)):
        ds = loader()
        X = ds.X.toarray() if sp.issparse(ds.X) else np.asarray(ds.X, dtype=float)
        if name == "pbmc68k_reduced":
            X = np.expm1(X)  # raw.X is log1p-normalized: back to normalized counts
        X = X[:, X.sum(axis=0) > 0]
        yield name, preprocess_counts(X), np.asarray(ds.labels)


def part_compare(seeds_by_set: dict, save, done: dict | None = None) -> dict:
    """pNMF, GNMF, TNMF, kTNMF, NMF and PCA over seeds on every labelled single-cell set.

    Per seed s: every NMF starts from NNDSVDar seeded with s (the paper's NNDSVDa with its zero
    entries filled at random, so that the seed matters) and k-means uses random_state s. Baseline
    settings: the paper's GSE75748time row (GNMF 5-NN, lambda 0.1; TNMF 20-NN, lambda 0.1,
    weights [1,0,1,0,1,0,1,1]; kTNMF lambda 1, same weights); pNMF lambda = (1, 1, 1). The pNMF scale
    is reported three ways: t = 1 (the paper's default), chosen by silhouette without labels
    (``select_scale``), and the label-selected best (not usable in practice). Seeds already in
    ``done`` (an earlier run's result) are kept and not rerun.
    """
    import math

    from sklearn.decomposition import PCA

    from nmfkit.methods import gnmf, knn_graph, ktnmf_graph, persistent_nmf, select_scale, tnmf_graph
    from nmfkit.methods.persistent import _start
    from nmfkit.metrics import kmeans_scores

    keys = ("ari", "nmi", "purity", "accuracy", "average")
    out = {}
    for name, Xp, labels in single_cell_sets():
        if name not in seeds_by_set:
            continue
        N = Xp.shape[0]
        k = math.ceil(math.sqrt(N))
        c = len(np.unique(labels))
        graphs = {"GNMF": (knn_graph(Xp, 5), 0.1), "TNMF": (tnmf_graph(Xp, 20), 0.1), "kTNMF": (ktnmf_graph(Xp), 1.0)}
        runs = [r for r in (done or {}).get(name, {}).get("runs", []) if r["seed"] < seeds_by_set[name]]
        for seed in range(len(runs), seeds_by_set[name]):
            W0, H0 = _start(Xp, k, "nndsvdar", np.random.default_rng(seed))
            emb = {"NMF": gnmf(Xp, k, lam=0.0, W=W0, H=H0).W}
            for m, (A, lam) in graphs.items():
                emb[m] = gnmf(Xp, k, graph=A, lam=lam, W=W0, H=H0).W
            emb["PCA"] = PCA(n_components=k, random_state=seed).fit_transform(Xp)
            t0 = time.perf_counter()
            res = persistent_nmf(Xp, k, lambdas=(1.0, 1.0, 1.0), start="nndsvdar", random_state=seed,
                                 max_scales=None)  # every scale, as the paper
            t_p = time.perf_counter() - t0
            E = res.extras["embeddings"]
            curve = [kmeans_scores(W, labels, random_state=seed) for W in E]
            chosen = select_scale(E, c, random_state=seed)
            best = int(np.argmax([sc["average"] for sc in curve]))
            row = {"seed": seed, "seconds_pnmf": t_p, "scale_selected": chosen["scale"] + 1, "scale_best": best + 1,
                   "scores": {m: {key: kmeans_scores(W, labels, random_state=seed)[key] for key in keys}
                              for m, W in emb.items()}}
            row["scores"]["pNMF (t = 1)"] = {key: curve[0][key] for key in keys}
            row["scores"]["pNMF (silhouette-selected t)"] = {key: curve[chosen["scale"]][key] for key in keys}
            row["scores"]["pNMF-best (label-selected t)"] = {key: curve[best][key] for key in keys}
            runs.append(row)
            summary = {m: {key: [float(np.mean([r["scores"][m][key] for r in runs])),
                                 float(np.std([r["scores"][m][key] for r in runs]))] for key in keys}
                       for m in COMPARE_METHODS}
            out[name] = {"cells": N, "genes": int(Xp.shape[1]), "classes": c, "k": k, "scales": res.extras["n_scales"],
                         "seeds": len(runs), "runs": runs, "summary": summary}
            save(out)
            print(f"[compare] {name} seed {seed}: " + "; ".join(f"{m} {row['scores'][m]['average']:.3f}"
                                                              for m in COMPARE_METHODS)
                  + f"; selected t = {row['scale_selected']}, best t = {row['scale_best']} ({t_p:.0f} s)", flush=True)
    return out


# -- cost in the number of features -----------------------------------------------------------------
def planted_counts(n_cells: int, n_genes: int, seed: int = 0, groups: int = 4):
    """Poisson-lognormal counts with ``groups`` planted cell types (5 % of genes change by exp(N(0, 1)))."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(groups), -(-n_cells // groups))[:n_cells]
    base = rng.lognormal(-2.5, 1.5, n_genes)
    fold = np.exp(rng.normal(0, 1.0, (groups, n_genes)) * (rng.random((groups, n_genes)) < 0.05))
    C = sp.csr_matrix(rng.poisson(base * fold[labels] * rng.lognormal(0, 0.4, (n_cells, 1))))
    return C[:, np.asarray(C.sum(axis=0)).ravel() > 0], labels


def part_features(n_cells: int, genes: list[int]) -> dict:
    """Seconds of the default persistent_nmf (10 sweeps, one scale per MST death) against the number of
    genes, on planted counts (preprocessed, sparse and densified) and on GSE57249 (dense, real)."""
    import math

    import scipy.sparse as sp

    from nmfkit.datasets import load_gse57249
    from nmfkit.methods import persistent_nmf, preprocess_counts

    rows = []

    def timed(X, label, M):
        t0 = time.perf_counter()
        r = persistent_nmf(X, lambdas=(1.0, 1.0, 1.0), max_scales=None)
        sec = time.perf_counter() - t0
        rows.append({"data": label, "cells": X.shape[0], "genes": M, "sparse": bool(sp.issparse(X)),
                     "density": float(X.nnz / (X.shape[0] * X.shape[1])) if sp.issparse(X) else
                     float(np.count_nonzero(X) / X.size), "k": math.ceil(math.sqrt(X.shape[0])),
                     "scales": r.extras["n_scales"], "seconds": sec,
                     "inner_iterations": int(r.extras["inner_iterations"].sum()),
                     "gnmf_iterations": int(sum(r.extras["gnmf_iterations"]))})
        print(f"[features] {label} {X.shape} sparse={sp.issparse(X)}: {sec:.1f} s", flush=True)

    for M in genes:
        C, _ = planted_counts(n_cells, M)
        X = preprocess_counts(C)
        timed(X, "planted counts", X.shape[1])
        timed(X.toarray(), "planted counts", X.shape[1])
    if DATA.is_dir():
        ds = load_gse57249()
        X = ds.X.toarray() if sp.issparse(ds.X) else np.asarray(ds.X, dtype=float)
        X = X[:, X.sum(axis=0) > 0]
        timed(preprocess_counts(X), "GSE57249", X.shape[1])
    return {"rows": rows}


# -- cost ----------------------------------------------------------------------------------------------
def scaled_circles(n: int, seed: int = 0) -> np.ndarray:
    """Four tilted concentric circles (radii 5, 10, 20, 50, jitter 0.42-1.90) plus 97 N(5, 1) features."""
    rng = np.random.default_rng(seed)
    per = n // 4
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    pts = []
    for r, s in zip((5, 10, 20, 50), (0.42, 0.55, 0.96, 1.90), strict=True):
        th = rng.uniform(0, 2 * np.pi, per)
        rad = r + s * rng.standard_normal(per)
        pts.append(np.column_stack([rad * np.cos(th), rad * np.sin(th), np.zeros(per)]) @ q.T)
    P = np.vstack(pts) + np.array([37.5, 44.0, 55.0])
    return np.hstack([P, 5.0 + rng.standard_normal((P.shape[0], 97))]).clip(min=0.01)


CHILD = """
import sys, time, json, tracemalloc
import numpy as np
sys.path.insert(0, {here!r})
from run import scaled_circles
if {impl!r} == "nmfkit":
    from nmfkit.methods import persistent_nmf
    fit = lambda X: persistent_nmf(X, 2, max_scales=None).extras["H_paper"]
else:
    from dense_port import pnmf
    fit = lambda X: pnmf(X.T, 2)
def status(key):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key)) / 1024
X = scaled_circles({n})
base = status("VmRSS")
t0 = time.perf_counter()
H = fit(X)
sec = time.perf_counter() - t0
rss = status("VmHWM") - base
tracemalloc.start()
fit(X)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
np.save({out!r}, H)
print(json.dumps({{"seconds": sec, "peak_alloc_mb": peak / 2**20, "peak_rss_mb": rss}}))
"""


def part_bounds() -> dict:
    """The Laplacian-increment bound (§1.8 (a)) at every pair of consecutive scales, on the circles and real cells."""
    import scipy.io

    from nmfkit.datasets import load_gse57249, load_pbmc68k_reduced
    from nmfkit.graphs import ScaleGraphs, persistence_scales, sample_distances
    from nmfkit.methods import preprocess_counts

    sets = {"circles": np.asarray(scipy.io.loadmat(DATA / "synthetic/pnmf_3D_concentric_circles.mat")["X"], float)}
    for name, loader in (("GSE57249", load_gse57249), ("pbmc68k_reduced", load_pbmc68k_reduced)):
        data = loader(DATA)
        X = data.X.toarray() if hasattr(data.X, "toarray") else np.asarray(data.X)
        sets[name] = preprocess_counts(np.expm1(X) if name == "pbmc68k_reduced" else X)
    out = {}
    for name, X in sets.items():
        D = sample_distances(X)
        graphs = ScaleGraphs(D, persistence_scales(D))
        pairs = graphs.laplacian_increments()
        ratios = np.array([a / b for a, b in pairs if b > 0])
        out[name] = {"samples": int(X.shape[0]), "scale_pairs": len(pairs),
                     "bound_holds_everywhere": bool(all(a <= b * (1 + 1e-12) + 1e-12 for a, b in pairs)),
                     "ratio_max": float(ratios.max()), "ratio_median": float(np.median(ratios)),
                     "increment_max": float(max(a for a, _ in pairs)), "increments": [a for a, _ in pairs],
                     "bounds": [b for _, b in pairs]}
        print(f"[bounds] {name}: {len(pairs)} pairs, holds {out[name]['bound_holds_everywhere']}, "
              f"ratio max {out[name]['ratio_max']:.3f}, median {out[name]['ratio_median']:.3f}", flush=True)
    return out


def part_cost(sizes: list[int], limit_gb: float) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            row = {"N": n, "T": n, "port_matrices_gb": 3 * n**3 * 8 / 1e9}
            for impl in ("nmfkit", "dense-port"):
                if impl == "dense-port" and row["port_matrices_gb"] > limit_gb:
                    row[impl] = {"skipped": f"its dense per-scale matrices alone need {row['port_matrices_gb']:.1f} GB"}
                    continue
                path = str(Path(tmp) / f"{impl}_{n}.npy")
                code = CHILD.format(here=str(HERE), n=n, impl=impl, out=path)
                proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                row[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"[cost] N={n} {impl}: {row[impl]}", flush=True)
            if "seconds" in row.get("dense-port", {}):
                a, b = np.load(Path(tmp) / f"nmfkit_{n}.npy"), np.load(Path(tmp) / f"dense-port_{n}.npy")
                row["max_rel_difference"] = float(np.max(np.linalg.norm(a - b, axis=(1, 2))
                                                         / np.linalg.norm(b, axis=(1, 2))))
                row["time_ratio_port_over_nmfkit"] = row["dense-port"]["seconds"] / row["nmfkit"]["seconds"]
                row["memory_ratio_port_over_nmfkit"] = (row["dense-port"]["peak_alloc_mb"]
                                                        / row["nmfkit"]["peak_alloc_mb"])
            out[str(n)] = row
    return out


# -- report -----------------------------------------------------------------------------------------------
def markdown(rep: dict) -> str:
    lines = ["# Persistent NMF: reproduced experiments", "", *commands(rep)]
    c = rep.get("circles")
    if c:
        lines += ["## 3-D concentric circles (the published synthetic result; plot: circles_embeddings.png)", "",
                  "| check | published / expected | nmfkit |", "|---|---|---|",
                  f"| scales T | 80 | {c['T']} |",
                  f"| eps_1, eps_79 | 11.4005, 33.0344 | {c['eps_1']:.4f}, {c['eps_79']:.4f} |",
                  f"| diameter | 102.0474 | {c['diameter']:.4f} |",
                  f"| edges of G_1 | 0 | {c['G1_edges']} |",
                  f"| components of G_t | 81 - t | {'81 - t' if c['components'] == list(range(80, 0, -1)) else 'NO'} |",
                  f"| objective before sweep 1 | ≈ 5.394e7 | {c['objective_initial']:.4e} |",
                  f"| objective, sweeps 1-10 | {', '.join(f'{v:.2f}' for v in PUBLISHED)} | "
                  f"{', '.join(f'{v:.2f}' for v in c['objective'])} (max rel. diff {c['objective_max_rel_diff']:.1e}) |",
                  f"| mean inner iterations, sweeps 1-3 | ≈ 91, 53, 18 | "
                  f"{', '.join(f'{v:.1f}' for v in c['mean_inner_iterations'][:3])} |",
                  f"| max_t relative Frobenius error of H_t | ≤ 1e-6 | {c['H_max_rel_frobenius_error']:.1e} |",
                  f"| max absolute error / max abs H | ≤ 1e-9 | {c['H_max_abs_error'] / c['H_max_abs_reference']:.1e} |",
                  "", f"Seconds (one core): {c['seconds']:.1f}.", ""]
    s = rep.get("singlecell")
    if s:
        lines += ["## Single-cell clustering (k-means on the embedding; plots: *_scores.png)", "",
                  "Preprocessing log10(1 + x) then unit-norm cells; k = ceil(sqrt(N)); pNMF lambda = (1, 1, 1); "
                  "NMF and GNMF from the same NNDSVDa start, MU with unit-norm basis, tol 1e-3. pNMF-best picks the "
                  "scale with the labels (not usable in practice); t = 1 is the default embedding.", ""]
        for name, d in s.items():
            lines += [f"### {name} ({d['cells']} cells, {d['genes']} genes, {d['classes']} classes, k = {d['k']}, "
                      f"{d['scales']} scales, pNMF {d['seconds_pnmf']:.0f} s)", "",
                      "| method | ARI | NMI | purity | accuracy | average |", "|---|---|---|---|---|---|"]
            for m, v in d["table"].items():
                lines.append(f"| {m} | {v['ari']:.3f} | {v['nmi']:.3f} | {v['purity']:.3f} | {v['accuracy']:.3f} | "
                             f"{v['average']:.3f} |")
            lines.append("")
    k = rep.get("cost")
    if k:
        lines += ["## Cost: nmfkit vs a dense port of the reference algorithm (scaled-up circles, k = 2, 10 sweeps)",
                  "", "Peak memory: the largest total of live allocations during the fit (tracemalloc, NumPy "
                  "arrays included; the data and the interpreter excluded), and in brackets the peak RSS of the "
                  "process above its size before the fit (VmHWM - VmRSS); times from a run without tracing.", "",
                  "| N = T | nmfkit s | nmfkit peak MB | port s | port peak MB | port's dense matrices (GB) | "
                  "time ratio port / nmfkit | memory ratio | max rel. difference of H_t |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for n, r in k.items():
            p = r["dense-port"]
            port = (f"{p['seconds']:.1f} | {p['peak_alloc_mb']:.1f} ({p['peak_rss_mb']:.0f})" if "seconds" in p
                    else f"— | not run: {p['skipped']}")
            q = r["nmfkit"]
            lines.append(f"| {n} | {q['seconds']:.1f} | {q['peak_alloc_mb']:.1f} ({q['peak_rss_mb']:.0f}) | {port} | "
                         f"{r['port_matrices_gb']:.3f} | {r.get('time_ratio_port_over_nmfkit', float('nan')):.2f} | "
                         f"{r.get('memory_ratio_port_over_nmfkit', float('nan')):.1f} | "
                         f"{r.get('max_rel_difference', float('nan')):.1e} |")
        lines.append("")
    b = rep.get("bounds")
    if b:
        lines += ["## The theory's Laplacian-increment bound (§1.8 (a)), every pair of consecutive scales", "",
                  "||L_{t+1} - L_t||_2 <= 2 m_t p / (e eps_t) (eps_{t+1} - eps_t) + 2 sum_new w_ij(eps_{t+1}) "
                  "(`ScaleGraphs.laplacian_increments`); ratio = increment / bound.", "",
                  "| data | samples | scale pairs | bound holds at every pair | ratio median | ratio max |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {name} | {r['samples']} | {r['scale_pairs']} | {'yes' if r['bound_holds_everywhere'] else 'NO'} | "
                  f"{r['ratio_median']:.3f} | {r['ratio_max']:.3f} |" for name, r in b.items()]
        lines.append("")
    fe_ = rep.get("features")
    if fe_:
        lines += ["## Cost in the number of features (default call, 10 sweeps, one scale per MST death)", "",
                  "Planted counts: Poisson-lognormal, 4 cell types, `planted_counts` in this script; preprocessed "
                  "(log10(1 + x), unit-norm cells), given sparse or densified. GSE57249: the real FPKM matrix.", "",
                  "| data | cells | genes | input | density | k | scales | inner iterations | seconds |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in fe_["rows"]:
            lines.append(f"| {r['data']} | {r['cells']} | {r['genes']} | {'sparse' if r['sparse'] else 'dense'} | "
                         f"{r['density']:.2f} | {r['k']} | {r['scales']} | {r['inner_iterations']} | {r['seconds']:.1f} |")
        for kind in (True, False):
            pts = [(r["genes"], r["seconds"]) for r in fe_["rows"] if r["data"] == "planted counts" and r["sparse"] == kind]
            if len(pts) >= 2:
                slope = np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)[0]
                lines.append(f"\nLog-log slope of seconds against genes, {'sparse' if kind else 'dense'} input: {slope:.2f}.")
        lines.append("")
    cmp_ = rep.get("compare")
    if cmp_:
        lines += ["## The paper's comparison, seeded (pNMF, GNMF, TNMF, kTNMF, NMF, PCA)", "",
                  "Per seed s: every NMF from NNDSVDar seeded with s, k-means (n_init 10) with random_state s; "
                  "GNMF 5-NN heat kernel, lambda 0.1; TNMF 20-NN filtered at 8 levels, weights [1,0,1,0,1,0,1,1], "
                  "lambda 0.1; kTNMF the same weights, lambda 1 (the paper's GSE75748time settings); pNMF "
                  "lambda = (1, 1, 1). pNMF's scale: t = 1 (the paper's default), chosen without labels by the "
                  "silhouette of k-means on each scale's embedding (`select_scale`), and the label-selected best "
                  "(not usable in practice). Mean ± std over seeds.", ""]
        for name, c in cmp_.items():
            sel = [r["scale_selected"] for r in c["runs"]]
            best = [r["scale_best"] for r in c["runs"]]
            lines += [f"### {name} ({c['cells']} cells, {c['genes']} genes, {c['classes']} classes, k = {c['k']}, "
                      f"{c['scales']} scales, {c['seeds']} seeds; pNMF {np.mean([r['seconds_pnmf'] for r in c['runs']]):.0f} s "
                      "a seed)", "",
                      f"Silhouette-selected scales: {sel}; label-selected: {best}.", "",
                      "| method | ARI | NMI | purity | accuracy | average |", "|---|---|---|---|---|---|"]
            for m, sc in c["summary"].items():
                lines.append(f"| {m} | " + " | ".join(f"{sc[key][0]:.3f} ± {sc[key][1]:.3f}"
                                                      for key in ("ari", "nmi", "purity", "accuracy", "average")) + " |")
            lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="*", default=["circles", "singlecell", "cost"],
                        choices=["circles", "singlecell", "cost", "bounds", "compare", "features"])
    parser.add_argument("--genes", nargs="*", type=int, default=[2000, 5000, 15000],
                        help="features: numbers of genes (271 cells)")
    parser.add_argument("--seeds", nargs="*", default=["GSE57249=10", "pbmc68k_reduced=10"],
                        help="compare: seeds per data set, NAME=N")
    parser.add_argument("--sizes", nargs="*", type=int, default=[80, 400, 800])
    parser.add_argument("--port-limit-gb", type=float, default=4.0)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if not DATA.is_dir() and set(args.parts) & {"circles", "singlecell", "bounds"}:
        print(f"persistent benchmark: data folder {DATA} not found; running 'cost' only.", file=sys.stderr)
        args.parts = [p for p in args.parts if p == "cost"]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "persistent.json"
    rep = json.loads(path.read_text()) if path.exists() else {}
    rep["command"] = (f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'default')} python "
                      "benchmarks/persistent/run.py " + " ".join(sys.argv[1:]))
    for part in args.parts:
        t0 = time.perf_counter()
        if part == "circles":
            rep["circles"] = part_circles(args.out)
        elif part == "singlecell":
            rep["singlecell"] = part_singlecell(args.out)
        elif part == "cost":
            rep["cost"] = {**rep.get("cost", {}), **part_cost(args.sizes, args.port_limit_gb)}
        elif part == "bounds":
            rep["bounds"] = part_bounds()
        elif part == "features":
            rep["features"] = part_features(271, args.genes)
        elif part == "compare":
            def save_compare(out):
                rep["compare"] = {**rep.get("compare", {}), **out}
                write_atomic(path, json.dumps(rep, indent=1, default=float) + "\n")

            part_compare({k: int(v) for k, v in (a.split("=") for a in args.seeds)}, save_compare, rep.get("compare"))
        rep.setdefault("commands", {})[part] = rep["command"]
        print(f"[{part}] done in {time.perf_counter() - t0:.1f} s", flush=True)
        write_atomic(path, json.dumps(rep, indent=1, default=float) + "\n")
        write_atomic(args.out / "persistent.md", markdown(rep))
    write_atomic(args.out / "persistent.md", markdown(rep))
    print(markdown(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
