"""``nmfkit deep``: deep beta-NMF or minimum-volume deep KL-NMF (Leplat, Hien, Onwunta & Gillis) on a data file."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from nmfkit.cli import shared
from nmfkit.cli._pipeline import fit_to_folder
from nmfkit.losses import BetaDivergence
from nmfkit.methods.deep import deep_nmf, hoyer_sparsity, layer_features


def _deep_options(p: argparse.ArgumentParser) -> None:
    shared.input_options(p)
    p.add_argument("--ranks", required=True, help="strictly decreasing ranks, e.g. 80,40,20")
    p.add_argument("--loss", "--beta-loss", dest="beta_loss", default="kl",
                   help="kl (kullback-leibler, default), 1.5, or fro (frobenius)")
    p.add_argument("--min-vol", action="store_true", help="minimum-volume deep KL-NMF (columns of W sum to 1)")
    p.add_argument("--model", choices=("layer-centric", "data-centric"), default="layer-centric",
                   help="layer-centric (the paper's model, default) or data-centric: every layer approximates X")
    p.add_argument("--lambdas", default=None, help="layer weights, e.g. 4,2,1 (default 1 / initial layer error)")
    p.add_argument("--alphas", default=None, help="min-vol: target initial volume/data ratios (default 0.05)")
    p.add_argument("--normalization", default="rows", choices=["rows", "cols"],
                   help="rows: H_l e = e (the paper's model); cols: e^T H_l = e^T (a different model)")
    p.add_argument("--init-iter", type=int, default=500, help="multilayer sweeps per layer (initialisation)")
    p.add_argument("--max-iter", type=int, default=500, help="deep sweeps")
    p.add_argument("--tol", type=float, default=None, help="optional early stop on the weighted objective")
    p.add_argument("--seed", "--random-state", dest="random_state", type=int, default=0)
    shared.image_options(p, "features")
    shared.output_options(p, "_deep")


@shared.command("deep", "deep beta-NMF (layer-centric loss) or minimum-volume deep KL-NMF", _deep_options)
def deep_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit deep``."""
    from nmfkit import plotting
    from nmfkit.io import write_table  # (loaded when the command runs: `nmfkit --help` stays light)

    ranks = shared.int_list(args.ranks, "--ranks")
    lambdas = shared.float_list(args.lambdas, "--lambdas")
    alphas = shared.float_list(args.alphas, "--alphas")
    loss_param = shared.beta(args.beta_loss)
    matrix = shared.read_input(args)
    shape, order = shared.image_layout(args, matrix)
    out = shared.out_folder(args, "_deep")

    def fit(X: Any, progress: Any) -> Any:
        result = deep_nmf(X, ranks, loss_param, lambdas="auto" if lambdas is None else lambdas,
                          normalization=args.normalization, model=args.model, min_vol=args.min_vol,
                          alphas=0.05 if alphas is None else alphas, max_iter=args.max_iter, init_iter=args.init_iter,
                          tol=args.tol, random_state=args.random_state, callback=progress)
        loss = BetaDivergence.from_param(loss_param)
        result.extras.update(loss_value=result.extras["layer_errors"][0], beta_loss=loss.beta, loss=loss.name,
                             solver="deep beta-NMF (block MM)" + (", min-vol ADMM" if args.min_vol else ""),
                             init=f"multilayer beta-NMF, {args.init_iter} sweeps per layer")
        return result

    def sections(report: Any, folder: Any, result: Any) -> None:
        ex = result.extras
        feats = layer_features(result)
        names = matrix.col_names
        report.section("Deep layers", "Layer-centric deep beta-NMF (Leplat, Hien, Onwunta & Gillis): X ≈ W1 H1, "
                       "W1 ≈ W2 H2, ...; the features of layer l are the rows of H_l ... H_1."
                       + (" Minimum-volume variant: the columns of every W_l sum to 1." if args.min_vol else ""))
        rows = []
        for layer, r in enumerate(ex["ranks"]):
            e0, e1 = ex["initial_errors"][layer], ex["layer_errors"][layer]
            sp = float(np.nanmean(hoyer_sparsity(feats[layer])))
            rows.append([layer + 1, r, ex["lambdas"][layer], e0, e1, 100.0 * e1 / e0 if e0 > 0 else float("nan"),
                         100.0 * sp])
        report.table(rows, ["layer", "rank", "lambda", "error after multilayer init", "error after deep",
                            "deep / init (%)", "Hoyer sparsity of features (%)"])
        if args.min_vol:
            report.table([[layer + 1, a, v] for layer, (a, v) in enumerate(zip(ex["alphas"], ex["log10det"],
                                                                             strict=True))],
                         ["layer", "alpha", "log10 det(W^T W + delta I)"])
        fig = plotting.plot_layer_errors(result)
        fig.savefig(folder / "layer_errors.png", dpi=110)
        report.figure(fig, "Each layer's error along the deep sweeps, relative to the multilayer start "
                      "(layer_errors.png).", alt="layer errors")
        fig = plotting.plot_deep_layers(feats, ex["H_layers"], image_shape=shape, feature_names=names,
                                        order=order)
        fig.savefig(folder / "deep_layers.png", dpi=100)
        report.figure(fig, "How each layer's features combine those of the layer below (deep_layers.png): "
                      + ("each row shows a feature and the lower-layer features with the largest weights."
                         if shape else "the weights H_l, rows labelled by their top data features."),
                      alt="deep layers")
        for layer, (W, H) in enumerate(zip(ex["W_layers"], ex["H_layers"], strict=True), start=1):
            comp = [f"L{layer}_{k + 1}" for k in range(W.shape[1])]
            below = names if layer == 1 else [f"L{layer - 1}_{k + 1}" for k in range(H.shape[1])]
            write_table(folder / f"W{layer}.tsv", np.asarray(W), matrix.row_names, comp, corner="sample")
            write_table(folder / f"H{layer}.tsv", np.asarray(H), comp, below, corner="component")
            write_table(folder / f"features{layer}.tsv", np.asarray(feats[layer - 1]), comp, names, corner="component")
        report.table([[f"W{k}.tsv, H{k}.tsv, features{k}.tsv", f"layer {k}: usage, weights on layer {k - 1}, "
                       "features in data space"] for k in range(1, len(ranks) + 1)], ["files", "contents"])

    summary = fit_to_folder(matrix, out, n_components=ranks[0], max_iter=args.max_iter,
                            tol=args.tol if args.tol is not None else 0.0, random_state=args.random_state,
                            force=args.force, quiet=args.quiet, image_shape=shape, image_order=order,
                            method="deep-nmf", fit=fit,
                            sections=sections, extra_summary={"ranks": ranks, "min_vol": args.min_vol})
    if not args.quiet:
        print(f"nmfkit deep: {summary['stop_reason']}; layer-1 relative error {summary['relative_error']:.4g}; "
              f"wrote {out}/ (report: {out / 'report.html'})")
    return 0
