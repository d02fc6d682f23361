"""The fit pipeline the commands share: progress on the terminal, and a fit written as a folder.

:func:`fit_to_folder` fits (``nmf``, or a method's own ``fit``) and writes the
factors, ``summary.json``, the plots and ``report.html`` into a temporary
folder that replaces the output folder only when complete.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _interrupt
from nmfkit import defaults as D
from nmfkit._progress import on_terminal

__all__ = ["Progress", "fit_to_folder", "relative_error", "component_usage"]


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
    ``extra_summary`` entries. A ``fit`` that transforms the data first puts what it
    factorized in ``result.extras["fitted_data"]``: the relative error is measured on it.

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
        fitted = result.extras.pop("fitted_data", X)  # what the fit factorized (after its own preprocessing)
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
            "relative_error": relative_error(fitted, W, H),
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
