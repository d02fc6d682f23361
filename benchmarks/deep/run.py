"""Deep beta-NMF (Leplat, Hien, Onwunta & Gillis): the paper's experiments that the local data allow.

Parts (choose with --parts):

- ``cbcl``: Table 2. CBCL faces transposed (2429 faces x 361 pixels), KL, ranks [80, 40, 20].
- ``cbcl15``: the same at beta = 3/2 (the paper's Figs. 2-3): ratio curves and the first run's features.
  Per run (seed s): multilayer KL-NMF with up to 1000 sweeps per layer (the accuracy stop of the
  reference code) against deep KL-NMF = 500 multilayer sweeps + 500 deep sweeps, same seed
  (reset before every layer, as the reference code does), lambda_l = 1 / e_l. Error ratio
  deep / multilayer per layer and Hoyer sparsity of the layer features; mean ± std over
  ``--runs`` runs; Fig. 2-style median error-ratio curves (``cbcl_ratio.png``).
- ``tdt2``: TDT2, 500 words x 9394 documents, KL, ranks [20, 10, 5], lambda = [4, 2, 1], seed 2023:
  error ratios, the top words of the layer-2 and layer-3 topics, and how many layer-2 topics match
  the paper's Table 3 (Hungarian matching on shared top-10 words).
- ``hsi``: minimum-volume deep KL-NMF on Samson (ranks [4, 2] as in the paper and [3, 2]) against
  KL-NMF and multilayer KL-NMF: spectral angle between matched endmembers and abundance RMSE
  against the ground truth (beyond the paper, which shows maps only); abundance maps for Samson
  and Moffett (``samson_maps.png``, ``moffett_maps.png``).
- ``minvol``: min-vol deep KL-NMF over alpha~ (1e-4 ... 0.45, both layers) and ranks ([3, 2], [4, 2])
  on Samson against plain deep KL-NMF, two seeds: spectral angle, abundance RMSE, ADMM caps; maps
  of the best setting; Moffett (no ground truth) at the paper's demo alpha~ and Samson's best.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/deep/run.py --parts cbcl --runs 10
    OMP_NUM_THREADS=1 python benchmarks/deep/run.py --parts tdt2 hsi

Results: ``benchmarks/deep/results/{deep.json, deep.md, *.png}``; each part replaces its own entry.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data"
sys.path.insert(0, str(HERE.parent))  # benchmarks/_common.py
from _common import commands, write_atomic  # noqa: E402

PAPER_TABLE2 = {"ratio": [(108.3, 1.1), (26.8, 3.2), (4.4, 0.3)],
                "sparsity_multilayer": [(58.5, 0.6), (37.3, 1.0), (22.1, 1.0)],
                "sparsity_deep": [(70.1, 1.2), (50.6, 2.6), (27.1, 2.9)]}
PAPER_TDT2 = {"ratio": [107.5, 30.0, 22.0]}
TABLE3 = {
    "Asian politics": "united states president indonesia suharto general american government indonesian jakarta",
    "Tobacco bill": "tobacco industry defense bill companies smoking military legislation health officials",
    "American politics": "president clinton house political government china administration white visit rights",
    "Nuclear conflicts": "nuclear india pakistan government party president tests minister indias political",
    "Stock market": "percent market stock economic bank asia prices asian economy israel",
    "Media": "spkr says reporter news game correspondent going headline voa reports",
    "Asian economy": "economic crisis billion financial economy asian government asia bank south",
    "Olympic games": "olympic city games team olympics nagano gold won women police",
    "Clinton-Lewinsky": "lewinsky president spkr clinton white house starr lawyers jury case",
    "Iraq war": "iraq weapons united iraqi states saddam military inspectors baghdad security",
}


def sparsity(result) -> list[float]:
    from nmfkit.methods import hoyer_sparsity, layer_features

    return [100.0 * float(np.nanmean(hoyer_sparsity(F))) for F in layer_features(result)]


def mean_std(values) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


# -- CBCL, Table 2 -------------------------------------------------------------------------------
def part_cbcl(runs: int, rep: dict, save, beta: float = 1.0, key: str = "cbcl") -> dict:
    import scipy.io

    from nmfkit.methods import deep_nmf, multilayer_nmf

    X = np.asarray(scipy.io.loadmat(DATA / "faces/cbcl_faces_361x2429.mat")["X"], dtype=float).T
    ranks = [80, 40, 20]
    old = rep.get(key, {})
    rows = old.get("rows", [])[:runs]  # earlier runs (seeds 1, 2, ...) are kept: --runs 35 extends a 10-run result
    out = {"runs_requested": runs, "ranks": ranks, "beta": beta, "rows": rows}
    for s in range(len(rows), runs):
        seed = s + 1
        t0 = time.perf_counter()
        base = multilayer_nmf(X, ranks, beta, max_iter=1000, tol=1e-4, random_state=seed, reset_seed=True)
        t_base = time.perf_counter() - t0
        t0 = time.perf_counter()
        deep = deep_nmf(X, ranks, beta, max_iter=500, init_iter=500, newton_tol=1e-10, random_state=seed,
                        reset_seed=True)
        t_deep = time.perf_counter() - t0
        e_ml, e_deep = np.array(base.extras["layer_errors"]), np.array(deep.extras["layer_errors"])
        curve = deep.extras["layer_history"] / e_ml[None, :]
        rows.append({"seed": seed, "error_multilayer": e_ml.tolist(), "error_deep": e_deep.tolist(),
                     "ratio": (100.0 * e_deep / e_ml).tolist(), "sparsity_multilayer": sparsity(base),
                     "sparsity_deep": sparsity(deep), "multilayer_sweeps": base.extras["layer_iterations"],
                     "seconds_multilayer": t_base, "seconds_deep": t_deep,
                     "newton_iterations": deep.extras["newton_iterations"],
                     "ratio_curve": curve[::5].tolist()})
        if s == 0:  # the paper's Fig. 3: features of the first run
            plot_features(base, deep, beta)
        print(f"[{key}] run {s + 1}/{runs}: ratio {np.round(rows[-1]['ratio'], 1)}, sparsity ML "
              f"{np.round(rows[-1]['sparsity_multilayer'], 1)} deep {np.round(rows[-1]['sparsity_deep'], 1)} "
              f"({t_base:.0f} + {t_deep:.0f} s)", flush=True)
        out["rows"] = rows
        rep[key] = summarize_cbcl(out)
        save()
    return summarize_cbcl(out)


def summarize_cbcl(out: dict) -> dict:
    rows = out["rows"]
    if not rows:
        return out
    for key in ("ratio", "sparsity_multilayer", "sparsity_deep"):
        a = np.array([r[key] for r in rows])
        out[key] = [mean_std(a[:, layer]) for layer in range(a.shape[1])]
    ratios = np.array([r["ratio"] for r in rows])
    sm, sd = np.array([r["sparsity_multilayer"] for r in rows]), np.array([r["sparsity_deep"] for r in rows])
    if out.get("beta", 1.0) == 1.0:  # Table 2's numbers are for KL
        out["within_two_paper_std"] = [bool(abs(out["ratio"][layer][0] - PAPER_TABLE2["ratio"][layer][0])
                                            <= 2 * PAPER_TABLE2["ratio"][layer][1]) for layer in range(3)]
    out["qualitative_every_run"] = {"ratio1_above_100": bool(np.all(ratios[:, 0] > 100)),
                                    "ratio2_below_50": bool(np.all(ratios[:, 1] < 50)),
                                    "ratio3_below_10": bool(np.all(ratios[:, 2] < 10)),
                                    "deep_sparser_every_layer": bool(np.all(sd > sm))}
    out["runs"] = len(rows)
    return out


def plot_cbcl(rep: dict, results: Path, key: str = "cbcl") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    beta = rep.get(key, {}).get("beta", 1.0)
    rows = rep.get(key, {}).get("rows", [])
    if not rows:
        return
    curves = np.array([r["ratio_curve"] for r in rows])  # runs x records x layers
    med = np.median(curves, axis=0)
    sweeps = np.arange(med.shape[0]) * 5
    fig, ax = plt.subplots(figsize=(5.5, 3.6), layout="constrained")
    for layer in range(med.shape[1]):
        ax.plot(sweeps, 100 * med[:, layer], label=f"layer {layer + 1}")
    ax.axhline(100, color="gray", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("deep sweep (after 500 multilayer sweeps)")
    ax.set_ylabel("deep error / final multilayer error (%)")
    loss = "KL" if beta == 1.0 else f"beta = {beta:g}"
    ax.set_title(f"CBCL, {loss}, ranks [80, 40, 20]: median over {len(rows)} runs", fontsize=9)
    ax.legend(fontsize=8)
    fig.savefig(results / f"{key}_ratio.png", dpi=110)
    plt.close(fig)


FEATURES: dict = {}  # the first run's layer features, drawn by plot_features_file


def plot_features(base, deep, beta: float) -> None:
    """Keep the first run's layer features (rows of H_l ... H_1 as 19 x 19 images) for the Fig. 3 plot."""
    from nmfkit.methods import layer_features

    FEATURES[beta] = (layer_features(base), layer_features(deep))


def plot_features_file(beta: float, results: Path, name: str) -> None:
    """The paper's Fig. 3: 8 features per layer, multilayer (left) against deep (right)."""
    if beta not in FEATURES:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ml, dp = FEATURES[beta]
    fig, axes = plt.subplots(3, 16, figsize=(12, 2.6), layout="constrained")
    for layer in range(3):
        for side, feats in enumerate((ml, dp)):
            F = np.asarray(feats[layer])
            for i in range(8):
                ax = axes[layer, 8 * side + i]
                ax.imshow(F[i].reshape(19, 19).T, cmap="gray_r")  # MATLAB pixel order
                ax.set_axis_off()
        axes[layer, 0].set_title(f"layer {layer + 1}", fontsize=7, loc="left")
    fig.suptitle(f"CBCL, beta = {beta:g}: multilayer (left 8) vs deep (right 8) features, run 1", fontsize=9)
    fig.savefig(results / name, dpi=110)
    plt.close(fig)


# -- TDT2 -------------------------------------------------------------------------------------------
def part_tdt2() -> dict:
    import scipy.io
    from scipy.optimize import linear_sum_assignment

    from nmfkit.methods import deep_nmf, multilayer_nmf

    d = scipy.io.loadmat(DATA / "text/TDT2_500words.mat")
    K = np.asarray(d["K"]).ravel().astype(int) - 1
    Y = np.asarray(d["X"].tocsc()[:, K].T.todense(), dtype=float)  # 500 words x 9394 documents
    words = [str(np.asarray(d["words"][k][0]).ravel()[0]) for k in K]
    ranks = [20, 10, 5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one document has none of the 500 words
        t0 = time.perf_counter()
        base = multilayer_nmf(Y, ranks, 1, max_iter=1000, random_state=2023, reset_seed=True)
        deep = deep_nmf(Y, ranks, 1, lambdas=[4.0, 2.0, 1.0], max_iter=500, init_iter=500, newton_tol=1e-9,
                        random_state=2023, reset_seed=True)
        seconds = time.perf_counter() - t0
    ratio = (100 * np.array(deep.extras["layer_errors"]) / np.array(base.extras["layer_errors"])).tolist()

    def top(W, n=10):
        return [[words[i] for i in np.argsort(W[:, k])[::-1][:n]] for k in range(W.shape[1])]

    W2, W3, H3 = deep.extras["W_layers"][1], deep.extras["W_layers"][2], deep.extras["H_layers"][2]
    topics2, topics3 = top(W2), top(W3)
    labels = list(TABLE3)
    overlap = np.array([[len(set(t) & set(TABLE3[lab].split())) for lab in labels] for t in topics2])
    r, c = linear_sum_assignment(-overlap)
    matched = [{"topic": int(i + 1), "label": labels[j], "shared_top10": int(overlap[i, j])} for i, j in zip(r, c,
                                                                                                          strict=True)]
    merges = [[int(j + 1) for j in np.argsort(H3[k])[::-1] if H3[k, j] >= 0.15] for k in range(H3.shape[0])]
    return {"ranks": ranks, "lambdas": [4, 2, 1], "ratio": ratio, "paper_ratio": PAPER_TDT2["ratio"],
            "seconds": seconds, "layer2_topics": topics2, "layer3_topics": topics3, "layer3_merges": merges,
            "layer2_matching": matched, "matched_ge3_shared": int(sum(m["shared_top10"] >= 3 for m in matched))}


# -- hyperspectral -----------------------------------------------------------------------------------
def sad_degrees(E, M):
    """Spectral angle (degrees) between every true endmember (columns of M) and every estimate (columns of E)."""
    En, Mn = E / np.linalg.norm(E, axis=0), M / np.linalg.norm(M, axis=0)
    return np.degrees(np.arccos(np.clip(Mn.T @ En, -1, 1)))


def unmixing_scores(W, H, M, A):
    from scipy.optimize import linear_sum_assignment

    angles = sad_degrees(W, M)
    r, c = linear_sum_assignment(angles)
    ab = H / np.maximum(H.sum(axis=0, keepdims=True), 1e-300)
    rmse = float(np.sqrt(np.mean((ab[c] - A[r]) ** 2)))
    return {"sad_degrees": [float(angles[i, j]) for i, j in zip(r, c, strict=True)],
            "mean_sad_degrees": float(np.mean(angles[r, c])), "abundance_rmse": rmse, "matched": c.tolist()}


def load_samson():
    """Samson (156 bands x 9025 pixels, floored at 1e-9 as the reference code does) and its ground truth:
    ``(X, M, A, gt)`` with the endmembers M (bands x 3), abundances A (3 x pixels) and the raw .mat."""
    import scipy.io

    V = np.asarray(scipy.io.loadmat(DATA / "hyperspectral/samson_1.mat")["V"], dtype=float)
    gt = scipy.io.loadmat(DATA / "hyperspectral/samson_end3_groundtruth.mat")
    return np.maximum(V, 1e-9), np.asarray(gt["M"], float), np.asarray(gt["A"], float), gt


# the min-vol and centric studies' sweeps (200 multilayer + 800 deep); min-vol's ADMM as in the reference demos
STUDY_SWEEPS = {"max_iter": 800, "init_iter": 200, "reset_seed": True}
MINVOL_ADMM = {"min_vol": True, "rho": 100.0, "admm_tol": 1e-6, "admm_max_iter": 200, "newton_tol": 1e-7}


def fit_deep(data, ranks, seed, alpha=None):
    """Deep KL-NMF (``alpha=None``) or min-vol deep KL-NMF at ``alpha~`` per layer, the study's settings;
    ``(result, seconds)``."""
    from nmfkit.methods import deep_nmf

    opts = {} if alpha is None else {**MINVOL_ADMM, "alphas": list(alpha)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        r = deep_nmf(data, ranks, 1, random_state=seed, **STUDY_SWEEPS, **opts)
        return r, time.perf_counter() - t0


def part_hsi(results: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scipy.io

    from nmfkit import nmf
    from nmfkit.methods import deep_nmf, layer_features, multilayer_nmf

    X, M, A, gt = load_samson()
    out = {"samson": {}}
    kept = {}
    for ranks in ([4, 2], [3, 2]):
        key = "x".join(map(str, ranks))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            mv = deep_nmf(X, ranks, 1, min_vol=True, alphas=[0.45, 0.45], rho=100.0, admm_tol=1e-6,
                          admm_max_iter=200, newton_tol=1e-7, max_iter=800, init_iter=200, random_state=2023,
                          reset_seed=True)
            t_mv = time.perf_counter() - t0
            dp = deep_nmf(X, ranks, 1, max_iter=800, init_iter=200, random_state=2023, reset_seed=True)
            ml = multilayer_nmf(X, ranks, 1, max_iter=1000, random_state=2023, reset_seed=True)
            kl = nmf(X, ranks[0], beta_loss="kullback-leibler", solver="mu", init="random", max_iter=2000,
                     tol=1e-6, random_state=2023)
        scores = {"min-vol deep KL-NMF": unmixing_scores(mv.W, mv.H, M, A),
                  "deep KL-NMF": unmixing_scores(dp.W, dp.H, M, A),
                  "multilayer KL-NMF": unmixing_scores(ml.W, ml.H, M, A),
                  "KL-NMF": unmixing_scores(kl.W, kl.H, M, A)}
        scores["min-vol deep KL-NMF"]["seconds"] = t_mv
        scores["min-vol deep KL-NMF"]["admm_iterations"] = mv.extras["admm_iterations"]
        scores["min-vol deep KL-NMF"]["layer2_sad_to_truth"] = sad_degrees(mv.extras["W_layers"][1], M).tolist()
        out["samson"][key] = scores
        kept[key] = mv
        print(f"[hsi] samson {key}: " + "; ".join(f"{k} SAD {v['mean_sad_degrees']:.2f} RMSE {v['abundance_rmse']:.4f}"
                                                 for k, v in scores.items()), flush=True)
    # Samson maps: truth and the [4, 2] min-vol layers
    mv = kept["4x2"]
    F = layer_features(mv)
    maps = [("truth " + str(np.asarray(gt["cood"][i][0]).ravel()[0]), A[i]) for i in range(3)]
    maps += [(f"layer 1 #{k + 1}", F[0][k] / np.maximum(F[0].sum(axis=0), 1e-300)) for k in range(F[0].shape[0])]
    maps += [(f"layer 2 #{k + 1}", F[1][k] / np.maximum(F[1].sum(axis=0), 1e-300)) for k in range(F[1].shape[0])]
    save_maps(plt, maps, (95, 95), results / "samson_maps.png", "Samson: ground truth and min-vol deep KL-NMF [4, 2]")
    # Moffett: the paper's demo settings
    Xm = np.asarray(scipy.io.loadmat(DATA / "hyperspectral/moffett_159x2500.mat")["X"], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mm = deep_nmf(np.maximum(Xm, 1e-9), [4, 2], 1, min_vol=True, alphas=[4.0, 1.0], rho=100.0, admm_tol=1e-6,
                      admm_max_iter=200, newton_tol=1e-7, max_iter=300, init_iter=200, random_state=2023,
                      reset_seed=True)
    F = layer_features(mm)
    maps = [(f"layer 1 #{k + 1}", F[0][k] / np.maximum(F[0].sum(axis=0), 1e-300)) for k in range(4)]
    maps += [(f"layer 2 #{k + 1}", F[1][k] / np.maximum(F[1].sum(axis=0), 1e-300)) for k in range(2)]
    save_maps(plt, maps, (50, 50), results / "moffett_maps.png", "Moffett: min-vol deep KL-NMF [4, 2]")
    out["moffett"] = {"layer_errors": mm.extras["layer_errors"], "alphas": mm.extras["alphas"],
                      "log10det": mm.extras["log10det"]}
    return out


MINVOL_ALPHAS = (1e-4, 1e-3, 1e-2, 0.05, 0.45)


def min_angle_degrees(E):
    """Smallest spectral angle (degrees) between two columns of E: near 0 means two endmembers coincide."""
    En = E / np.maximum(np.linalg.norm(E, axis=0), 1e-300)
    G = np.clip(En.T @ En, -1, 1)
    return float(np.degrees(np.arccos(np.max(G[np.triu_indices_from(G, 1)]))))


def minvol_moffett(results: Path, chosen: float) -> dict:
    """Moffett (no ground truth), ranks [4, 2], seed 2023: plain deep KL-NMF, min-vol at the paper's demo
    alpha~ = [4, 1] and at ``chosen`` (Samson's best); layer errors, smallest endmember angle, maps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scipy.io

    from nmfkit.methods import layer_features

    Xm = np.maximum(np.asarray(scipy.io.loadmat(DATA / "hyperspectral/moffett_159x2500.mat")["X"], dtype=float), 1e-9)
    moffett, maps = {}, []
    for label, short, alpha in (("deep KL-NMF", "deep", None), ("min-vol, paper demo [4, 1]", "min-vol [4, 1]", (4.0, 1.0)),
                                (f"min-vol, Samson's best [{chosen:g}, {chosen:g}]", f"min-vol [{chosen:g}]",
                                 (chosen, chosen))):
        r, secs = fit_deep(Xm, [4, 2], 2023, alpha)
        moffett[label] = {"alpha_tilde": alpha, "layer_errors": r.extras["layer_errors"], "seconds": secs,
                          "min_endmember_angle": min_angle_degrees(r.W)}
        F = layer_features(r)
        maps += [(f"{short} #{k + 1}", F[0][k] / np.maximum(F[0].sum(axis=0), 1e-300)) for k in range(4)]
    save_maps(plt, maps, (50, 50), results / "minvol_moffett_maps.png", "Moffett layer 1, ranks [4, 2], seed 2023")
    return moffett


def part_minvol(results: Path, seeds=(2023, 1)) -> dict:
    """Min-vol deep KL-NMF over alpha~ (both layers) and ranks on Samson, against plain deep KL-NMF.

    Same seeds, same sweeps (200 multilayer + 800 deep), ADMM as in the reference code's demos
    (rho 100, tol 1e-6, at most 200 iterations). Scores against the ground truth: mean spectral
    angle of the Hungarian-matched endmembers and abundance RMSE. Moffett (no ground truth): plain
    deep KL-NMF, min-vol at the paper's demo alpha~ = [4, 1] and at the alpha~ that scored best on
    Samson; the smallest angle between two layer-1 endmembers says whether two of them coincide.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nmfkit.methods import layer_features

    X, M, A, gt = load_samson()
    rows, best = [], {}
    for ranks in ([3, 2], [4, 2]):
        key = "x".join(map(str, ranks))
        for seed in seeds:
            settings = [None] + [(a, a) for a in MINVOL_ALPHAS]
            for alpha in settings:
                r, secs = fit_deep(X, ranks, seed, alpha)
                s = unmixing_scores(r.W, r.H, M, A)
                row = {"ranks": key, "seed": seed, "alpha_tilde": None if alpha is None else alpha[0],
                       "mean_sad_degrees": s["mean_sad_degrees"], "abundance_rmse": s["abundance_rmse"],
                       "min_endmember_angle": min_angle_degrees(r.W), "layer_errors": r.extras["layer_errors"],
                       "seconds": secs, "admm_iterations": r.extras.get("admm_iterations"),
                       "admm_capped": r.extras.get("admm_capped"), "admm_calls": r.extras.get("admm_calls")}
                rows.append(row)
                print(f"[minvol] samson {key} seed {seed} alpha~ {row['alpha_tilde']}: SAD {s['mean_sad_degrees']:.2f} "
                      f"RMSE {s['abundance_rmse']:.4f} ({secs:.0f} s)", flush=True)
                if alpha is not None and (key not in best or row["mean_sad_degrees"] < best[key][0]["mean_sad_degrees"]):
                    best[key] = (row, r)
    summary = {}
    for ranks in ("3x2", "4x2"):
        for alpha in (None, *MINVOL_ALPHAS):
            sel = [r for r in rows if r["ranks"] == ranks and r["alpha_tilde"] == alpha]
            summary[f"{ranks} {alpha}"] = {
                "ranks": ranks, "alpha_tilde": alpha,
                "mean_sad_degrees": float(np.mean([r["mean_sad_degrees"] for r in sel])),
                "abundance_rmse": float(np.mean([r["abundance_rmse"] for r in sel])),
                "min_endmember_angle": float(np.mean([r["min_endmember_angle"] for r in sel])),
                "seconds": float(np.mean([r["seconds"] for r in sel]))}
    # Samson maps: truth, plain deep and the best min-vol run at ranks [4, 2] (layer 1)
    row, mv = best["4x2"]
    dp, _ = fit_deep(X, [4, 2], row["seed"])
    maps = [("truth " + str(np.asarray(gt["cood"][i][0]).ravel()[0]), A[i]) for i in range(3)]
    Fd, Fm = layer_features(dp), layer_features(mv)
    maps += [(f"deep #{k + 1}", Fd[0][k] / np.maximum(Fd[0].sum(axis=0), 1e-300)) for k in range(4)]
    maps += [(f"min-vol {row['alpha_tilde']:g} #{k + 1}", Fm[0][k] / np.maximum(Fm[0].sum(axis=0), 1e-300))
             for k in range(4)]
    save_maps(plt, maps, (95, 95), results / "minvol_samson_maps.png",
              f"Samson layer 1: truth, deep KL-NMF and min-vol (alpha~ {row['alpha_tilde']:g}), seed {row['seed']}")
    chosen = min((s for s in summary.values() if s["ranks"] == "4x2" and s["alpha_tilde"] is not None),
                 key=lambda s: s["mean_sad_degrees"])["alpha_tilde"]
    moffett = minvol_moffett(results, chosen)
    return {"seeds": list(seeds), "alphas": list(MINVOL_ALPHAS), "rows": rows, "summary": summary,
            "best_samson_4x2": {k: v for k, v in best["4x2"][0].items()}, "moffett": moffett, "moffett_alpha": chosen}


def kl_div(A, B):
    A, B = np.maximum(A, 1e-300), np.maximum(B, 1e-300)
    return float(np.sum(A * np.log(A / B) - A + B))


def part_centric(seeds=(2023, 1)) -> dict:
    """Layer-centric (eq. 2, the paper's) against data-centric (eq. 3) deep KL-NMF on Samson.

    Same seeds and sweeps (200 multilayer + 800 deep). Each result is scored by both losses,
    layer by layer: layer-centric ``D(W_{l-1} | W_l H_l)`` (``W_0 = X``) and data-centric
    ``D(X | W_l H_l ... H_1)``, and by unmixing against the ground truth.
    """

    from nmfkit.methods import deep_nmf

    X, M, A, gt = load_samson()
    rows = []
    for ranks in ([3, 2], [4, 2]):
        for seed in seeds:
            for model in ("layer-centric", "data-centric"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    r = deep_nmf(X, ranks, 1, model=model, random_state=seed, **STUDY_SWEEPS)
                    secs = time.perf_counter() - t0
                Ws, Hs = r.extras["W_layers"], r.extras["H_layers"]
                layer, data, prev, chain = [], [], X, None
                for W, H in zip(Ws, Hs, strict=True):
                    layer.append(kl_div(prev, W @ H))
                    chain = H if chain is None else H @ chain
                    data.append(kl_div(X, W @ chain))
                    prev = W
                s = unmixing_scores(r.W, r.H, M, A)
                rows.append({"ranks": "x".join(map(str, ranks)), "seed": seed, "model": model, "layer_errors": layer,
                             "data_errors": data, "mean_sad_degrees": s["mean_sad_degrees"],
                             "abundance_rmse": s["abundance_rmse"], "seconds": secs})
                print(f"[centric] {ranks} seed {seed} {model}: layer {layer} data {data} SAD "
                      f"{s['mean_sad_degrees']:.2f}", flush=True)
    return {"seeds": list(seeds), "rows": rows}


def save_maps(plt, maps, shape, path, title):
    fig, axes = plt.subplots(1, len(maps), figsize=(1.7 * len(maps), 2.1), layout="constrained", squeeze=False)
    for ax, (name, values) in zip(axes[0], maps, strict=True):
        ax.imshow(np.asarray(values).reshape(shape, order="F"), cmap="viridis", vmin=0, vmax=1)
        ax.set_title(name, fontsize=7)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- report --------------------------------------------------------------------------------------------
def markdown(rep: dict) -> str:
    lines = ["# Deep beta-NMF: reproduced experiments", "", *commands(rep)]
    c = rep.get("cbcl")
    if c and c.get("rows"):
        lines += [f"## CBCL, Table 2 (KL, ranks [80, 40, 20], {c['runs']} runs; plot: cbcl_ratio.png)", "",
                  "Multilayer: up to 1000 sweeps per layer; deep: 500 multilayer + 500 deep sweeps, same seed. "
                  "Mean ± std over runs (the paper: 35 runs).", "",
                  "| layer | error deep / multilayer (%) | paper | within 2 paper std | Hoyer sparsity multilayer (%) "
                  "| paper | Hoyer sparsity deep (%) | paper |", "|---|---|---|---|---|---|---|---|"]
        for layer in range(3):
            pr, psm, psd = (PAPER_TABLE2[k][layer] for k in ("ratio", "sparsity_multilayer", "sparsity_deep"))
            r, sm, sd = c["ratio"][layer], c["sparsity_multilayer"][layer], c["sparsity_deep"][layer]
            lines.append(f"| {layer + 1} | {r[0]:.1f} ± {r[1]:.1f} | {pr[0]} ± {pr[1]} | "
                         f"{'yes' if c['within_two_paper_std'][layer] else 'no'} | {sm[0]:.1f} ± {sm[1]:.1f} | "
                         f"{psm[0]} ± {psm[1]} | {sd[0]:.1f} ± {sd[1]:.1f} | {psd[0]} ± {psd[1]} |")
        q = c["qualitative_every_run"]
        secs = np.mean([r["seconds_multilayer"] + r["seconds_deep"] for r in c["rows"]])
        lines += ["", f"In every run: layer-1 ratio > 100 %: {q['ratio1_above_100']}; layer-2 ratio < 50 %: "
                  f"{q['ratio2_below_50']}; layer-3 ratio < 10 %: {q['ratio3_below_10']}; deep sparser than "
                  f"multilayer at every layer: {q['deep_sparser_every_layer']}. Mean seconds per run (both "
                  f"methods, one core): {secs:.0f}.", ""]
    c15 = rep.get("cbcl15")
    if c15 and c15.get("rows"):
        lines += [f"## CBCL at beta = 3/2 (the paper's Figs. 2-3; ranks [80, 40, 20], {c15['runs']} run(s); plots: "
                  "cbcl15_ratio.png, cbcl15_features.png)", "",
                  "Same protocol as Table 2 with beta = 3/2 (multilayer 1000 sweeps per layer; deep 500 + 500). The "
                  "paper gives these as figures only (no table): the shape to check is layer 1 slightly above 100 % "
                  "and the deeper layers far below, with sparser deep features.", "",
                  "| layer | error deep / multilayer (%) | Hoyer sparsity multilayer (%) | Hoyer sparsity deep (%) |",
                  "|---|---|---|---|"]
        for layer in range(3):
            r, sm, sd = c15["ratio"][layer], c15["sparsity_multilayer"][layer], c15["sparsity_deep"][layer]
            lines.append(f"| {layer + 1} | {r[0]:.1f} ± {r[1]:.1f} | {sm[0]:.1f} ± {sm[1]:.1f} | "
                         f"{sd[0]:.1f} ± {sd[1]:.1f} |")
        q = c15["qualitative_every_run"]
        lines += ["", f"In every run: layer-1 ratio > 100 %: {q['ratio1_above_100']}; layer-2 ratio < 50 %: "
                  f"{q['ratio2_below_50']}; layer-3 ratio < 10 %: {q['ratio3_below_10']}; deep sparser than "
                  f"multilayer at every layer: {q['deep_sparser_every_layer']}.", ""]
    t = rep.get("tdt2")
    if t:
        lines += ["## TDT2 (KL, ranks [20, 10, 5], lambda [4, 2, 1], seed 2023)", "",
                  "| layer | error deep / multilayer (%) | paper |", "|---|---|---|"]
        for layer in range(3):
            lines.append(f"| {layer + 1} | {t['ratio'][layer]:.1f} | {'≈' if layer else ''}{t['paper_ratio'][layer]} |")
        lines += ["", f"Layer-2 topics matched to the paper's Table 3 (Hungarian on shared top-10 words; "
                  f"{t['matched_ge3_shared']} of 10 share at least 3 words with their match):", "",
                  "| topic | top 10 words | matched Table 3 label (shared words) |", "|---|---|---|"]
        match = {m["topic"]: m for m in t["layer2_matching"]}
        for k, words in enumerate(t["layer2_topics"], start=1):
            m = match.get(k)
            lines.append(f"| {k} | {' '.join(words)} | {m['label']} ({m['shared_top10']}) |")
        lines += ["", "| layer-3 topic | top 10 words | merges layer-2 topics (weight ≥ 0.15) |", "|---|---|---|"]
        for k, (words, merge) in enumerate(zip(t["layer3_topics"], t["layer3_merges"], strict=True), start=1):
            lines.append(f"| {k} | {' '.join(words)} | {', '.join(map(str, merge))} |")
        lines.append("")
    h = rep.get("hsi")
    if h:
        lines += ["## Hyperspectral unmixing, Samson (beyond the paper: the paper shows maps only)", "",
                  "Min-vol deep KL-NMF: alpha~ = [0.45, 0.45], rho 100, 200 multilayer + 800 deep sweeps, seed 2023. "
                  "Endmembers (columns of W_1) matched to the 3 true ones by spectral angle (Hungarian); "
                  "abundances = columns of H_1 scaled to sum to 1. Maps: samson_maps.png, moffett_maps.png.", "",
                  "| ranks | method | SAD per endmember (rock, tree, water; degrees) | mean SAD | abundance RMSE |",
                  "|---|---|---|---|---|"]
        for key, scores in h["samson"].items():
            for name, s in scores.items():
                lines.append(f"| {key.replace('x', ', ')} | {name} | {', '.join(f'{v:.2f}' for v in s['sad_degrees'])} | "
                             f"{s['mean_sad_degrees']:.2f} | {s['abundance_rmse']:.4f} |")
        lines.append("")
    mv = rep.get("minvol")
    if mv:
        lines += ["## Min-vol deep KL-NMF over alpha~ and ranks, Samson (plots: minvol_samson_maps.png, "
                  "minvol_moffett_maps.png)", "",
                  f"alpha~ the same at both layers; 200 multilayer + 800 deep sweeps; ADMM rho 100, tol 1e-6, at most "
                  f"200 iterations; seeds {mv['seeds']}, mean over seeds. *none* = plain deep KL-NMF (same seeds and "
                  "sweeps). Endmembers matched to the 3 true ones by spectral angle (Hungarian); abundance RMSE of "
                  "the matched rows of H_1 scaled to sum 1; smallest angle between two layer-1 endmembers (near 0: "
                  "two coincide).", "",
                  "| ranks | alpha~ | mean SAD (°) | abundance RMSE | smallest endmember angle (°) | seconds |",
                  "|---|---|---|---|---|---|"]
        for row in mv["summary"].values():
            a = "none" if row["alpha_tilde"] is None else f"{row['alpha_tilde']:g}"
            lines.append(f"| {row['ranks']} | {a} | {row['mean_sad_degrees']:.2f} | {row['abundance_rmse']:.4f} | "
                         f"{row['min_endmember_angle']:.2f} | {row['seconds']:.0f} |")
        lines += ["", "Per run:", "", "| ranks | seed | alpha~ | SAD (°) | RMSE | ADMM calls at the cap |",
                  "|---|---|---|---|---|---|"]
        for row in mv["rows"]:
            a = "none" if row["alpha_tilde"] is None else f"{row['alpha_tilde']:g}"
            capped = "—" if not row.get("admm_calls") else f"{row['admm_capped']} of {row['admm_calls']}"
            lines.append(f"| {row['ranks']} | {row['seed']} | {a} | {row['mean_sad_degrees']:.2f} | "
                         f"{row['abundance_rmse']:.4f} | {capped} |")
        lines += ["", f"Moffett (no ground truth), ranks [4, 2], seed 2023; Samson's best alpha~ at [4, 2] is "
                  f"{mv['moffett_alpha']:g}:", "", "| model | layer errors (KL) | smallest endmember angle (°) |",
                  "|---|---|---|"]
        for label, m in mv["moffett"].items():
            lines.append(f"| {label} | {', '.join(f'{e:.4g}' for e in m['layer_errors'])} | "
                         f"{m['min_endmember_angle']:.2f} |")
        lines.append("")
    ce = rep.get("centric")
    if ce:
        lines += ["## Layer-centric (eq. 2) against data-centric (eq. 3) deep KL-NMF, Samson", "",
                  "Same seeds and sweeps (200 multilayer + 800 deep). Every result scored by both losses, per layer: "
                  "layer-centric D(W_{l-1} | W_l H_l) with W_0 = X, and data-centric D(X | W_l H_l ... H_1); "
                  "unmixing as above.", "",
                  "| ranks | seed | model | layer-centric errors | data-centric errors | mean SAD (°) | RMSE |",
                  "|---|---|---|---|---|---|---|"]
        for row in ce["rows"]:
            lines.append(f"| {row['ranks']} | {row['seed']} | {row['model']} | "
                         f"{', '.join(f'{e:.4g}' for e in row['layer_errors'])} | "
                         f"{', '.join(f'{e:.4g}' for e in row['data_errors'])} | {row['mean_sad_degrees']:.2f} | "
                         f"{row['abundance_rmse']:.4f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="*", default=["tdt2", "hsi", "cbcl"],
                        choices=["cbcl", "cbcl15", "tdt2", "hsi", "minvol", "minvol-moffett", "centric"])
    parser.add_argument("--runs", type=int, default=10, help="CBCL runs (the paper: 35)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"deep benchmark: data folder {DATA} not found; nothing to run.", file=sys.stderr)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "deep.json"
    rep = json.loads(path.read_text()) if path.exists() else {}
    rep["command"] = (f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'default')} python benchmarks/deep/run.py "
                      + " ".join(sys.argv[1:]))

    def save() -> None:
        write_atomic(path, json.dumps(rep, indent=1, default=float) + "\n")
        write_atomic(args.out / "deep.md", markdown(rep))

    for part in args.parts:
        t0 = time.perf_counter()
        if part == "cbcl":
            rep["cbcl"] = part_cbcl(args.runs, rep, save)
            plot_cbcl(rep, args.out)
        elif part == "cbcl15":
            rep["cbcl15"] = part_cbcl(args.runs, rep, save, beta=1.5, key="cbcl15")
            plot_cbcl(rep, args.out, key="cbcl15")
            plot_features_file(1.5, args.out, "cbcl15_features.png")
        elif part == "tdt2":
            rep["tdt2"] = part_tdt2()
        elif part == "hsi":
            rep["hsi"] = part_hsi(args.out)
        elif part == "minvol":
            rep["minvol"] = part_minvol(args.out)
        elif part == "minvol-moffett":  # Moffett again, at the alpha~ the Samson study chose
            rep["minvol"]["moffett"] = minvol_moffett(args.out, rep["minvol"]["moffett_alpha"])
        elif part == "centric":
            rep["centric"] = part_centric()
        rep.setdefault("commands", {})[part] = rep["command"]
        print(f"[{part}] done in {time.perf_counter() - t0:.1f} s", flush=True)
        save()
    save()  # also rewrites the markdown when no part ran (--parts with no names)
    print(markdown(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
