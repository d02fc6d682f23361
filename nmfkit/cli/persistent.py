"""``nmfkit persistent``: persistent NMF (Zhang, Miao & Li) on a data file, with per-scale embeddings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from nmfkit.backend import get_backend
from nmfkit.cli import shared
from nmfkit.cli._pipeline import fit_to_folder
from nmfkit.losses import BetaDivergence
from nmfkit.methods.persistent import persistent_nmf, preprocess_counts


def _persistent_options(p: argparse.ArgumentParser) -> None:
    shared.input_options(p)
    p.add_argument("--rank", "--n-components", dest="n_components", type=int, default=None,
                   help="rank k (default ceil(sqrt(n_samples)))")
    p.add_argument("--lambdas", default="100,100,1",
                   help="geometric, cross-scale and ridge weights (default 100,100,1)")
    p.add_argument("--sweeps", dest="n_sweeps", type=int, default=10, help="outer sweeps over the scales")
    p.add_argument("--max-scales", default="auto",
                   help="scales to keep: S (at most S, spread from both ends of the filtration), 'all' (every death "
                        "time, the reference algorithm) or 'auto' (default: every scale up to 100 samples, "
                        "ceil(4 log2 N) beyond)")
    p.add_argument("--start", choices=("nndsvda", "nndsvdar", "random"), default="nndsvda",
                   help="first factors: the reference NNDSVDa (default, no randomness), NNDSVDar or random")
    p.add_argument("--seed", "--random-state", dest="random_state", type=int, default=0,
                   help="seeds --start nndsvdar and random (default 0)")
    p.add_argument("--labels", default=None,
                   help="one label per sample (a text file, one per line, or a csv whose last column is the label): "
                        "score k-means on every scale's embedding")
    p.add_argument("--preprocess", action="store_true", help="single-cell counts: log10(1 + x), unit-norm cells")
    p.add_argument("--show-scales", default=None, help="scales to plot, e.g. 1,10,40 (default: 6 spread out)")
    shared.output_options(p, "_persistent")


def _read_labels(path: str, n: int) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise shared.UsageError(f"--labels file {path!r} not found.")
    lines = [ln.strip() for ln in p.read_text().splitlines() if ln.strip()]
    if lines and ("," in lines[0] or "\t" in lines[0]):
        sep = "," if "," in lines[0] else "\t"
        rows = [ln.split(sep)[-1].strip().strip('"') for ln in lines]
        if len(rows) == n + 1:  # a header line
            rows = rows[1:]
        lines = rows
    if len(lines) != n:
        raise shared.UsageError(f"--labels has {len(lines)} labels but the data has {n} samples.")
    return np.asarray(lines)


@shared.command("persistent", "persistent NMF: one embedding per persistent-homology scale", _persistent_options)
def persistent_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit persistent``."""
    # (loaded when the command runs: `nmfkit --help` stays light)
    from nmfkit import plotting
    from nmfkit.io import write_table
    from nmfkit.metrics import kmeans_scores

    lam = shared.float_list(args.lambdas, "--lambdas")
    lam = [lam] if isinstance(lam, float) else lam
    if lam is None or len(lam) != 3:
        raise shared.UsageError(f"--lambdas needs three numbers (geometric, cross-scale, ridge); got {args.lambdas!r}.")
    max_scales: Any = {"auto": "auto", "all": None}.get(args.max_scales)
    if max_scales is None and args.max_scales != "all":
        try:
            max_scales = int(args.max_scales)
        except ValueError:
            msg = f"--max-scales must be 'auto', 'all' or a whole number; got {args.max_scales!r}."
            raise shared.UsageError(msg) from None
    matrix = shared.read_input(args)
    labels = _read_labels(args.labels, matrix.shape[0]) if args.labels else None
    out = shared.out_folder(args, "_persistent")

    def fit(X: Any, progress: Any) -> Any:
        Xf = preprocess_counts(X) if args.preprocess else X
        result = persistent_nmf(Xf, args.n_components, lambdas=lam, n_sweeps=args.n_sweeps,
                                max_scales=max_scales, start=args.start, random_state=args.random_state,
                                callback=progress)
        loss = BetaDivergence(2.0).value(Xf, result.W, result.H, backend=get_backend(result.W))
        result.extras.update(loss_value=float(loss), fitted_data=Xf,
                             beta_loss=2.0, loss="frobenius", solver="persistent NMF (Lin MU blocks)",
                             init="NNDSVDa + coarse-to-fine GNMF chain")
        return result

    def sections(report: Any, folder: Any, result: Any) -> None:
        ex = result.extras
        T = ex["n_scales"]
        N = result.W.shape[0]
        which = (f"{T} scales" if T == N else f"{T} of the {N} scales (spread geometrically from both ends; "
                 "--max-scales all keeps every one)")
        report.section("Persistent NMF", f"{which} from the 0-dimensional persistence of the samples (death "
                       "times of the minimum spanning tree, plus the complete graph); one graph-regularized "
                       "embedding per scale, coupled across neighbouring scales (Zhang, Miao & Li). Scale 1 is the "
                       "finest (no edges); the last is the complete graph.")
        report.mapping({"scales": T, "lambdas (geometric, cross-scale, ridge)": str(list(ex["lambdas"])),
                        "sweeps": result.n_iter, "total objective": result.objective,
                        "mean inner iterations in the last sweep": float(np.mean(ex["inner_iterations"][-1])),
                        "blocks that hit inner_max_iter": ex["unconverged_blocks"]})
        fig = plotting.plot_barcode(ex["death_times"])
        fig.savefig(folder / "barcode.png", dpi=110)
        report.figure(fig, "H0 barcode: every bar is born at 0 and dies at a merge (barcode.png).", alt="barcode")
        shows = shared.int_list(args.show_scales, "--show-scales") if args.show_scales else \
            sorted({int(round(v)) for v in np.linspace(1, T, min(6, T))})
        bad = [t for t in shows if not 1 <= t <= T]
        if bad:
            raise shared.UsageError(f"--show-scales must be between 1 and {T}; got {bad}.")
        fig = plotting.plot_scale_embeddings(ex["embeddings"], shows, labels=labels)
        fig.savefig(folder / "embeddings.png", dpi=110)
        report.figure(fig, "Embeddings at selected scales (first two components) (embeddings.png).",
                      alt="embeddings")
        np.savez_compressed(folder / "embeddings.npz", embeddings=ex["embeddings"], eps=ex["eps"],
                            death_times=ex["death_times"])
        comp = [f"component_{i + 1}" for i in range(result.W.shape[1])]
        for t in shows:
            write_table(folder / f"embedding_t{t}.tsv", ex["embeddings"][t - 1], matrix.row_names, comp,
                        corner="sample")
        rows = [["embeddings.npz", "every scale's embedding (T x N x k), the scales eps and the death times"]]
        rows += [[f"embedding_t{t}.tsv", f"embedding at scale {t}"] for t in shows]
        if labels is not None:
            scores = [kmeans_scores(ex["embeddings"][t], labels) for t in range(T)]
            fig = plotting.plot_scores_by_scale(scores)
            fig.savefig(folder / "scores_by_scale.png", dpi=110)
            report.figure(fig, "k-means on each scale's embedding against the labels (scores_by_scale.png).",
                          alt="scores by scale")
            best = int(np.argmax([s["average"] for s in scores]))
            keys = ("ari", "nmi", "purity", "accuracy", "average")
            report.table([["t = 1"] + [scores[0][k] for k in keys], [f"best t = {best + 1} (label-selected)"]
                          + [scores[best][k] for k in keys]], ["embedding", *keys])
            write_table(folder / "scores_by_scale.tsv", np.array([[s[k] for k in keys] for s in scores]),
                        [str(t + 1) for t in range(T)], list(keys), corner="scale")
            rows.append(["scores_by_scale.tsv", "ARI, NMI, purity, accuracy, average per scale"])
        report.table(rows, ["file", "contents"])

    summary = fit_to_folder(matrix, out, n_components=args.n_components or 0, max_iter=args.n_sweeps, tol=0.0,
                            random_state=args.random_state, force=args.force, quiet=args.quiet,
                            method="persistent-nmf", fit=fit,
                            sections=sections, extra_summary={"lambdas": lam, "max_scales": args.max_scales,
                                                              "preprocess": args.preprocess})
    if not args.quiet:
        print(f"nmfkit persistent: {summary['stop_reason']}; wrote {out}/ (report: {out / 'report.html'})")
    return 0
