"""Gene programs in cNMF's units: TPM-normalised data, programs in TPM, z-scored gene scores.

After a consensus (:func:`nmfkit.selection.consensus`) cNMF (Kotliar et al. 2019) reports each
program twice besides its spectrum on the variable genes: in TPM units over all genes (the
spectra refitted by non-negative least squares to the TPM data with the usages fixed, each
program scaled to sum to 10^6) and as gene scores (the ordinary least-squares coefficients of
every gene's z-scored TPM on the usages). This module computes both from any usages.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._validation import InvalidInputError
from nmfkit.solvers import nnls_project

__all__ = ["tpm", "variable_genes", "scale_genes", "gene_scores", "tpm_programs", "gene_programs",
           "GenePrograms"]


def tpm(counts: Any) -> Any:
    """Counts scaled per cell (row) to sum to 10^6 (transcripts per million); sparse stays sparse.

    Parameters
    ----------
    counts : {array-like, sparse matrix} of shape (n_cells, n_genes)

    Returns
    -------
    ndarray or csr_matrix of shape (n_cells, n_genes)

    Raises
    ------
    InvalidInputError
        For negative or non-finite counts, or a cell with no counts.
    """
    X, _ = V.check_data(counts, caller="tpm")
    totals = np.asarray(X.sum(axis=1)).ravel()
    if np.any(totals == 0):
        msg = f"{int(np.sum(totals == 0))} cell(s) have no counts; remove them before computing TPM."
        raise InvalidInputError(msg)
    scale = 1e6 / totals
    if sp.issparse(X):
        return sp.csr_matrix(sp.diags(scale) @ X)
    return np.asarray(X, dtype=float) * scale[:, None]


def _gene_moments(T: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene mean and population variance, sparse or dense, without densifying."""
    if sp.issparse(T):
        T = T.astype(np.float64)  # float32 squares summed over many cells lose digits
        mean = np.asarray(T.mean(axis=0)).ravel()
        sq = np.asarray(T.multiply(T).mean(axis=0)).ravel()
        var = sq - mean**2
        # E[x^2] - m^2 leaves round-off where the gene is constant: a coefficient of variation below 1e-6 is 0
        return mean, np.where(var > 1e-12 * mean**2, var, 0.0)
    T = np.asarray(T, dtype=float)
    return T.mean(axis=0), T.var(axis=0)


def variable_genes(tpm_data: Any, n_genes: int = 2000) -> dict:
    """cNMF's over-dispersed genes: the largest ratios of Fano factor to the expected Fano factor.

    From each gene's TPM mean ``m`` and population variance ``v`` (Fano factor
    ``F = v / m``), the expected Fano factor is ``A^2 m + B^2`` (the v-score
    model of Klein et al. 2015): ``A`` is the smallest coefficient of variation
    among the 20 most expressed genes, ``B^2`` the median Fano factor of the
    genes inside the 10-90 % quantile box of both mean and Fano factor. The
    ``n_genes`` genes with the largest ``F / (A^2 m + B^2)`` are selected.

    Parameters
    ----------
    tpm_data : {array-like, sparse matrix} of shape (n_cells, n_genes_total)
        TPM data (:func:`tpm`).
    n_genes : int, default=2000
        Genes to select (all of them when there are fewer).

    Returns
    -------
    dict
        ``mask`` (bool, n_genes_total), ``order`` (selected indices, most
        over-dispersed first), ``fano_ratio``, ``mean``, ``fano``, ``A``, ``B``.

    References
    ----------
    .. [1] A. M. Klein et al., "Droplet barcoding for single-cell transcriptomics
       applied to embryonic stem cells", Cell 161 (2015) 1187-1201.
       :doi:`10.1016/j.cell.2015.04.044`
    .. [2] D. Kotliar et al., eLife 8 (2019) e43803.
    """
    T, _ = V.check_data(tpm_data, caller="variable_genes")
    n = V.check_interval(n_genes, "n_genes", "variable_genes", kind="int", low=1)
    mean, var = _gene_moments(T)
    expressed = mean > 0
    if expressed.sum() < 2:
        msg = f"variable_genes needs at least 2 expressed genes; got {int(expressed.sum())}."
        raise InvalidInputError(msg)
    fano = np.where(expressed, var / np.where(expressed, mean, 1.0), 0.0)
    m, f = mean[expressed], fano[expressed]
    top = np.argsort(-m, kind="stable")[:20]
    A = float(np.min(np.sqrt(var[expressed][top]) / m[top]))
    (m_lo, m_hi), (f_lo, f_hi) = np.quantile(m, [0.1, 0.9]), np.quantile(f, [0.1, 0.9])
    box = (f > f_lo) & (f < f_hi) & (m > m_lo) & (m < m_hi)
    B = float(np.sqrt(np.median(f[box] if box.any() else f)))
    ratio = np.where(expressed, fano / (A**2 * mean + B**2), -np.inf)
    order = np.argsort(-ratio, kind="stable")[: min(n, int(expressed.sum()))]
    mask = np.zeros(mean.size, dtype=bool)
    mask[order] = True
    return {"mask": mask, "order": order, "fano_ratio": ratio, "mean": mean, "fano": fano, "A": A, "B": B}


def scale_genes(counts: Any, genes: Any = None) -> Any:
    """cNMF's input to the factorization: the chosen genes' counts, each divided by its standard deviation.

    No centring (the data stay non-negative); the sample standard deviation
    (``ddof=1``) as cNMF uses for dense data; sparse input stays sparse. A gene
    with no variance is left unscaled.

    Parameters
    ----------
    counts : {array-like, sparse matrix} of shape (n_cells, n_genes_total)
    genes : array-like of bool or int, optional
        The genes to keep (e.g. ``variable_genes(...)["mask"]``); default all.

    Returns
    -------
    ndarray or csr_matrix of shape (n_cells, n_kept)
    """
    X, _ = V.check_data(counts, caller="scale_genes")
    if genes is not None:
        X = X[:, np.asarray(genes)]
    mean, var = _gene_moments(X)
    n = X.shape[0]
    sd = np.sqrt(var * n / max(n - 1, 1))
    inv = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 1.0)
    if sp.issparse(X):
        return sp.csr_matrix(X @ sp.diags(inv))
    return np.asarray(X, dtype=float) * inv


def _usages(usages: Any, n_cells: int, caller: str) -> np.ndarray:
    U = np.asarray(usages, dtype=float)
    if U.ndim != 2 or U.shape[0] != n_cells:
        msg = f"{caller}: usages must have shape (n_cells={n_cells}, n_programs); got {U.shape}."
        raise InvalidInputError(msg)
    if not np.all(np.isfinite(U)) or np.any(U < 0):
        msg = f"{caller}: usages must be finite and non-negative."
        raise InvalidInputError(msg)
    return U


def _t_times(T: Any, M: np.ndarray) -> np.ndarray:
    """``T^T M`` (genes x programs) in float64 for sparse or dense ``T``, never densifying a sparse ``T``."""
    if sp.issparse(T):
        return np.asarray((T.T @ M), dtype=float)
    return np.asarray(T, dtype=float).T @ M


def gene_scores(usages: Any, tpm_data: Any) -> np.ndarray:
    """cNMF's gene scores: every gene's z-scored TPM regressed on the usages (least squares, no intercept).

    ``Z = (T - mean) / std`` per gene (population standard deviation, as cNMF's
    TPM statistics), then ``scores = pinv(U) Z``. A gene that never varies gets
    zero scores. ``Z`` is never formed: ``pinv(U) Z = (pinv(U) T - pinv(U) 1 mean^T) / std``,
    so a sparse ``T`` stays sparse (memory of the order of its non-zeros).

    Parameters
    ----------
    usages : array-like of shape (n_cells, n_programs)
        Usages of the programs, e.g. the ``W`` of :func:`nmfkit.selection.consensus`.
    tpm_data : {array-like, sparse matrix} of shape (n_cells, n_genes)
        TPM data (:func:`tpm`) of every gene to score.

    Returns
    -------
    ndarray of shape (n_programs, n_genes)

    References
    ----------
    .. [1] D. Kotliar et al., "Identifying gene expression programs of cell-type
       identity and cellular activity with single-cell RNA-Seq", eLife 8 (2019)
       e43803. :doi:`10.7554/eLife.43803`
    """
    T, _ = V.check_data(tpm_data, caller="gene_scores")
    U = _usages(usages, T.shape[0], "gene_scores")
    mean, var = _gene_moments(T)
    std = np.sqrt(var)
    P = np.linalg.pinv(U)  # (k, n)
    PT = _t_times(T, P.T).T - P.sum(axis=1)[:, None] * mean[None, :]
    return np.where(std > 0, PT / np.where(std > 0, std, 1.0), 0.0)


def tpm_programs(usages: Any, tpm_data: Any, *, normalize: bool = False) -> np.ndarray:
    """cNMF's programs in TPM units: spectra refitted to the TPM data with the usages fixed.

    The usages are scaled to sum to one per cell and the spectra ``S >= 0``
    minimise ``||T - U S||_F`` exactly (non-negative least squares, every gene at
    once, from ``U^T U`` and ``U^T T``: a sparse ``T`` is never densified). As
    the usages sum to one and every cell's TPM to 10^6, each program sums to
    about 10^6; ``normalize=True`` makes that exact.

    Parameters
    ----------
    usages : array-like of shape (n_cells, n_programs)
    tpm_data : {array-like, sparse matrix} of shape (n_cells, n_genes)
    normalize : bool, default=False
        Scale every program to sum to 10^6 (cnmf's ``normalize_tpm_spectra``, off there too).

    Returns
    -------
    ndarray of shape (n_programs, n_genes)
    """
    T, _ = V.check_data(tpm_data, caller="tpm_programs")
    U = _usages(usages, T.shape[0], "tpm_programs")
    sums = U.sum(axis=1, keepdims=True)
    Un = np.divide(U, sums, out=np.zeros_like(U), where=sums > 0)  # a cell using no program: no information
    S = nnls_project(T.T, Un.T).T
    if not normalize:
        return S
    totals = S.sum(axis=1, keepdims=True)
    return np.divide(S, totals, out=np.zeros_like(S), where=totals > 0) * 1e6


#: the per-rank results a checkpoint keeps (with W, H and the stop information)
_RANK_KEYS = ("stability", "loss_value", "kept", "local_density", "replicate_components", "replicate_labels",
              "component_silhouette", "density_threshold", "n_runs", "selection_stability", "selection_error")


@dataclass
class GenePrograms:
    """What :func:`gene_programs` returns: the k-selection survey and the programs at the chosen rank.

    Attributes
    ----------
    ranks : list of int
        The ranks surveyed.
    stability, prediction_error : ndarray of shape (n_ranks,)
        cNMF's k-selection statistics: the silhouette of every replicate program clustered into k
        groups (no density filter, as cnmf's plot), and ``||X - U S||_F^2`` of the usages refitted
        to those clusters' medians, on the scaled counts.
    n_components : int
        The rank the programs below are for.
    usages : ndarray of shape (n_cells, n_components)
        cNMF's final usages: refitted (NNLS) to the TPM of the variable genes scaled by their standard
        deviation, against the TPM programs scaled alike. Programs are ordered by total usage.
    spectra : ndarray of shape (n_components, n_variable_genes)
        The consensus programs on the variable genes (cluster medians, each summing to one).
    tpm : ndarray of shape (n_components, n_genes)
        Programs in TPM units over every gene (:func:`tpm_programs`).
    scores : ndarray of shape (n_components, n_genes)
        Z-scored gene scores over every gene (:func:`gene_scores`).
    genes : ndarray of bool, shape (n_genes,)
        The variable genes (the columns of ``spectra``, in input order).
    consensus : FitResult
        The consensus at ``n_components`` on the scaled counts, programs in the order above
        (``extras``: replicate programs, their labels and local densities, stability, ...).
    fits : dict
        The consensus of every rank surveyed (programs in clustering order).
    elapsed : float
        Seconds of the whole workflow.
    """

    ranks: list
    stability: np.ndarray
    prediction_error: np.ndarray
    n_components: int
    usages: np.ndarray
    spectra: np.ndarray
    tpm: np.ndarray
    scores: np.ndarray
    genes: np.ndarray
    consensus: Any
    fits: dict = field(repr=False, default_factory=dict)
    elapsed: float = 0.0

    def top_genes(self, n: int = 100) -> np.ndarray:
        """Indices of the ``n`` highest-scoring genes of every program, best first: shape (n, n_components)."""
        return np.argsort(-self.scores, axis=1, kind="stable")[:, :n].T

    def plot_k_selection(self, ax: Any = None) -> Any:
        """cNMF's k-selection plot (:func:`nmfkit.plotting.plot_k_selection`); returns the two axes."""
        from nmfkit.plotting import plot_k_selection

        return plot_k_selection(self.ranks, self.stability, self.prediction_error, self.n_components, ax=ax)

    def plot_clustergram(self) -> Any:
        """cNMF's consensus clustergram at the chosen rank (:func:`nmfkit.plotting.plot_clustergram`)."""
        from nmfkit.plotting import plot_clustergram

        ex = self.consensus.extras
        return plot_clustergram(ex["replicate_components"], ex["replicate_labels"], ex["local_density"],
                                ex["density_threshold"], self.n_components)


def _add_selection_stats(X: Any, result: Any, n_runs: int, neighbors_fraction: float) -> Any:
    """cNMF's k-selection statistics of a consensus, added to its extras: the silhouette of every replicate
    program clustered into k groups (no density filter) and the error of the usages refitted to them."""
    from nmfkit.selection.components import cluster_components, refit_usages

    pooled = np.asarray(result.extras["replicate_components"], dtype=float)
    k = result.H.shape[0]
    n_nb = max(1, int(round(neighbors_fraction * n_runs)))
    every = cluster_components(pooled, k, n_nb, 2.0)  # cnmf's k-selection keeps every replicate program
    error = 2.0 * refit_usages(X, every["H"])[1]
    sil = every["silhouette"]
    result.extras.update(selection_stability=math.nan if sil is None else float(np.mean(sil)),
                         selection_error=error)
    return result


def _checkpoint(folder: Any, k: int, fingerprint: dict) -> Any:
    """The :class:`nmfkit.checkpoint.Checkpoint` of rank ``k`` in ``folder`` (created), or None without a folder."""
    from pathlib import Path

    from nmfkit.checkpoint import Checkpoint

    if folder is None:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Checkpoint(Path(folder) / f"rank_{k}.npz", 1, fingerprint)


def _load_rank(ckpt: Any) -> Any:
    """The rank's result kept in ``ckpt`` (fingerprint checked), or None when there is none."""
    from nmfkit.backend import get_backend
    from nmfkit.driver import FitResult

    if ckpt is None or not ckpt.exists():
        return None
    like = np.zeros(1)
    state, n_iter, _, _ = ckpt.load(get_backend(like), like)
    extras = {key: state[key] for key in _RANK_KEYS}
    extras.update({key: float(extras[key]) for key in ("stability", "loss_value", "kept", "density_threshold",
                                                        "selection_stability", "selection_error")})
    extras["n_runs"] = int(extras["n_runs"])
    return FitResult(state["W"], state["H"], n_iter=n_iter, converged=bool(state["converged"]),
                     stop_reason=str(state["stop_reason"]), objective=float(state["objective"]),
                     extras={"method": "consensus", **extras})


def _save_rank(ckpt: Any, result: Any) -> None:
    """Keep a finished rank in ``ckpt`` (atomic write); nothing without a checkpoint."""
    from nmfkit.backend import get_backend

    if ckpt is None:
        return
    state = {key: np.asarray(result.extras[key]) for key in _RANK_KEYS}  # arrays: NaN-safe, unlike JSON scalars
    state.update(W=np.asarray(result.W), H=np.asarray(result.H), converged=np.asarray(result.converged),
                 stop_reason=np.asarray(result.stop_reason), objective=np.asarray(result.objective))
    ckpt.save(result.n_iter, state, [], 0.0, get_backend(np.zeros(1)))


def _survey(X: Any, todo: list, n_runs: int, random_state: Any, n_jobs: int, progress: bool, fit_params: dict) -> Any:
    """Yield ``(k, programs, converged)`` for every rank in ``todo``, in order, from one pool of replicates.

    Every replicate of every rank is one task of the same pool, so a slow replicate of one rank does
    not hold the other processes back until the next rank starts. ``device`` in ``fit_params`` runs
    each rank's replicates as one batch there instead (:func:`nmfkit.selection.run_replicates`).
    """
    from joblib import Parallel, delayed

    from nmfkit._progress import track
    from nmfkit.selection.replicates import replicate_programs, replicate_seeds, run_replicates

    params = dict(fit_params)
    device = params.pop("device", None)
    if device is not None:
        for k in todo:
            batch = run_replicates(X, k, n_runs, random_state=random_state, device=device, progress=progress, **params)
            yield k, [H for _, H, _ in batch], batch.converged
        return
    params = {"init": "random", "max_iter": 1000, **params}  # run_replicates' defaults: the same replicates
    seeds = replicate_seeds(random_state, n_runs)
    jobs = (delayed(replicate_programs)(X, k, s, params) for k in todo for s in seeds)
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    done = iter(track(results, total=len(todo) * n_runs, desc="replicates", unit="replicates", enabled=progress))
    try:
        for k in todo:
            runs = [next(done) for _ in seeds]
            yield k, [H for H, _ in runs], [c for _, c in runs]
    finally:
        with warnings.catch_warnings():  # stopped early (Ctrl-C): the replicates still running are cancelled
            warnings.filterwarnings("ignore", message=".*tasks which were still being processed")
            results.close()


def _say(progress: bool, k: int, ks: list, result: Any, how: str) -> None:
    """One line on stderr per finished rank (when ``progress``)."""
    import sys

    if progress:
        ex = result.extras
        print(f"nmfkit: rank {k} ({ks.index(k) + 1} of {len(ks)}): stability {ex['selection_stability']:.3f}, "
              f"error {ex['selection_error']:.4g} ({how})", file=sys.stderr, flush=True)


def _ordered(result: Any) -> Any:
    """The consensus with its programs ordered by total usage (cnmf's order), largest first."""
    from dataclasses import replace

    W, H = np.asarray(result.W, dtype=float), np.asarray(result.H, dtype=float)
    sums = W.sum(axis=1, keepdims=True)
    share = np.divide(W, sums, out=np.zeros_like(W), where=sums > 0).sum(axis=0)
    order = np.argsort(-share, kind="stable")
    rank_of = np.empty_like(order)
    rank_of[order] = np.arange(order.size)
    labels = np.asarray(result.extras["replicate_labels"])
    extras = dict(result.extras)
    extras.update(replicate_labels=np.where(labels >= 0, rank_of[np.maximum(labels, 0)], -1),
                  component_silhouette=[float(np.asarray(result.extras["component_silhouette"])[g]) for g in order])
    return replace(result, W=W[:, order], H=H[order], extras=extras)


def gene_programs(counts: Any, ranks: Any, n_components: int | None = None, *, n_runs: int = 20,
                  n_genes: int = 2000, density_threshold: float = 0.5, neighbors_fraction: float = 0.3,
                  random_state: Any = 0, n_jobs: int = 1, progress: bool = False, checkpoint: Any = None,
                  **fit_params: Any) -> GenePrograms:
    """cNMF's whole workflow on raw counts: variable genes, consensus programs per rank, TPM programs, gene scores.

    1. TPM per cell (:func:`tpm`); the ``n_genes`` most over-dispersed genes
       (:func:`variable_genes`); their counts scaled to unit variance (:func:`scale_genes`).
    2. For every rank: :func:`nmfkit.consensus` of ``n_runs`` replicates with the local-density
       filter, and cNMF's k-selection statistics (see :class:`GenePrograms`).
    3. At ``n_components`` (default: the most stable rank, the smaller on ties): the programs
       ordered by total usage, in TPM units (:func:`tpm_programs`) and as gene scores
       (:func:`gene_scores`) over every gene, and the usages refitted as cnmf's final step.

    A sparse ``counts`` stays sparse throughout: memory grows with its non-zeros, not with
    cells x genes.

    Parameters
    ----------
    counts : {array-like, sparse matrix} of shape (n_cells, n_genes)
        Raw counts; every cell needs a count.
    ranks : sequence of int
        Ranks to survey (cnmf's ``-k``).
    n_components : int, optional
        The rank to report; one of ``ranks``.
    n_runs : int, default=20
        Replicates per rank.
    n_genes : int, default=2000
        Over-dispersed genes factorized (all expressed genes when there are fewer).
    density_threshold : float, default=0.5
        Local-density filter of the replicate programs (``2`` keeps all).
    neighbors_fraction : float, default=0.3
        Neighbours of the local density, as a fraction of ``n_runs``.
    random_state : int, Generator or None, default=0
    n_jobs : int, default=1
        Parallel processes for the replicates.
    progress : bool, default=False
        A bar per rank and a line per finished rank on stderr.
    checkpoint : str or path, optional
        A folder that keeps every finished rank (``rank_<k>.npz``, written atomically): the same
        call on the same data resumes from the ranks already done, with the same result; a call
        with other data or settings is refused.
    **fit_params
        For the replicates (:func:`nmfkit.nmf`; default ``init="random"``, ``max_iter=1000``).

    Returns
    -------
    GenePrograms

    Notes
    -----
    Differences from cnmf 1.7.1: every refit (usages, TPM programs, final usages) is exact
    non-negative least squares (cnmf runs scikit-learn's coordinate descent with the other
    factor fixed, to its tolerance); the replicates use nmfkit's default solver (cnmf:
    scikit-learn's ``cd``); the density filter keeps programs at or below the threshold (cnmf:
    strictly below); the k-means is seeded with 0 (cnmf: 1).

    References
    ----------
    .. [1] D. Kotliar et al., "Identifying gene expression programs of cell-type identity and
       cellular activity with single-cell RNA-Seq", eLife 8 (2019) e43803. :doi:`10.7554/eLife.43803`
    """
    started = time.perf_counter()
    ks = sorted({int(k) for k in np.atleast_1d(ranks)})
    if not ks or ks[0] < 1:
        msg = f"gene_programs: ranks must be positive integers; got {ranks!r}."
        raise InvalidInputError(msg)
    if n_components is not None and int(n_components) not in ks:
        msg = f"gene_programs: n_components={n_components} is not among ranks={ks}."
        raise InvalidInputError(msg)
    V.check_interval(n_runs, "n_runs", "gene_programs", kind="int", low=2)
    X, _ = V.check_data(counts, caller="gene_programs")
    n_jobs = V.check_interval(n_jobs, "n_jobs", "gene_programs", kind="int", low=-1)
    if n_jobs == 0:
        msg = "gene_programs: n_jobs must be a positive number of processes, or -1 for one per core; got 0."
        raise InvalidInputError(msg)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
    T = tpm(X)
    chosen = variable_genes(T, n_genes)["mask"]
    Xn = scale_genes(X, chosen)
    empty = np.asarray(Xn.sum(axis=1)).ravel() == 0
    if empty.any():
        msg = (f"gene_programs: {int(empty.sum())} cell(s) have no counts in the {int(chosen.sum())} variable genes; "
               "remove them or raise n_genes.")
        raise InvalidInputError(msg)
    V.check_n_components(ks[-1], Xn.shape, "gene_programs")
    fingerprint = {"n_runs": int(n_runs), "n_genes": int(n_genes), "density_threshold": float(density_threshold),
                   "neighbors_fraction": float(neighbors_fraction), "random_state": repr(random_state),
                   "fit_params": repr(sorted(fit_params.items())), "shape": list(X.shape),
                   "genes": np.flatnonzero(chosen).tolist(), "data_sum": float(Xn.sum())}
    from nmfkit.selection.components import consensus_of

    fits: dict = {}
    ckpts = {k: _checkpoint(checkpoint, k, fingerprint) for k in ks}
    for k in ks:
        loaded = _load_rank(ckpts[k])
        if loaded is not None:
            fits[k] = loaded
            _say(progress, k, ks, loaded, "from the checkpoint")
    todo = [k for k in ks if k not in fits]
    t = time.perf_counter()
    for k, programs, converged in _survey(Xn, todo, n_runs, random_state, n_jobs, progress, fit_params):
        result = consensus_of(Xn, k, programs, converged, density_threshold=density_threshold,
                              neighbors_fraction=neighbors_fraction)
        fits[k] = _add_selection_stats(Xn, result, n_runs, neighbors_fraction)
        _save_rank(ckpts[k], fits[k])
        _say(progress, k, ks, fits[k], f"{time.perf_counter() - t:.1f} s since the survey started")
    stability = np.array([fits[k].extras["selection_stability"] for k in ks], dtype=float)
    error = np.array([fits[k].extras["selection_error"] for k in ks], dtype=float)
    if n_components is None:
        n_components = ks[int(np.argmax(np.where(np.isfinite(stability), stability, -np.inf)))]
    result = _ordered(fits[int(n_components)])
    W = np.asarray(result.W, dtype=float)
    programs_tpm = tpm_programs(W, T)
    scores = gene_scores(W, T)
    # cnmf's last step: usages refitted to the variable genes' TPM scaled by its sample standard deviation
    # (scale_genes, as sc.pp.scale without centring), against the TPM programs scaled by the population one
    # (cnmf's refit_usage=True)
    sd0 = np.sqrt(_gene_moments(T[:, chosen])[1])
    usages = nnls_project(scale_genes(T, chosen), programs_tpm[:, chosen] / np.where(sd0 > 0, sd0, 1.0))
    return GenePrograms(ranks=ks, stability=stability, prediction_error=error, n_components=int(n_components),
                        usages=usages, spectra=np.asarray(result.H, dtype=float), tpm=programs_tpm, scores=scores,
                        genes=chosen, consensus=result, fits=fits, elapsed=time.perf_counter() - started)
