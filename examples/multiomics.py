"""Joint NMF of TCGA adrenocortical carcinoma (miniACC): RNA-seq and miRNA-seq of the same patients.

``X_rna ≈ W H_rna`` (Frobenius on the normalized expression, log1p) and ``X_mirna ≈ W H_mirna``
(KL on the raw miRNA counts) with one shared patient factor ``W`` (k = 2 and 3; the block weights
put both modalities on an equal footing). Each patient goes to their largest factor (each factor
scaled to unit mean over the patients, as NMF leaves the factors' scales free); the groups
are compared with the C1A/C1B mRNA subtypes of the TCGA ACC study (Zheng et al., Cancer Cell 2016;
C1A is the aggressive one), beside NMF of each modality alone, and the share of deaths per group
is reported (C1A/C1B were defined from mRNA, so RNA alone is the natural reference). Top genes and
miRNAs per shared factor (largest loading relative to the other factors) are listed. Figure: ``patients.png``.

Usage::

    python examples/multiomics.py [--fast] [--out DIR]
"""

from __future__ import annotations

import csv
import sys
import warnings

import numpy as np
from _common import matplotlib_agg, out_dir, parser, require_data, save, write_metrics


def _clinical(data_dir, patients):
    from nmfkit.datasets.registry import find

    path = find("multiomics/tcga_miniACC/miniACC_colData_first20cols.csv", data_dir)
    with open(path, newline="") as fh:
        rows = {r["patientID"]: r for r in csv.DictReader(fh)}
    subtype = np.array([rows.get(p, {}).get("C1A.C1B", "NA") for p in patients])
    dead = np.array([rows.get(p, {}).get("vital_status", "NA") for p in patients])
    return subtype, dead


def main(argv: list[str] | None = None) -> dict:
    from sklearn.metrics import adjusted_rand_score

    import nmfkit
    from nmfkit.datasets import load_mini_acc
    from nmfkit.methods import joint_nmf

    args = parser(__doc__).parse_args(argv)
    out = out_dir(args, "multiomics")
    data = require_data(load_mini_acc, args.data_dir)
    rna = np.log1p(np.asarray(data.extras["blocks"]["RNASeq2GeneNorm"], dtype=float))
    mirna = np.asarray(data.extras["blocks"]["miRNASeqGene"], dtype=float)
    keep = mirna.sum(axis=0) > 0
    mirna = mirna[:, keep]
    names = np.asarray(data.feature_names)
    rna_names = [n.split(":", 1)[1] for n in names[: rna.shape[1]]]
    mirna_names = [n.split(":", 1)[1] for n in names[rna.shape[1]:][keep]]
    subtype, dead = _clinical(args.data_dir, list(data.sample_names))
    known = subtype != "NA"
    iters = 300 if args.fast else 5000
    metrics = {"example": "multiomics", "patients": rna.shape[0], "genes": rna.shape[1], "mirnas": mirna.shape[1],
               "subtyped": int(known.sum()), "by_k": {}, "figures": []}
    joint2 = None
    for k in (2, 3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            joint = joint_nmf([rna, mirna], k, beta_loss=["frobenius", "kullback-leibler"], tol=1e-7,
                              max_iter=iters, random_state=0)
            alone = {"RNA only": nmfkit.nmf(rna, k, tol=1e-7, max_iter=iters),
                     "miRNA only": nmfkit.nmf(mirna, k, beta_loss="kullback-leibler", solver="mu", tol=1e-7,
                                              max_iter=iters)}
        entry = {}
        for label, W in (("joint", joint.W), *((lab, r.W) for lab, r in alone.items())):
            W = np.asarray(W)
            groups = (W / np.maximum(W.mean(axis=0, keepdims=True), 1e-300)).argmax(axis=1)  # factors at one scale
            deaths = {int(g): float(np.mean(dead[(groups == g) & (dead != "NA")] == "1")) for g in np.unique(groups)}
            entry[label] = {"ari_vs_C1A_C1B": float(adjusted_rand_score(subtype[known], groups[known])),
                            "death_share_per_group": deaths, "group_sizes": np.bincount(groups).tolist()}
        H_rna, H_mi = joint.extras["H_blocks"]
        # features specific to a factor: loading relative to the feature's mean loading, weighted by sqrt(loading)
        def top(Hb, names, n):
            rel = Hb / np.maximum(Hb.mean(axis=0, keepdims=True), 1e-300) * np.sqrt(Hb)
            return [[names[i] for i in np.argsort(-r)[:n]] for r in rel]

        entry["top_genes"] = top(H_rna, rna_names, 8)
        entry["top_mirnas"] = top(H_mi, mirna_names, 5)
        entry["weights"] = joint.extras["weights"]
        metrics["by_k"][str(k)] = entry
        if k == 2:
            joint2 = joint
        print(f"multiomics k={k}: ARI vs C1A/C1B " + ", ".join(
            f"{lab} {entry[lab]['ari_vs_C1A_C1B']:.3f}" for lab in ("joint", "RNA only", "miRNA only")), flush=True)
    plt = matplotlib_agg()
    W = np.asarray(joint2.W)
    W = W / np.maximum(W.mean(axis=0, keepdims=True), 1e-300)
    W = W / np.maximum(W.sum(axis=1, keepdims=True), 1e-300)
    fig, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
    for lab, colour in (("C1A", "tab:red"), ("C1B", "tab:blue"), ("NA", "0.7")):
        sel = subtype == lab
        ax.scatter(np.flatnonzero(sel), W[sel, 0], c=colour, s=14, label=lab)
    ax.set_xlabel("patient")
    ax.set_ylabel("share of shared factor 1")
    ari = metrics['by_k']['2']['joint']['ari_vs_C1A_C1B']
    ax.set_title(f"Joint NMF (RNA + miRNA), k = 2: ARI vs C1A/C1B {ari:.2f}",
                 fontsize=9)
    ax.legend(fontsize=7)
    metrics["figures"].append(save(fig, out, "patients.png"))
    write_metrics(out, metrics)
    print(f"multiomics: wrote {out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
