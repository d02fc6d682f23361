"""ruff and mypy run clean on the project (configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=900)


def test_ruff():
    pytest.importorskip("ruff", reason="ruff is missing: pip install '.[dev]'")
    proc = _run("ruff", "check", "nmfkit", "tests", "benchmarks", "examples", "docs")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_mypy():
    pytest.importorskip("mypy", reason="mypy is missing: pip install '.[dev]'")
    proc = _run("mypy")  # files and options from [tool.mypy]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
