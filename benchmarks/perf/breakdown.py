"""Where the time goes: cProfile breakdowns of the nmfkit default calls that miss a target in ``perf/run.py``.

For each case the fit runs once under cProfile, and the cumulative time of the
functions that matter (products with X, solver passes, initialization, ...) is
reported as a share of the whole call. cProfile adds overhead per Python call,
so the shares, not the seconds, are the output.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/perf/breakdown.py       # about 2 minutes

Writes ``profiles.json`` and ``profiles.md`` in ``benchmarks/perf/results/``.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from _common import write_atomic  # noqa: E402
from run import DEFAULT_DATA, PROBLEMS, load  # noqa: E402

# (file suffix, function name) -> label
WATCH = {
    ("initialization.py", "__call__"): "initialization (NNDSVDa)",
    ("_numpy.py", "matmul"): "products with X (X H^T, X^T W, sparse)",
    ("_base.py", "quadratic_stats"): "statistics X H^T, H H^T (products included)",
    ("hals.py", "solve"): "HALS solve (passes included)",
    ("hals.py", "column_pass"): "HALS column passes",
    ("acceleration.py", "step"): "extrapolated step (everything per sweep)",
    ("gcd.py", "solve"): "GCD solve",
    ("gcd.py", "_steps"): "GCD gains of every coordinate (per greedy step)",
    ("anls.py", "nnls_bpp"): "BPP NNLS (pivoting loop)",
    ("anls.py", "_solve_batched"): "BPP batched masked solves",
    ("linalg.py", "solve"): "LAPACK solves",
    ("_numpy.py", "support_blocks"): "W H on X's support (dense row blocks)",
    ("losses.py", "mu_terms"): "MU numerator and denominator",
    ("losses.py", "value"): "objective evaluations",
    ("_validation.py", "check_data"): "input checks",
    ("initialization.py", "truncated_svd"): "SVD of the start",
    ("acceleration.py", "_balance"): "extrapolation: balancing the scales",
    ("acceleration.py", "_keep_alive"): "extrapolation: keeping components alive",
}


def profile(label: str, fn) -> dict:
    prof = cProfile.Profile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof.enable()
        fn()
        prof.disable()
    stats = pstats.Stats(prof).stats
    total = max(ct for (_, _, _), (_, _, _, ct, _) in stats.items())
    parts = {}
    for (file, _, name), (_, _, _, ct, _) in stats.items():
        for (suffix, fname), what in WATCH.items():
            if file.endswith(suffix) and name == fname:
                parts[what] = parts.get(what, 0.0) + ct
    return {"case": label, "total_s": total,
            "parts": {k: {"seconds": v, "share": v / total} for k, v in sorted(parts.items(), key=lambda kv: -kv[1])}}


def main() -> int:
    from nmfkit import nmf

    data = DEFAULT_DATA
    if not data.is_dir():
        print(f"profile: data folder {data} not found; nothing to do.", file=sys.stderr)
        return 0
    cases = []
    # nmfkit's default call on the problems where it misses a target, for the sweeps it needed to reach it
    # (benchmarks/perf/results/perf_cpu.md): CBCL 70, ORL 70, dense 30, mouse KL 140
    for name, sweeps in (("cbcl", 70), ("orl", 70), ("dense", 30)):
        X = load(name, data)
        cases.append(profile(f"{name}, default call (HALS + extrapolation), {sweeps} sweeps (its time to target)",
                             lambda X=X, name=name, sweeps=sweeps: nmf(X, PROBLEMS[name]["rank"], random_state=0,
                                                                      stop="fixed", max_iter=sweeps)))
    mouse = load("mouse_kl", data)
    cases.append(profile("10x mouse KL r=20, default call (sparse MU), 140 sweeps (its time to target)",
                         lambda: nmf(mouse, 20, beta_loss=1, random_state=0, stop="fixed", max_iter=140)))
    cbcl = load("cbcl", data)
    for solver in ("gcd", "anls-bpp"):
        cases.append(profile(f"CBCL r=49, {solver}, 10 sweeps",
                             lambda s=solver: nmf(cbcl, PROBLEMS["cbcl"]["rank"], solver=s, init="nndsvda",
                                                  random_state=0, stop="fixed", max_iter=10, extrapolate=False)))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    write_atomic(out / "profiles.json", json.dumps(cases, indent=2))
    lines = ["# Where the time goes (cProfile, cumulative time per function, share of the call)", "",
             "Command: `OMP_NUM_THREADS=1 python benchmarks/perf/breakdown.py`. Parts overlap where one "
             "function calls another (e.g. the extrapolated step contains the solves and products).", ""]
    for c in cases:
        lines += [f"## {c['case']}", "", f"Whole call: {c['total_s']:.2f} s under the profiler.", "",
                  "| part | seconds | share |", "|---|---|---|"]
        lines += [f"| {k} | {v['seconds']:.2f} | {100 * v['share']:.0f} % |" for k, v in c["parts"].items()]
        lines.append("")
    write_atomic(out / "profiles.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
