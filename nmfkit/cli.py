"""The ``nmfkit`` command line (``python -m nmfkit`` too): ``nmfkit --help`` lists every subcommand.

``fit``, ``demo`` and ``datasets`` live here; the methods register theirs
(``rank``, ``consensus``, ``merge``, ``deep``, ``persistent``) the same way,
each in one place with :func:`command`. Every failure the user can cause ends with
exit code 2 and one line on stderr, and outputs appear only when complete.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _interrupt
from nmfkit import defaults as D
from nmfkit._progress import on_terminal
from nmfkit._validation import InvalidInputError

__all__ = ["main", "command", "fit_to_folder", "relative_error", "component_usage", "image_options", "image_layout"]


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


class UsageError(InvalidInputError):
    """A problem with the options the user can fix; printed as one line, exit code 2."""


# -- progress ------------------------------------------------------------------------------------
class Progress:
    """Progress of a fit on stderr: a tqdm bar on a terminal, log lines every ``every`` seconds otherwise."""

    def __init__(self, total: int, *, quiet: bool = False, every: float = 5.0, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.every = every
        self.started = time.perf_counter()
        self.last = self.started
        self.bar = None
        self.objective: float | None = None
        if not quiet and on_terminal(self.stream):
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, file=self.stream, unit="sweep", leave=False, dynamic_ncols=True)
            except ImportError:
                self.bar = None

    def __call__(self, info: Any) -> None:
        _interrupt.check()  # a Ctrl-C that some library swallowed still stops the fit
        if self.quiet:
            return
        if info.objective is not None:
            self.objective = info.objective
        if self.bar is not None:
            self.bar.update(1)
            if self.objective is not None:
                self.bar.set_postfix(objective=f"{self.objective:.4g}", refresh=False)
            return
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            obj = "" if self.objective is None else f", objective {self.objective:.6g}"
            print(f"nmfkit: sweep {info.n_iter}{obj}, {now - self.started:.1f} s", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# -- the fit pipeline shared by `fit` and `demo` -----------------------------------------------------
def fit_to_folder(matrix: Any, out: Path, *, n_components: int, beta_loss: Any = "frobenius", solver: str = "auto",
                  init: str | None = None, random_state: int | None = 0, max_iter: int = D.MAX_ITER,
                  tol: float = D.TOL,
                  force: bool = False, quiet: bool = False, image_shape: tuple[int, int] | None = None,
                  image_order: str = "C",
                  title: str | None = None, description: str | None = None, method: str = "nmf",
                  fit: Callable | None = None, sections: Callable | None = None,
                  extra_summary: dict | None = None, checkpoint: str | None = None,
                  checkpoint_every: int = 100) -> dict:
    """Fit ``matrix`` (an :class:`nmfkit.io.Matrix`) and write W.tsv, H.tsv, summary.json, plots and report.html.

    Everything is written into a temporary folder that replaces ``out`` only at the end.
    Other methods reuse this with ``fit(X, callback) -> FitResult``, their ``method``
    name, ``sections(report, folder, result)`` adding report sections and files, and
    ``extra_summary`` entries.

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    from nmfkit import __version__, nmf
    from nmfkit._validation import DataWarning
    from nmfkit.io import atomic_directory, json_text, write_table

    X = matrix.X
    progress = Progress(max_iter, quiet=quiet)
    caught: list[str] = []
    started = time.perf_counter()
    with atomic_directory(out, force=force) as tmp:
        try:
            with warnings.catch_warnings(record=True) as records:
                warnings.simplefilter("always")
                if fit is None:
                    result = nmf(X, n_components, beta_loss=beta_loss, solver=solver, init=init,
                                 max_iter=max_iter, tol=tol, random_state=random_state, callback=progress,
                                 checkpoint=checkpoint, checkpoint_every=checkpoint_every)
                else:
                    result = fit(X, progress)
        finally:
            progress.close()
        for w in records:
            if issubclass(w.category, (DataWarning, UserWarning)):
                caught.append(str(w.message))
        notes = [matrix.extras["note"]] if matrix.extras.get("note") else []
        resumed = result.extras.get("resumed_from")
        if resumed is not None:
            notes.append(f"resumed from the checkpoint {checkpoint} at sweep {resumed}")
        if not quiet:
            for note in notes:
                print(f"nmfkit: {note}", file=sys.stderr)
        seconds = time.perf_counter() - started
        W, H = np.asarray(result.W), np.asarray(result.H)
        comp = [f"component_{i + 1}" for i in range(W.shape[1])]
        write_table(tmp / "W.tsv", W, matrix.row_names, comp, corner="sample")
        write_table(tmp / "H.tsv", H, comp, matrix.col_names, corner="component")
        summary = {
            "nmfkit_version": __version__,
            "method": method,
            "input": {"path": str(matrix.path), "format": matrix.format, "shape": list(matrix.shape),
                      "nnz": matrix.nnz, "variable": matrix.extras.get("variable")},
            "n_components": int(W.shape[1]),
            "beta_loss": result.extras["beta_loss"],
            "loss": result.extras["loss"],
            "solver": _name(result.extras["solver"]),
            "init": str(result.extras["init"]),
            "random_state": random_state,
            "max_iter": max_iter,
            "tol": tol,
            "n_iter": result.n_iter,
            "converged": result.converged,
            "stop_reason": result.stop_reason,
            "objective": result.objective,
            "relative_error": relative_error(X, W, H),
            "seconds": seconds,
            "warnings": caught,
            "notes": notes,
            "resumed_from_sweep": resumed,
            "history": [list(h) for h in result.history],
            **(extra_summary or {}),
        }
        (tmp / "summary.json").write_text(json_text(summary))
        _plots_and_report(tmp, matrix, result, summary, image_shape=image_shape, image_order=image_order,
                          title=title or f"nmfkit: {method} of {Path(matrix.path).name}", description=description,
                          sections=sections)
    return summary


def _name(thing: Any) -> str:
    return thing if isinstance(thing, str) else type(thing).__name__


def relative_error(X: Any, W: np.ndarray, H: np.ndarray) -> float:
    """``||X - WH||_F / ||X||_F`` for any data: integer, float32, sparse, or entries near the float limits.

    Computed in float64; data far from 1 as ``X / s`` and ``W / s``, ``s`` the
    power of two :func:`nmfkit._validation.safe_scale` gives (exact, and the
    ratio does not depend on it), so that neither the norms nor their squares
    overflow. Never densifies a sparse X.
    """
    from nmfkit._validation import safe_scale
    from nmfkit.backend import get_backend
    from nmfkit.losses import BetaDivergence

    X = X.astype(np.float64, copy=False) if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    W, H = np.asarray(W, dtype=np.float64), np.asarray(H, dtype=np.float64)
    data = X.data if sp.issparse(X) else X
    largest = float(np.max(np.abs(data))) if data.size else 0.0
    if not largest > 0:  # (W, H >= 0: WH is non-zero when some component has both parts non-zero)
        return 0.0 if not np.any(W.any(axis=0) & H.any(axis=1)) else math.inf
    s = safe_scale(largest, np.float64)  # 1 (no copy) unless the entries are far from 1
    if s != 1.0:
        X, W = X / s, W / s
    backend = get_backend(X)
    half = float(BetaDivergence(2.0).value(X, W, H, backend=backend))
    norm = math.sqrt(float(backend.sq_norm(X)))
    return math.sqrt(max(2.0 * half, 0.0)) / norm


def component_usage(W: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Each sample's usage of each component, ``W[:, j] * sum(H[j])``: W read with every row of H summing to 1.

    ``W D`` and ``D^-1 H`` fit equally well for any positive diagonal ``D``, so
    W alone says nothing about which component a sample uses most; with the
    rows of H summing to 1, ``usage[i, j]`` is the part of sample ``i``'s
    total (in the data's units) that component ``j`` explains.

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    return np.asarray(W, dtype=float) * np.maximum(np.asarray(H, dtype=float).sum(axis=1), 0.0)[None, :]


def _plots_and_report(folder: Path, matrix: Any, result: Any, summary: dict, *, image_shape: Any,
                      image_order: str = "C", title: str,
                      description: str | None, sections: Callable | None = None) -> None:
    from nmfkit import plotting
    from nmfkit.report import Report

    W, H = np.asarray(result.W), np.asarray(result.H)
    report = Report(title)
    if description:
        report.paragraph(description)
    report.section("Parameters").mapping({k: summary[k] for k in (
        "method", "n_components", "loss", "beta_loss", "solver", "init", "random_state", "max_iter", "tol")})
    X = matrix.X
    report.section("Data").mapping({
        "file": summary["input"]["path"], "format": matrix.format, "shape (samples x features)": str(matrix.shape),
        "stored / non-zero entries": summary["input"]["nnz"],
        "density": summary["input"]["nnz"] / max(1, matrix.shape[0] * matrix.shape[1]),
        "min": float(X.min()), "max": float(X.max()),
    })
    report.section("Convergence").mapping({
        "sweeps": result.n_iter, "converged": result.converged, "stop reason": result.stop_reason,
        "objective": result.objective, "relative error ||X - WH|| / ||X||": summary["relative_error"],
        "seconds": summary["seconds"]})
    fig = plotting.plot_convergence(result)
    fig.savefig(folder / "convergence.png", dpi=110)
    report.figure(fig, "Objective at each check.", alt="convergence curve")
    if summary["warnings"]:
        report.table([[w] for w in summary["warnings"]], ["warnings"])
    if summary["notes"]:
        report.table([[w] for w in summary["notes"]], ["notes"])
    report.section("Components")
    if image_shape is not None:
        fig = plotting.plot_component_images(H, image_shape, order=image_order)
        caption = (f"Each component (row of H) as a {image_shape[0]} x {image_shape[1]} image (pixels "
                   f"{'column by column' if image_order == 'F' else 'row by row'}).")
    else:
        fig = plotting.plot_top_features(H, matrix.col_names, n_top=min(10, H.shape[1]))
        caption = "Top features of each component (loadings scaled to each component's maximum)."
    fig.savefig(folder / "components.png", dpi=110)
    report.figure(fig, caption, alt="components")
    top = []
    for i, row in enumerate(H):
        idx = np.argsort(row)[::-1][:8]
        top.append([f"component {i + 1}", ", ".join(f"{matrix.col_names[j]} ({row[j]:.3g})" for j in idx)])
    report.table(top, ["component", "top features (loading)"])
    report.section("Usage")
    usage = component_usage(W, H)
    share = usage.sum(axis=0) / max(float(usage.sum()), np.finfo(float).tiny)
    dominant = np.argmax(usage, axis=1)
    report.table([[f"component {i + 1}", float(share[i]), int(np.count_nonzero(dominant == i)),
                   matrix.row_names[int(np.argmax(usage[:, i]))]] for i in range(W.shape[1])],
                 ["component", "share of total usage", "samples where it dominates", "top sample"])
    n_samples = W.shape[0]
    shown = min(n_samples, 200)
    fig = plotting.plot_usage(usage, sample_names=matrix.row_names, max_samples=shown)
    fig.savefig(folder / "usage.png", dpi=110)
    report.figure(fig, "Each sample's usage split among the components (rows of W, with every row of H scaled "
                  "to sum to 1)" + (f"; {shown} of {n_samples} samples, evenly spaced in file order."
                                    if shown < n_samples else "; every sample, in file order."), alt="usage")
    if sections is not None:
        sections(report, folder, result)
    report.section("Outputs").table([
        ["W.tsv", "sample x component usage (W)"], ["H.tsv", "component x feature loadings (H)"],
        ["summary.json", "parameters, convergence and timing"], ["convergence.png", "objective per check"],
        ["components.png", "the components"], ["usage.png", "each sample's usage of the components"],
        ["report.html", "this report"]], ["file", "contents"])
    (folder / "report.html").write_text(report.render(), encoding="utf-8")


# -- subcommands ---------------------------------------------------------------------------------------
def _fit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="data file (csv, tsv, txt, npy, npz, mtx[.gz], h5, h5ad, mat)")
    p.add_argument("--rank", "--n-components", dest="n_components", type=int, required=True,
                   help="number of components k")
    _common_fit_options(p)
    p.add_argument("--format", dest="fmt", default=None, help="override the format guessed from the file name")
    p.add_argument("--var", dest="variable", default=None, help="array to read from .npz/.mat files")
    p.add_argument("--layer", default=None, help="AnnData layer ('raw' for adata.raw.X)")
    p.add_argument("--transpose", action="store_true",
                   help="the file has features in rows and samples in columns (e.g. genes x cells)")
    image_options(p)
    p.add_argument("--out", default=None, help="output folder (default: INPUT stem + '_nmf')")
    p.add_argument("--checkpoint", default=None,
                   help="save the fit's state to this .npz file every --checkpoint-every sweeps; if the file "
                        "exists, resume from it (an interrupted run then ends as an uninterrupted one)")
    p.add_argument("--checkpoint-every", type=int, default=100, help="sweeps between checkpoints (default: 100)")


def _common_fit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--loss", "--beta-loss", dest="beta_loss", default="frobenius",
                   help="frobenius (fro), kullback-leibler (kl), itakura-saito (is), or a number beta >= 0")
    p.add_argument("--solver", default="auto", help="auto, hals, mu, anls-bpp, gcd, anls-pg")
    p.add_argument("--init", default=None, help="random, nndsvd, nndsvda, nndsvdar, spa")
    p.add_argument("--seed", "--random-state", dest="random_state", type=int, default=0)
    p.add_argument("--max-iter", type=int, default=D.MAX_ITER, help=f"most sweeps (default: {D.MAX_ITER})")
    p.add_argument("--tol", type=float, default=D.TOL, help=f"relative objective change that counts as "
                   f"convergence (default: {D.TOL:g})")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("--quiet", action="store_true", help="no progress output")


_LOSS_SHORT = {"kl": "kullback-leibler", "fro": "frobenius", "is": "itakura-saito"}


def _beta(text: str) -> Any:
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


def image_options(p: argparse.ArgumentParser, what: str = "components") -> None:
    """``--image-shape`` and ``--image-order``, for every command that can draw its results as images."""
    p.add_argument("--image-shape", default=None, help=f"HEIGHTxWIDTH: show {what} as images")
    p.add_argument("--image-order", choices=("auto", "C", "F"), default="auto",
                   help="how each image was flattened into a row: C row by row (NumPy), F column by column "
                        "(MATLAB, Fortran); auto: F for .mat files, else C")


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


@command("fit", "factorize a data file and write factors, plots and a report", _fit_options)
def fit_command(args: argparse.Namespace) -> int:
    from nmfkit.io import read_matrix

    matrix = read_matrix(args.input, fmt=args.fmt, variable=args.variable, layer=args.layer, transpose=args.transpose)
    shape, order = image_layout(args, matrix)
    out = Path(args.out) if args.out else Path(args.input).with_name(Path(args.input).name.split(".")[0] + "_nmf")
    summary = fit_to_folder(matrix, out, n_components=args.n_components, beta_loss=_beta(args.beta_loss),
                            solver=args.solver, init=args.init, random_state=args.random_state,
                            max_iter=args.max_iter, tol=args.tol, force=args.force, quiet=args.quiet,
                            image_shape=shape, image_order=order, checkpoint=args.checkpoint,
                            checkpoint_every=args.checkpoint_every)
    if not args.quiet:
        print(f"nmfkit: {summary['stop_reason']}; relative error {summary['relative_error']:.4g}; "
              f"wrote {out}/ (report: {out / 'report.html'})")
    return 0


def _demo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="nmfkit-demo", help="output folder (default: nmfkit-demo)")
    p.add_argument("--rank", "--n-components", dest="n_components", type=int, default=16)
    _common_fit_options(p)


@command("demo", "factorize the handwritten digits that ship with scikit-learn and write a report", _demo_options)
def demo_command(args: argparse.Namespace) -> int:
    from nmfkit.datasets import load_digits

    data = load_digits()
    out = Path(args.out)
    summary = fit_to_folder(data.as_matrix(), out, n_components=args.n_components, beta_loss=_beta(args.beta_loss),
                            solver=args.solver, init=args.init, random_state=args.random_state,
                            max_iter=args.max_iter, tol=args.tol, force=args.force, quiet=args.quiet,
                            image_shape=data.image_shape, title="nmfkit demo: parts of handwritten digits",
                            description=data.description)
    if not args.quiet:
        print(f"nmfkit demo: {data.name} {summary['input']['shape'][0]} x {summary['input']['shape'][1]}, "
              f"rank {summary['n_components']}: {summary['stop_reason']}; relative error "
              f"{summary['relative_error']:.4f}.")
        print(f"nmfkit demo: report at {(out / 'report.html').resolve()}")
    return 0


def _datasets_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fetch", metavar="NAME", default=None,
                   help="download a data set (or 'all') into the user cache, each file checked against its SHA-256")
    p.add_argument("--data-dir", default=None, help="a data folder searched first")


_WHERE_LABEL = {"here": "at", "cached": "at", "download": "from", "builtin": "ships with"}


def _size(n: int) -> str:
    return "-" if not n else f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


@command("datasets", "the data sets nmfkit.datasets knows: where each is, its size and licence; --fetch gets them",
         _datasets_options)
def datasets_command(args: argparse.Namespace) -> int:
    from nmfkit import _fetch
    from nmfkit.datasets import available, fetch

    if args.fetch is not None:
        paths = fetch(args.fetch, data_dir=args.data_dir, progress=on_terminal(sys.stderr), verbose=True)
        folders = sorted({str(p.parent) for p in paths})
        print(f"nmfkit: {args.fetch}: {len(paths)} file{'s' if len(paths) != 1 else ''} ready "
              f"({', '.join(folders[:3])}{', ...' if len(folders) > 3 else ''})")
        return 0
    rows = available(args.data_dir)
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['state']:<8}  {_size(r['size']):>8}  {r['description']}")
        print(f"{'':<{width}}  {'':<8}  {'':>8}  {'licence: ' + r['licence'] + '; ' if r['licence'] else ''}"
              f"{_WHERE_LABEL.get(r['state'], 'how')}: "
              f"{r['where']}")
    missing = [r for r in rows if not r["available"]]
    if missing:
        mirror = _fetch.mirror()
        print(f"\n{len(missing)} of {len(rows)} data sets are not here. Searched, in order: the --data-dir "
              f"folder, $NMFKIT_DATA, ../shared/data beside a source checkout, and the cache "
              f"{_fetch.cache_dir()}. 'nmfkit datasets --fetch NAME' (or 'all') downloads those marked "
              f"'download'{' from the mirror ' + mirror if mirror else ''}; NMFKIT_DATA_URL names a mirror that "
              "serves all of them; NMFKIT_OFFLINE=1 forbids downloads.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    import nmfkit.methods  # noqa: F401  (methods register their subcommands)
    import nmfkit.selection  # noqa: F401
    from nmfkit import __version__

    parser = argparse.ArgumentParser(prog="nmfkit", description="Non-negative matrix factorization.")
    parser.add_argument("--version", action="version", version=f"nmfkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in _COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nmfkit`` console script; returns the exit code.

    Exit codes: 0 done; 2 a problem with the input or the options (one line on
    stderr); 1 a bug in nmfkit (the traceback, then one line asking for a
    report); 130 interrupted (Ctrl-C); 141 the reader of the output went away
    (``nmfkit datasets | head``).
    """
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "_run", None) is None:
            parser.print_help(sys.stderr)
            return 2
        return args._run(args)
    except InvalidInputError as exc:  # every check nmfkit makes (InputError and UsageError are ones)
        return _one_line(str(exc) or type(exc).__name__)
    except ImportError as exc:
        if _interrupt.requested():
            return _interrupt.report()  # Ctrl-C while an extension module loaded
        if (exc.name or "").split(".")[0] == "nmfkit":
            return _bug()  # a module of nmfkit's own that does not import is a bug, not a missing extra
        return _one_line(str(exc))  # an optional dependency that is not installed (with how to install it)
    except MemoryError:
        return _one_line("out of memory; try a smaller rank, float32 data or a sparse input file.")
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            return _broken_pipe()
        # the system refused (no space, no permission, read-only file system): the path and the reason
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return _one_line(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        return _interrupt.report()
    except Exception:  # anything else is a bug in nmfkit, not a problem with the input
        return _bug()


def _bug() -> int:
    """The exception being handled, as a bug report: its traceback, then one line; exit code 1."""
    import traceback

    traceback.print_exc(file=sys.stderr)
    kind = type(sys.exc_info()[1]).__name__
    print(f"nmfkit: internal error ({kind}); this is a bug in nmfkit, not a problem with your "
          "input. Please report it with the traceback above and the command you ran.", file=sys.stderr)
    return 1


def _one_line(message: str) -> int:
    print(f"nmfkit: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def _broken_pipe() -> int:
    """The reader of stdout closed it: stop quietly (the shell's 128 + SIGPIPE)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not fail again
    except (OSError, ValueError):
        pass
    return 141
