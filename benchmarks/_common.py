"""Helpers shared by the benchmark scripts: atomic result files and the per-part command list."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_results(stem: Path, report: dict, markdown: str, indent: int = 2) -> None:
    """``stem.json`` (the report) and ``stem.md`` (its table), each written atomically."""
    import json

    write_atomic(stem.with_suffix(".json"), json.dumps(report, indent=indent, default=float))
    write_atomic(stem.with_suffix(".md"), markdown)


def commands(rep: dict) -> list[str]:
    """Markdown lines naming the command that produced each part (parts are rerun separately)."""
    done = rep.get("commands", {})
    if not done:
        return [f"Command: `{rep.get('command', '')}`", ""]
    return ["Commands (each part keeps the result of its latest run):", ""] + [
        f"- {part}: `{cmd}`" for part, cmd in done.items()] + [""]
