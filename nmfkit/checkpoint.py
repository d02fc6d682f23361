"""Checkpoints of long fits: the loop's state saved atomically every N sweeps, and resumed from.

A checkpoint holds the method's state (factors and, for extrapolation, its
weights), the sweep count, the objective history and the elapsed time, plus a
fingerprint of the problem (data shape and dtype, rank, loss, solver and the
other settings that shape the trajectory). Resuming from it continues the same
trajectory: the result equals that of an uninterrupted run.

The file is written to a temporary name beside the target and moved over it
with :func:`os.replace`, so a crash mid-write leaves the previous checkpoint.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from nmfkit._validation import InvalidInputError
from nmfkit.io import alive

__all__ = ["Checkpoint", "CheckpointMismatch"]

_FORMAT = 1


class CheckpointMismatch(InvalidInputError):
    """The checkpoint file belongs to another problem (its fingerprint differs)."""


class Checkpoint:
    """Where and how often a fit saves its state.

    Parameters
    ----------
    path : str or Path
        The checkpoint file (``.npz``). Its folder must exist.
    every : int, default=100
        Sweeps between saves.
    fingerprint : dict
        What identifies the problem; a resume checks it.
    """

    def __init__(self, path: str | os.PathLike, every: int, fingerprint: dict) -> None:
        self.path = Path(path)
        self.every = int(every)
        self.fingerprint = {k: _plain(v) for k, v in fingerprint.items()}
        self._swept = False  # stale temporary files are removed before the first save

    @staticmethod
    def check_path(path: Any, caller: str) -> None:
        """Raise unless ``path`` is a path whose folder exists (the ``checkpoint`` option of ``caller``)."""
        if not isinstance(path, (str, os.PathLike)):
            msg = f"The 'checkpoint' parameter of {caller} must be a path or None. Got {path!r} instead."
            raise InvalidInputError(msg)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            msg = f"checkpoint: the folder {folder} does not exist."
            raise InvalidInputError(msg)

    # -- saving ---------------------------------------------------------------------------------
    def save(self, n_iter: int, state: Any, history: list, elapsed: float, backend: Any) -> None:
        """Write the state atomically (temporary file, then ``os.replace``)."""
        arrays, meta = _flatten(state, backend)
        header = {"format": _FORMAT, "fingerprint": self.fingerprint, "n_iter": int(n_iter),
                  "elapsed": float(elapsed), "history": [[_number(v) for v in h] for h in history],
                  "state": meta}
        if not self._swept:  # once per run: files a killed run left mid-write
            self._swept = True
            self._remove_stale()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.{os.getpid()}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                text = json.dumps(header, allow_nan=False).encode()
                np.savez(fh, __header__=np.frombuffer(text, dtype=np.uint8), **arrays)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _remove_stale(self) -> None:
        for entry in self.path.parent.glob(f".{glob.escape(self.path.name)}.*.tmp"):
            pid = entry.name[len(self.path.name) + 2:].split(".", 1)[0]
            if pid.isdigit() and not alive(int(pid)) and entry.is_file():
                entry.unlink(missing_ok=True)

    # -- loading --------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.is_file()

    def load(self, backend: Any, like: Any) -> tuple[Any, int, list, float]:
        """``(state, n_iter, history, elapsed)`` with arrays on ``like``'s backend.

        Raises
        ------
        CheckpointMismatch
            When the file was written for another problem; the message names the differences.
        ValueError
            When the file is not a checkpoint.
        """
        try:
            with np.load(self.path) as data:
                header = json.loads(bytes(data["__header__"]).decode())
                arrays = {k: data[k] for k in data.files if k != "__header__"}
        except (OSError, ValueError, KeyError) as err:
            msg = f"{self.path} is not an nmfkit checkpoint ({err})."
            raise InvalidInputError(msg) from None
        saved = header.get("fingerprint", {})
        diff = [f"{k}: saved {saved.get(k)!r}, now {v!r}" for k, v in self.fingerprint.items() if saved.get(k) != v]
        if diff:
            msg = (f"The checkpoint {self.path} was written for another problem ({'; '.join(diff)}). "
                   "Delete it or pass another checkpoint path.")
            raise CheckpointMismatch(msg)
        state = _unflatten(header["state"], arrays, backend, like)
        history = [tuple(float(v) for v in h) for h in header["history"]]
        return state, int(header["n_iter"]), history, float(header["elapsed"])


def _plain(v: Any) -> Any:
    """A JSON-comparable form of a fingerprint value."""
    if isinstance(v, (str, bool, int)) or v is None:
        return v
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    return repr(v)


def _flatten(state: Any, backend: Any) -> tuple[dict, dict]:
    """Arrays of a tuple or dict state as host NumPy arrays, with a description to rebuild it."""
    if isinstance(state, tuple):
        items, kind = {str(i): v for i, v in enumerate(state)}, "tuple"
    elif isinstance(state, dict):
        items, kind = dict(state), "dict"
    else:  # pragma: no cover - every method's state is a tuple or a dict
        msg = f"cannot checkpoint a state of type {type(state).__name__}"
        raise TypeError(msg)
    arrays, scalars = {}, {}
    for key, value in items.items():
        if isinstance(value, (bool, int, float)):
            scalars[key] = value
        else:
            arrays[f"s_{key}"] = np.asarray(backend.to_numpy(value))
    return arrays, {"kind": kind, "keys": list(items), "scalars": scalars}


def _unflatten(meta: dict, arrays: dict, backend: Any, like: Any) -> Any:
    values = {}
    for key in meta["keys"]:
        if key in meta["scalars"]:
            values[key] = meta["scalars"][key]
        else:
            a = arrays[f"s_{key}"]
            values[key] = backend.asarray(a, like=like, dtype=a.dtype)
    if meta["kind"] == "tuple":
        return tuple(values[str(i)] for i in range(len(meta["keys"])))
    return values



def _number(value: Any) -> float | str:
    """A float for strict JSON; a non-finite one as the string "inf", "-inf" or "nan" (float() reads it)."""
    value = float(value)
    return value if np.isfinite(value) else repr(value)
