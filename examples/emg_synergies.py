"""Muscle synergies from 8-channel forearm EMG (UCI gestures): variance accounted for against the number of synergies.

The rectified, smoothed EMG envelopes (time windows x channels) are factorized as
``X ≈ W H``: the rows of ``H`` are synergies (fixed ratios of muscle activation) and the columns of
``W`` their activation over time (Tresch, Cheung & d'Avella 2006). For k = 1..8: the variance
accounted for ``VAF = 1 - ||X - WH||² / ||X||²`` (uncentred, the field's convention), the best of
``--starts`` random starts, and the k chosen by the usual rule (the smallest k with VAF ≥ 90 %
whose next synergy adds less than 2 %). Figures: ``vaf.png`` and ``synergies.png`` (the chosen
synergies and their activations with the gesture labels).

Usage::

    python examples/emg_synergies.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np
from _common import matplotlib_agg, out_dir, parser, require_data, save, write_metrics


def main(argv: list[str] | None = None) -> dict:
    import nmfkit
    from nmfkit.datasets import load_emg_envelopes

    args = parser(__doc__).parse_args(argv)
    out = out_dir(args, "emg_synergies")
    data = require_data(load_emg_envelopes, args.data_dir)
    X = np.asarray(data.X, dtype=float)
    labels = np.asarray(data.labels)
    if args.fast:
        X, labels = X[::4], labels[::4]
    starts = 2 if args.fast else 10
    sq = float(np.sum(X * X))
    vaf, fits = [], {}
    for k in range(1, X.shape[1] + 1):
        best = None
        for seed in range(starts):
            res = nmfkit.nmf(X, k, init="random", solver="hals", tol=1e-6, max_iter=2000, random_state=seed)
            err = float(np.sum((X - res.W @ res.H) ** 2))
            if best is None or err < best[0]:
                best = (err, res)
        fits[k] = best[1]
        vaf.append(1.0 - best[0] / sq)
    gain = np.diff(vaf, append=1.0)
    chosen = next((k for k, (v, g) in enumerate(zip(vaf, gain, strict=True), start=1) if v >= 0.9 and g < 0.02),
                  X.shape[1])
    res = fits[chosen]
    scale = res.H.max(axis=1, keepdims=True)
    H, W = res.H / scale, res.W * scale.T
    metrics = {"example": "emg_synergies", "windows": X.shape[0], "channels": X.shape[1], "starts": starts,
               "vaf": dict(zip(range(1, X.shape[1] + 1), vaf, strict=True)), "chosen_k": chosen,
               "vaf_chosen": vaf[chosen - 1], "synergies": H, "figures": []}
    plt = matplotlib_agg()
    fig, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    ax.plot(range(1, X.shape[1] + 1), 100 * np.array(vaf), marker="o")
    ax.axhline(90, color="0.6", ls="--", lw=0.8)
    ax.axvline(chosen, color="tab:red", ls=":", lw=1)
    ax.set_xlabel("number of synergies")
    ax.set_ylabel("VAF (%)")
    ax.set_title(f"EMG synergies: {chosen} chosen (VAF {100 * vaf[chosen - 1]:.1f} %)", fontsize=9)
    metrics["figures"].append(save(fig, out, "vaf.png"))
    fig, axes = plt.subplots(chosen, 2, figsize=(9, 1.4 * chosen + 0.6), layout="constrained", squeeze=False,
                             gridspec_kw={"width_ratios": [1, 4]})
    t = np.arange(X.shape[0])
    for j in range(chosen):
        axes[j, 0].bar(np.arange(1, X.shape[1] + 1), H[j], color="tab:blue")
        axes[j, 0].set_ylabel(f"S{j + 1}", fontsize=8)
        axes[j, 0].tick_params(labelsize=6)
        axes[j, 1].plot(t, W[:, j], lw=0.5, color="k")
        axes[j, 1].fill_between(t, 0, W[:, j].max(), where=labels > 0, color="tab:orange", alpha=0.15, lw=0)
        axes[j, 1].tick_params(labelsize=6)
    axes[0, 0].set_title("synergy (channel weights)", fontsize=8)
    axes[0, 1].set_title("activation over time (shaded: a gesture is held)", fontsize=8)
    metrics["figures"].append(save(fig, out, "synergies.png"))
    write_metrics(out, metrics)
    print("emg_synergies: VAF " + ", ".join(f"{k}: {100 * v:.1f}%" for k, v in metrics["vaf"].items())
          + f"; chosen {chosen}; wrote {out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
