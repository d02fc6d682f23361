"""The documentation builds without warnings, and the gallery's figures come from its examples."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NMFKIT_DATA", ROOT.parent / "shared" / "data"))


def test_documentation_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="sphinx is missing: pip install '.[docs]'")
    pytest.importorskip("sphinx_gallery", reason="sphinx_gallery is missing: pip install '.[docs]'")
    pytest.importorskip("numpydoc", reason="numpydoc is missing: pip install '.[docs]'")
    out = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg", "NMFKIT_DOCS_RERUN": "1"}  # the examples run in this build
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    for page in ("index", "getting_started", "api", "user_guide/index", "user_guide/anndata"):
        assert (out / f"{page}.html").exists(), page
    assert (out / "generated" / "nmfkit.nmf.html").exists()  # the API reference comes from the docstrings
    examples = sorted(p.stem for p in (ROOT / "docs" / "gallery").glob("plot_*.py"))
    data_free = ["plot_persistent_scales", "plot_rank_survey"]
    expected = examples if DATA.is_dir() else data_free
    images = {p.name for p in (out / "_images").glob("sphx_glr_plot_*.png")}
    for name in expected:  # every example that ran drew its figure, embedded in its page
        assert any(img.startswith(f"sphx_glr_{name}_0") for img in images), name
        assert f"sphx_glr_{name}_001.png" in (out / "auto_gallery" / f"{name}.html").read_text()
