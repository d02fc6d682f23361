"""Out-of-core NMF on Dask: a generated float32 zarr matrix larger than the workers' memory.

Writes a low-rank-plus-noise float32 matrix (default 2 000 000 x 1000, 8 GB) to a zarr store in row
blocks, then factorizes it with ``nmfkit.nmf_distributed`` on a LocalCluster whose workers are
limited to ``--worker-memory`` each (default 2 GB: the matrix is twice the whole cluster's memory),
and factorizes an in-memory slice of the same matrix (``--slice-rows``) with ``nmfkit.nmf`` in this
process. Both run the same solver for the same sweeps from a random start. Reported: seconds per
sweep, seconds per sweep per GB of data, their ratio (Dask over in-memory), the cluster's peak memory
(Dask's MemorySampler) against the matrix size, and the final relative error of each fit.

Run alone (the timings are the machine's): ``python benchmarks/distributed/run.py``;
``--rows 200000`` for a quick 0.8 GB check. The store is left in ``--store`` for reruns
(``--regenerate`` rewrites it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import write_atomic  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def generate(path: str, rows: int, cols: int, rank: int, block: int, seed: int = 0) -> None:
    """``X = W H + noise`` (float32, non-negative), written block by block (never whole in memory)."""
    import zarr

    rng = np.random.default_rng(seed)
    H = rng.random((rank, cols)).astype(np.float32)
    z = zarr.open_array(path, mode="w", shape=(rows, cols), chunks=(block, cols), dtype="f4")
    for s in range(0, rows, block):
        e = min(s + block, rows)
        W = rng.random((e - s, rank), dtype=np.float32)
        z[s:e] = W @ H + 0.1 * rng.random((e - s, cols), dtype=np.float32)
    (Path(path) / "nmfkit-complete").write_text(json.dumps({"rows": rows, "cols": cols, "rank": rank}))


def relative_error(X, W, H) -> float:
    """``||X - W H||_F / ||X||_F``, row block by row block."""
    num = den = 0.0
    for s in range(0, X.shape[0], 65536):
        x = np.asarray(X[s:s + 65536], dtype=np.float64)
        num += float(np.sum((x - W[s:s + 65536] @ H) ** 2))
        den += float(np.sum(x * x))
    return float(np.sqrt(num / den))


def run_dask(path: str, args: argparse.Namespace, solver: str, beta: float) -> dict:
    import dask.array as da
    import zarr
    from distributed import Client, LocalCluster
    from distributed.diagnostics import MemorySampler

    import nmfkit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, memory_limit=args.worker_memory,
                               dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    X = da.from_zarr(path)
    t0 = time.perf_counter()
    X.sum(dtype=np.float64).compute()
    read = time.perf_counter() - t0  # one pass over X: reading and decompressing the blocks, nothing else
    sampler = MemorySampler()
    with sampler.sample("fit", client=client, interval=0.5):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = nmfkit.nmf_distributed(X, args.rank, client=client, solver=solver, beta_loss=beta, init="random",
                                            random_state=0, max_iter=args.sweeps, stop="fixed",
                                            record_every=args.sweeps)
        total = time.perf_counter() - t0
    peak = float(sampler.to_pandas()["fit"].max())
    W = result.W.compute()
    client.close()
    cluster.close()
    loop = result.elapsed  # the sweeps and the two evaluations, validation and start excluded
    return {"seconds_total": total, "seconds_loop": loop, "seconds_per_sweep": loop / args.sweeps,
            "seconds_one_read": read,
            "cluster_peak_bytes": peak, "objective": result.objective,
            "relative_error": relative_error(zarr.open_array(path, mode="r"), W, result.H),
            "blocks": result.extras["n_blocks"]}


def run_memory(path: str, args: argparse.Namespace, solver: str, beta: float) -> dict:
    import zarr

    import nmfkit

    X = np.asarray(zarr.open_array(path, mode="r")[: args.slice_rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nmfkit.nmf(X, args.rank, solver=solver, beta_loss=beta, init="random", random_state=0,
                            max_iter=args.sweeps, stop="fixed", record_every=args.sweeps)
    return {"seconds_loop": result.elapsed, "seconds_per_sweep": result.elapsed / args.sweeps,
            "objective": result.objective, "relative_error": relative_error(X, result.W, result.H)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--cols", type=int, default=1000)
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--block", type=int, default=32768, help="rows per zarr chunk and Dask block")
    parser.add_argument("--slice-rows", type=int, default=200_000, help="rows of the in-memory comparison")
    parser.add_argument("--sweeps", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="2GB")
    parser.add_argument("--store", default="/tmp/nmfkit-bench-X.zarr")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--solvers", default="anls-bpp:2,mu:1", help="solver:beta pairs")
    args = parser.parse_args()

    marker = Path(args.store) / "nmfkit-complete"
    wanted = {"rows": args.rows, "cols": args.cols, "rank": args.rank}
    if args.regenerate or not marker.exists() or json.loads(marker.read_text()) != wanted:
        t0 = time.perf_counter()
        generate(args.store, args.rows, args.cols, args.rank, args.block)
        print(f"generated {args.store} in {time.perf_counter() - t0:.0f} s", flush=True)
    gb = args.rows * args.cols * 4 / 1e9
    slice_gb = args.slice_rows * args.cols * 4 / 1e9
    rows = []
    for pair in args.solvers.split(","):
        solver, beta = pair.split(":")
        beta = float(beta)
        dask_run = run_dask(args.store, args, solver, beta)
        print(f"{solver} beta={beta:g} dask: {dask_run}", flush=True)
        memory_run = run_memory(args.store, args, solver, beta)
        print(f"{solver} beta={beta:g} in memory: {memory_run}", flush=True)
        per_gb_dask = dask_run["seconds_per_sweep"] / gb
        per_gb_memory = memory_run["seconds_per_sweep"] / slice_gb
        rows.append({"solver": solver, "beta": beta, "dask": dask_run, "in_memory": memory_run,
                     "dask_seconds_per_sweep_per_gb": per_gb_dask,
                     "memory_seconds_per_sweep_per_gb": per_gb_memory, "ratio_per_gb": per_gb_dask / per_gb_memory})
    report = {"matrix": {"rows": args.rows, "cols": args.cols, "dtype": "float32", "gb": gb, "rank": args.rank,
                         "block_rows": args.block, "store": "zarr"},
              "cluster": {"workers": args.workers, "threads_per_worker": 1, "memory_limit": args.worker_memory},
              "slice": {"rows": args.slice_rows, "gb": slice_gb}, "sweeps": args.sweeps, "results": rows,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
              "command": "python benchmarks/distributed/run.py " + " ".join(sys.argv[1:])}
    RESULTS.mkdir(exist_ok=True)
    write_atomic(RESULTS / "distributed.json", json.dumps(report, indent=2))
    lines = ["# Out-of-core NMF on Dask", "",
             f"Matrix: {args.rows} x {args.cols} float32 in zarr ({gb:.1f} GB, blocks of {args.block} rows), "
             f"rank {args.rank}, random start, {args.sweeps} sweeps. Cluster: {args.workers} workers x 1 thread, "
             f"memory limit {args.worker_memory} each. In memory: the first {args.slice_rows} rows "
             f"({slice_gb:.2f} GB) with `nmfkit.nmf` in one process.", "",
             f"Command: `{report['command']}`", "",
             "One read is the time of one pass over X on the same cluster (`X.sum()`: reading and decompressing "
             f"the blocks); the loop reads X {args.sweeps + 2} times ({args.sweeps} sweeps and 2 objective "
             "evaluations).", "",
             "| solver | Dask s/sweep | one read of X (s) | Dask s/sweep/GB | in-memory s/sweep | in-memory s/sweep/GB "
             "| ratio per GB | cluster peak memory | Dask rel. error | in-memory rel. error |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d, mem = r["dask"], r["in_memory"]
        lines.append(f"| {r['solver']} (beta={r['beta']:g}) | {d['seconds_per_sweep']:.2f} | {d['seconds_one_read']:.1f} | "
                     f"{r['dask_seconds_per_sweep_per_gb']:.2f} | {mem['seconds_per_sweep']:.3f} | "
                     f"{r['memory_seconds_per_sweep_per_gb']:.2f} | {r['ratio_per_gb']:.2f} | "
                     f"{d['cluster_peak_bytes'] / 1e9:.2f} GB ({d['cluster_peak_bytes'] / 1e9 / gb:.0%} of X) | "
                     f"{d['relative_error']:.4f} | {mem['relative_error']:.4f} |")
    write_atomic(RESULTS / "distributed.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
