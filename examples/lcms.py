"""LC-MS unmixing of a BSA tryptic digest: NMF of MS1 scans x m/z bins into elution profiles and mass spectra.

The MS1 intensities (564 scans, retention time 25-42 min; m/z 300-800 in 0.1 Da bins) are factorized
as ``X ≈ W H``: each component is an elution profile (a column of ``W`` over retention time) times
a mass spectrum (a row of ``H``), i.e. the co-eluting ions of one or a few analytes. Without a
ground truth, the spectra are checked against chemistry: each component's base peak (largest m/z
bin) is compared with the [M+2H]2+ and [M+3H]3+ ions of well-known BSA tryptic peptides, computed
from their sequences (monoisotopic residue masses, carbamidomethyl cysteine), within one bin
(±0.1 Da) or one isotope step; the same share over the data's own most intense bins is the
baseline. Figure: ``lcms.png`` (elution profiles and spectra of the components).

Usage::

    python examples/lcms.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _common import matplotlib_agg, out_dir, parser, require_data, save, write_metrics

RESIDUE = {"G": 57.02146, "A": 71.03711, "S": 87.03203, "P": 97.05276, "V": 99.06841, "T": 101.04768,
           "C": 160.03065, "L": 113.08406, "I": 113.08406, "N": 114.04293, "D": 115.02694, "Q": 128.05858,
           "K": 128.09496, "E": 129.04259, "M": 131.04049, "H": 137.05891, "F": 147.06841, "R": 156.10111,
           "Y": 163.06333, "W": 186.07931}  # monoisotopic; C carbamidomethylated
WATER, PROTON, C13 = 18.01056, 1.00728, 1.00336
# tryptic peptides of bovine serum albumin routinely identified in BSA digests
PEPTIDES = ["LVNELTEFAK", "HLVDEPQNLIK", "YLYEIAR", "AEFVEVTK", "LGEYGFQNALIVR", "DAFLGSFLYEYSR", "QTALVELLK",
            "HPEYAVSVLLR", "RHPEYAVSVLLR", "VPQVSTPTLVEVSR", "KVPQVSTPTLVEVSR", "TVMENFVAFVDK", "YICDNQDTISSK",
            "LKPDPNTLCDEFK", "SLHTLFGDELCK", "FKDLGEEHFK", "GACLLPK", "ATEEQLK", "LVTDLTK", "SHCIAEVEK",
            "EACFAVEGPK", "CCTESLVNR", "MPCTEDYLSLILNR", "ECCHGDLLECADDR"]


def peptide_ions(lo: float, hi: float) -> np.ndarray:
    mz = []
    for p in PEPTIDES:
        mass = sum(RESIDUE[a] for a in p) + WATER
        for z in (2, 3):
            m = (mass + z * PROTON) / z
            mz += [m + i * C13 / z for i in range(3)]  # monoisotopic and the first two isotopes
    mz = np.asarray(mz)
    return mz[(mz >= lo) & (mz <= hi)]


def main(argv: list[str] | None = None) -> dict:
    import nmfkit
    from nmfkit.datasets import load_lcms

    args = parser(__doc__).parse_args(argv)
    out = out_dir(args, "lcms")
    data = require_data(load_lcms, args.data_dir)
    X = np.asarray(data.X, dtype=float)
    rt = np.asarray(data.extras["rt_min"])
    edges = np.asarray(data.extras["mz_edges"])
    centres = (edges[:-1] + edges[1:]) / 2
    keep = X.sum(axis=0) > 0
    X, centres = X[:, keep], centres[keep]
    k = 8 if args.fast else 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nmfkit.nmf(X / X.max(), k, solver="hals", init="nndsvda", tol=1e-6, max_iter=200 if args.fast else 2000)
    W, H = np.asarray(res.W), np.asarray(res.H)
    ions = peptide_ions(centres.min() - 0.1, centres.max() + 0.1)

    def near(m):
        return bool(np.any(np.abs(ions - m) <= 0.1 + 1e-9))

    base = centres[H.argmax(axis=1)]
    hits = [near(m) for m in base]
    intense = centres[np.argsort(-X.sum(axis=0))[:k]]
    baseline = float(np.mean([near(m) for m in intense]))
    order = np.argsort(rt[W.argmax(axis=0)])
    metrics = {"example": "lcms", "scans": X.shape[0], "bins": X.shape[1], "k": k,
               "explained": 1.0 - float(np.sum((X / X.max() - W @ H) ** 2) / np.sum((X / X.max()) ** 2)),
               "components": [{"apex_rt_min": float(rt[W[:, j].argmax()]), "base_peak_mz": float(base[j]),
                               "bsa_peptide_ion": hits[j]} for j in order],
               "share_matching_bsa": float(np.mean(hits)), "baseline_share_most_intense_bins": baseline,
               "figures": []}
    plt = matplotlib_agg()
    show = order[: min(6, k)]
    fig, axes = plt.subplots(len(show), 2, figsize=(9, 1.3 * len(show) + 0.6), layout="constrained", squeeze=False)
    for i, j in enumerate(show):
        axes[i, 0].plot(rt, W[:, j], lw=0.8)
        axes[i, 0].set_ylabel(f"C{j + 1}", fontsize=8)
        axes[i, 1].vlines(centres, 0, H[j], lw=0.6, color="k")
        axes[i, 1].set_title(f"base peak m/z {base[j]:.1f}" + (" (BSA peptide ion)" if hits[j] else ""),
                             fontsize=7, loc="right")
        for ax in axes[i]:
            ax.tick_params(labelsize=6)
    axes[-1, 0].set_xlabel("retention time (min)")
    axes[-1, 1].set_xlabel("m/z")
    metrics["figures"].append(save(fig, out, "lcms.png"))
    write_metrics(out, metrics)
    print(f"lcms: {k} components, explained {metrics['explained']:.3f}; base peaks at BSA peptide ions "
          f"{metrics['share_matching_bsa']:.2f} (most intense bins: {baseline:.2f}); wrote {out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
