"""Topics in news and abstracts: NMF on TDT2 (30 classes) and Classic3 (3 classes), scored against the classes.

Documents x words counts are factorized with the KL loss (multiplicative updates, the model of
word counts) and, for comparison, with the Frobenius loss on TF-IDF rows scaled to unit norm (the
classic text-mining recipe). Each document goes to its largest usage; the clustering is scored
against the known classes by NMI, ARI, purity and Hungarian accuracy. TDT2's topics are listed
by their ten top words (``tdt2_topics.txt``); Classic3's file holds no vocabulary, so its topics
are reported by score only. Figure: ``topics.png`` (NMI of both losses on both corpora).

The class labels stored with this TDT2 file do not belong to its rows: documents of one "class"
are no more alike than documents of different classes (mean cosine similarity within and between
classes is reported as ``label_check``), and a class mixes unrelated stories (the Super Bowl, the
Unabomber trial and the Pope's visit to Cuba). TDT2's scores against those labels are therefore
reported but carry no meaning; Classic3's labels pass the same check.

Usage::

    python examples/topics.py [--fast] [--out DIR]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _common import matplotlib_agg, out_dir, parser, require_data, save, write_metrics


def _tfidf(X):
    from sklearn.feature_extraction.text import TfidfTransformer

    return TfidfTransformer().fit_transform(X)


def _label_check(X, labels, rng):
    """Mean cosine similarity of documents within and between classes (2000 sampled documents)."""
    from sklearn.preprocessing import normalize

    idx = rng.choice(X.shape[0], min(2000, X.shape[0]), replace=False)
    N = normalize(X[idx])
    S = np.asarray((N @ N.T).todense()) if hasattr(N, "todense") else N @ N.T
    same = labels[idx][:, None] == labels[idx][None, :]
    off = ~np.eye(len(idx), dtype=bool)
    return {"within": float(S[same & off].mean()), "between": float(S[~same].mean())}


def _score(name, X, labels, k, seeds, max_iter):
    import nmfkit
    from nmfkit.metrics import clustering_scores

    out = {}
    for loss, data in (("kullback-leibler", X), ("frobenius", _tfidf(X))):
        best = None
        for seed in range(seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = nmfkit.nmf(data, k, beta_loss=loss, solver="mu" if loss != "frobenius" else "hals",
                                 init="nndsvda" if seed == 0 else "random", tol=1e-5, max_iter=max_iter,
                                 random_state=seed)
            if best is None or res.objective < best.objective:
                best = res
        scores = clustering_scores(labels, np.asarray(best.W).argmax(axis=1))
        out[loss] = {"scores": scores, "n_iter": best.n_iter, "H": np.asarray(best.H)}
        print(f"{name} {loss}: " + ", ".join(f"{m} {v:.3f}" for m, v in scores.items()), flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    from nmfkit.datasets import load_classic3, load_tdt2

    args = parser(__doc__).parse_args(argv)
    out = out_dir(args, "topics")
    tdt2 = require_data(load_tdt2, args.data_dir)
    classic = require_data(load_classic3, args.data_dir)
    seeds = 1 if args.fast else 5
    max_iter = 200 if args.fast else 2000
    X, y = tdt2.X, tdt2.labels
    if args.fast:  # the ten largest classes, every fourth document
        big = np.argsort(-np.bincount(y))[:10]
        keep = np.flatnonzero(np.isin(y, big))[::4]
        X, y = X[keep], y[keep]
    keep = np.asarray(X.sum(axis=1)).ravel() > 0
    X, y = X[keep], y[keep]
    k = len(np.unique(y))
    res_tdt2 = _score("TDT2", X, y, k, seeds, max_iter)
    Xc, yc = classic.X, classic.labels
    res_classic = _score("Classic3", Xc, yc, 3, seeds, max_iter)
    words = np.asarray(tdt2.feature_names)
    H = res_tdt2["kullback-leibler"]["H"]
    top = [words[np.argsort(-h)[:10]].tolist() for h in H]
    (out / "tdt2_topics.txt").write_text("".join(f"topic {i + 1}: {' '.join(t)}\n" for i, t in enumerate(top)))
    rng = np.random.default_rng(0)
    metrics = {"example": "topics",
               "tdt2": {"documents": X.shape[0], "words": X.shape[1], "classes": k,
                        "label_check": _label_check(X, y, rng),
                        **{loss: r["scores"] for loss, r in res_tdt2.items()}, "top_words": top},
               "classic3": {"documents": Xc.shape[0], "words": Xc.shape[1], "classes": 3,
                            "label_check": _label_check(Xc, yc, rng),
                            **{loss: r["scores"] for loss, r in res_classic.items()}},
               "starts": seeds, "figures": []}
    plt = matplotlib_agg()
    fig, ax = plt.subplots(figsize=(4.8, 3.2), layout="constrained")
    width = 0.38
    for j, loss in enumerate(("kullback-leibler", "frobenius")):
        vals = [metrics["tdt2"][loss]["nmi"], metrics["classic3"][loss]["nmi"]]
        ax.bar(np.arange(2) + (j - 0.5) * width, vals, width,
               label="KL on counts" if j == 0 else "Frobenius on TF-IDF")
    ax.set_xticks([0, 1], [f"TDT2 ({k} classes)*", "Classic3 (3 classes)"])
    ax.set_title("* TDT2's stored labels do not match its documents", fontsize=8)
    ax.set_ylabel("NMI of document clusters")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    metrics["figures"].append(save(fig, out, "topics.png"))
    write_metrics(out, metrics)
    print(f"topics: wrote {out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
