"""What every subcommand shares: the registry, the error the user can fix, and the options declared once.

A subcommand is a module of :mod:`nmfkit.cli` that decorates its ``run(args)``
with :func:`command`; the options it shares with others (the input file, the
output folder, the fit's loss, seed and limits, image layout) come from the
functions here, so that every command spells them, and checks them, alike.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nmfkit import defaults as D
from nmfkit._validation import InvalidInputError

__all__ = ["UsageError", "command", "commands", "input_options", "output_options", "fit_options", "image_options",
           "read_input", "out_folder", "image_layout", "beta", "int_list", "float_list", "parse_ranks"]


@dataclass
class _Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


_COMMANDS: dict[str, _Command] = {}


def command(name: str, help: str,
            configure: Callable[[argparse.ArgumentParser], None] | None = None) -> Callable:
    """Register a subcommand in one place: decorate ``run(args) -> int``.

    Parameters
    ----------
    name : str
        The subcommand (``nmfkit NAME``).
    help : str
        One line for ``nmfkit --help``.
    configure : callable, optional
        ``configure(parser)`` adds the subcommand's options.
    """
    def register(run: Callable[[argparse.Namespace], int]) -> Callable:
        if name in _COMMANDS:
            msg = f"A command named {name!r} is already registered."
            raise KeyError(msg)
        _COMMANDS[name] = _Command(name, help, configure or (lambda parser: None), run)
        return run
    return register


def commands() -> dict[str, _Command]:
    """The registered subcommands, by name, in the order they registered."""
    return _COMMANDS


def unregister(name: str) -> None:
    """Remove the subcommand ``name`` (for tests that register their own)."""
    _COMMANDS.pop(name, None)


class UsageError(InvalidInputError):
    """A problem with the options the user can fix; printed as one line, exit code 2."""


# -- options shared by several commands ------------------------------------------------------------
def input_options(p: argparse.ArgumentParser) -> None:
    """The data file and how to read it: ``INPUT``, ``--transpose``, ``--format``, ``--var``, ``--layer``."""
    p.add_argument("input", help="data file (csv, tsv, txt, npy, npz, mtx[.gz], h5, h5ad, mat); samples in rows")
    p.add_argument("--transpose", action="store_true",
                   help="the file has features in rows and samples in columns (e.g. genes x cells)")
    p.add_argument("--format", dest="fmt", default=None, help="override the format guessed from the file name")
    p.add_argument("--var", dest="variable", default=None, help="array to read from .npz/.mat files")
    p.add_argument("--layer", default=None, help="AnnData layer ('raw' for adata.raw.X)")


def output_options(p: argparse.ArgumentParser, suffix: str) -> None:
    """``--out`` (default: the input's stem + ``suffix``), ``--force`` and ``--quiet``."""
    p.add_argument("--out", default=None, help=f"output folder (default: INPUT stem + {suffix!r})")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def fit_options(p: argparse.ArgumentParser, *, solver: bool = True) -> None:
    """The fit's loss, solver, start, seed and limits, with the library's defaults."""
    p.add_argument("--loss", "--beta-loss", dest="beta_loss", default="frobenius",
                   help="frobenius (fro), kullback-leibler (kl), itakura-saito (is), or a number beta >= 0")
    if solver:
        p.add_argument("--solver", default="auto", help="auto, hals, mu, anls-bpp, gcd, anls-pg")
        p.add_argument("--init", default=None, help="random, nndsvd, nndsvda, nndsvdar, spa")
    p.add_argument("--seed", "--random-state", dest="random_state", type=int, default=0)
    p.add_argument("--max-iter", type=int, default=D.MAX_ITER, help=f"most sweeps (default: {D.MAX_ITER})")
    if solver:
        p.add_argument("--tol", type=float, default=D.TOL, help=f"relative objective change that counts as "
                       f"convergence (default: {D.TOL:g})")


def image_options(p: argparse.ArgumentParser, what: str = "components") -> None:
    """``--image-shape`` and ``--image-order``, for every command that can draw its results as images."""
    p.add_argument("--image-shape", default=None, help=f"HEIGHTxWIDTH: show {what} as images")
    p.add_argument("--image-order", choices=("auto", "C", "F"), default="auto",
                   help="how each image was flattened into a row: C row by row (NumPy), F column by column "
                        "(MATLAB, Fortran); auto: F for .mat files, else C")


# -- reading what the options say ------------------------------------------------------------------------
def read_input(args: argparse.Namespace) -> Any:
    """The :class:`nmfkit.io.Matrix` that :func:`input_options` describe."""
    from nmfkit.io import read_matrix

    return read_matrix(args.input, fmt=args.fmt, variable=args.variable, layer=args.layer, transpose=args.transpose)


def out_folder(args: argparse.Namespace, suffix: str) -> Path:
    """``--out``, or the input's stem (up to its first dot) + ``suffix`` beside the input."""
    return Path(args.out) if args.out else Path(args.input).with_name(Path(args.input).name.split(".")[0] + suffix)


_LOSS_SHORT = {"kl": "kullback-leibler", "fro": "frobenius", "is": "itakura-saito"}


def beta(text: str) -> Any:
    """``--loss``: a number, or a loss name with ``fro``, ``kl`` and ``is`` as short forms."""
    try:
        return float(text)
    except ValueError:
        return _LOSS_SHORT.get(text.lower(), text)


def _image_shape(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--image-shape must look like 19x19; got {text!r}.") from None
    if h < 1 or w < 1:
        raise UsageError(f"--image-shape must have positive sides; got {text!r}.")
    return h, w


def image_layout(args: argparse.Namespace, matrix: Any) -> tuple[tuple[int, int] | None, str]:
    """The image shape (checked against the number of features) and pixel order the options ask for.

    Without ``--image-shape``, a shape the file itself records (``image_shape``
    in an ``.npz``) is used when it matches.
    """
    shape = _image_shape(args.image_shape)
    saved = matrix.extras.get("image_shape")
    if shape is None and saved is not None and len(saved) == 2 and int(np.prod(saved)) == matrix.shape[1]:
        shape = (int(saved[0]), int(saved[1]))  # the file says its samples are images
    if shape is not None and shape[0] * shape[1] != matrix.shape[1]:
        raise UsageError(f"--image-shape {args.image_shape} has {shape[0] * shape[1]} pixels but the data has "
                         f"{matrix.shape[1]} features" + (" (the file has them in rows: add --transpose?)."
                                                            if shape[0] * shape[1] == matrix.shape[0] else "."))
    order = getattr(args, "image_order", "auto")
    if order == "auto":
        order = "F" if matrix.format == "mat" else "C"  # MATLAB flattens column by column
    return shape, order


def int_list(text: str, name: str) -> list[int]:
    """``80,40,20`` as integers; ``name`` is the option, for the message."""
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise UsageError(f"{name} must be comma-separated integers like 80,40,20; got {text!r}.") from None


def float_list(text: str | None, name: str) -> Any:
    """``4,2,1`` as floats (one number alone as a float; None stays None)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise UsageError(f"{name} must be comma-separated numbers like 4,2,1; got {text!r}.") from None
    return values[0] if len(values) == 1 else values


def parse_ranks(text: str) -> list[int]:
    """``2:10`` (inclusive), ``2:10:2`` or ``2,3,5``."""
    try:
        if ":" in text:
            parts = [int(v) for v in text.split(":")]
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) > 2 else 1
            values = list(range(start, stop + 1, step))
        else:
            values = [int(v) for v in text.split(",") if v.strip()]
    except (ValueError, IndexError):
        raise UsageError(f"--ranks must look like 2:10, 2:10:2 or 2,3,5; got {text!r}.") from None
    if not values:
        raise UsageError(f"--ranks {text!r} names no rank.")
    return values
