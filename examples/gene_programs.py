"""Gene programs in 10 000 mouse brain cells (10x raw UMI counts, 1000 genes): KL-NMF with sparse usages.

Counts are factorized with the KL loss (the Poisson likelihood), directly on the sparse matrix, at
``k = 10`` programs; an L1 penalty on the usages (``alpha_W``, ``l1_ratio=1``) makes each cell use
few programs. Reported for the plain and the sparse fit: the KL divergence per count, the Hoyer
sparseness of each cell's usage, the share of cells whose top program holds more than half of
their usage, and each program's ten top genes (the genes whose loading is largest relative to their
mean loading over programs). Figures: ``programs.png`` (top-gene loadings) and ``usage_sparsity.png``.

Usage::

    python examples/gene_programs.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _common import matplotlib_agg, out_dir, parser, require_data, save, write_metrics


def main(argv: list[str] | None = None) -> dict:
    import nmfkit
    from nmfkit.datasets import load_mouse_10k
    from nmfkit.methods import sparseness

    args = parser(__doc__).parse_args(argv)
    out = out_dir(args, "gene_programs")
    data = require_data(load_mouse_10k, args.data_dir)
    X = data.X.tocsr()
    if args.fast:
        X = X[:1000]
    keep = np.asarray(X.sum(axis=0)).ravel() > 0
    X = X[:, keep]
    genes = np.asarray(data.feature_names)[keep]
    k = 10
    fits = {}
    for label, alpha in (("plain", 0.0), ("sparse usages", 0.5)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[label] = nmfkit.nmf(X, k, beta_loss="kullback-leibler", solver="mu", init="nndsvda",
                                     alpha_W=alpha, alpha_H=0.0, l1_ratio=1.0, tol=1e-5,
                                     max_iter=100 if args.fast else 1000, random_state=0)
    counts = float(X.sum())
    metrics = {"example": "gene_programs", "cells": X.shape[0], "genes": X.shape[1], "k": k, "fits": {},
               "figures": []}
    for label, res in fits.items():
        W = np.asarray(res.W)
        U = W * np.asarray(res.H).sum(axis=1)  # usage in counts
        share = U / np.maximum(U.sum(axis=1, keepdims=True), 1e-300)
        loadings = np.asarray(res.H) / np.maximum(np.asarray(res.H).mean(axis=0, keepdims=True), 1e-300)
        top = [genes[np.argsort(-(loadings[j] * np.sqrt(res.H[j])))[:10]].tolist() for j in range(k)]
        metrics["fits"][label] = {
            "kl_per_count": float(res.extras["loss_value"]) / counts, "n_iter": res.n_iter,
            "usage_sparseness_median": float(np.median(sparseness(W, axis=1))),
            "dominant_share": float(np.mean(share.max(axis=1) > 0.5)), "top_genes": top,
            "stop_reason": res.stop_reason}
    plt = matplotlib_agg()
    res = fits["sparse usages"]
    H = np.asarray(res.H)
    fig, axes = plt.subplots(2, 5, figsize=(11, 4.5), layout="constrained")
    for j, ax in enumerate(axes.ravel()):
        names = metrics["fits"]["sparse usages"]["top_genes"][j]
        idx = [int(np.flatnonzero(genes == g)[0]) for g in names]
        ax.barh(np.arange(10)[::-1], H[j, idx] / H[j].max(), color="tab:purple")
        ax.set_yticks(np.arange(10)[::-1], names, fontsize=6)
        ax.set_title(f"program {j + 1}", fontsize=8)
        ax.tick_params(axis="x", labelsize=6)
    metrics["figures"].append(save(fig, out, "programs.png"))
    fig, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    for label, r in fits.items():
        ax.hist(sparseness(np.asarray(r.W), axis=1), bins=30, alpha=0.6, label=label)
    ax.set_xlabel("Hoyer sparseness of a cell's usage")
    ax.set_ylabel("cells")
    ax.legend(fontsize=8)
    metrics["figures"].append(save(fig, out, "usage_sparsity.png"))
    write_metrics(out, metrics)
    for label, m in metrics["fits"].items():
        print(f"gene_programs {label}: KL/count {m['kl_per_count']:.4f}, usage sparseness median "
              f"{m['usage_sparseness_median']:.3f}, cells with a dominant program {m['dominant_share']:.2f}; "
              f"program 1: {' '.join(m['top_genes'][0][:5])}")
    print(f"gene_programs: wrote {out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
