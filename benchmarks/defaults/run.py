"""Evidence for the defaults: every candidate configuration per loss, on real and planted problems, side by side.

For each problem the candidates run from the same NNDSVDa start for a fixed budget
(``--budget`` seconds, one BLAS thread), their objective recorded at every
evaluation. The reference is the lowest objective any candidate reached; the
table gives, per candidate, the time to come within 1e-3 and 1e-5 (relative) of
it, the final gap, and what the *default call* ``nmf(X, k[, beta_loss])`` does on
the same problem: sweeps, seconds, why it stopped and its gap to the reference.

Problems: ``cbcl`` (361 x 2429, r = 49), ``cbcl32`` (the same in float32),
``orl`` (10304 x 400, r = 25), ``orl64`` (ORL resized bilinearly to 64 x 64,
4096 x 400, r = 25), ``dense`` (planted 3000 x 2000, r = 20), ``mouse_log``
(10x mouse counts, library-size normalized to the median total and log1p'd,
sparse 10 000 x 1000, r = 20), ``mouse_kl`` (the raw counts, KL, r = 20),
``cbcl_kl`` (CBCL, KL, r = 49), ``piano_is`` (piano magnitude spectrogram,
Itakura-Saito, r = 8), ``cbcl_b15`` (CBCL, beta = 1.5, r = 49).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/defaults/run.py --budget 40 --jobs 2

Writes ``results/defaults.json`` and ``results/defaults.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import write_results  # noqa: E402


def _perf_runner():
    """``benchmarks/perf/run.py`` as a module (both scripts are named run.py): the problems both runners share."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "perf" / "run.py"
    spec = importlib.util.spec_from_file_location("perf_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


perf = _perf_runner()

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[2] / "shared" / "data"

PROBLEMS = {
    "cbcl": (49, 2.0), "cbcl32": (49, 2.0), "orl": (25, 2.0), "orl64": (25, 2.0), "dense": (20, 2.0),
    "mouse_log": (20, 2.0), "mouse_kl": (20, 1.0), "cbcl_kl": (49, 1.0), "piano_is": (8, 0.0),
    "cbcl_b15": (49, 1.5),
}


def load(name: str, data: Path):
    """The problem's matrix; CBCL, ORL, the dense planted problem and the mouse counts as ``perf/run.py`` loads them."""
    import scipy.io
    from scipy.ndimage import zoom

    if name in ("cbcl_kl", "cbcl_b15"):
        return perf.load("cbcl", data)
    if name == "cbcl32":
        return perf.load("cbcl", data).astype(np.float32)
    if name == "orl64":
        X = perf.load("orl", data)
        imgs = X.T.reshape(400, 92, 112)
        small = np.stack([zoom(im, (64 / 92, 64 / 112), order=1) for im in imgs])
        return np.maximum(small.reshape(400, -1).T, 0.0)
    if name == "piano_is":
        m = scipy.io.loadmat(data / "audio/piano_Mary.mat")
        key = [k for k in m if not k.startswith("__")][0]
        V = np.abs(np.asarray(m[key], dtype=np.float64))
        return V[np.asarray(V.sum(axis=1)).ravel() > 0] + 1e-9 * V.max()
    return perf.load(name, data)  # cbcl, orl, dense, mouse_kl, mouse_log


def candidates(beta: float) -> dict:
    from nmfkit.acceleration import Extrapolation
    from nmfkit.solvers import HALS

    if beta == 2.0:
        return {
            "hals": {"solver": HALS(), "extrapolate": False},
            "hals plain (alpha=0)": {"solver": HALS(alpha=0.0), "extrapolate": False},
            "hals + extrapolation (best)": {"solver": HALS(), "extrapolate": Extrapolation(restart="best")},
            "hals + extrapolation (current)": {"solver": HALS(), "extrapolate": Extrapolation(restart="current")},
            "anls-bpp + extrapolation (best)": {"solver": "anls-bpp", "extrapolate": Extrapolation(restart="best")},
        }
    return {"mu": {"solver": "mu", "extrapolate": False}}


def run_one(problem: str, label: str, budget: float, data: Path) -> dict:
    from nmfkit import nmf

    rank, beta = PROBLEMS[problem]
    X = load(problem, data)
    curve = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if label == "default call":
            t0 = time.perf_counter()
            r = nmf(X, rank, beta_loss=beta) if beta != 2.0 else nmf(X, rank)
            seconds = time.perf_counter() - t0
            return {"label": label, "objective": r.objective, "n_iter": r.n_iter, "seconds": seconds,
                    "stop_reason": r.stop_reason, "converged": r.converged,
                    "solver": repr(r.extras["solver"]), "extrapolation": repr(r.extras["extrapolation"])}
        options = candidates(beta)[label]
        t0 = time.perf_counter()

        def callback(info):
            if info.objective is not None:
                curve.append((info.n_iter, time.perf_counter() - t0, info.objective))

        r = nmf(X, rank, beta_loss=beta, init="nndsvda", random_state=0, stop="fixed", max_iter=10**7,
                max_time=budget, callback=callback, record_every=1 if options["extrapolate"] else 10, **options)
    return {"label": label, "curve": curve, "objective": r.objective, "n_iter": r.n_iter}


def summarize(prob: dict) -> None:
    runs = [r for r in prob["runs"] if "curve" in r]
    ref = min(min(c[2] for c in r["curve"]) for r in runs if r["curve"])
    prob["reference"] = ref
    for r in prob["runs"]:
        r["gap"] = (r["objective"] - ref) / abs(ref)
        if "curve" not in r:
            continue
        for tol in (1e-3, 1e-5):
            hit = [c for c in r["curve"] if (c[2] - ref) / abs(ref) <= tol]
            r[f"to_{tol:g}"] = hit[0][1] if hit else None
        r["curve"] = thin(r["curve"])


def thin(curve: list, points: int = 200) -> list:
    """At most about ``points`` entries of a curve, evenly spaced, the last one kept (what the JSON stores)."""
    step = max(1, len(curve) // points)
    return curve[::step] + ([curve[-1]] if (len(curve) - 1) % step else [])


def _secs(v: float | None) -> str:
    return "not reached" if v is None else f"{v:.2f}"


def markdown(rep: dict) -> str:
    lines = ["# Defaults: candidates side by side", "", f"Machine: {rep['machine']}. Command: `{rep['command']}`", "",
             "Gap: (objective - reference) / reference, where the reference is the lowest objective any candidate "
             "reached within the budget. Times in seconds from the start of the loop (NNDSVDa start excluded for "
             "candidates, included for the default call).", ""]
    for prob in rep["problems"]:
        rank, beta = PROBLEMS[prob["problem"]]
        lines += [f"## {prob['problem']} (shape {tuple(prob['shape'])}, r = {rank}, beta = {beta:g})", "",
                  "| candidate | to gap 1e-3 (s) | to gap 1e-5 (s) | sweeps | final gap |", "|---|---|---|---|---|"]
        for r in prob["runs"]:
            if "curve" in r:
                lines.append(f"| {r['label']} | {_secs(r['to_0.001'])} | {_secs(r['to_1e-05'])} | {r['n_iter']} | "
                             f"{r['gap']:.2e} |")
        for r in prob["runs"]:
            if "curve" not in r:
                lines += ["", f"Default call: {r['n_iter']} sweeps in {r['seconds']:.2f} s, gap {r['gap']:.2e}, "
                          f"{'converged' if r['converged'] else 'NOT converged'} ({r['stop_reason']}); "
                          f"solver {r['solver']}, extrapolation {r['extrapolation']}."]
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--only", nargs="*", help="candidate labels to run (default: all, and the default call)")
    parser.add_argument("--budget", type=float, default=40.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        res = run_one(args.one[0], args.one[1], args.budget, args.data)
        args.result.write_text(json.dumps(res, default=float))
        return 0
    if not args.data.is_dir():
        print(f"defaults: data folder {args.data} not found; nothing to do.", file=sys.stderr)
        return 0
    tasks = []
    for name in args.problems:
        labels = list(candidates(PROBLEMS[name][1])) + ["default call"]
        tasks += [(name, lab) for lab in labels if not args.only or lab in args.only]

    def work(task):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "r.json"
            cmd = [sys.executable, __file__, "--one", *task, "--result", str(path), "--budget", str(args.budget),
                   "--data", str(args.data)]
            subprocess.run(cmd, check=False)
            res = json.loads(path.read_text()) if path.exists() else {"label": task[1], "failed": True}
            print(f"[{task[0]}] {task[1]}: objective {res.get('objective')}", flush=True)
            return task[0], res

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(work, tasks))
    rep = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, BLAS threads "
           f"{os.environ.get('OMP_NUM_THREADS', 'default')}, jobs {args.jobs}",
           "command": "OMP_NUM_THREADS=1 python benchmarks/defaults/run.py " + " ".join(sys.argv[1:]), "problems": []}
    for name in args.problems:
        runs = [r for p, r in results if p == name and not r.get("failed")]
        if not runs:
            continue
        prob = {"problem": name, "shape": list(load(name, args.data).shape), "runs": runs}
        summarize(prob)
        rep["problems"].append(prob)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / ("defaults" if not args.only else "defaults_partial")
    write_results(stem, rep, markdown(rep), indent=1)
    print(markdown(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
