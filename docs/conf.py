"""Sphinx configuration: user guide, API reference from the numpydoc docstrings, and a gallery run at build time."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nmfkit  # noqa: E402

project = "nmfkit"
author = "the nmfkit developers"
copyright = "the nmfkit developers"  # noqa: A001
version = release = nmfkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# -- API reference -------------------------------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# the docstrings' parameters must match the signatures: documented but absent (PR02) or wrongly ordered (PR03)
numpydoc_validation_checks = {"PR02", "PR03"}
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}
intersphinx_mapping = {}  # the build must not need the network
nitpicky = False

# -- gallery: the examples run during the build and their figures are embedded ------------------------------
DATA = Path(os.environ.get("NMFKIT_DATA", ROOT.parent / "shared" / "data"))
NEEDS_DATA = ["plot_faces_parts", "plot_samson_unmixing", "plot_mutational_signatures", "plot_deep_layers"]
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_gallery",
    "filename_pattern": r"/plot_",
    # without the shared data folder the examples that read it are left out (the others still run)
    "ignore_pattern": r"__init__\.py" + ("" if DATA.is_dir() else "|" + "|".join(NEEDS_DATA)),
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "within_subsection_order": "FileNameSortKey",
    "reset_modules": ("matplotlib",),
    # NMFKIT_DOCS_RERUN=1 runs every example even when its output is already there (the test does)
    "run_stale_examples": os.environ.get("NMFKIT_DOCS_RERUN") == "1",
}

# -- output -------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "nmfkit"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list[str] = []
exclude_patterns = ["_build", "gallery/*", "auto_gallery/*.ipynb", "auto_gallery/*.py", "auto_gallery/*.zip",
                    "auto_gallery/*.md5", "auto_gallery/*.codeobj.json"]
