"""The data set registry: the :class:`Dataset` type, where data files are, what is known, fetching, loading by name."""

from __future__ import annotations

import csv
import gzip
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from nmfkit import _fetch
from nmfkit._progress import on_terminal
from nmfkit._validation import InvalidInputError
from nmfkit.io import Matrix

__all__ = ["Dataset", "data_dirs", "find", "locate", "available", "fetch", "load", "register", "REGISTRY", "numbered",
           "read_mat", "read_table"]


@dataclass
class Dataset:
    """A data matrix with everything needed to use and cite it.

    Attributes
    ----------
    name : str
    X : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)
    sample_names, feature_names : list of str
    labels : ndarray of shape (n_samples,) or None
    description, citation, licence, source : str
    image_shape : tuple of int or None
        ``(height, width)`` when each sample is an image (row-major pixels).
    extras : dict
        Ground truth and other side information (e.g. endmembers).
    """

    name: str
    X: Any
    sample_names: list
    feature_names: list
    labels: Any = None
    description: str = ""
    citation: str = ""
    licence: str = ""
    source: str = ""
    image_shape: tuple | None = None
    extras: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    def as_matrix(self) -> Any:
        """The data as an :class:`nmfkit.io.Matrix` (what the CLI consumes)."""
        return Matrix(self.X, list(self.sample_names), list(self.feature_names), f"<dataset {self.name}>",
                      "dataset", {"description": self.description})


# -- where the files are ---------------------------------------------------------------------------
def data_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data files, in order."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get("NMFKIT_DATA"):
        dirs.append(Path(os.environ["NMFKIT_DATA"]))
    dirs.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    dirs.append(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nmfkit")
    return dirs


def find(relative: str, data_dir: Any = None, download: bool = True) -> Path:
    """The file ``relative`` from the first data folder that has it; else downloaded into the cache.

    Downloads happen when ``download`` is true, ``NMFKIT_OFFLINE`` is not set,
    and the file has a URL (its public origin, or the ``NMFKIT_DATA_URL``
    mirror); see :func:`fetch`.
    """
    found = locate(relative, data_dir)
    if found is not None:
        return found
    searched = data_dirs(data_dir)
    source = _fetch.SOURCES.get(relative)
    if download and source is not None and not _fetch.offline() and _fetch.url_of(relative) is not None:
        return _fetch.fetch_file(relative, progress=progress_wanted())
    places = "; ".join(str(d / relative) for d in searched)
    if source is None:
        how = "Set NMFKIT_DATA or pass data_dir."
    elif _fetch.url_of(relative) is None:
        how = f"To get it: {source.by_hand}."
    elif _fetch.offline():
        how = "NMFKIT_OFFLINE is set; unset it to download the file, or set NMFKIT_DATA or pass data_dir."
    else:
        how = "Pass download=True (or run: nmfkit datasets --fetch NAME), set NMFKIT_DATA, or pass data_dir."
    msg = f"Data file {relative!r} not found. Searched: {places}. {how}"
    raise FileNotFoundError(msg)


def locate(relative: str, data_dir: Any = None) -> Path | None:
    """``relative`` in the first data folder that has it (:func:`data_dirs`), or None."""
    return next((d / relative for d in data_dirs(data_dir) if (d / relative).exists()), None)


def progress_wanted() -> bool:
    return on_terminal(sys.stderr)


def numbered(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def read_mat(path: Path) -> dict:
    return {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}


def read_table(path: Path, delimiter: str) -> tuple[list[str], list[str], np.ndarray]:
    """Header, row names and values of a labelled text table (first column = row names)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=delimiter))
    header = rows[0][1:]
    body = [r for r in rows[1:] if r]
    values = np.array([[float(v) if v not in ("", "NA") else np.nan for v in r[1:]] for r in body])
    return header, [r[0] for r in body], values


# -- loaders -----------------------------------------------------------------------------------------
REGISTRY: dict[str, dict] = {}


def register(name: str, files: list[str], description: str, source: str) -> Callable:
    def deco(fn: Callable) -> Callable:
        REGISTRY[name] = {"loader": fn, "files": files, "description": description, "source": source}
        return fn
    return deco


# files a loader reads besides its registered ones, by option (kind=, assay=)
_OPTIONAL_FILES = {
    "cosmic": ["mutsig/COSMIC_v3.4_DBS_GRCh37.txt", "mutsig/COSMIC_v3.4_ID_GRCh37.txt"],
    "mini_acc": [f"multiomics/tcga_miniACC/miniACC_{a}.csv" for a in ("Mutations", "RPPAArray", "gistict",
                                                                      "colData_first20cols")],
    "golub": ["expression/golub_all_aml/ALL_AML_genes.txt", "expression/golub_all_aml/ALL_AML_samples.txt"],
}


def _files(name: str) -> list[str]:
    """Every file the loader of ``name`` may read."""
    return list(REGISTRY[name]["files"]) + _OPTIONAL_FILES.get(name, [])


def available(data_dir: Any = None) -> list[dict]:
    """Every known data set and where it stands.

    Returns
    -------
    list of dict
        ``name``, ``available`` (every file found), ``state`` (``"here"``:
        found in a data folder; ``"cached"``: in the user cache;
        ``"download"``: can be fetched; ``"by hand"``: needs steps by hand;
        ``"builtin"``: ships with a dependency), ``size`` (bytes, all files),
        ``licence``, ``where`` (the folder holding it, the URL, or how to get
        it), ``description`` and ``source``.
    """
    out = []
    cache = _fetch.cache_dir()
    for name, spec in REGISTRY.items():
        files = _files(name)
        found = [locate(f, data_dir) for f in files]
        sources = [_fetch.SOURCES[f] for f in files if f in _fetch.SOURCES]
        size = sum(src.size for src in sources)
        licence = "; ".join(dict.fromkeys(src.licence for src in sources if src.licence))
        if not files:
            state, where = "builtin", spec["source"]
        elif all(path is not None for path in found):
            inside_cache = all(str(path).startswith(str(cache)) for path in found if path is not None)
            state = "cached" if inside_cache else "here"
            where = str(found[0]).removesuffix(files[0]).rstrip("/") or "."
        elif all(_fetch.url_of(f) is not None for f in files if f in _fetch.SOURCES) and sources:
            state = "download"
            where = _fetch.url_of(files[0]) or ""
        else:
            state = "by hand"
            missing = [f for f, path in zip(files, found, strict=True) if path is None and f in _fetch.SOURCES]
            where = _fetch.SOURCES[missing[0]].by_hand if missing else spec["source"]
        out.append({"name": name, "available": state in ("here", "cached", "builtin"), "state": state,
                    "size": size, "licence": licence, "where": where, "description": spec["description"],
                    "source": spec["source"]})
    return out


def fetch(name: str = "all", *, data_dir: Any = None, progress: bool = False, verbose: bool = False) -> list[Path]:
    """Download a data set (or ``"all"``) into the user cache, unless a data folder already has it.

    Each file is checked against its SHA-256; a failed or interrupted
    download leaves nothing behind. Files with no public URL need a mirror
    (``NMFKIT_DATA_URL``) or steps by hand, which the error states.

    Parameters
    ----------
    name : str, default="all"
        A data set name (see :func:`available`) or ``"all"``.
    data_dir : path, optional
        A folder searched first (files there are not downloaded again).
    progress : bool, default=False
        Progress bars on stderr.
    verbose : bool, default=False
        A line on stderr for every file downloaded.

    Returns
    -------
    list of Path
        Where every file of the set(s) is, each file once.

    Raises
    ------
    nmfkit._fetch.FetchError
        A file could not be got (offline, no URL, server down, hash mismatch).
    """
    if name != "all" and name not in REGISTRY:
        msg = f"Unknown data set {name!r}. Known: all, {', '.join(sorted(REGISTRY))}."
        raise InvalidInputError(msg)
    names = list(REGISTRY) if name == "all" else [name]
    files = list(dict.fromkeys(f for n in names for f in _files(n)))  # a file two sets share comes once
    paths = []
    for f in files:
        found = locate(f, data_dir)
        paths.append(found if found is not None else _fetch.fetch_file(f, progress=progress, verbose=verbose))
    return paths


def load(name: str, data_dir: Any = None, **kwargs: Any) -> Dataset:
    """Load a data set by name (see :func:`available`)."""
    if name not in REGISTRY:
        msg = f"Unknown data set {name!r}. Known: {', '.join(sorted(REGISTRY))}."
        raise InvalidInputError(msg)
    fn = REGISTRY[name]["loader"]
    return fn(**kwargs) if not REGISTRY[name]["files"] else fn(data_dir=data_dir, **kwargs)
