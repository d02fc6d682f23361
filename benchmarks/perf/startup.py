"""Start-up: ``nmfkit --help`` and ``import nmfkit`` against ``import numpy, scipy.sparse``, best of N runs.

Usage::

    python benchmarks/perf/startup.py --runs 7

Writes ``results/startup.{json,md}``; also lists the heavy packages each command loaded (none expected).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import write_atomic  # noqa: E402

HERE = Path(__file__).resolve().parent
HEAVY = ("sklearn", "torch", "dask", "matplotlib", "pandas", "anndata", "scanpy")
COMMANDS = {
    "python -c 'import numpy, scipy.sparse' (baseline)": [sys.executable, "-c", "import numpy, scipy.sparse"],
    "python -c 'import nmfkit'": [sys.executable, "-c", "import nmfkit"],
    "nmfkit --help": [sys.executable, "-m", "nmfkit", "--help"],
    "python -c 'from nmfkit import nmf'": [sys.executable, "-c", "from nmfkit import nmf"],
}

def loaded(cmd: list[str]) -> list[str]:
    """Heavy packages present in sys.modules after the command's work."""
    if cmd[1] == "-c":
        code = cmd[2] + f"\nimport sys; print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
        out = subprocess.run([cmd[0], "-c", code], capture_output=True, text=True).stdout.strip().splitlines()
    else:
        code = ("import sys, contextlib, io\nsys.argv = ['nmfkit', '--help']\nfrom nmfkit.cli import main\n"
                "with contextlib.redirect_stdout(io.StringIO()):\n    try:\n        main()\n    except SystemExit:\n"
                f"        pass\nprint(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
        out = subprocess.run([cmd[0], "-c", code], capture_output=True, text=True).stdout.strip().splitlines()
    return [m for m in (out[-1].split(",") if out else []) if m]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    rows = []
    for label, cmd in COMMANDS.items():
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        rows.append({"command": label, "best_s": min(times), "median_s": sorted(times)[len(times) // 2],
                     "heavy_loaded": loaded(cmd)})
    base = rows[0]["best_s"]
    for r in rows:
        r["ratio_to_baseline"] = r["best_s"] / base
    lines = ["# Start-up", "", f"Best and median of {args.runs} runs; load average at start "
             f"{os.getloadavg()[0]:.2f}. Command: `python benchmarks/perf/startup.py --runs {args.runs}`", "",
             "| command | best (s) | median (s) | best / baseline | heavy packages loaded |", "|---|---|---|---|---|"]
    lines += [f"| {r['command']} | {r['best_s']:.3f} | {r['median_s']:.3f} | {r['ratio_to_baseline']:.2f} | "
              f"{', '.join(r['heavy_loaded']) or 'none'} |" for r in rows]
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "startup.json", json.dumps(rows, indent=2))
    write_atomic(args.out / "startup.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
