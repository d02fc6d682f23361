"""Mutational signatures of 21 breast cancers (Nik-Zainal et al. 2012), assigned to COSMIC v3.4 by NNLS.

1. Rank survey (KL, multiplicative updates converged to tol 1e-8): the recommended number of
   signatures and why.
2. Consensus NMF at that rank: de novo signatures (96 trinucleotide channels) with their stability.
3. Each de novo signature decomposed into COSMIC v3.4 SBS signatures by forward-selection NNLS,
   and each genome's catalogue refitted to the COSMIC signatures so found (its exposures).
4. Bootstrap stability of each signature, as SigProfiler reports it: every genome's mutations
   redrawn (multinomial, its total kept), the signatures refitted and matched to the consensus ones;
   the matched cosines' median and 95 % interval, and a 95 % interval per channel.

Figures: ``signatures.png`` (the de novo signatures as SBS-96 bar plots with their bootstrap
intervals and COSMIC decomposition) and ``exposures.png`` (mutations per genome attributed to each
COSMIC signature).

Usage::

    python examples/signatures.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np
from _common import matplotlib_agg, out_dir, parser, require_data, save, write_metrics

COLOURS = ["#1ebff0", "#050708", "#e62725", "#cbcacb", "#a1cf64", "#edc8c5"]  # C>A C>G C>T T>A T>C T>G


def main(argv: list[str] | None = None) -> dict:
    from nmfkit.datasets import load_breast21, load_cosmic
    from nmfkit.metrics import assign_to_reference
    from nmfkit.selection import bootstrap, consensus, select_rank

    args = parser(__doc__).parse_args(argv)
    out = out_dir(args, "signatures")
    data = require_data(load_breast21, args.data_dir)
    cosmic = load_cosmic(args.data_dir, kind="SBS")
    X = np.asarray(data.X, dtype=float)  # genomes x 96 channels
    S = np.asarray(cosmic.X, dtype=float)  # COSMIC signatures x 96
    names = list(cosmic.sample_names)
    kl = {"beta_loss": "kullback-leibler", "solver": "mu", "tol": 1e-8 if not args.fast else 1e-6,
          "max_iter": 20000 if not args.fast else 3000}
    runs = 3 if args.fast else 10
    ranks = range(2, 5) if args.fast else range(2, 9)
    survey = select_rank(X, ranks, n_runs=runs, random_state=0, criteria=("error", "silhouette", "bcv"), **kl)
    k = survey.recommended
    cons = consensus(X, k, 5 if args.fast else 50, random_state=0, **kl)
    sigs = cons.H / cons.H.sum(axis=1, keepdims=True)
    dec = assign_to_reference(sigs, S, names=names, max_components=3)
    used = sorted({n for terms in dec["terms"] for n, _ in terms}, key=names.index)
    idx = [names.index(n) for n in used]
    refit = assign_to_reference(X, S[idx], names=used, max_components=len(used), min_gain=0.0)
    exposures = refit["weights"]  # genomes x used signatures, in mutations
    n_boot = 10 if args.fast else 100
    boot = bootstrap(X, k, n_boot, scheme="multinomial", reference=(cons.W, cons.H), random_state=0, **kl)
    cos = np.asarray(boot["cosine"])  # (n_boot, k): each resample's matched cosine to the consensus signature
    metrics = {
        "example": "signatures", "genomes": X.shape[0], "mutations": int(X.sum()),
        "recommended_rank": k, "reasons": survey.reasons, "survey": {"ranks": survey.ranks, **survey.table},
        "stability": cons.extras["stability"],
        "signatures": [{"signature": i + 1, "decomposition": terms, "cosine": float(c)}
                       for i, (terms, c) in enumerate(zip(dec["terms"], dec["cosine"], strict=True))],
        "cosmic_used": used,
        "refit_cosine_median": float(np.median(refit["cosine"])),
        "bootstrap": {"resamples": n_boot, "scheme": "multinomial (each genome's total kept)",
                      "signatures": [{"signature": i + 1, "cosine_median": float(np.median(cos[:, i])),
                                      "cosine_low": float(np.quantile(cos[:, i], 0.025)),
                                      "cosine_high": float(np.quantile(cos[:, i], 0.975))} for i in range(k)]},
        "exposures": {g: dict(zip(used, map(float, e), strict=True)) for g, e in zip(data.sample_names, exposures,
                                                                                     strict=True)},
        "figures": [],
    }
    plt = matplotlib_agg()
    channels = list(cosmic.feature_names)
    fig, axes = plt.subplots(k, 1, figsize=(9, 1.7 * k), sharex=True, layout="constrained", squeeze=False)
    # channels like "A[C>A]G": plot them grouped by substitution, then by 5' and 3' base
    order = sorted(range(len(channels)), key=lambda i: (channels[i][2:5], channels[i][0], channels[i][-1]))
    colours = np.repeat(COLOURS, 16)
    lower, upper = np.asarray(boot["lower"]), np.asarray(boot["upper"])
    for i, ax in enumerate(axes[:, 0]):
        x = np.arange(sigs.shape[1])
        ax.bar(x, sigs[i, order], color=colours, width=0.8)
        ax.vlines(x, lower[i, order], upper[i, order], color="0.35", linewidth=0.6)  # bootstrap 95 % intervals
        label = " + ".join(f"{w:.2f} {n}" for n, w in dec["terms"][i])
        b = metrics["bootstrap"]["signatures"][i]
        ax.set_title(f"signature {i + 1}: {label} (cosine {dec['cosine'][i]:.3f}; bootstrap cosine "
                     f"{b['cosine_median']:.4f} [{b['cosine_low']:.4f}, {b['cosine_high']:.4f}])", fontsize=8,
                     loc="left")
        ax.tick_params(labelsize=6)
    axes[-1, 0].set_xticks(np.arange(0, 96, 16) + 8, ["C>A", "C>G", "C>T", "T>A", "T>C", "T>G"], fontsize=7)
    metrics["figures"].append(save(fig, out, "signatures.png"))
    fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
    bottom = np.zeros(X.shape[0])
    for j, n in enumerate(used):
        ax.bar(np.arange(X.shape[0]), exposures[:, j], bottom=bottom, label=n)
        bottom += exposures[:, j]
    ax.set_xticks(np.arange(X.shape[0]), data.sample_names, rotation=90, fontsize=6)
    ax.set_ylabel("mutations")
    ax.legend(fontsize=7, ncol=min(len(used), 6))
    ax.set_title(f"Exposures refitted to COSMIC v3.4 (median cosine {metrics['refit_cosine_median']:.3f})", fontsize=9)
    metrics["figures"].append(save(fig, out, "exposures.png"))
    write_metrics(out, metrics)
    print(f"signatures: rank {k}; " + "; ".join(
        f"{s['signature']}: " + " + ".join(f"{w:.2f} {n}" for n, w in s["decomposition"]) + f" ({s['cosine']:.3f})"
        for s in metrics["signatures"]) + f"; wrote {out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
