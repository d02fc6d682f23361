"""Hyperspectral unmixing of Samson (95 x 95 pixels, 156 bands) against its ground truth: plain NMF vs separable NMF.

Samson's three materials (rock, tree, water) each have pure pixels, so the scene is close to
separable: SNPA (Gillis 2014) picks one pure pixel per material and the abundances follow by exact
NNLS. Plain NMF (Frobenius, HALS) is run from NNDSVDa, from ``--starts`` random starts (the
best by objective is kept; the spread over starts is reported) and from the SNPA start. Scores
against the ground truth: the spectral angle (SAD, degrees) between each true endmember and its
Hungarian-matched estimate, and the RMSE of the abundances (each pixel's usages scaled to sum to
one). Figures: ``samson_abundances.png`` and ``samson_endmembers.png``.

Usage::

    python examples/samson.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _common import matplotlib_agg, out_dir, parser, require_data, save, write_metrics


def score(W, H, M, A):
    """SAD per true endmember (degrees), its mean, abundance RMSE, and the matching (true -> estimate)."""
    from scipy.optimize import linear_sum_assignment

    Hn = H / np.linalg.norm(H, axis=1, keepdims=True)
    Mn = M / np.linalg.norm(M, axis=1, keepdims=True)
    angle = np.degrees(np.arccos(np.clip(Mn @ Hn.T, -1.0, 1.0)))
    rows, cols = linear_sum_assignment(angle)
    ab = W / np.maximum(W.sum(axis=1, keepdims=True), 1e-300)
    rmse = float(np.sqrt(np.mean((ab[:, cols] - A[:, rows]) ** 2)))
    return {"sad": angle[rows, cols].tolist(), "mean_sad": float(angle[rows, cols].mean()), "rmse": rmse,
            "match": cols.tolist()}


def main(argv: list[str] | None = None) -> dict:
    import nmfkit
    from nmfkit.datasets import load_samson
    from nmfkit.methods import separable_nmf

    args = parser(__doc__).parse_args(argv)
    out = out_dir(args, "samson")
    data = require_data(load_samson, args.data_dir)
    X = np.asarray(data.X, dtype=float)
    M, A = data.extras["endmembers"], data.extras["abundances"]
    names = data.extras["endmember_names"]
    starts = 2 if args.fast else 10
    fit = {"solver": "hals", "tol": 1e-6, "max_iter": 300 if args.fast else 3000}
    results, factors = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nmfkit.nmf(X, 3, init="nndsvda", **fit)
        results["NMF (NNDSVDa)"], factors["NMF (NNDSVDa)"] = score(res.W, res.H, M, A), (res.W, res.H)
        runs = [nmfkit.nmf(X, 3, init="random", random_state=s, **fit) for s in range(starts)]
        best = min(runs, key=lambda r: r.objective)
        results["NMF (best of random starts)"] = score(best.W, best.H, M, A)
        factors["NMF (best of random starts)"] = (best.W, best.H)
        spread = [score(r.W, r.H, M, A) for r in runs]
        sep = separable_nmf(X, 3, algorithm="snpa")
        results["separable NMF (SNPA)"], factors["separable NMF (SNPA)"] = score(sep.W, sep.H, M, A), (sep.W, sep.H)
        res = nmfkit.nmf(X, 3, init="snpa", **fit)
        results["NMF from SNPA"], factors["NMF from SNPA"] = score(res.W, res.H, M, A), (res.W, res.H)
    metrics = {"example": "samson", "pixels": X.shape[0], "bands": X.shape[1], "endmembers": names,
               "results": results, "random_starts": {"n": starts,
                                                      "mean_sad": [s["mean_sad"] for s in spread],
                                                      "rmse": [s["rmse"] for s in spread]},
               "anchors": sep.extras["anchors"], "figures": []}
    plt = matplotlib_agg()
    shape = data.extras["image_shape"]
    shown = ["ground truth", "separable NMF (SNPA)", "NMF (NNDSVDa)"]
    fig, axes = plt.subplots(len(shown), 3, figsize=(7, 2.4 * len(shown)), layout="constrained")
    for i, method in enumerate(shown):
        if method == "ground truth":
            ab = A
        else:
            W = factors[method][0]
            ab = (W / np.maximum(W.sum(axis=1, keepdims=True), 1e-300))[:, results[method]["match"]]
        for j in range(3):
            axes[i, j].imshow(ab[:, j].reshape(shape, order="F"), vmin=0, vmax=1, cmap="viridis")
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if i == 0:
                axes[i, j].set_title(names[j], fontsize=9)
        label = method if method == "ground truth" else f"{method}\nRMSE {results[method]['rmse']:.3f}"
        axes[i, 0].set_ylabel(label, fontsize=7)
    metrics["figures"].append(save(fig, out, "samson_abundances.png"))
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.6), layout="constrained")
    for j in range(3):
        axes[j].plot(M[j] / np.linalg.norm(M[j]), color="k", lw=2, label="truth")
        for method in ("separable NMF (SNPA)", "NMF (NNDSVDa)"):
            H = factors[method][1][results[method]["match"][j]]
            axes[j].plot(H / np.linalg.norm(H), lw=1, label=f"{method} ({results[method]['sad'][j]:.1f}°)")
        axes[j].set_title(names[j], fontsize=9)
        axes[j].set_xlabel("band")
        axes[j].legend(fontsize=6)
    metrics["figures"].append(save(fig, out, "samson_endmembers.png"))
    write_metrics(out, metrics)
    for method, r in results.items():
        print(f"samson {method}: SAD {np.round(r['sad'], 2).tolist()} mean {r['mean_sad']:.2f}°, "
              f"abundance RMSE {r['rmse']:.4f}")
    print(f"samson: wrote {out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
