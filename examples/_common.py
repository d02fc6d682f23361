"""What every worked example shares: its command line, where results go, atomic JSON, figures, data checks."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from nmfkit.io import json_text

HERE = Path(__file__).resolve().parent


def parser(doc: str) -> argparse.ArgumentParser:
    """``--fast`` (the CI version: smaller, fewer iterations) and ``--out`` (default examples/results/NAME)."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--fast", action="store_true", help="the quick version run by the test suite")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: examples/results/<name>)")
    p.add_argument("--data-dir", default=None, help="folder holding the shared data (default: ../shared/data)")
    return p


def out_dir(args: argparse.Namespace, name: str) -> Path:
    out = args.out or HERE / "results" / name
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_metrics(out: Path, metrics: dict) -> Path:
    """``metrics.json`` (strict JSON: NaN and inf as null) written through a temporary file (never half-written)."""
    path = out / "metrics.json"
    fd, tmp = tempfile.mkstemp(dir=out, prefix="metrics", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(json_text(metrics, indent=1))
    os.replace(tmp, path)
    return path


def save(fig: Any, out: Path, name: str) -> str:
    """Save a matplotlib figure as PNG through a temporary file; return the file name."""
    import matplotlib.pyplot as plt

    fd, tmp = tempfile.mkstemp(dir=out, prefix=name, suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, out / name)
    return name


def require_data(loader: Any, data_dir: Any) -> Any:
    """Load a data set (from a data folder, the cache, or downloaded), or print a note and exit 0 when it cannot be."""
    from nmfkit._fetch import FetchError

    try:
        return loader(data_dir)
    except (FileNotFoundError, FetchError) as exc:  # absent, or not downloadable here (offline, no network)
        print(f"skipped: {exc}")
        sys.exit(0)


def matplotlib_agg() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
