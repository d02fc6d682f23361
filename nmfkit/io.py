"""Reading data matrices from files and writing results atomically.

Formats (chosen by suffix, or by ``fmt``):

==================  =======================================================
``.csv`` ``.tsv``   delimited text; a header row and an index column are
``.txt``            detected (non-numeric first row / first column)
``.npy``            one 2-D array (``allow_pickle=False``, always)
``.npz``            a ``scipy.sparse.save_npz`` file, or arrays by name
``.mtx[.gz]``       Matrix Market
``.h5``             10x Genomics HDF5 (``h5py``; cells become rows)
``.h5ad``           AnnData (``anndata``; ``layer`` chooses the matrix)
``.mat``            MATLAB (``variable`` chooses the matrix)
==================  =======================================================

Nothing is ever unpickled. Errors are :class:`InputError` with a one-line
message naming the file and the problem.

:func:`read_rows` opens a matrix too large for memory (``.zarr``, ``.npy``,
``.h5``, ``.h5ad``) as a Dask array whose row blocks are read by the tasks
that use them (for :func:`nmfkit.nmf_distributed`).
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit._validation import InvalidInputError

__all__ = ["InputError", "Matrix", "read_matrix", "read_rows", "FORMATS", "write_table", "atomic_directory",
           "json_text"]


class InputError(InvalidInputError):
    """A data file that cannot be used; the message is one line."""


@dataclass
class Matrix:
    """A data matrix with its labels.

    Attributes
    ----------
    X : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)
    row_names, col_names : list of str
        Sample and feature names (``"0", "1", ...`` when the file has none).
    path : str
    format : str
    extras : dict
        Anything else the file said (e.g. ``image_shape``).
    """

    X: Any
    row_names: list
    col_names: list
    path: str
    format: str
    extras: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    @property
    def nnz(self) -> int:
        return int(self.X.nnz) if sp.issparse(self.X) else int(np.count_nonzero(self.X))

    def transposed(self) -> Matrix:
        X = self.X.T.tocsr() if sp.issparse(self.X) else np.ascontiguousarray(self.X.T)
        return Matrix(X, self.col_names, self.row_names, self.path, self.format, dict(self.extras))


def _names(n: int) -> list[str]:
    return [str(i) for i in range(n)]


def _format_of(path: Path) -> str:
    name = path.name.lower()
    for suffix, fmt in ((".mtx.gz", "mtx"), (".csv.gz", "csv"), (".tsv.gz", "tsv"), (".txt.gz", "txt")):
        if name.endswith(suffix):
            return fmt
    return path.suffix.lower().lstrip(".")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_delimited(path: Path, fmt: str) -> Matrix:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="") as fh:
        text = fh.read()
    if not text.strip():
        raise InputError(f"{path}: the file is empty.")
    sample = text[:65536]
    first = next((line for line in sample.splitlines() if line.strip()), "")
    if fmt == "tsv" and "\t" in first:
        delimiter = "\t"
    elif fmt == "csv" and (first.count(",") > first.count(";") or not any(c in first for c in ";\t")):
        delimiter = ","
    else:  # .txt, or a .csv written with ';' (decimal-comma locales) or a .tsv with another separator
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",\t; ").delimiter
        except csv.Error:
            delimiter = "\t" if "\t" in sample else ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r and any(c.strip() for c in r)]
    if delimiter == " ":
        rows = [[c for c in r if c != ""] for r in rows]
    header = any(not _is_number(c) for c in rows[0][1:]) or (len(rows[0]) == 1 and not _is_number(rows[0][0]))
    body = rows[1:] if header else rows
    if not body:
        raise InputError(f"{path}: no data rows after the header.")
    index = all(not _is_number(r[0]) for r in body) if body[0] else False
    width = len(body[0])
    for i, r in enumerate(body):
        if len(r) != width:
            line = i + 1 + int(header)
            raise InputError(f"{path}: line {line} has {len(r)} fields, expected {width} (truncated or ragged file).")
    cells = [r[1:] if index else r for r in body]
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError as exc:
        if delimiter != ";":
            raise InputError(f"{path}: non-numeric value in the data ({exc}).") from None
        try:  # ';'-separated files from decimal-comma locales write 0,5 for 0.5
            values = np.array([[c.replace(",", ".") for c in r] for r in cells], dtype=np.float64)
        except ValueError:
            raise InputError(f"{path}: non-numeric value in the data ({exc}).") from None
    row_names = [r[0] for r in body] if index else _names(len(body))
    if header:
        head = rows[0]
        col_names = head[1:] if (index and len(head) == width) else head
        if len(col_names) != values.shape[1]:
            col_names = _names(values.shape[1])
    else:
        col_names = _names(values.shape[1])
    return Matrix(values, row_names, [str(c) for c in col_names], str(path), fmt)


def _pick_array(arrays: dict, path: Path, variable: str | None, kind: str) -> tuple[str, Any, str | None]:
    """The array to read: ``variable``, else ``X``, else the largest 2-D numeric one.

    Returns its name, the array, and a note saying what was chosen when the
    file held several candidates (None otherwise).
    """
    if variable is not None:
        if variable not in arrays:
            raise InputError(f"{path}: no variable {variable!r}; the file has {sorted(arrays)}.")
        return variable, arrays[variable], None
    if "X" in arrays:
        return "X", arrays["X"], None
    candidates = {k: v for k, v in arrays.items()
                  if (sp.issparse(v) or (isinstance(v, np.ndarray) and v.ndim == 2 and v.dtype.kind in "biuf"))}
    if not candidates:
        raise InputError(f"{path}: no 2-D numeric {kind} variable; the file has {sorted(arrays)}.")
    name = max(candidates, key=lambda k: np.prod(candidates[k].shape))
    note = None
    others = {k: v for k, v in candidates.items() if k != name and min(v.shape) > 1}  # (MATLAB scalars are 1x1)
    if others:
        listed = ", ".join(f"{k} {'x'.join(map(str, v.shape))}" for k, v in sorted(others.items()))
        note = (f"{path.name} holds {len(others) + 1} matrices; read {name!r} "
                f"({'x'.join(map(str, candidates[name].shape))}, the largest), not {listed}; --var chooses another")
    return name, candidates[name], note


_ROW_KEYS = ("row_names", "obs_names", "barcodes", "cells", "cell_names", "samples", "sample_names")
_COL_KEYS = ("col_names", "var_names", "gene_symbols", "gene_names", "genes", "features", "feature_names", "gene_ids")


def _labels(arrays: dict, n: int, keys: tuple[str, ...]) -> list[str] | None:
    """The first of ``keys`` holding ``n`` labels (a 1-D array of strings or numbers), else None."""
    for key in keys:
        v = arrays.get(key)
        if v is not None and v.ndim == 1 and len(v) == n:
            return [str(x) for x in v]
    return None


def _read_npz(path: Path, variable: str | None) -> Matrix:
    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        if {"data", "indices", "indptr", "shape", "format"} <= keys and variable is None:
            X = sp.load_npz(path).tocsr()
            return Matrix(X, _names(X.shape[0]), _names(X.shape[1]), str(path), "npz")
        arrays = {k: data[k] for k in data.files}
    if {"data", "indices", "indptr", "shape"} <= keys and variable is None:
        # the parts of a compressed sparse matrix saved one by one (np.savez(data=, indices=, indptr=, shape=))
        shape = tuple(int(v) for v in arrays["shape"])
        if len(shape) != 2:
            raise InputError(f"{path}: 'shape' holds {shape}, not a 2-D shape.")
        parts = (arrays["data"], arrays["indices"], arrays["indptr"])
        if len(arrays["indptr"]) == shape[0] + 1:
            X = sp.csr_matrix(parts, shape=shape)
        elif len(arrays["indptr"]) == shape[1] + 1:
            X = sp.csc_matrix(parts, shape=shape).tocsr()
        else:
            raise InputError(f"{path}: 'indptr' has {len(arrays['indptr'])} entries; a {shape[0]} x {shape[1]} "
                             f"sparse matrix needs {shape[0] + 1} (rows) or {shape[1] + 1} (columns).")
        X.check_format(full_check=True)
        rows = _labels(arrays, shape[0], _ROW_KEYS) or _names(shape[0])
        cols = _labels(arrays, shape[1], _COL_KEYS) or _names(shape[1])
        return Matrix(X, rows, cols, str(path), "npz", {"variable": "data, indices, indptr, shape"})
    name, X, note = _pick_array(arrays, path, variable, "array")
    extras = {k: v.tolist() for k, v in arrays.items() if k != name and v.size <= 10 and v.dtype.kind in "biuf"}
    extras["variable"] = name
    if note is not None:
        extras["note"] = note
    row_names = _labels(arrays, X.shape[0], _ROW_KEYS) if X.ndim == 2 else None
    col_names = _labels(arrays, X.shape[1], _COL_KEYS) if X.ndim == 2 else None
    return Matrix(X, row_names or _names(X.shape[0]), col_names or _names(X.shape[-1]), str(path), "npz", extras)


def _read_mat(path: Path, variable: str | None) -> Matrix:
    try:
        import scipy.io

        data = scipy.io.loadmat(path)
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        h5py = _optional("h5py", path, "MATLAB v7.3")
        with h5py.File(path, "r") as fh:
            arrays = {k: np.asarray(fh[k]).T for k in fh.keys() if isinstance(fh[k], h5py.Dataset)}
    else:
        arrays = {k: v for k, v in data.items() if not k.startswith("__")}
    name, X, note = _pick_array(arrays, path, variable, "MATLAB")
    X = X.tocsr() if sp.issparse(X) else X
    extras = {"variable": name} if note is None else {"variable": name, "note": note}
    return Matrix(X, _names(X.shape[0]), _names(X.shape[1]), str(path), "mat", extras)


def _optional(module: str, path: Path, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"{path}: reading {what} files needs {module}; install it with "
                         f"pip install 'nmfkit[formats]'.") from None


def _decode(values: Any) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _read_10x_h5(path: Path) -> Matrix:
    h5py = _optional("h5py", path, "10x HDF5")
    with h5py.File(path, "r") as fh:
        group = fh["matrix"] if "matrix" in fh else fh[next(iter(fh.keys()))]
        shape = tuple(int(v) for v in group["shape"][()])
        X = sp.csc_matrix((group["data"][()], group["indices"][()], group["indptr"][()]), shape=shape)
        features = group["features"]["name"][()] if "features" in group else group["gene_names"][()]
        barcodes = group["barcodes"][()]
    # 10x stores genes x cells; cells are the samples
    return Matrix(X.T.tocsr(), _decode(barcodes), _decode(features), str(path), "h5")


def _read_h5ad(path: Path, layer: str | None) -> Matrix:
    import warnings

    anndata = _optional("anndata", path, ".h5ad")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # anndata migrating old files' layout
        adata = anndata.read_h5ad(path)
    if layer is None:
        X = adata.X
    elif layer == "raw":
        if adata.raw is None:
            raise InputError(f"{path}: no raw matrix; layers are {sorted(adata.layers.keys())}.")
        X = adata.raw.X
        return Matrix(X.tocsr() if sp.issparse(X) else np.asarray(X), list(map(str, adata.obs_names)),
                      list(map(str, adata.raw.var_names)), str(path), "h5ad")
    elif layer in adata.layers:
        X = adata.layers[layer]
    else:
        raise InputError(f"{path}: no layer {layer!r}; layers are {sorted(adata.layers.keys())} (or 'raw').")
    X = X.tocsr() if sp.issparse(X) else np.asarray(X)
    return Matrix(X, list(map(str, adata.obs_names)), list(map(str, adata.var_names)), str(path), "h5ad")


FORMATS = {"csv": "delimited text", "tsv": "delimited text", "txt": "delimited text", "npy": "NumPy array",
           "npz": "NumPy archive / scipy.sparse", "mtx": "Matrix Market", "h5": "10x Genomics HDF5",
           "h5ad": "AnnData", "mat": "MATLAB"}


def read_matrix(path: str | os.PathLike, *, fmt: str | None = None, variable: str | None = None,
                layer: str | None = None, transpose: bool = False) -> Matrix:
    """Read a data matrix and its labels.

    Parameters
    ----------
    path : str or path-like
    fmt : str, optional
        One of :data:`FORMATS`; default from the file name.
    variable : str, optional
        Array to read from ``.npz`` / ``.mat`` files (default ``X``, else the largest 2-D numeric one).
    layer : str, optional
        AnnData layer (``"raw"`` for ``adata.raw.X``); default ``adata.X``.
    transpose : bool, default=False
        Return the transpose (samples become features).

    Returns
    -------
    Matrix

    Raises
    ------
    InputError
        Missing, unreadable, truncated or unsupported files, with a one-line message.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a data file.")
    fmt = fmt or _format_of(path)
    if fmt not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise InputError(f"{path}: unknown format {fmt!r}; known formats: {known}.")
    try:
        if fmt in ("csv", "tsv", "txt"):
            m = _read_delimited(path, fmt)
        elif fmt == "npy":
            with open(path, "rb") as fh:
                magic = fh.read(6)
            if magic != b"\x93NUMPY":
                raise InputError(f"{path}: not a NumPy .npy file (it lacks the .npy header); if it is text, "
                                 "name it .csv/.tsv/.txt or pass --format csv.")
            X = np.load(path, allow_pickle=False)
            if X.ndim != 2:
                raise InputError(f"{path}: expected a 2-D array, got shape {X.shape}.")
            m = Matrix(X, _names(X.shape[0]), _names(X.shape[1]), str(path), fmt)
        elif fmt == "npz":
            m = _read_npz(path, variable)
        elif fmt == "mtx":
            import scipy.io

            X = scipy.io.mmread(str(path))
            X = X.tocsr() if sp.issparse(X) else np.asarray(X)
            m = Matrix(X, _names(X.shape[0]), _names(X.shape[1]), str(path), fmt)
        elif fmt == "h5":
            m = _read_10x_h5(path)
        elif fmt == "h5ad":
            m = _read_h5ad(path, layer)
        else:
            m = _read_mat(path, variable)
    except InputError:
        raise
    except (OSError, ValueError, EOFError, KeyError, IndexError, UnicodeDecodeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read as {FORMATS[fmt]} ({detail}).") from None
    if m.X.ndim != 2:
        raise InputError(f"{path}: expected a 2-D matrix, got shape {m.X.shape}.")
    return m.transposed() if transpose else m


def _plain_json(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays as Python values and every non-finite float as ``None``."""
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON (RFC 8259) for ``value``: NaN and infinities, which JSON cannot express, become ``null``.

    Python's ``json`` writes them as the bare words ``NaN`` and ``Infinity``,
    which other JSON readers (``jq``, browsers, R's jsonlite) reject.
    """
    return json.dumps(_plain_json(value), indent=indent, allow_nan=False) + "\n"


def write_table(path: str | os.PathLike, values: np.ndarray, row_names: list, col_names: list,
                corner: str = "") -> None:
    """Write a labelled tab-separated table (``corner`` names the index column)."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow([corner, *col_names])
        for name, row in zip(row_names, np.asarray(values), strict=True):
            writer.writerow([name, *(f"{v:.10g}" for v in row)])


def alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True  # cannot tell (e.g. no os.kill): keep the folder
    return True


def _remove_stale(target: Path) -> None:
    """Remove what runs killed while writing ``target`` left beside it.

    Temporary folders are named ``.NAME.PID.XXXXXXXX.tmp`` and replaced old
    outputs ``.NAME.old-PID``; a folder is stale when its process no longer
    runs (its owner may be another host on a shared file system: a PID that
    is alive here is never touched).
    """
    prefix = f".{target.name}."
    for entry in target.parent.glob(f".{glob.escape(target.name)}.*"):
        rest = entry.name[len(prefix):]
        if rest.endswith(".tmp"):
            pid_text = rest.split(".", 1)[0]
        elif rest.startswith("old-"):
            pid_text = rest[4:]
        else:
            continue
        if not pid_text.isdigit() or alive(int(pid_text)) or not entry.is_dir() or entry.is_symlink():
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_directory(target: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; move it into place only if the block succeeds.

    An existing non-empty ``target`` is replaced only with ``force=True`` (the
    old folder is removed after the new one is in place). On any error the
    temporary folder is deleted and ``target`` is untouched. Temporary folders
    left by a run that was killed (``kill -9``, power loss) are removed by the
    next run. The finished folder has the permissions the umask gives a new
    folder (``mkdir``'s), not the temporary folder's private 0700.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a folder.")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InputError(f"{target}: output folder exists and is not empty; pass --force to replace it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    prefix = f".{target.name}.{os.getpid()}."
    tmp: Path | None = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=target.parent))
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
    except BaseException:
        # a Ctrl-C can land between mkdtemp's mkdir and the assignment: then this process's folder is found by name
        for leftover in [tmp] if tmp is not None else target.parent.glob(prefix + "*.tmp"):
            shutil.rmtree(leftover, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- opening matrices that do not fit in memory --------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where a matrix lies on disk: the one piece of data its block tasks share (they are re-run per read)."""

    path: str
    key: str | None = None


def _npy_rows(source: _Source, start: int, stop: int) -> np.ndarray:
    return np.array(np.load(source.path, mmap_mode="r")[start:stop])


def _h5_rows(source: _Source, start: int, stop: int) -> Any:
    """Rows of an HDF5 dataset, or of a CSR group (AnnData's ``data``, ``indices``, ``indptr``)."""
    import h5py

    with h5py.File(source.path, "r") as f:
        node = f[source.key]
        if isinstance(node, h5py.Dataset):
            return node[start:stop]
        indptr = node["indptr"][start:stop + 1]
        lo, hi = int(indptr[0]), int(indptr[-1])
        return sp.csr_matrix((node["data"][lo:hi], node["indices"][lo:hi], indptr - lo),
                             shape=(stop - start, int(node.attrs["shape"][1])))


def read_rows(path: str | os.PathLike, *, key: str | None = None, block_rows: int | None = None) -> Any:
    """A matrix on disk as a Dask array of row blocks, each block read by the task that needs it.

    Parameters
    ----------
    path : str or path
        ``.zarr`` (a store), ``.npy`` (read through a memory map), ``.h5`` / ``.hdf5`` (a dataset) or
        ``.h5ad`` (AnnData's ``X`` or ``layers/<name>``, dense or CSR).
    key : str, default=None
        The zarr array or HDF5 dataset inside the file; required for ``.h5``; for ``.h5ad`` a layer
        name (default ``X``).
    block_rows : int, default=None
        Rows per block; default: about 128 MB of values per block (zarr: its own row chunks).

    Returns
    -------
    dask.array.Array of shape (n_samples, n_features)
        Blocks are NumPy arrays, or CSR matrices for a sparse ``.h5ad``.
    """
    import dask.array as da
    from dask import delayed

    path = os.fspath(path)
    if not os.path.exists(path):
        msg = f"read_rows: no such file or folder: {path}"
        raise FileNotFoundError(msg)
    suffix = os.path.splitext(path.rstrip("/"))[1].lower()
    if suffix == ".zarr":
        X = da.from_zarr(path, component=key)
        return X.rechunk({1: -1}) if len(X.chunks) == 2 and len(X.chunks[1]) > 1 else X
    if suffix == ".npy":
        header = np.load(path, mmap_mode="r")
        shape, dtype, sparse = header.shape, header.dtype, False
        func, source = _npy_rows, _Source(path)
    elif suffix in (".h5", ".hdf5", ".h5ad"):
        import h5py

        if suffix == ".h5ad":
            key = "X" if key in (None, "X") else f"layers/{key}"
        elif key is None:
            msg = f"read_rows: pass key= naming the dataset inside {path}."
            raise InvalidInputError(msg)
        with h5py.File(path, "r") as f:
            if key not in f:
                msg = f"read_rows: {path} has no {key!r}; it holds {sorted(f.keys())}."
                raise KeyError(msg)
            node = f[key]
            sparse = not isinstance(node, h5py.Dataset)
            if sparse and node.attrs.get("encoding-type", "csr_matrix") != "csr_matrix":
                msg = f"read_rows: {path}[{key!r}] is {node.attrs.get('encoding-type')}; rows need CSR storage."
                raise InvalidInputError(msg)
            shape = tuple(int(v) for v in (node.attrs["shape"] if sparse else node.shape))
            dtype = node["data"].dtype if sparse else node.dtype
        func, source = _h5_rows, _Source(path, key)
    else:
        msg = f"read_rows: unsupported file {path}; use .zarr, .npy, .h5/.hdf5 or .h5ad."
        raise InvalidInputError(msg)
    if len(shape) != 2:
        msg = f"read_rows: {path} holds an array of shape {shape}; a matrix (2-D) is needed."
        raise InvalidInputError(msg)
    n, m = shape
    step = block_rows or max(1, (128 << 20) // max(1, m * np.dtype(dtype).itemsize))
    meta = sp.csr_matrix((0, 0), dtype=dtype) if sparse else np.empty((0, 0), dtype=dtype)
    root = delayed(source, pure=True)  # data, not a task: each read of X copies the block tasks, not this
    blocks = []
    for s in range(0, n, step):
        e = min(s + step, n)
        blocks.append(da.from_delayed(delayed(func, pure=True)(root, s, e), (e - s, m), dtype=dtype, meta=meta))
    return da.concatenate(blocks, axis=0)


# -- the public function ------------------------------------------------------------------------------------
