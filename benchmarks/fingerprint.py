"""Fingerprints of seeded results: a hash of what every public fit returns, for refactors that must not change them.

Each case (a seeded call of a public function on small data) runs in a process of its own: BLAS
kernels may round differently with the alignment of their arrays, which depends on what ran
before in the same process. The hash covers the factors, iterations, objective, stop reason, the
(iteration, objective) history and the numeric extras, not the timings. A Dask fit sums its blocks
in no fixed order, so its case hashes values rounded to 6 significant digits.

Run it on two commits and compare::

    OMP_NUM_THREADS=1 python benchmarks/fingerprint.py --out before.json     # on the old commit
    OMP_NUM_THREADS=1 python benchmarks/fingerprint.py --out after.json      # on the new one
    python benchmarks/fingerprint.py --compare before.json after.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

TIMING = ("time", "elapsed", "second", "histor", "stage")


def digest(obj: Any) -> str:
    """A short SHA-256 of the numbers and strings in ``obj`` (FitResults, arrays, dicts, lists)."""
    m = hashlib.sha256()

    def walk(o: Any) -> None:
        if isinstance(o, dict):
            for k in sorted(o, key=str):
                if not any(t in str(k) for t in TIMING):
                    m.update(str(k).encode())
                    walk(o[k])
        elif isinstance(o, (list, tuple)):
            for x in o:
                walk(x)
        elif sp.issparse(o):
            walk(o.toarray())
        elif isinstance(o, np.ndarray):
            m.update(np.ascontiguousarray(o).tobytes())
            m.update(str(o.dtype).encode())
        elif o is None or isinstance(o, (float, int, np.floating, np.integer, bool, np.bool_, str)):
            m.update(repr(o).encode())
        elif hasattr(o, "W") and hasattr(o, "H"):
            walk([o.W, o.H, getattr(o, "n_iter", None), getattr(o, "objective", None),
                  getattr(o, "stop_reason", None), [tuple(e)[:2] for e in getattr(o, "history", [])]])
            extras = getattr(o, "extras", None)
            walk(extras if isinstance(extras, dict) else None)
        else:
            m.update(type(o).__name__.encode())

    walk(obj)
    return m.hexdigest()[:16]


def cases() -> dict[str, Callable[[], Any]]:
    """Name -> seeded call."""
    import nmfkit
    from nmfkit import batch, datasets, online, selection, testing
    from nmfkit import methods as M

    X = np.asarray(testing.planted(40, 30, 4)[0], dtype=float)
    rng = np.random.default_rng(0)
    C = rng.poisson(3.0, (60, 40)).astype(float)
    C[C.sum(1) == 0, 0] = 1
    mask = rng.random(X.shape) > 0.2
    A = rng.random((30, 30))
    A = A + A.T
    out: dict[str, Callable[[], Any]] = {}
    for solver in ["hals", "mu", "anls-bpp", "gcd", "anls-pg"]:
        out[f"nmf-{solver}"] = lambda s=solver: nmfkit.nmf(X, 4, solver=s, random_state=1, max_iter=60)
    for loss in ["kullback-leibler", "itakura-saito", 1.5]:
        out[f"nmf-{loss}"] = lambda b=loss: nmfkit.nmf(C + 0.1, 3, beta_loss=b, random_state=2, max_iter=60)
    for init in ["random", "nndsvd", "nndsvda", "nndsvdar", "spa"]:
        out[f"nmf-init-{init}"] = lambda i=init: nmfkit.nmf(X, 4, init=i, random_state=3, max_iter=40)
    out.update({
        "nmf-default": lambda: nmfkit.nmf(X, 4, random_state=0),
        "nmf-f32": lambda: nmfkit.nmf(X.astype(np.float32), 4, random_state=0),
        "nmf-sparse": lambda: nmfkit.nmf(sp.csr_matrix(C), 3, random_state=0, max_iter=50),
        "nmf-sparse-kl": lambda: nmfkit.nmf(sp.csr_matrix(C), 3, beta_loss="kullback-leibler", random_state=0,
                                            max_iter=50),
        "nmf-mask": lambda: nmfkit.nmf(X, 4, mask=mask, random_state=0, max_iter=50),
        "nmf-l1l2": lambda: nmfkit.nmf(X, 4, l1_ratio=0.5, alpha_W=0.01, alpha_H=0.01, random_state=0, max_iter=50),
        "NMF-estimator": lambda: nmfkit.NMF(4, random_state=0).fit_transform(X),
        "consensus": lambda: selection.consensus(X, 3, n_runs=4, random_state=0),
        "select_rank": lambda: selection.select_rank(X, [2, 3, 4], n_runs=3, random_state=0).table,
        "bootstrap": lambda: selection.bootstrap(X, 3, n_boot=4, random_state=0),
        "bicv": lambda: selection.bicross_validation_error(X, 3, random_state=0),
        "masked-cv": lambda: selection.masked_cv_error(X, 3, random_state=0),
        "replicates": lambda: selection.run_replicates(X, 3, 3, random_state=0),
        "batch-hals": lambda: batch.nmf_batch(X, 3, [0, 1, 2], max_iter=30),
        "batch-kl": lambda: batch.nmf_batch(C + 0.1, 3, [0, 1], beta_loss="kullback-leibler", max_iter=30),
        "online": lambda: online.online_nmf(C, 3, batch_size=20, random_state=0, n_epochs=2),
        "online-kl": lambda: online.online_nmf(C, 3, beta_loss="kullback-leibler", batch_size=20, random_state=0,
                                               n_epochs=2),
        "merge": lambda: M.nmf_merge(X, 3, random_state=0),
        "gsvd_nmf": lambda: M.gsvd_nmf(X, 3, random_state=0),
        "deep": lambda: M.deep_nmf(C + 0.1, [4, 2], random_state=0, max_iter=30),
        "deep-minvol": lambda: M.deep_nmf(C + 0.1, [4, 2], min_vol=True, random_state=0, max_iter=20),
        "deep-beta1.5": lambda: M.deep_nmf(C + 0.1, [4, 2], beta_loss=1.5, random_state=0, max_iter=30),
        "multilayer": lambda: M.multilayer_nmf(C + 0.1, [4, 2], random_state=0, max_iter=30),
        "persistent": lambda: M.persistent_nmf(
            np.asarray(datasets.make_concentric_circles(n_per_circle=10, n_features=20, random_state=0).X), 2,
            n_sweeps=3, inner_max_iter=50, gnmf_max_iter=50),
        "gnmf": lambda: M.gnmf(X, 3, random_state=0, max_iter=30),
        "joint": lambda: M.joint_nmf([X, X[:, :10]], 3, random_state=0, max_iter=30),
        "integrative": lambda: M.integrative_nmf([X[:20], X[20:] + 0.1], 3, random_state=0, max_iter=30),
        "graph": lambda: M.graph_nmf(X, 3, random_state=0, max_iter=30),
        "separable": lambda: M.separable_nmf(X, 3),
        "snpa": lambda: M.snpa(X, 3),
        "symmetric": lambda: M.symmetric_nmf(A, 3, random_state=0, max_iter=30),
        "network": lambda: M.network_nmf(A, 3, random_state=0),
        "nmf_sc": lambda: M.nmf_sc(X, 3, random_state=0, max_iter=30),
        "dask": lambda: _dask(X),
        "make_planted": lambda: datasets.make_planted(random_state=0),
        "make_near_separable": lambda: datasets.make_near_separable(random_state=0),
        "swimmer": datasets.swimmer,
        "gsvd_demo": datasets.gsvd_demo,
        "plateau_example": datasets.plateau_example,
        "planted_noisy": lambda: testing.planted_noisy(rng=0),
    })
    return out


def _dask(X: np.ndarray) -> list:
    import dask.array as da

    import nmfkit

    r = nmfkit.nmf_distributed(da.from_array(X, chunks=(10, 30)), 3, random_state=0, max_iter=20)
    return [float(f"{np.asarray(r.W).sum():.6g}"), float(f"{np.asarray(r.H).sum():.6g}"),
            float(f"{r.objective:.6g}"), r.n_iter]


def one(name: str) -> str:
    warnings.simplefilter("ignore")
    try:
        return digest(cases()[name]())
    except Exception as exc:  # a case that fails is a difference too
        return f"error {type(exc).__name__}: {str(exc)[:100]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write name -> hash here (JSON)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(one(args.one))
        return
    if args.compare:
        a, b = (json.loads(p.read_text()) for p in args.compare)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        print(f"{len(set(a) & set(b)) - len([k for k in differ if k in a and k in b])} of {len(set(a) | set(b))} "
              f"cases identical" + ("; differ: " + ", ".join(differ) if differ else ""))
        sys.exit(1 if differ else 0)

    def run(name: str) -> tuple[str, str]:
        done = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
        return name, (done.stdout.strip().splitlines() or [f"error: {done.stderr.strip()[-200:]}"])[-1]

    with ThreadPoolExecutor(args.jobs) as pool:
        result = dict(pool.map(run, list(cases())))
    text = json.dumps(result, indent=1, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n")
    errors = [k for k, v in result.items() if v.startswith("error")]
    print(f"{len(result)} cases, {len(errors)} errors" + (": " + ", ".join(errors) if errors else ""))


if __name__ == "__main__":
    main()
