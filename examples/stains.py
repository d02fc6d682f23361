"""H&E stain separation by NMF of optical densities (Beer-Lambert), beside the Macenko method.

Each RGB pixel becomes an optical density ``OD = -log10(I / 255)``; by the Beer-Lambert law the OD
of a pixel is a non-negative mix of the stains' OD vectors, so ``OD ≈ W H`` with ``H`` (2 x 3) the
haematoxylin and eosin vectors and ``W`` their concentrations. For each image: plain NMF (rank 2,
Frobenius), sparse-concentration NMF (Hoyer sparseness 0.6 on each stain's concentrations, in the
spirit of Vahadane et al. 2016) and separable NMF (SNPA: the two purest pixels). The stain vectors
are compared by angle with those of the Macenko method (Macenko et al. 2009: the extreme angles,
1st and 99th percentiles, in the plane of the two leading singular vectors) and with Ruifrok &
Johnston's standard vectors. These are references, not ground truth: real stain vectors vary with
the protocol and the scanner.
Figures: ``stains_<image>.png`` (the image and the two concentration maps).

Usage::

    python examples/stains.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _common import matplotlib_agg, out_dir, parser, require_data, save, write_metrics

RUIFROK = {"hematoxylin": np.array([0.650, 0.704, 0.286]), "eosin": np.array([0.072, 0.990, 0.105])}
IMAGES = ["torchstain_he_source.png", "torchstain_he_target.png", "visium_he_tissue_lowres_600x600.png"]


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def angle(a, b):
    return float(np.degrees(np.arccos(np.clip(unit(a) @ unit(b), -1.0, 1.0))))


def as_h_and_e(H):
    """Order two stain vectors as (haematoxylin, eosin): eosin is the one closer to Ruifrok's eosin."""
    H = unit(H)
    e = int(np.argmax(H @ unit(RUIFROK["eosin"]) - H @ unit(RUIFROK["hematoxylin"])))
    return H[[1 - e, e]], [1 - e, e]


def macenko(X, percentile=1.0):
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    V = Vt[:2].T * np.sign(Vt[:2].sum(axis=1))
    P = X @ V
    phi = np.arctan2(P[:, 1], P[:, 0])
    lo, hi = np.percentile(phi, [percentile, 100 - percentile])
    return np.vstack([V @ [np.cos(lo), np.sin(lo)], V @ [np.cos(hi), np.sin(hi)]])


def main(argv: list[str] | None = None) -> dict:
    import nmfkit
    from nmfkit.datasets import load_he_optical_density
    from nmfkit.methods import nmf_sc, separable_nmf

    args = parser(__doc__).parse_args(argv)
    out = out_dir(args, "stains")
    metrics = {"example": "stains", "images": {}, "figures": []}
    plt = matplotlib_agg()
    for name in IMAGES[:1] if args.fast else IMAGES:
        data = require_data(lambda d, name=name: load_he_optical_density(d, file=name), args.data_dir)
        X = np.asarray(data.X, dtype=float)
        rng = np.random.default_rng(0)
        sample = X[rng.choice(X.shape[0], min(X.shape[0], 5000 if args.fast else 40000), replace=False)]
        ref, _ = as_h_and_e(macenko(sample))
        fits = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits["NMF"] = nmfkit.nmf(sample, 2, solver="hals", tol=1e-7, max_iter=2000).H
            fits["sparse NMF"] = nmf_sc(sample, 2, sparseness_W=0.6, random_state=0,
                                        max_iter=200 if args.fast else 1000).H
            fits["separable NMF (SNPA)"] = separable_nmf(sample, 2, algorithm="snpa").H
        entry = {"pixels": int(X.shape[0]), "macenko": ref}
        for label, H in fits.items():
            stains, order = as_h_and_e(H)
            entry[label] = {"stain_vectors": stains,
                            "angle_to_macenko": [angle(stains[i], ref[i]) for i in range(2)],
                            "angle_to_ruifrok": [angle(stains[0], RUIFROK["hematoxylin"]),
                                                 angle(stains[1], RUIFROK["eosin"])]}
        entry["macenko_angle_to_ruifrok"] = [angle(ref[0], RUIFROK["hematoxylin"]), angle(ref[1], RUIFROK["eosin"])]
        metrics["images"][name] = entry
        # concentrations of every tissue pixel for the NMF stain vectors (exact NNLS), drawn as maps
        from nmfkit.solvers import nnls_project

        stains, _ = as_h_and_e(fits["NMF"])
        C = nnls_project(X, stains)
        shape = data.extras["image_shape"]
        pix = data.extras["pixels"]
        fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), layout="constrained")
        od = np.zeros((*shape, 3))
        od[pix[:, 0], pix[:, 1]] = X
        axes[0].imshow(np.clip(10 ** (-od), 0, 1))
        axes[0].set_title(name.split(".")[0][:28], fontsize=8)
        for j, stain in enumerate(("haematoxylin", "eosin")):
            img = np.zeros(shape)
            img[pix[:, 0], pix[:, 1]] = C[:, j]
            axes[j + 1].imshow(img, cmap="Purples" if j == 0 else "RdPu", vmax=np.percentile(C[:, j], 99))
            axes[j + 1].set_title(f"{stain} (NMF; {entry['NMF']['angle_to_macenko'][j]:.1f}° from Macenko)",
                                  fontsize=8)
        for ax in axes:
            ax.set_axis_off()
        metrics["figures"].append(save(fig, out, f"stains_{name.split('.')[0]}.png"))
        print(f"stains {name}: " + "; ".join(
            f"{lab} vs Macenko H {entry[lab]['angle_to_macenko'][0]:.1f}°, E {entry[lab]['angle_to_macenko'][1]:.1f}°"
            for lab in fits), flush=True)
    write_metrics(out, metrics)
    print(f"stains: wrote {out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
