"""How cost grows with size: nmfkit against scikit-learn, side by side, per sweep and to the same error.

Parts (``--parts``):

- ``dense``: low-rank + noise, n x 1000 (rank-20 signal plus 10 % uniform noise), r = 20, Frobenius,
  n = 1000, 4000, 16 000, 64 000. Per-sweep time of nmfkit's default call (HALS with extrapolation,
  objective included where its rule evaluates it) and of scikit-learn's ``cd``, each over 20 sweeps
  after a warm-up, against the product floor (``X H^T`` plus ``X^T W``) timed in the same process;
  then time to scikit-learn ``cd``'s own final error (``tol=1e-4``, from NNDSVDa), nmfkit's default
  call stopped by a callback when its objective reaches it.
- ``sparse_kl``: Poisson counts at 1 % density, n x 2000, r = 20, KL, n = 10 000, 40 000, 160 000.
  Per-sweep time of nmfkit's default KL call and of scikit-learn's ``mu`` (20 sweeps each after a
  warm-up), and the peak of memory allocated during a 20-sweep fit (tracemalloc; the input excluded).

- ``persistent``: persistent NMF's default call (``max_scales="auto"``: every scale up to 100 samples,
  ``ceil(4 log2 N)`` beyond) on planted single-cell counts (``benchmarks/persistent/run.py``'s
  ``planted_counts``, 4 cell types, preprocessed: log10(1 + x), unit-norm cells, kept sparse),
  N x 500 genes, rank 4, N = 200 ... 10 000, and the issue's target size 10 000 cells x 2000 genes,
  rank 10; beside it the reference schedule (``max_scales=None``, one scale per death time) where it
  fits in ``--faithful-limit`` samples. Each fit runs in a fresh process: wall time, peak RSS, scales,
  inner iterations, and the ARI of k-means on the finest embedding against the planted types.

Every part writes its log-log slope (least squares of log time on log n) and one plot.
One process, one BLAS thread (set ``OMP_NUM_THREADS=1``); results in
``benchmarks/perf/results/growth.{json,md,png}``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/perf/growth.py                 # every part, about 40 minutes
    OMP_NUM_THREADS=2 python benchmarks/perf/growth.py --parts persistent   # 2 cores, as issue 24 targets
    OMP_NUM_THREADS=1 python benchmarks/perf/growth.py --parts dense --sizes 1000 4000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from _common import write_results  # noqa: E402
from run import floor_ms  # noqa: E402

RESULTS = HERE / "results"


def _quiet():
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)


def per_sweep_nmfkit(X, k: int, beta: str, sweeps: int = 20) -> float:
    from nmfkit import nmf

    nmf(X, k, beta_loss=beta, max_iter=2, tol=0, random_state=0)  # warm-up (imports, caches)
    t0 = time.perf_counter()
    r = nmf(X, k, beta_loss=beta, max_iter=sweeps, tol=0, random_state=0)
    t1 = time.perf_counter()
    r0 = nmf(X, k, beta_loss=beta, max_iter=1, tol=0, random_state=0)  # the start and one sweep
    t2 = time.perf_counter()
    return 1e3 * ((t1 - t0) - (t2 - t1)) / (r.n_iter - r0.n_iter)


def per_sweep_sklearn(X, k: int, solver: str, beta: str, sweeps: int = 20) -> float:
    from sklearn.decomposition import NMF

    W0, H0 = np.full((X.shape[0], k), 0.5, dtype=X.dtype), np.full((k, X.shape[1]), 0.5, dtype=X.dtype)
    NMF(k, init="custom", solver=solver, beta_loss=beta, max_iter=2, tol=0).fit_transform(X, W=W0.copy(), H=H0.copy())
    t0 = time.perf_counter()
    NMF(k, init="custom", solver=solver, beta_loss=beta, max_iter=sweeps, tol=0).fit_transform(X, W=W0.copy(),
                                                                                               H=H0.copy())
    return 1e3 * (time.perf_counter() - t0) / sweeps


def slope(ns, ts) -> float:
    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


def part_dense(sizes: list[int]) -> dict:
    from sklearn.decomposition import NMF

    from nmfkit import nmf

    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        X = rng.random((n, 20)) @ rng.random((20, 1000))
        X += 0.1 * X.mean() * rng.random(X.shape) * 2
        k = 20
        floor = floor_ms(X, k, "cpu", "numpy")
        nk = per_sweep_nmfkit(X, k, "frobenius")
        sk = per_sweep_sklearn(X, k, "cd", "frobenius")
        t0 = time.perf_counter()
        model = NMF(k, init="nndsvda", solver="cd", tol=1e-4, max_iter=2000)
        W = model.fit_transform(X)
        sk_s = time.perf_counter() - t0
        target = 0.5 * float(np.sum((X - W @ model.components_) ** 2))
        t0 = time.perf_counter()
        r = nmf(X, k, random_state=0, tol=0, max_iter=5000,
                callback=lambda info, target=target: info.objective is not None and info.objective <= target)
        nk_s = time.perf_counter() - t0
        row = {"n": n, "floor_ms": floor, "nmfkit_ms": nk, "sklearn_cd_ms": sk, "nmfkit_over_floor": nk / floor,
               "sklearn_over_floor": sk / floor, "target_objective": target, "sklearn_s": sk_s,
               "sklearn_iterations": int(model.n_iter_), "nmfkit_s": nk_s, "nmfkit_sweeps": r.n_iter,
               "nmfkit_reached": bool(r.objective <= target), "speedup_to_error": sk_s / nk_s}
        rows.append(row)
        print(f"[dense] n={n}: floor {floor:.1f} ms, nmfkit {nk:.1f} ms/sweep ({nk / floor:.2f}x floor), "
              f"cd {sk:.1f}; to cd's error: cd {sk_s:.2f} s, nmfkit {nk_s:.2f} s ({sk_s / nk_s:.2f}x)", flush=True)
    ns = [r["n"] for r in rows]
    return {"rows": rows, "slopes": {key: slope(ns, [r[key] for r in rows])
                                     for key in ("floor_ms", "nmfkit_ms", "sklearn_cd_ms")} if len(rows) > 1 else {}}


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def part_sparse_kl(sizes: list[int]) -> dict:
    from sklearn.decomposition import NMF

    from nmfkit import nmf

    rows = []
    for n in sizes:
        rng = np.random.default_rng(1)
        X = sp.random(n, 2000, density=0.01, format="csr", random_state=rng,
                      data_rvs=lambda s, rng=rng: rng.poisson(3.0, s) + 1.0)
        X = X[np.asarray(X.sum(axis=1)).ravel() > 0]
        k = 20
        nk = per_sweep_nmfkit(X, k, "kullback-leibler")
        sk = per_sweep_sklearn(X, k, "mu", "kullback-leibler")
        W0, H0 = np.full((X.shape[0], k), 0.5), np.full((k, X.shape[1]), 0.5)
        nk_mb = peak_mb(partial(nmf, X, k, beta_loss="kullback-leibler", max_iter=20, tol=0, random_state=0))
        sk_mb = peak_mb(partial(NMF(k, init="custom", solver="mu", beta_loss="kullback-leibler", max_iter=20,
                                    tol=0).fit_transform, X, W=W0.copy(), H=H0.copy()))
        input_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
        factors_mb = (X.shape[0] + X.shape[1]) * k * 8 / 2**20
        rows.append({"n": X.shape[0], "nnz": int(X.nnz), "input_mb": input_mb, "factors_mb": factors_mb,
                     "nmfkit_ms": nk, "sklearn_mu_ms": sk, "speedup_per_sweep": sk / nk, "nmfkit_peak_mb": nk_mb,
                     "sklearn_peak_mb": sk_mb})
        print(f"[sparse_kl] n={X.shape[0]}: nmfkit {nk:.1f} ms/sweep, scikit-learn MU {sk:.1f} ({sk / nk:.2f}x); "
              f"peak {nk_mb:.0f} / {sk_mb:.0f} MB (input {input_mb:.0f} MB)", flush=True)
    ns = [r["n"] for r in rows]
    return {"rows": rows, "slopes": {key: slope(ns, [r[key] for r in rows]) for key in ("nmfkit_ms", "sklearn_mu_ms")}
            if len(rows) > 1 else {}}


PERSISTENT_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
from run import planted_counts
from nmfkit.methods import persistent_nmf, preprocess_counts
from nmfkit.metrics import kmeans_scores
C, y = planted_counts({n}, {m})
X = preprocess_counts(C)
t0 = time.perf_counter()
r = persistent_nmf(X, {k}, max_scales={scales!r})
sec = time.perf_counter() - t0
print(json.dumps({{"seconds": sec, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "scales": r.extras["n_scales"], "inner_iterations": int(r.extras["inner_iterations"].sum()),
                  "ari_t1": kmeans_scores(r.W, y)["ari"], "genes": X.shape[1], "density": X.nnz / X.size}}))
"""


def persistent_fit(n: int, m: int, k: int, scales) -> dict:
    import os
    import subprocess

    code = PERSISTENT_CHILD.format(bench=str(HERE.parent / "persistent"), n=n, m=m, k=k, scales=scales)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def part_persistent(sizes: list[int], faithful_limit: int) -> dict:
    rows = []
    target = [(10000, 2000, 10)] if max(sizes) >= 10000 else []  # the size, with the full set of sizes
    for n, m, k in [(n, 500, 4) for n in sizes] + target:
        row = {"n": n, "genes_asked": m, "k": k, "default": persistent_fit(n, m, k, "auto")}
        if n <= faithful_limit:
            row["every_scale"] = persistent_fit(n, m, k, None)
        rows.append(row)
        d = row["default"]
        ref = row.get("every_scale")
        print(f"[persistent] N={n} x {m}, k={k}: default {d['seconds']:.1f} s, {d['peak_mb']:.0f} MB, "
              f"{d['scales']} scales, ARI {d['ari_t1']:.3f}" + (f"; every scale {ref['seconds']:.1f} s, "
              f"{ref['peak_mb']:.0f} MB, ARI {ref['ari_t1']:.3f}" if ref else ""), flush=True)
    base = [r for r in rows if r["genes_asked"] == 500]
    slopes = {"default_seconds": slope([r["n"] for r in base], [r["default"]["seconds"] for r in base])}
    full = [r for r in base if "every_scale" in r]
    if len(full) > 1:
        slopes["every_scale_seconds"] = slope([r["n"] for r in full], [r["every_scale"]["seconds"] for r in full])
    import os

    return {"rows": rows, "slopes": slopes, "blas_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
            "command": "OMP_NUM_THREADS={} python benchmarks/perf/growth.py {}".format(
                os.environ.get("OMP_NUM_THREADS", ""), " ".join(sys.argv[1:]))}


def markdown(rep: dict) -> str:
    lines = ["# How cost grows with size", ""]
    if "command" in rep:
        lines += [f"Command: `{rep['command']}` (one process, one BLAS thread)", ""]
    if "dense" in rep:
        d = rep["dense"]
        lines += ["## Dense low-rank + noise, n x 1000, r = 20 (Frobenius)", "",
                  "| n | floor ms | nmfkit ms/sweep | x floor | scikit-learn cd ms/it | x floor | cd to its tol s "
                  "(iterations) | nmfkit to that error s (sweeps) | speed-up |", "|---" * 9 + "|"]
        for r in d["rows"]:
            lines.append(f"| {r['n']} | {r['floor_ms']:.1f} | {r['nmfkit_ms']:.1f} | {r['nmfkit_over_floor']:.2f} | "
                         f"{r['sklearn_cd_ms']:.1f} | {r['sklearn_over_floor']:.2f} | {r['sklearn_s']:.2f} "
                         f"({r['sklearn_iterations']}) | {r['nmfkit_s']:.2f} ({r['nmfkit_sweeps']}) | "
                         f"{r['speedup_to_error']:.2f}x |")
        lines += ["", "nmfkit sees its objective where its stopping rule evaluates it (every 10 sweeps here), so its "
                  "time to the error is an upper bound. Log-log slopes of time per sweep against n: " + ", ".join(
                      f"{k} {v:.2f}" for k, v in d["slopes"].items()), ""]
    if "sparse_kl" in rep:
        d = rep["sparse_kl"]
        lines += ["## Sparse counts at 1 %, n x 2000, r = 20 (KL)", "",
                  "| n | nnz | nmfkit ms/sweep | scikit-learn MU ms/sweep | speed-up | nmfkit peak MB | "
                  "scikit-learn peak MB | input MB | factors MB |", "|---" * 9 + "|"]
        for r in d["rows"]:
            lines.append(f"| {r['n']} | {r['nnz']} | {r['nmfkit_ms']:.1f} | {r['sklearn_mu_ms']:.1f} | "
                         f"{r['speedup_per_sweep']:.2f}x | {r['nmfkit_peak_mb']:.0f} | {r['sklearn_peak_mb']:.0f} | "
                         f"{r['input_mb']:.0f} | {r['factors_mb']:.1f} |")
        lines += ["", "Log-log slopes: " + ", ".join(f"{k} {v:.2f}" for k, v in d["slopes"].items()), ""]
    if "persistent" in rep:
        d = rep["persistent"]
        lines += ["## Persistent NMF on planted single-cell counts (10 sweeps, sparse input)", "",
                  f"Command: `{d['command']}` (BLAS threads: {d['blas_threads']}; each fit in a fresh process)", "",
                  "| cells | genes | k | scales | seconds | peak RSS MB | inner iterations | ARI (t = 1) | "
                  "every scale: seconds | peak MB | ARI |", "|---" * 11 + "|"]
        for r in d["rows"]:
            a, b = r["default"], r.get("every_scale")
            full = (f"{b['seconds']:.1f} | {b['peak_mb']:.0f} | {b['ari_t1']:.3f}" if b else "- | - | -")
            lines.append(f"| {r['n']} | {a['genes']} | {r['k']} | {a['scales']} | {a['seconds']:.1f} | "
                         f"{a['peak_mb']:.0f} | {a['inner_iterations']} | {a['ari_t1']:.3f} | {full} |")
        aris = [r[key]["ari_t1"] for r in d["rows"] if r["genes_asked"] == 500 for key in ("default", "every_scale")
                if key in r]
        lines += ["", f"At 500 genes the planted types differ in about 25 genes and are weakly separated (ARI "
                  f"{min(aris):.3f}-{max(aris):.3f} with either schedule); the ARI column compares the two schedules, "
                  "not the method.", "",
                  "Log-log slopes of seconds against cells (500 genes): " + ", ".join(
            f"{k} {v:.2f}" for k, v in d["slopes"].items()), ""]
    return "\n".join(lines) + "\n"


def plot(rep: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [p for p in ("dense", "sparse_kl", "persistent") if p in rep]
    fig, axes = plt.subplots(1, len(parts), figsize=(5 * len(parts), 3.8), layout="constrained", squeeze=False)
    for ax, part in zip(axes[0], parts, strict=True):
        rows = rep[part]["rows"]
        if part == "persistent":
            base = [r for r in rows if r["genes_asked"] == 500]
            ax.loglog([r["n"] for r in base], [r["default"]["seconds"] for r in base], "o-", label="default")
            full = [r for r in base if "every_scale" in r]
            ax.loglog([r["n"] for r in full], [r["every_scale"]["seconds"] for r in full], "s--",
                      label="every scale")
            ax.set_xlabel("cells (500 genes, k = 4)")
            ax.set_ylabel("seconds, 10 sweeps")
            ax.set_title(part, fontsize=9)
            ax.legend(fontsize=8)
            continue
        ns = [r["n"] for r in rows]
        keys = ("floor_ms", "nmfkit_ms", "sklearn_cd_ms") if part == "dense" else ("nmfkit_ms", "sklearn_mu_ms")
        for key in keys:
            ax.loglog(ns, [r[key] for r in rows], "o-", label=key.replace("_ms", ""))
        ax.set_xlabel("n (rows)")
        ax.set_ylabel("ms per sweep")
        ax.set_title(part, fontsize=9)
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=130)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", nargs="+", default=["dense", "sparse_kl", "persistent"],
                   choices=["dense", "sparse_kl", "persistent"])
    p.add_argument("--faithful-limit", type=int, default=800,
                   help="persistent: also fit every scale up to this many cells (default 800)")
    p.add_argument("--sizes", nargs="+", type=int, default=None, help="override the sizes of the parts run")
    p.add_argument("--out", default=str(RESULTS / "growth"))
    args = p.parse_args()
    _quiet()
    stem = Path(args.out)
    rep = json.loads(stem.with_suffix(".json").read_text()) if stem.with_suffix(".json").exists() else {}
    if {"dense", "sparse_kl"} & set(args.parts):  # the persistent part records its own command and threads
        rep["command"] = "OMP_NUM_THREADS=1 python benchmarks/perf/growth.py " + " ".join(sys.argv[1:])
    if "dense" in args.parts:
        rep["dense"] = part_dense(args.sizes or [1000, 4000, 16000, 64000])
        write_results(stem, rep, markdown(rep))
    if "sparse_kl" in args.parts:
        rep["sparse_kl"] = part_sparse_kl(args.sizes or [10000, 40000, 160000])
        write_results(stem, rep, markdown(rep))
    if "persistent" in args.parts:
        rep["persistent"] = part_persistent(args.sizes or [200, 400, 800, 1600, 3200, 10000], args.faithful_limit)
        write_results(stem, rep, markdown(rep))
    plot(rep, stem.with_suffix(".png"))
    print(markdown(rep))


if __name__ == "__main__":
    main()
