"""Docstrings: examples run, and documented parameters match the signatures."""

import doctest
import inspect
import re

import pytest

import nmfkit
import nmfkit.estimators
import nmfkit.fit
from nmfkit import initialization, solvers, stopping

MODULES = [nmfkit.fit, nmfkit.estimators, nmfkit.tl]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_examples_run(module):
    if module is nmfkit.tl:  # its examples build AnnData objects
        pytest.importorskip("anndata", reason="anndata is missing: pip install '.[anndata]'")
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


def documented_parameters(doc):
    """Names in the numpydoc 'Parameters' section."""
    match = re.search(r"\n\s*Parameters\n\s*-+\n(.*?)(\n\s*\n\s*[A-Z][a-z]+\n\s*-+\n|\Z)", doc, re.S)
    if not match:
        return []
    names = []
    for line in match.group(1).splitlines():
        if line and not line[0].isspace():  # "name : type" at column 0; descriptions are indented
            for name in line.split(" : ")[0].split(","):
                names.append(name.strip().lstrip("*"))
    return [n for n in names if n]


PUBLIC = [nmfkit.nmf, nmfkit.NMF, solvers.MU, solvers.HALS, solvers.ANLSPG, solvers.GreedyCD,
          initialization.NNDSVD, stopping.FactorChange, stopping.RelativeObjectiveChange, solvers.nnls_bpp,
          initialization.truncated_svd]


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda o: o.__name__)
def test_parameters_section_matches_signature(obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{obj.__name__} has no docstring"
    target = obj.__init__ if inspect.isclass(obj) else obj
    params = [p for p in inspect.signature(target).parameters if p not in ("self",) and not p.startswith("_")]
    documented = documented_parameters("\n" + doc)
    assert documented == params, f"{obj.__name__}: documented {documented} vs signature {params}"


API_MODULES = ["nmfkit", "nmfkit.solvers", "nmfkit.initialization", "nmfkit.stopping", "nmfkit.methods",
               "nmfkit.selection", "nmfkit.tl", "nmfkit.pl", "nmfkit.distributed", "nmfkit.online", "nmfkit.batch",
               "nmfkit.penalties", "nmfkit.acceleration", "nmfkit.checkpoint", "nmfkit.io", "nmfkit.datasets",
               "nmfkit.metrics", "nmfkit.plotting", "nmfkit.graphs", "nmfkit.losses", "nmfkit.backend",
               "nmfkit.report", "nmfkit.testing", "nmfkit.fit", "nmfkit.estimators", "nmfkit.driver", "nmfkit.options",
               "nmfkit.cli"]


def _public_objects():
    import importlib

    seen, out = set(), []
    for name in API_MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                out.append(pytest.param(obj, id=f"{name}.{attr}"))
    return out


@pytest.mark.parametrize("obj", _public_objects())
def test_every_documented_signature_matches(obj):
    """Wherever a public function or class documents its parameters, the list is the signature's, in order."""
    doc = inspect.getdoc(obj)
    assert doc, f"{obj.__qualname__} has no docstring"
    documented = documented_parameters("\n" + doc)
    if not documented:
        return
    target = obj.__init__ if inspect.isclass(obj) else obj
    params = [p for p in inspect.signature(target).parameters if p != "self" and not p.startswith("_")]
    assert documented == params, f"{obj.__qualname__}: documented {documented} vs signature {params}"


def _api_reference():
    """The objects listed in docs/api.rst (the generated API reference)."""
    import importlib
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()
    out = []
    for line in text.splitlines():
        name = line.strip()
        if line.startswith("   ") and name and not name.startswith(":") and " " not in name:
            module, _, attr = f"nmfkit.{name}".rpartition(".")
            out.append(pytest.param(getattr(importlib.import_module(module), attr), id=name))
    return out


@pytest.mark.parametrize("obj", _api_reference())
def test_api_reference_documents_every_parameter(obj):
    """The API reference's functions and classes document each public parameter (a dataclass its fields)."""
    import dataclasses

    doc = "\n" + inspect.getdoc(obj)
    target = obj.__init__ if inspect.isclass(obj) else obj
    if target is object.__init__:
        return
    params = [p for p, v in inspect.signature(target).parameters.items()
              if p != "self" and not p.startswith("_") and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)]
    section = "Attributes" if dataclasses.is_dataclass(obj) else "Parameters"
    documented = documented_parameters(doc.replace(f"\n{section}\n", "\nParameters\n", 1))
    missing = [p for p in params if p not in documented]
    assert not missing, f"{obj.__qualname__} does not document {missing}"
