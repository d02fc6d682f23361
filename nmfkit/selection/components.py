"""Consensus components (cNMF-style) and bootstrap intervals of the components, from replicate fits."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit._progress import track
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.driver import FitResult
from nmfkit.losses import BetaDivergence
from nmfkit.metrics import match_components
from nmfkit.selection.replicates import dense, fit_replicate, replicate_seeds, run_replicates
from nmfkit.selection.stability import unit_rows
from nmfkit.solvers import nnls_project

__all__ = ["consensus", "consensus_of", "bootstrap", "cluster_components"]


def _pooled_labels(keep: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The consensus cluster of every pooled component; -1 for those the density filter dropped."""
    out = np.full(keep.shape[0], -1, dtype=int)
    out[keep] = labels
    return out


def cluster_components(pooled: np.ndarray, n_components: int, n_neighbors: int, density_threshold: float) -> dict:
    """cNMF's clustering of pooled replicate programs: local-density filter, k-means, cluster medians.

    Parameters
    ----------
    pooled : ndarray of shape (n_programs, n_features)
        Unit-L2-norm replicate programs.
    n_components : int
        Clusters (k-means, 10 starts, seed 0).
    n_neighbors : int
        Neighbours whose mean Euclidean distance is a program's local density.
    density_threshold : float
        Programs whose local density exceeds it are dropped (``2`` keeps all).

    Returns
    -------
    dict
        ``keep`` (bool, per pooled program), ``local_density``, ``labels`` (cluster of each kept
        program), ``H`` (the cluster medians scaled to unit sum, (k, n_features)) and ``silhouette``
        (per kept program; None for a single cluster).
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import silhouette_samples

    k = n_components
    D = np.sqrt(np.maximum(2.0 - 2.0 * pooled @ pooled.T, 0.0))
    np.fill_diagonal(D, np.inf)
    density = np.sort(D, axis=1)[:, :n_neighbors].mean(axis=1)
    keep = density <= density_threshold
    if keep.sum() < k:
        msg = (f"Only {int(keep.sum())} of {len(pooled)} components pass density_threshold={density_threshold}; "
               f"need at least n_components={k}. Raise density_threshold.")
        raise InvalidInputError(msg)
    kept = pooled[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than k: answered below
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(kept)
    groups = len(np.unique(labels))
    if groups < k:
        msg = (f"The replicates' components form only {groups} distinct group{'s' if groups != 1 else ''}, fewer "
               f"than n_components={k}: the data support at most rank {groups}. Choose a smaller n_components.")
        raise InvalidInputError(msg)
    H = np.vstack([np.median(kept[labels == g], axis=0) for g in range(k)])
    H = H / np.maximum(H.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    # one cluster has no silhouette: stability is then undefined (NaN), not a warning
    sil = silhouette_samples(kept, labels) if k > 1 else None
    return {"keep": keep, "local_density": density, "labels": labels, "H": H, "silhouette": sil}


@shared_docs
def consensus(X: Any, n_components: int, n_runs: int = 20, *, density_threshold: float = 0.5,
              neighbors_fraction: float = 0.3, random_state: Any = 0, n_jobs: int = 1, progress: bool = False,
              device: str | None = None, **fit_params: Any) -> Any:
    """Consensus NMF in the manner of cNMF (Kotliar et al. 2019).

    1. Fit ``n_runs`` replicates and pool their components (rows of H) scaled to unit L2 norm.
    2. Drop low-density outliers: a component whose mean Euclidean distance to
       its ``neighbors_fraction * n_runs`` nearest neighbours exceeds
       ``density_threshold`` (distances between unit vectors lie in [0, 2]).
    3. Cluster the rest into ``n_components`` groups with k-means; each
       consensus component is its group's median, scaled to unit L1 norm.
    4. Refit the usages W by non-negative least squares with the consensus
       components fixed.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    n_runs : int, default=20
    density_threshold : float, default=0.5
        ``2`` keeps every component.
    neighbors_fraction : float, default=0.3
    {random_state}
    n_jobs : int, default=1
    progress : bool, default=False
    device : str, optional
        Run the replicates as one batch on this torch device (e.g. ``"cuda"``);
        see :func:`run_replicates`.
    **fit_params
        For the replicates (:func:`nmfkit.nmf`).

    Returns
    -------
    FitResult
        ``W`` (refit usages), ``H`` (consensus components); ``extras``:
        ``stability`` (silhouette of the clustering, in [-1, 1]),
        ``component_silhouette``, ``kept`` (share of components kept),
        ``local_density`` (per pooled component), ``replicate_components`` (the pooled
        unit-norm components, ``n_runs * n_components`` rows), ``replicate_labels`` (their
        consensus cluster, -1 where the density filter dropped them), ``density_threshold``,
        ``n_runs``.
    """
    Xv, _ = V.check_data(X, caller="consensus")
    k = V.check_n_components(n_components, Xv.shape, "consensus")
    V.check_interval(n_runs, "n_runs", "consensus", kind="int", low=2)
    Xd = Xv if sp.issparse(Xv) else dense(Xv)  # sparse stays sparse: its replicates, refit and loss never densify
    runs = run_replicates(Xd, k, n_runs, random_state=random_state, n_jobs=n_jobs, progress=progress,
                          device=device, **fit_params)
    return consensus_of(Xd, k, [H for _, H, _ in runs], runs.converged, density_threshold=density_threshold,
                        neighbors_fraction=neighbors_fraction, dtype=Xv.dtype)


def refit_usages(X: Any, H: np.ndarray) -> tuple[np.ndarray, float]:
    """The usages ``W >= 0`` of ``X`` (sparse or dense) on the fixed programs ``H`` (exact NNLS) and
    ``0.5 ||X - W H||_F^2``, a sparse ``X`` never densified (no dense ``W H`` either)."""
    W = nnls_project(X, H)
    return W, float(BetaDivergence(2.0).value(X, W, H, backend=get_backend(W)))


def consensus_of(X: Any, n_components: int, programs: list, converged: list, *, density_threshold: float = 0.5,
                 neighbors_fraction: float = 0.3, dtype: Any = None) -> Any:
    """Steps 2-4 of :func:`consensus` from replicates already fitted: their programs ``H`` and convergence.

    ``X`` (sparse or dense NumPy, validated) is what the replicates factorized; the result is
    :func:`consensus`'s, factors in ``dtype`` (default X's).
    """
    k, n_runs = n_components, len(programs)
    pooled = np.vstack([unit_rows(H) for H in programs])
    n_nb = max(1, int(round(neighbors_fraction * n_runs)))
    clusters = cluster_components(pooled, k, n_nb, density_threshold)
    keep, labels, H, sil = clusters["keep"], clusters["labels"], clusters["H"], clusters["silhouette"]
    density = clusters["local_density"]
    W, loss = refit_usages(X, H)
    dtype = X.dtype if dtype is None else dtype
    W, H = W.astype(dtype, copy=False), H.astype(dtype, copy=False)  # float32 data, float32 factors
    n_converged = sum(bool(c) for c in converged)
    reason = (f"consensus of {n_runs} replicates ({int(keep.sum())} of {len(pooled)} components kept); "
              f"{n_converged} of {n_runs} replicates converged")
    if n_converged < n_runs:
        reason += " (raise max_iter)"
    return FitResult(W, H, n_iter=n_runs, converged=n_converged == n_runs, stop_reason=reason,
                     objective=loss, extras={"method": "consensus",
                                             "stability": math.nan if sil is None else float(np.mean(sil)),
                                             "component_silhouette": [math.nan if sil is None else
                                                                      float(np.mean(sil[labels == g]))
                                                                      for g in range(k)],
                                             "kept": float(keep.mean()), "local_density": density,
                                             "replicate_components": pooled,
                                             "replicate_labels": _pooled_labels(keep, labels),
                                             "density_threshold": float(density_threshold),
                                             "n_runs": n_runs, "replicates_converged": n_converged,
                                             "loss_value": loss, "beta_loss": 2.0,
                                             "loss": "frobenius", "solver": "consensus of replicates",
                                             "init": "random replicates"})


def bootstrap(X: Any, n_components: int, n_boot: int = 100, *, scheme: str = "samples", reference: Any = None,
              ci: float = 0.95, random_state: Any = 0, n_jobs: int = 1, progress: bool = False,
              **fit_params: Any) -> dict:
    """Bootstrap confidence intervals of the components (rows of H), matched to a reference fit.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    n_boot : int, default=100
    scheme : {"samples", "poisson", "multinomial"}, default="samples"
        Resample the samples (rows) with replacement; or redraw every count as
        Poisson(x); or redraw each sample's total count over its features
        (multinomial, as in mutational-signature work).
    reference : (W, H), optional
        Components to match to; default a fit to the full data.
    ci : float, default=0.95
    random_state, n_jobs, progress, **fit_params

    Returns
    -------
    dict
        ``reference`` H (unit L1 rows), ``mean``, ``lower``, ``upper`` (each
        ``(k, n_features)``, unit-L1 components), ``cosine`` (``(n_boot, k)``:
        each resample's matched cosine to the reference) and ``samples``
        (``(n_boot, k, n_features)``).
    """
    from joblib import Parallel, delayed


    Xv, _ = V.check_data(X, caller="bootstrap")
    k = V.check_n_components(n_components, Xv.shape, "bootstrap")
    V.check_options(scheme, "scheme", "bootstrap", ("samples", "poisson", "multinomial"))
    Xd = dense(Xv)
    params = {"init": "nndsvda", "max_iter": 1000, **fit_params}
    if reference is None:
        reference = fit_replicate(Xd, k, replicate_seeds(random_state, 1)[0], params)[:2]
    Href = np.asarray(reference[1], dtype=float)
    Href = Href / np.maximum(Href.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    seeds = replicate_seeds(random_state, n_boot + 1)[1:]
    jobs = (delayed(_boot_one)(Xd, k, s, scheme, params) for s in seeds)
    done = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    Hs = list(track(done, total=len(seeds), desc="bootstrap", unit="resamples", enabled=progress))
    aligned, cos = [], []
    for H in Hs:
        H = H / np.maximum(H.sum(axis=1, keepdims=True), np.finfo(float).tiny)
        m = match_components(Href.T, H.T)
        aligned.append(H[m["permutation"]])
        cos.append(m["cosine_W"])
    S = np.stack(aligned)
    a = (1.0 - ci) / 2.0
    return {"reference": Href, "mean": S.mean(axis=0), "lower": np.quantile(S, a, axis=0),
            "upper": np.quantile(S, 1 - a, axis=0), "cosine": np.array(cos), "samples": S, "scheme": scheme}


def _boot_one(X: np.ndarray, k: int, seed: int, scheme: str, params: dict) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if scheme == "samples":
        Xb = X[rng.integers(0, X.shape[0], X.shape[0])]
    elif scheme == "poisson":
        Xb = rng.poisson(X).astype(float)
    else:
        totals = np.rint(X.sum(axis=1)).astype(int)
        probs = X / np.maximum(X.sum(axis=1, keepdims=True), np.finfo(float).tiny)
        Xb = np.vstack([rng.multinomial(t, p) for t, p in zip(totals, probs, strict=True)]).astype(float)
    keep = Xb.sum(axis=1) > 0
    return fit_replicate(Xb[keep], k, seed, params)[1]
