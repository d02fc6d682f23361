"""``nmfkit fit``: factorize a data file; ``nmfkit demo``: the same on digits that ship with scikit-learn."""

from __future__ import annotations

import argparse
from pathlib import Path

from nmfkit.cli import shared
from nmfkit.cli._pipeline import fit_to_folder


def _fit_options(p: argparse.ArgumentParser) -> None:
    shared.input_options(p)
    p.add_argument("--rank", "--n-components", dest="n_components", type=int, required=True,
                   help="number of components k")
    shared.fit_options(p)
    shared.image_options(p)
    shared.output_options(p, "_nmf")
    p.add_argument("--checkpoint", default=None,
                   help="save the fit's state to this .npz file every --checkpoint-every sweeps; if the file "
                        "exists, resume from it (an interrupted run then ends as an uninterrupted one)")
    p.add_argument("--checkpoint-every", type=int, default=100, help="sweeps between checkpoints (default: 100)")


@shared.command("fit", "factorize a data file and write factors, plots and a report", _fit_options)
def fit_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit fit``."""
    matrix = shared.read_input(args)
    shape, order = shared.image_layout(args, matrix)
    out = shared.out_folder(args, "_nmf")
    summary = fit_to_folder(matrix, out, n_components=args.n_components, beta_loss=shared.beta(args.beta_loss),
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
    shared.fit_options(p)
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("--quiet", action="store_true", help="no progress output")


@shared.command("demo", "factorize the handwritten digits that ship with scikit-learn and write a report",
                _demo_options)
def demo_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit demo``."""
    from nmfkit.datasets import load_digits

    data = load_digits()
    out = Path(args.out)
    summary = fit_to_folder(data.as_matrix(), out, n_components=args.n_components,
                            beta_loss=shared.beta(args.beta_loss),
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
