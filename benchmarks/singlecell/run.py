"""Gene programs side by side with cnmf 1.7.1, and the same workflow on a 200 000-cell atlas.

Parts:

- ``compare``: cnmf 1.7.1 (its own virtual environment, ``--cnmf-python``) and ``nmfkit programs`` on the
  same counts (the 10x mouse 10k counts; pbmc68k_reduced's ``raw.X``), ranks 5-12, 20 replicates per rank,
  2000 over-dispersed genes (every expressed gene where there are fewer), 2 processes each
  (cnmf ``factorize_multi_process(2)``, nmfkit ``--jobs 2``), one BLAS thread per process. Each tool runs
  its whole workflow as its user would, in a fresh process: prepare / factorize / combine / k-selection plot /
  consensus for cnmf, one ``nmfkit programs`` call for nmfkit, both at the rank nmfkit picks (the most
  stable). Reported: wall time, peak memory (the largest total resident memory of the process tree,
  sampled every 0.1 s), the k-selection statistics of both, and agreement of the consensus programs
  (gene scores Hungarian-matched by cosine) and of the usages (per matched program, Pearson correlation
  across cells of the usages normalised per cell).
- ``atlas``: 200 000 cells resampled from the mouse counts (cells drawn with replacement, every count of
  a drawn cell redrawn as Poisson(count), so the matrix stays sparse and no two cells are copies),
  through ``nmfkit programs`` with the same settings; wall time and peak memory.

Cells with no counts and genes never detected are dropped from the mouse counts first (scanpy's
``filter_genes(min_cells=1)``): with fewer genes than the 2000 asked for, cnmf keeps undetected genes
among its over-dispersed ones and its final usage refit divides by their zero standard deviation.

Set up cnmf's environment once::

    python -m venv /tmp/bench-cnmf && /tmp/bench-cnmf/bin/pip install cnmf==1.7.1

Run::

    python benchmarks/singlecell/run.py --cnmf-python /tmp/bench-cnmf/bin/python            # compare, ~10 min
    python benchmarks/singlecell/run.py --parts atlas                                        # ~30-60 min

Results: ``benchmarks/singlecell/results/singlecell.{json,md}`` and both tools' k-selection plots.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _common import commands, write_results  # noqa: E402

RESULTS = HERE / "results"
RANKS = list(range(5, 13))


def monitored(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` (one BLAS thread per process); its wall time and the peak total RSS of its process tree."""
    import psutil

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg"}
    started = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        peak = [0]

        def sample() -> None:
            root = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    tree = [root, *root.children(recursive=True)]
                    total = 0
                    for p in tree:
                        try:
                            total += p.memory_info().rss
                        except psutil.Error:
                            pass
                    peak[0] = max(peak[0], total)
                except psutil.Error:
                    pass
                time.sleep(0.1)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        rc = proc.wait()
        thread.join()
    wall = time.perf_counter() - started
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({rc}); see {log}")
    return {"wall_s": wall, "peak_rss_mb": peak[0] / 2**20}


def write_h5ad(X, cells, genes, path: Path) -> None:
    import anndata
    import pandas as pd

    ad = anndata.AnnData(X, obs=pd.DataFrame(index=pd.Index(cells).astype(str)),
                         var=pd.DataFrame(index=pd.Index(genes).astype(str)))
    ad.var_names_make_unique()
    ad.obs_names_make_unique()
    ad.write_h5ad(path)


def mouse(workdir: Path) -> tuple[Path, dict]:
    import scipy.sparse as sp

    from nmfkit.datasets import load_mouse_10k

    d = load_mouse_10k()
    X = sp.csr_matrix(d.X, dtype=np.float32)
    keep = np.asarray(X.sum(axis=1)).ravel() > 0  # cnmf and nmfkit both refuse cells with no counts
    # genes never detected are dropped too (scanpy's filter_genes(min_cells=1)): with fewer genes than the
    # 2000 asked for, cnmf keeps them among its over-dispersed genes and its final usage refit divides by
    # their zero standard deviation (every usage NaN)
    genes = np.asarray(X.sum(axis=0)).ravel() > 0
    X = X[keep][:, genes]
    path = workdir / "mouse_10k.h5ad"
    write_h5ad(X, np.asarray(d.sample_names)[keep], np.asarray(d.feature_names)[genes], path)
    return path, {"cells": X.shape[0], "genes": X.shape[1], "dropped_empty_cells": int((~keep).sum()),
                  "dropped_undetected_genes": int((~genes).sum()), "nnz": int(X.nnz)}


def pbmc(workdir: Path) -> tuple[Path, dict]:
    import scipy.sparse as sp

    from nmfkit.datasets import load_pbmc68k_reduced

    d = load_pbmc68k_reduced()
    X = sp.csr_matrix(d.X, dtype=np.float32)
    path = workdir / "pbmc68k_reduced.h5ad"
    write_h5ad(X, d.sample_names, d.feature_names, path)
    return path, {"cells": X.shape[0], "genes": X.shape[1], "nnz": int(X.nnz),
                  "note": "raw.X is log1p-normalised, not counts; both tools get the same matrix"}


def atlas_counts(n_cells: int, seed: int = 0):
    """``n_cells`` cells resampled from the mouse counts: rows drawn with replacement, counts redrawn as Poisson."""
    import scipy.sparse as sp

    from nmfkit.datasets import load_mouse_10k

    X = sp.csr_matrix(load_mouse_10k().X, dtype=np.float32)
    X = X[np.asarray(X.sum(axis=1)).ravel() > 0][:, np.asarray(X.sum(axis=0)).ravel() > 0]
    rng = np.random.default_rng(seed)
    A = X[rng.integers(0, X.shape[0], n_cells)]
    A.data = rng.poisson(A.data).astype(np.float32)
    A.eliminate_zeros()
    empty = np.flatnonzero(np.asarray(A.sum(axis=1)).ravel() == 0)
    if empty.size:  # a cell that lost every count is replaced by its source cell's real counts
        fix = X[rng.integers(0, X.shape[0], empty.size)]
        A = sp.vstack([A[np.setdiff1d(np.arange(n_cells), empty)], fix]).tocsr()
    return A


def nmfkit_run(path: Path, out: Path, log: Path, rank: int | None = None) -> dict:
    cmd = [sys.executable, "-m", "nmfkit", "programs", str(path), "--ranks", f"{RANKS[0]}:{RANKS[-1]}",
           "--runs", "20", "--genes", "2000", "--jobs", "2", "--out", str(out), "--force",
           "--checkpoint", str(out) + ".checkpoint"]
    if rank is not None:
        cmd += ["--rank", str(rank)]
    stats = monitored(cmd, log)
    summary = json.loads((out / "summary.json").read_text())
    shutil.rmtree(str(out) + ".checkpoint", ignore_errors=True)
    return {**stats, "k": summary["n_components"], "stability": summary["k_selection"]["stability"],
            "prediction_error": summary["k_selection"]["prediction_error"], "workflow_s": summary["seconds"]}


def read_tsv(path: Path) -> tuple[list[str], np.ndarray]:
    import pandas as pd

    df = pd.read_csv(path, sep="\t", index_col=0)
    return [str(v) for v in df.index], df.to_numpy(float)


def agreement(nk_out: Path, cnmf_npz: Path) -> dict:
    """Hungarian matching of the programs by cosine of their gene scores; usage correlation per matched pair."""
    from scipy.optimize import linear_sum_assignment

    genes, scores = read_tsv(nk_out / "gene_scores.tsv")  # genes x k
    cells, usages = read_tsv(nk_out / "usages.tsv")
    c = np.load(cnmf_npz, allow_pickle=False)
    cgenes = [str(g) for g in c["score_genes"]]
    idx = {g: i for i, g in enumerate(cgenes)}
    common = [g for g in genes if g in idx]
    A = scores[[genes.index(g) for g in common]]
    B = c["scores"].T[[idx[g] for g in common]]
    An, Bn = A / np.linalg.norm(A, axis=0), B / np.linalg.norm(B, axis=0)
    C = An.T @ Bn
    rows, cols = linear_sum_assignment(-C)
    U1, U2 = usages[:, rows], c["usages"][:, cols]
    # a cell whose refitted usages are all zero has no normalised usage (cnmf: NaN, nmfkit: zeros): left out
    ok = np.isfinite(U1).all(axis=1) & np.isfinite(U2).all(axis=1) & (U1.sum(axis=1) > 0) & (U2.sum(axis=1) > 0)
    corr = [float(np.corrcoef(U1[ok, j], U2[ok, j])[0, 1]) for j in range(len(rows))]
    # the TPM programs too, as cosines over every gene
    _, tpm = read_tsv(nk_out / "programs_tpm.tsv")
    T1 = tpm[[genes.index(g) for g in common]][:, rows]
    T2 = c["tpm"].T[[idx[g] for g in common]][:, cols]
    tcos = (T1 * T2).sum(axis=0) / (np.linalg.norm(T1, axis=0) * np.linalg.norm(T2, axis=0))
    return {"score_cosine": [float(C[r, q]) for r, q in zip(rows, cols, strict=True)],
            "min_score_cosine": float(C[rows, cols].min()), "usage_correlation": corr,
            "min_usage_correlation": float(min(corr)), "cells_without_usage": int((~ok).sum()), "tpm_cosine": [float(v) for v in tcos],
            "min_tpm_cosine": float(tcos.min()), "genes_compared": len(common)}


def part_compare(args: argparse.Namespace, rep: dict, workdir: Path) -> None:
    for name, make in (("mouse_10k", mouse), ("pbmc68k_reduced", pbmc)):
        path, info = make(workdir)
        print(f"[compare] {name}: {info}", flush=True)
        nk_out = workdir / f"{name}_nmfkit"
        nk = nmfkit_run(path, nk_out, workdir / f"{name}_nmfkit.log")
        print(f"[compare] {name} nmfkit: {nk['wall_s']:.1f} s, {nk['peak_rss_mb']:.0f} MB, k={nk['k']}", flush=True)
        cn_out = workdir / f"{name}_cnmf"
        cn = monitored([args.cnmf_python, str(HERE / "cnmf_job.py"), str(path), "--out", str(cn_out),
                        "--ranks", ",".join(map(str, RANKS)), "--runs", "20", "--genes", "2000", "--workers", "2",
                        "--k", str(nk["k"])], workdir / f"{name}_cnmf.log")
        res = np.load(cn_out / "result.npz", allow_pickle=False)
        timing = json.loads((cn_out / "timing.json").read_text())
        cstab = res["stability"].astype(float)
        cn.update(timing=timing, stability=cstab.tolist(), prediction_error=res["prediction_error"].tolist(),
                  k=int(res["k"]), own_choice=int(RANKS[int(np.argmax(cstab))]))
        print(f"[compare] {name} cnmf: {cn['wall_s']:.1f} s, {cn['peak_rss_mb']:.0f} MB", flush=True)
        agree = agreement(nk_out, cn_out / "result.npz")
        shutil.copy(nk_out / "k_selection.png", RESULTS / f"k_selection_{name}_nmfkit.png")
        shutil.copy(cn_out / "run" / "run.k_selection.png", RESULTS / f"k_selection_{name}_cnmf.png")
        rep["compare"][name] = {"data": info, "nmfkit": nk, "cnmf": cn, "agreement": agree,
                                "speedup": cn["wall_s"] / nk["wall_s"],
                                "memory_ratio": cn["peak_rss_mb"] / nk["peak_rss_mb"]}
        print(f"[compare] {name}: speed-up {cn['wall_s'] / nk['wall_s']:.2f}x, min score cosine "
              f"{agree['min_score_cosine']:.3f}, min usage correlation {agree['min_usage_correlation']:.3f}",
              flush=True)


def part_atlas(args: argparse.Namespace, rep: dict, workdir: Path) -> None:
    import scipy.sparse as sp

    t = time.perf_counter()
    A = atlas_counts(args.atlas_cells)
    from nmfkit.datasets import load_mouse_10k

    d = load_mouse_10k()
    genes = np.asarray(d.feature_names)[np.asarray(d.X.sum(axis=0)).ravel() > 0]
    path = workdir / "atlas.h5ad"
    write_h5ad(A, [f"cell{i}" for i in range(A.shape[0])], genes, path)
    made = time.perf_counter() - t
    info = {"cells": A.shape[0], "genes": A.shape[1], "nnz": int(A.nnz), "density": A.nnz / np.prod(A.shape),
            "made_in_s": made, "file_mb": path.stat().st_size / 2**20, "sparse": bool(sp.issparse(A))}
    print(f"[atlas] {info}", flush=True)
    nk = nmfkit_run(path, workdir / "atlas_nmfkit", workdir / "atlas_nmfkit.log")
    print(f"[atlas] nmfkit: {nk['wall_s']:.0f} s, {nk['peak_rss_mb']:.0f} MB, k={nk['k']}", flush=True)
    shutil.copy(workdir / "atlas_nmfkit" / "k_selection.png", RESULTS / "k_selection_atlas_nmfkit.png")
    rep["atlas"] = {"data": info, "nmfkit": nk, "targets": {"wall_s": 3600, "peak_rss_mb": 8192}}


def markdown(rep: dict) -> str:
    lines = ["# Gene programs: nmfkit against cnmf 1.7.1", "", *commands(rep),
             "Ranks 5-12, 20 replicates per rank, 2000 over-dispersed genes (all expressed genes where fewer), "
             "2 processes per tool, one BLAS thread each; wall time of the whole workflow in a fresh process; "
             "peak = largest total resident memory of the process tree.", ""]
    if rep.get("compare"):
        lines += ["| data | cells x genes | cnmf s | nmfkit s | speed-up | cnmf MB | nmfkit MB | k | "
                  "score cosine (min) | usage corr. (min) | TPM cosine (min) |", "|---" * 11 + "|"]
        for name, r in rep["compare"].items():
            a = r["agreement"]
            lines.append(f"| {name} | {r['data']['cells']} x {r['data']['genes']} | {r['cnmf']['wall_s']:.1f} | "
                         f"{r['nmfkit']['wall_s']:.1f} | {r['speedup']:.2f}x | {r['cnmf']['peak_rss_mb']:.0f} | "
                         f"{r['nmfkit']['peak_rss_mb']:.0f} | {r['nmfkit']['k']} | {a['min_score_cosine']:.3f} | "
                         f"{a['min_usage_correlation']:.3f} | {a['min_tpm_cosine']:.3f} |")
        lines += ["", "k-selection statistics (stability / prediction error):", ""]
        for name, r in rep["compare"].items():
            lines += [f"**{name}** (cnmf's own most stable rank: {r['cnmf']['own_choice']}; nmfkit's: "
                      f"{r['nmfkit']['k']}); cnmf step seconds: "
                      + ", ".join(f"{k} {v:.1f}" for k, v in r["cnmf"]["timing"].items()), "",
                      "| rank | cnmf stability | nmfkit stability | cnmf error | nmfkit error |", "|---|---|---|---|---|"]
            for i, k in enumerate(RANKS):
                lines.append(f"| {k} | {r['cnmf']['stability'][i]:.3f} | {r['nmfkit']['stability'][i]:.3f} | "
                             f"{r['cnmf']['prediction_error'][i]:.5g} | {r['nmfkit']['prediction_error'][i]:.5g} |")
            lines.append("")
    if rep.get("atlas"):
        a = rep["atlas"]
        lines += ["## Atlas scale", "",
                  f"{a['data']['cells']} cells x {a['data']['genes']} genes, {a['data']['nnz']} non-zeros "
                  f"(density {a['data']['density']:.3f}), resampled from the mouse counts (cells drawn with "
                  "replacement, counts redrawn as Poisson). `nmfkit programs` with the settings above:", "",
                  "| wall s | target s | peak MB | target MB | chosen k |", "|---|---|---|---|---|",
                  f"| {a['nmfkit']['wall_s']:.0f} | {a['targets']['wall_s']} | {a['nmfkit']['peak_rss_mb']:.0f} | "
                  f"{a['targets']['peak_rss_mb']} | {a['nmfkit']['k']} |", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", nargs="+", default=["compare"], choices=["compare", "atlas"])
    p.add_argument("--cnmf-python", default=None, help="the Python of an environment with cnmf 1.7.1")
    p.add_argument("--atlas-cells", type=int, default=200_000)
    p.add_argument("--out", default=str(RESULTS / "singlecell"), help="results stem (.json and .md)")
    args = p.parse_args()
    from nmfkit.datasets.registry import data_dirs

    if not any((d / "scrna" / "scanpy_10x_mouse_10k_subset_counts.npz").exists() for d in data_dirs()):
        print("no single-cell data (../shared/data/scrna or NMFKIT_DATA); nothing to run")
        return
    if "compare" in args.parts and not args.cnmf_python:
        print("compare needs --cnmf-python (an environment with cnmf 1.7.1); see this script's docstring")
        return
    RESULTS.mkdir(exist_ok=True)
    stem = Path(args.out)
    rep = json.loads(stem.with_suffix(".json").read_text()) if stem.with_suffix(".json").exists() else {}
    rep.setdefault("compare", {})
    command = "python benchmarks/singlecell/run.py " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.parts:
            rep.setdefault("commands", {})[part] = command
            {"compare": part_compare, "atlas": part_atlas}[part](args, rep, Path(tmp))
            write_results(stem, rep, markdown(rep))
    print(markdown(rep))


if __name__ == "__main__":
    main()
