"""Rank selection and stability: planted ranks, Golub ALL/AML (Brunet et al. 2004), mutational signatures.

Parts (choose with --parts):

- ``planted``: k in {3, 5, 8}; Gaussian or Poisson noise; the planted signal explaining about 95 %
  or 80 % of the variance; ``--seeds`` data sets per setting (default 10) of ``--shape`` 300 x 150.
  ``select_rank`` (defaults, 5 replicates per rank) over ranks 2..k+4; the share of seeds where
  the recommended rank is the true k, per setting. The size makes the rank identifiable in
  principle: the signal's k-th singular value exceeds the noise's spectral norm for every seed
  (recorded as ``min_margin``); at 100 x 60 it falls below it for some k = 5 and 8 seeds at 80 %,
  and no criterion can then see the k-th component.
- ``planted-holdout``: the same on seeds 10-19, which played no part in choosing the rule's
  defaults (the 5 % cross-validation tolerance was chosen on seeds 0-9).
- ``golub``: Golub ALL/AML (38 samples), ranks 2-5, ``--golub-runs`` replicates each (default 50):
  cophenetic correlation and dispersion of the consensus matrices (Brunet et al.: high at k = 2
  and 3, lower after).
- ``signatures``: catalogues simulated from 5 COSMIC v3.4 SBS signatures with Poisson noise (rank
  survey, then consensus NMF matched to the truth), and the 21 breast-cancer genomes (consensus
  NMF with the KL loss at the recommended rank, each signature matched to COSMIC v3.4).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/selection/run.py [--parts planted golub signatures] [--jobs 2]

Results: ``benchmarks/selection/results/{selection.json, selection.md, *.png}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data"
sys.path.insert(0, str(HERE.parent))  # benchmarks/_common.py
from _common import commands, write_atomic  # noqa: E402


def _planted_one(k: int, noise: str, fraction: float, seed: int, n: int, m: int) -> dict:
    from nmfkit.selection import select_rank
    from nmfkit.testing import planted_noisy

    X, S = planted_noisy(n, m, k, noise=noise, signal_share=fraction, rng=1000 * k + seed)
    # identifiability in principle: the planted signal's k-th singular value over the noise's spectral norm
    margin = float(np.linalg.svd(S, compute_uv=False)[k - 1] / np.linalg.norm(X - S, 2))
    X = X[X.sum(axis=1) > 0][:, X.sum(axis=0) > 0]
    t0 = time.perf_counter()
    survey = select_rank(X, range(2, k + 5), n_runs=5, random_state=seed)
    return {"pick": survey.recommended, "margin": margin, "seconds": time.perf_counter() - t0,
            "table": {"ranks": survey.ranks, **survey.table}}  # every criterion, to study the rule


def part_planted(seeds: int, n_jobs: int, n: int, m: int, first_seed: int = 0) -> dict:
    from joblib import Parallel, delayed

    settings = [(k, noise, fraction) for k in (3, 5, 8) for noise in ("gaussian", "poisson")
                for fraction in (0.95, 0.80)]
    jobs = [(*s, seed) for s in settings for seed in range(first_seed, first_seed + seeds)]
    done = Parallel(n_jobs=n_jobs)(delayed(_planted_one)(*j, n, m) for j in jobs)
    out = {"shape": [n, m], "first_seed": first_seed}
    for k, noise, fraction in settings:
        runs = [d for j, d in zip(jobs, done, strict=True) if j[:3] == (k, noise, fraction)]
        picks = [d["pick"] for d in runs]
        key = f"k{k}_{noise}_{int(100 * fraction)}"
        out[key] = {"k": k, "noise": noise, "signal_share": fraction, "recommended": picks,
                    "correct": int(sum(p == k for p in picks)), "seeds": seeds,
                    "min_margin": min(d["margin"] for d in runs),
                    "seconds_per_seed": float(np.mean([d["seconds"] for d in runs])),
                    "tables": [d["table"] for d in runs]}
        print(f"[planted] {key}: {out[key]['correct']}/{seeds} correct, picks {picks}", flush=True)
    return out


def part_golub(runs: int, n_jobs: int, results: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nmfkit.datasets import load_golub
    from nmfkit.selection import consensus_matrix, cophenetic_correlation, dispersion, run_replicates

    ds = load_golub()
    X = np.asarray(ds.X, dtype=float)  # samples x genes
    out = {"shape": list(X.shape), "runs": runs, "ranks": [2, 3, 4, 5], "cophenetic": [], "dispersion": []}
    for k in out["ranks"]:
        reps = run_replicates(X, k, runs, random_state=k, n_jobs=n_jobs, beta_loss="kullback-leibler",
                              solver="mu", max_iter=2000, tol=1e-6)
        C = consensus_matrix([W for W, _, _ in reps])
        out["cophenetic"].append(cophenetic_correlation(C))
        out["dispersion"].append(dispersion(C))
        print(f"[golub] k={k}: cophenetic {out['cophenetic'][-1]:.4f}", flush=True)
    fig, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    ax.plot(out["ranks"], out["cophenetic"], marker="o", label="cophenetic")
    ax.plot(out["ranks"], out["dispersion"], marker="s", label="dispersion")
    ax.set_xlabel("rank")
    ax.set_title(f"Golub ALL/AML, {runs} runs per rank (KL, MU)", fontsize=9)
    ax.legend(fontsize=8)
    fig.savefig(results / "golub_cophenetic.png", dpi=110)
    plt.close(fig)
    return out


def part_signatures(n_jobs: int) -> dict:
    from nmfkit.datasets import load_breast21, load_cosmic
    from nmfkit.metrics import assign_to_reference, match_components
    from nmfkit.selection import consensus, select_rank

    # KL multiplicative updates converge slowly: loosely converged replicates look unstable (on breast21 at
    # rank 4 the least stable component's silhouette is 0.56 at tol 1e-4 and 0.91 at tol 1e-8)
    kl = {"beta_loss": "kullback-leibler", "solver": "mu", "tol": 1e-8, "max_iter": 20000}
    cosmic = load_cosmic(kind="SBS")  # signatures x 96
    S = np.asarray(cosmic.X, dtype=float)
    names = list(cosmic.sample_names)
    rng = np.random.default_rng(0)
    chosen = ["SBS1", "SBS2", "SBS3", "SBS5", "SBS13"]
    idx = [names.index(c) for c in chosen]
    E = rng.gamma(0.7, 2000.0, (60, 5))  # exposures of 60 genomes
    counts = rng.poisson(E @ S[idx]).astype(float)
    survey = select_rank(counts, range(2, 9), n_runs=5, random_state=0, n_jobs=n_jobs, **kl)
    res = consensus(counts, 5, 20, random_state=0, n_jobs=n_jobs, **kl)
    m = match_components(S[idx].T, res.H.T)
    out = {"simulated": {"signatures": chosen, "recommended": survey.recommended, "reasons": survey.reasons,
                         "cosine": dict(zip(chosen, map(float, m["cosine_W"]), strict=True))}}
    br = load_breast21()
    Xb = np.asarray(br.X, dtype=float)
    sb = select_rank(Xb, range(2, 9), n_runs=10, random_state=0, n_jobs=n_jobs,
                     criteria=("error", "consensus", "silhouette", "bcv"), **kl)
    Sn = S / np.linalg.norm(S, axis=1, keepdims=True)
    out["breast21"] = {"shape": list(Xb.shape), "recommended": sb.recommended, "reasons": sb.reasons,
                       "survey": {"ranks": sb.ranks, **sb.table}, "extractions": {}}
    # the survey's rank, and 5: the processes Nik-Zainal et al. (Cell 2012) reported in these genomes
    for k in sorted({sb.recommended, 5}):
        rb = consensus(Xb, k, 50, random_state=0, n_jobs=n_jobs, **kl)
        Hn = rb.H / np.linalg.norm(rb.H, axis=1, keepdims=True)
        sim = Hn @ Sn.T
        share = rb.W.sum(axis=0) / rb.W.sum()
        dec = assign_to_reference(rb.H, S, names=names, max_components=3)
        out["breast21"]["extractions"][str(k)] = {
            "stability": rb.extras["stability"],
            "matches": [{"signature": i + 1, "best_cosmic": names[int(np.argmax(row))], "cosine": float(row.max()),
                         "decomposition": dec["terms"][i], "decomposition_cosine": float(dec["cosine"][i]),
                         "mutation_share": float(share[i])} for i, row in enumerate(sim)]}
    print(f"[signatures] simulated: rank {survey.recommended}, cosines {out['simulated']['cosine']}", flush=True)
    print(f"[signatures] breast21: {out['breast21']}", flush=True)
    return out


def markdown(rep: dict) -> str:
    lines = ["# Rank selection and stability", "", *commands(rep)]
    for part, title in (("planted", "Planted ranks (recommended rank = true k, per setting)"),
                        ("planted-holdout", "Planted ranks on held-out seeds 10-19 (run after the rule was fixed)")):
        p = rep.get(part)
        if not p:
            continue
        shape = p.get("shape", [100, 60])
        lines += [f"## {title}", "",
                  f"Data {shape[0]} x {shape[1]}; `select_rank` with its defaults and 5 replicates per rank over "
                  "ranks 2..k+4. Margin: the planted signal's k-th singular value over the noise's spectral norm "
                  "(smallest over the seeds).", "",
                  "| k | noise | signal share of variance | correct | picks | margin | s per survey |",
                  "|---|---|---|---|---|---|---|"]
        for v in (v for v in p.values() if isinstance(v, dict)):
            lines.append(f"| {v['k']} | {v['noise']} | {v['signal_share']:.2f} | {v['correct']} / {v['seeds']} | "
                         f"{v['recommended']} | {v.get('min_margin', float('nan')):.2f} | "
                         f"{v.get('seconds_per_seed', float('nan')):.1f} |")
        lines.append("")
    g = rep.get("golub")
    if g:
        lines += [f"## Golub ALL/AML ({g['shape'][0]} samples, {g['runs']} runs per rank; plot: golub_cophenetic.png)",
                  "", "| rank | cophenetic | dispersion |", "|---|---|---|"]
        for r, c, d in zip(g["ranks"], g["cophenetic"], g["dispersion"], strict=True):
            lines.append(f"| {r} | {c:.4f} | {d:.4f} |")
        lines.append("")
    s = rep.get("signatures")
    if s:
        sim = s["simulated"]
        lines += ["## Mutational signatures", "",
                  f"Simulated from {', '.join(sim['signatures'])} with Poisson noise: recommended rank "
                  f"{sim['recommended']}; matched cosine: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in sim["cosine"].items()) + ".", "",
                  ]
        b = s["breast21"]
        lines += [f"21 breast-cancer genomes (KL, MU to tol 1e-8; survey over ranks 2-8 with 10 runs each): "
                  "recommended rank "
                  f"{b['recommended']}.", "", *[f"- {r}" for r in b["reasons"]], ""]
        sv = b.get("survey")
        if sv:
            keys = [k for k in ("relative_error", "cophenetic", "silhouette", "silhouette_min", "bcv_error") if k in sv]
            lines += ["| rank | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
            lines += [f"| {r} | " + " | ".join(f"{sv[k][i]:.4f}" for k in keys) + " |"
                      for i, r in enumerate(sv["ranks"])]
            lines.append("")
        for k, ext in b.get("extractions", {}).items():
            lines += [f"Consensus NMF at rank {k} (50 runs; stability {ext['stability']:.3f}):", "",
                      "| signature | share of mutations | best COSMIC v3.4 match | cosine | NNLS decomposition "
                      "(forward selection, at most 3) | cosine |", "|---|---|---|---|---|---|"]
            lines += [f"| {m['signature']} | {m['mutation_share']:.2f} | {m['best_cosmic']} | {m['cosine']:.3f} | "
                      + " + ".join(f"{w:.2f} {n}" for n, w in m["decomposition"])
                      + f" | {m['decomposition_cosine']:.3f} |" for m in ext["matches"]]
            lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="*", default=["planted", "golub", "signatures"],
                        choices=["planted", "planted-holdout", "golub", "signatures"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--golub-runs", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes (planted: over seeds)")
    parser.add_argument("--shape", type=int, nargs=2, default=[300, 150], help="planted data: samples features")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if not DATA.is_dir():
        args.parts = [p for p in args.parts if p.startswith("planted")]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "selection.json"
    rep = json.loads(path.read_text()) if path.exists() else {}
    rep["command"] = (f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'default')} python "
                      "benchmarks/selection/run.py " + " ".join(sys.argv[1:]))
    for part in args.parts:
        t0 = time.perf_counter()
        if part == "planted":
            rep["planted"] = part_planted(args.seeds, args.jobs, *args.shape)
        elif part == "planted-holdout":
            rep["planted-holdout"] = part_planted(args.seeds, args.jobs, *args.shape, first_seed=10)
        elif part == "golub":
            rep["golub"] = part_golub(args.golub_runs, args.jobs, args.out)
        elif part == "signatures":
            rep["signatures"] = part_signatures(args.jobs)
        rep.setdefault("commands", {})[part] = rep["command"]
        print(f"[{part}] done in {time.perf_counter() - t0:.1f} s", flush=True)
        write_atomic(path, json.dumps(rep, indent=1, default=float) + "\n")
    write_atomic(args.out / "selection.md", markdown(rep))
    print(markdown(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
