"""cnmf's whole workflow on one counts file, run in the benchmark's own environment (cnmf 1.7.1 installed).

Not imported by nmfkit: ``run.py`` starts it with that environment's Python. It runs what a cnmf user runs
(prepare, factorize on ``--workers`` processes, combine, k_selection_plot, consensus at one rank) and writes
the outputs the comparison needs to ``OUT/result.npz``, with the seconds of every step in ``OUT/timing.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("counts", help=".h5ad of raw counts, cells x genes")
    p.add_argument("--out", required=True)
    p.add_argument("--ranks", required=True, help="comma-separated")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--genes", type=int, default=2000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--k", type=int, default=None, help="consensus rank (default: cnmf's most stable rank)")
    p.add_argument("--density-threshold", type=float, default=0.5)
    a = p.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    from cnmf import cNMF
    from cnmf.cnmf import load_df_from_npz

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ranks = [int(v) for v in a.ranks.split(",")]
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    obj = cNMF(output_dir=str(out), name="run")
    obj.prepare(counts_fn=a.counts, components=ranks, n_iter=a.runs, seed=a.seed, num_highvar_genes=a.genes)
    timing["prepare"] = time.perf_counter() - t0
    t = time.perf_counter()
    if a.workers > 1:
        obj.factorize_multi_process(a.workers)
    else:
        obj.factorize(worker_i=0, total_workers=1)
    timing["factorize"] = time.perf_counter() - t
    t = time.perf_counter()
    obj.combine()
    timing["combine"] = time.perf_counter() - t
    t = time.perf_counter()
    obj.k_selection_plot(close_fig=True)
    timing["k_selection"] = time.perf_counter() - t
    stats = load_df_from_npz(obj.paths["k_selection_stats"])
    k = a.k
    if k is None:
        order = np.lexsort((stats["k"].to_numpy(), -stats["silhouette"].to_numpy()))
        k = int(stats["k"].to_numpy()[order[0]])
    t = time.perf_counter()
    obj.consensus(k, density_threshold=a.density_threshold, show_clustering=True, close_clustergram_fig=True)
    timing["consensus"] = time.perf_counter() - t
    timing["total"] = time.perf_counter() - t0
    usage, scores, tpm, top = obj.load_results(K=k, density_threshold=a.density_threshold)
    genes = Path(obj.paths["nmf_genes_list"]).read_text().split("\n")
    np.savez(out / "result.npz", ranks=stats["k"].to_numpy(int), stability=stats["silhouette"].to_numpy(float),
             prediction_error=stats["prediction_error"].to_numpy(float), k=k,
             usages=usage.to_numpy(float), scores=scores.to_numpy(float).T, tpm=tpm.to_numpy(float).T,
             score_genes=np.asarray(scores.index, dtype=str), variable_genes=np.asarray(genes, dtype=str))
    (out / "timing.json").write_text(json.dumps(timing, indent=1))
    print(json.dumps(timing))


if __name__ == "__main__":
    main()
