"""``nmfkit programs``: cNMF's gene-program workflow on a counts file, written as a folder of tables and plots."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from nmfkit.cli import shared


def _options(p: argparse.ArgumentParser) -> None:
    shared.input_options(p)
    p.add_argument("--ranks", required=True, help="ranks to survey: 5:12, 5:12:2 or 5,7,9")
    p.add_argument("--rank", "--n-components", dest="n_components", type=int, default=None,
                   help="the rank to report (default: the most stable of --ranks)")
    p.add_argument("--runs", dest="n_runs", type=int, default=20, help="replicates per rank (default 20)")
    p.add_argument("--genes", dest="n_genes", type=int, default=2000,
                   help="over-dispersed genes to factorize (default 2000)")
    p.add_argument("--density-threshold", type=float, default=0.5,
                   help="drop replicate programs whose local density exceeds this before the consensus "
                        "(default 0.5; 2 keeps all)")
    p.add_argument("--jobs", dest="n_jobs", type=int, default=1, help="parallel processes for the replicates")
    p.add_argument("--seed", "--random-state", dest="random_state", type=int, default=0)
    p.add_argument("--max-iter", type=int, default=1000, help="most sweeps per replicate (default 1000)")
    p.add_argument("--checkpoint", default=None,
                   help="folder keeping every finished rank, so that an interrupted survey resumes "
                        "(default: OUT.checkpoint, removed when the outputs are written)")
    p.add_argument("--top", dest="n_top", type=int, default=100, help="top genes listed per program (default 100)")
    shared.output_options(p, "_programs")


@shared.command("programs", "gene programs as cNMF finds them: k-selection, consensus, TPM programs, gene scores",
                _options)
def programs_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit programs``."""
    import shutil

    from nmfkit.io import atomic_directory, json_text, write_table
    from nmfkit.selection import gene_programs

    ranks = shared.parse_ranks(args.ranks)
    if args.n_top < 1:
        raise shared.UsageError(f"--top must be at least 1; got {args.n_top}.")
    matrix = shared.read_input(args)
    out = shared.out_folder(args, "_programs")
    checkpoint = Path(args.checkpoint) if args.checkpoint else out.with_name(out.name + ".checkpoint")
    if not args.quiet and any(checkpoint.glob("rank_*.npz")):
        print(f"nmfkit programs: resuming from {checkpoint}/", flush=True)
    try:
        gp = gene_programs(matrix.X, ranks, args.n_components, n_runs=args.n_runs, n_genes=args.n_genes,
                           density_threshold=args.density_threshold, random_state=args.random_state,
                           n_jobs=args.n_jobs, progress=not args.quiet, checkpoint=checkpoint,
                           max_iter=args.max_iter)
    except KeyboardInterrupt:
        done = sorted(int(p.stem.split("_")[1]) for p in checkpoint.glob("rank_*.npz"))
        if done:
            print(f"nmfkit programs: ranks {', '.join(map(str, done))} are kept in {checkpoint}/; the same command "
                  "resumes from them.", file=sys.stderr, flush=True)
        raise
    genes = np.asarray(matrix.col_names, dtype=object)
    k = gp.n_components
    names = [f"program_{i + 1}" for i in range(k)]
    ex = gp.consensus.extras
    with atomic_directory(out, force=args.force) as tmp:
        write_table(tmp / "k_selection.tsv", np.column_stack([gp.stability, gp.prediction_error]),
                    [str(r) for r in gp.ranks], ["stability", "prediction_error"], corner="rank")
        sums = gp.usages.sum(axis=1, keepdims=True)
        write_table(tmp / "usages.tsv", np.divide(gp.usages, sums, out=np.zeros_like(gp.usages), where=sums > 0),
                    matrix.row_names, names, corner="cell")
        write_table(tmp / "usages_raw.tsv", gp.usages, matrix.row_names, names, corner="cell")
        write_table(tmp / "spectra.tsv", gp.spectra.T, list(genes[gp.genes]), names, corner="gene")
        write_table(tmp / "programs_tpm.tsv", gp.tpm.T, list(genes), names, corner="gene")
        write_table(tmp / "gene_scores.tsv", gp.scores.T, list(genes), names, corner="gene")
        top = gp.top_genes(min(args.n_top, len(genes)))
        (tmp / "top_genes.tsv").write_text("\t".join(names) + "\n" + "".join(
            "\t".join(str(genes[j]) for j in row) + "\n" for row in top))
        (tmp / "variable_genes.txt").write_text("".join(f"{g}\n" for g in genes[gp.genes]))
        summary = {"method": "gene programs (cNMF workflow)", "input": str(matrix.path), "shape": list(matrix.shape),
                   "ranks": gp.ranks, "n_runs": args.n_runs, "n_genes": int(gp.genes.sum()),
                   "density_threshold": args.density_threshold, "seed": args.random_state,
                   "n_components": k, "chosen_by": "given" if args.n_components else "highest stability",
                   "k_selection": {"stability": gp.stability, "prediction_error": gp.prediction_error},
                   "consensus": {"stability_after_filter": ex["stability"], "kept": ex["kept"],
                                 "component_silhouette": ex["component_silhouette"],
                                 "stop_reason": gp.consensus.stop_reason},
                   "seconds": gp.elapsed}
        (tmp / "summary.json").write_text(json_text(summary))
        report = _report(gp, matrix, args, top, genes, tmp)
        (tmp / "report.html").write_text(report.render(), encoding="utf-8")
    if args.checkpoint is None:
        shutil.rmtree(checkpoint, ignore_errors=True)  # the outputs are complete: the default checkpoint is spent
    if not args.quiet:
        print(f"nmfkit programs: {k} programs (stability {gp.stability[gp.ranks.index(k)]:.3f}); "
              f"wrote {out}/ (report: {out / 'report.html'})")
    return 0


def _report(gp: Any, matrix: Any, args: argparse.Namespace, top: np.ndarray, genes: np.ndarray, folder: Path) -> Any:
    """The HTML report: the k-selection, the clustergram, the top genes, and what every file holds."""
    from nmfkit.report import Report

    k = gp.n_components
    ex = gp.consensus.extras
    report = Report(f"nmfkit: gene programs of {Path(matrix.path).name}")
    best = gp.ranks[int(np.nanargmax(gp.stability))] if np.isfinite(gp.stability).any() else None
    why = (f"the most stable of ranks {gp.ranks[0]}-{gp.ranks[-1]}" if args.n_components is None
           else f"given (the most stable rank was {best})")
    n_var = int(gp.genes.sum())
    genes_said = (f"the {n_var} most over-dispersed genes" if n_var == args.n_genes else
                  f"every one of the {n_var} expressed genes (fewer than --genes {args.n_genes})")
    report.section("Programs", f"{k} programs, {why}; {matrix.shape[0]} cells, {genes_said} factorized, "
                   f"{args.n_runs} replicates per rank, {gp.elapsed:.0f} s in all.")
    ax, _ = gp.plot_k_selection()
    ax.figure.savefig(folder / "k_selection.png", dpi=150)
    report.figure(ax.figure, "Stability (silhouette of every replicate program clustered into k groups) and "
                  "prediction error of the refitted usages, per rank (k_selection.png).", alt="k selection")
    fig = gp.plot_clustergram()
    fig.savefig(folder / "clustergram.png", dpi=150)
    dropped = int(round((1 - ex["kept"]) * len(ex["local_density"])))
    report.figure(fig, f"Replicate programs at k = {k} ordered by consensus cluster; {dropped} of "
                  f"{len(ex['local_density'])} were above the density threshold {args.density_threshold:g} and "
                  "left out of the consensus (clustergram.png).", alt="clustergram")
    report.section("k selection").table(
        [[r, s, e] for r, s, e in zip(gp.ranks, gp.stability, gp.prediction_error, strict=True)],
        ["rank", "stability", "prediction error"])
    sil = ex["component_silhouette"]
    report.section("Top genes by score").table(
        [[f"program {i + 1}", "nan" if math.isnan(sil[i]) else f"{sil[i]:.3f}",
          ", ".join(str(genes[j]) for j in top[:10, i])] for i in range(k)],
        ["program", "silhouette", "top 10 genes"])
    report.section("Outputs").table([
        ["usages.tsv", "usages per cell, each row summing to one (usages_raw.tsv: before that scaling)"],
        ["spectra.tsv", "consensus programs on the over-dispersed genes (each sums to one)"],
        ["programs_tpm.tsv", "programs in TPM units, every gene"],
        ["gene_scores.tsv", "z-scored gene scores (regression of z-scored TPM on the usages), every gene"],
        ["top_genes.tsv", f"the {top.shape[0]} highest-scoring genes of every program"],
        ["variable_genes.txt", "the over-dispersed genes factorized"],
        ["k_selection.tsv / .png", "stability and error per rank"],
        ["clustergram.png", "the replicate programs' clustering at the chosen rank"],
        ["summary.json", "parameters and statistics"], ["report.html", "this report"]], ["file", "contents"])
    return report
