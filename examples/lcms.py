"""LC-MS unmixing of a BSA tryptic digest: NMF of MS1 scans x m/z bins into elution profiles and mass spectra.

The MS1 intensities (564 scans, retention time 25-42 min; m/z 300-800 in 0.1 Da bins) are factorized
as ``X ≈ W H``: each component is an elution profile (a column of ``W`` over retention time) times
a mass spectrum (a row of ``H``), i.e. the co-eluting ions of one or a few analytes. Without a
ground truth, the spectra are checked against chemistry: each component's base peak (largest m/z
bin) is compared with the [M+2H]2+ and [M+3H]3+ ions of well-known BSA tryptic peptides, computed
from their sequences (monoisotopic residue masses, carbamidomethyl cysteine), within one bin
(±0.1 Da) or one isotope step; the same share over the data's own most intense bins is the
baseline. Figure: ``lcms.png`` (elution profiles and spectra of the components).

A test with a ground truth follows: ``k = 4`` real spectra (the most intense MS1 scan of each
quarter of the run) are mixed at known proportions (Dirichlet), every mixture drawn as Poisson ion
counts; KL-NMF must recover the spectra (matched cosine) and the proportions (mean absolute error).
Each spectrum's indicator peak (the bin where its share of the four is largest) says how separable
the mixture is. Figure: ``lcms_mixture.png`` (recovered against true proportions).

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
    metrics["mixture"] = mixture(X, rt, args.fast)
    fig, ax = plt.subplots(figsize=(3.6, 3.4), layout="constrained")
    mix = metrics["mixture"]
    true, found = np.asarray(mix["true_proportions"]), np.asarray(mix["recovered_proportions"])
    for j in range(true.shape[1]):
        ax.scatter(true[:, j], found[:, j], s=6, label=f"spectrum {j + 1} (RT {mix['spectra_rt_min'][j]:.1f})")
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.6)
    ax.set_xlabel("true proportion", fontsize=8)
    ax.set_ylabel("recovered proportion", fontsize=8)
    ax.set_title(f"mixtures of real spectra: MAE {mix['proportion_mae']:.4f}", fontsize=8)
    ax.legend(fontsize=6)
    ax.tick_params(labelsize=6)
    metrics["figures"].append(save(fig, out, "lcms_mixture.png"))
    write_metrics(out, metrics)
    print(f"lcms: {k} components, explained {metrics['explained']:.3f}; base peaks at BSA peptide ions "
          f"{metrics['share_matching_bsa']:.2f} (most intense bins: {baseline:.2f}); mixtures of 4 real spectra: "
          f"spectra recovered at cosine >= {min(mix['spectrum_cosine']):.4f}, proportions MAE "
          f"{mix['proportion_mae']:.4f}; wrote {out}")
    return metrics


def mixture(X: np.ndarray, rt: np.ndarray, fast: bool, k: int = 4) -> dict:
    """Known mixtures of ``k`` real spectra (scans from separate quarters of the run), unmixed by KL-NMF."""
    import nmfkit
    from nmfkit.metrics import match_components

    rng = np.random.default_rng(0)
    windows = np.array_split(np.argsort(rt), k)
    picks = [int(w[np.argmax(X[w].sum(axis=1))]) for w in windows]  # the most intense scan of each quarter
    S = X[picks] / X[picks].sum(axis=1, keepdims=True)
    share = S / np.maximum(S.sum(axis=0), np.finfo(float).tiny)
    n, ions = (40, 1e5) if fast else (200, 1e6)
    A = rng.dirichlet(np.full(k, 0.5), size=n)
    Y = rng.poisson(A @ S * ions).astype(float)
    seen = Y.sum(axis=0) > 0
    Y, S = Y[:, seen], S[:, seen] / S[:, seen].sum(axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nmfkit.nmf(Y, k, beta_loss="kullback-leibler", tol=1e-6, max_iter=500 if fast else 3000,
                         random_state=0)
    W, H = np.asarray(res.W), np.asarray(res.H)
    W, H = W * H.sum(axis=1), H / H.sum(axis=1, keepdims=True)  # spectra sum to 1; W in ions
    P = W / W.sum(axis=1, keepdims=True)
    match = match_components(A, P, S, H)
    P = P[:, match["permutation"]]
    return {"spectra_scan": picks, "spectra_rt_min": [float(rt[i]) for i in picks],
            "indicator_purity": [float(share[j].max()) for j in range(k)], "samples": n, "ions_per_sample": ions,
            "bins_seen": int(seen.sum()), "stop_reason": res.stop_reason,
            "spectrum_cosine": [float(c) for c in match["cosine_H"]],
            "proportion_mae": float(np.mean(np.abs(P - A))), "proportion_max_error": float(np.max(np.abs(P - A))),
            "true_proportions": A.tolist(), "recovered_proportions": P.tolist()}


if __name__ == "__main__":
    main(sys.argv[1:])
