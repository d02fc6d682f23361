"""The README's Python snippets run as written, without a warning (ConvergenceWarning included).

Snippets run in order in one namespace, as a reader would paste them into one session. Those
that need what a test machine lacks (a GPU, a Dask scheduler, an AnnData object, data files)
are adapted by the substitutions below, each stated, or listed in NOT_RUN with the reason.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

# heading of the section -> (substitutions applied to its snippets, reason) or None to run as written
ADAPTED = {
    "Speed: extrapolation, PyTorch tensors, GPUs and batched replicates": (
        [('device="cuda"', 'device="cpu"')], "no GPU in CI: the tensors stay on the CPU"),
}
NOT_RUN = {
    "Beyond one machine: Dask": "needs a Dask scheduler and a zarr store (tests/test_distributed.py covers the API)",
    "Single-cell data: AnnData and scanpy": "needs an AnnData object with a UMAP (tests/test_tl.py covers the API)",
    "Deep beta-NMF": "needs the CBCL faces and a hyperspectral cube (tests/test_methods_deep.py)",
    "Persistent NMF": "needs labelled counts (tests/test_methods_persistent.py)",
    "The NMF family: joint, graph and spatial, networks, separable, sparse": "needs several data sets "
    "(tests/test_methods_*.py)",
    "Choosing the rank and trusting the parts": "a 9-rank survey with 20 replicates each and 200 bootstraps takes "
    "minutes (tests/test_selection.py)",
}


def snippets() -> list[tuple[str, str]]:
    """``(section heading, code)`` of every Python block, in order."""
    heading, out = "", []
    for m in re.finditer(r"^(#+ [^\n]*)$|^```python\n(.*?)^```", README.read_text(), flags=re.M | re.S):
        if m.group(1):
            heading = m.group(1).lstrip("# ").strip()
        else:
            out.append((heading, m.group(2)))
    return out


def test_every_section_with_a_snippet_is_accounted_for():
    headings = {h for h, _ in snippets()}
    assert set(ADAPTED) <= headings and set(NOT_RUN) <= headings


def test_readme_snippets_run_without_warnings(tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="torch is missing: pip install '.[torch]'")
    monkeypatch.chdir(tmp_path)  # the checkpoint snippet writes fit.npz
    namespace: dict = {"__name__": "readme"}
    ran = 0
    for heading, code in snippets():
        if heading in NOT_RUN:
            continue
        for old, new in ADAPTED.get(heading, ([], ""))[0]:
            assert old in code, f"stale substitution {old!r} in section {heading!r}"
            code = code.replace(old, new)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # third-party notices that are not about the README's calls
            warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
            exec(compile(code, f"README.md: {heading}", "exec"), namespace)  # noqa: S102
        ran += 1
    assert ran >= 5
