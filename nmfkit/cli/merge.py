"""``nmfkit merge``: NMF-Merge (Guo & Holy) on a data file."""

from __future__ import annotations

import argparse
from typing import Any

from nmfkit.cli import shared
from nmfkit.cli._pipeline import fit_to_folder
from nmfkit.methods.merge import nmf_merge


def _merge_options(p: argparse.ArgumentParser) -> None:
    shared.input_options(p)
    p.add_argument("--rank", "--n-components", dest="n_components", type=int, required=True, help="final rank")
    p.add_argument("--extra", dest="n_extra", type=int, default=None,
                   help="extra components before merging (default max(1, round(0.2 rank)))")
    p.add_argument("--tol-intermediate", type=float, default=1e-2,
                   help="tolerance of the over-complete stage (default 1e-2)")
    shared.image_options(p)
    shared.output_options(p, "_merge")
    shared.fit_options(p)


@shared.command("merge", "NMF-Merge: over-complete NMF, optimal pairwise merges, final NMF", _merge_options)
def merge_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit merge``."""
    matrix = shared.read_input(args)
    shape, order = shared.image_layout(args, matrix)
    out = shared.out_folder(args, "_merge")
    solver = "hals" if args.solver == "auto" else args.solver

    def fit(X: Any, progress: Any) -> Any:
        return nmf_merge(X, args.n_components, n_extra=args.n_extra, solver=solver,
                         tol_intermediate=args.tol_intermediate, tol_final=args.tol, max_iter=args.max_iter,
                         random_state=args.random_state)

    def sections(report: Any, folder: Any, result: Any) -> None:
        from nmfkit import plotting

        seq, times = result.extras["merge_sequence"], result.extras["stage_times"]
        report.section("NMF-Merge", f"{result.extras['n_extra']} extra components were recovered from the data "
                       f"(GSVD), fitted, then merged pairwise back to {args.n_components} (Guo & Holy).")
        report.table([[name, f"{sec:.4g}", result.extras["stage_iterations"].get(name, "")]
                      for name, sec in times.items()], ["stage", "seconds", "sweeps"])
        if seq:
            fig = plotting.plot_merge_penalties(seq)
            fig.savefig(folder / "merge_penalties.png", dpi=110)
            report.figure(fig, "Penalty ||WH - W'H'||^2 of each merge (merge_penalties.png).", alt="merge penalties")
            report.table([[k + 1, s.i, s.j, s.new, s.penalty] for k, s in enumerate(seq)],
                         ["merge", "component i", "component j", "new id", "penalty"])

    summary = fit_to_folder(matrix, out, n_components=args.n_components, max_iter=args.max_iter, tol=args.tol,
                            random_state=args.random_state, force=args.force, quiet=True,
                            image_shape=shape, image_order=order, method="nmf-merge", fit=fit,
                            sections=sections, extra_summary={"tol_intermediate": args.tol_intermediate})
    if not args.quiet:
        print(f"nmfkit merge: {summary['stop_reason']}; relative error {summary['relative_error']:.4g}; "
              f"wrote {out}/ (report: {out / 'report.html'})")
    return 0
