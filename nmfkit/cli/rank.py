"""``nmfkit rank``: survey candidate ranks; ``nmfkit consensus``: consensus NMF over replicates."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from nmfkit.cli import shared
from nmfkit.cli._pipeline import fit_to_folder
from nmfkit.selection import CRITERIA, consensus, select_rank


def _replicate_options(p: argparse.ArgumentParser) -> None:
    shared.input_options(p)
    shared.fit_options(p, solver=False)
    p.add_argument("--runs", dest="n_runs", type=int, default=20, help="replicates per rank (default 20)")
    p.add_argument("--jobs", dest="n_jobs", type=int, default=1, help="parallel processes")


def _rank_options(p: argparse.ArgumentParser) -> None:
    _replicate_options(p)
    p.add_argument("--ranks", required=True, help="candidate ranks: 2:10, 2:10:2 or 2,3,5")
    p.add_argument("--criteria", default="error,consensus,silhouette,bcv,permuted",
                   help=f"comma-separated, from {', '.join(CRITERIA)}")
    p.add_argument("--cv-tolerance", type=float, default=0.05,
                   help="cross-validation pick: smallest rank within this fraction of the lowest error (default 0.05)")
    shared.output_options(p, "_rank")


@shared.command("rank", "survey candidate ranks with several criteria and recommend one", _rank_options)
def rank_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit rank``."""
    # (loaded when the command runs: `nmfkit --help` stays light)
    from nmfkit.io import atomic_directory, json_text, write_table
    from nmfkit.report import Report

    ranks = shared.parse_ranks(args.ranks)
    criteria = [c.strip() for c in args.criteria.split(",") if c.strip()]
    unknown = sorted(set(criteria) - set(CRITERIA))
    if unknown:
        raise shared.UsageError(f"--criteria: unknown {unknown}; valid: {', '.join(CRITERIA)}.")
    matrix = shared.read_input(args)
    out = shared.out_folder(args, "_rank")
    with atomic_directory(out, force=args.force) as tmp:
        survey = select_rank(matrix.X, ranks, n_runs=args.n_runs, criteria=criteria, random_state=args.random_state,
                             n_jobs=args.n_jobs, progress=not args.quiet, cv_tolerance=args.cv_tolerance,
                             beta_loss=shared.beta(args.beta_loss), max_iter=args.max_iter)
        keys = list(survey.table)
        write_table(tmp / "rank_survey.tsv", np.array([survey.table[k] for k in keys]).T,
                    [str(r) for r in survey.ranks], keys, corner="rank")
        (tmp / "summary.json").write_text(json_text({
            "method": "rank survey", "input": str(matrix.path), "shape": list(matrix.shape), "ranks": survey.ranks,
            "n_runs": args.n_runs, "criteria": criteria, "cv_tolerance": args.cv_tolerance,
            "recommended": survey.recommended, "reasons": survey.reasons, "table": survey.table}))
        report = Report(f"nmfkit: rank survey of {Path(matrix.path).name}")
        report.section("Recommendation", f"Recommended rank: {survey.recommended}.")
        report.table([[r] for r in survey.reasons], ["why"])
        fig = survey.plot()
        fig.savefig(tmp / "rank_survey.png", dpi=110)
        report.figure(fig, "Every criterion against the rank; the dashed line marks the recommendation "
                      "(rank_survey.png).", alt="rank survey")
        report.section("Criteria").table([[r] + [survey.table[k][i] for k in keys] for i, r in enumerate(survey.ranks)],
                                         ["rank", *keys])
        report.section("Outputs").table([["rank_survey.tsv", "every criterion per rank"],
                                         ["rank_survey.png", "the criteria plotted"],
                                         ["summary.json", "recommendation, reasons, parameters"],
                                         ["report.html", "this report"]], ["file", "contents"])
        (tmp / "report.html").write_text(report.render(), encoding="utf-8")
    if not args.quiet:
        print(f"nmfkit rank: recommended rank {survey.recommended}; wrote {out}/ (report: {out / 'report.html'})")
    return 0


def _consensus_options(p: argparse.ArgumentParser) -> None:
    _replicate_options(p)
    p.add_argument("--rank", "--n-components", dest="n_components", type=int, required=True)
    p.add_argument("--density-threshold", type=float, default=0.5,
                   help="drop components whose mean distance to their neighbours exceeds this (default 0.5)")
    shared.image_options(p)
    shared.output_options(p, "_consensus")


@shared.command("consensus", "consensus NMF over replicates (cNMF-style) with a stability score", _consensus_options)
def consensus_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit consensus``."""
    matrix = shared.read_input(args)
    shape, order = shared.image_layout(args, matrix)
    out = shared.out_folder(args, "_consensus")

    def fit(X: Any, progress: Any) -> Any:
        return consensus(X, args.n_components, args.n_runs, density_threshold=args.density_threshold,
                         random_state=args.random_state, n_jobs=args.n_jobs, beta_loss=shared.beta(args.beta_loss),
                         max_iter=args.max_iter)

    def sections(report: Any, folder: Any, result: Any) -> None:
        ex = result.extras
        report.section("Consensus", f"{ex['n_runs']} replicates from independent random starts; their components "
                       f"were clustered (cNMF-style), {100 * ex['kept']:.0f} % kept after the density filter, and "
                       "each consensus component is its cluster's median; usages refit by NNLS.")
        report.mapping({"stability (mean silhouette)": ex["stability"], "kept share": ex["kept"]})
        report.table([[f"component {i + 1}", s] for i, s in enumerate(ex["component_silhouette"])],
                     ["component", "silhouette"])

    summary = fit_to_folder(matrix, out, n_components=args.n_components, max_iter=args.max_iter, tol=0.0,
                            random_state=args.random_state, force=args.force, quiet=True,
                            image_shape=shape, image_order=order, method="consensus", fit=fit,
                            sections=sections, extra_summary={"n_runs": args.n_runs,
                                                              "density_threshold": args.density_threshold})
    if not args.quiet:
        print(f"nmfkit consensus: {summary['stop_reason']}; wrote {out}/ (report: {out / 'report.html'})")
    return 0
