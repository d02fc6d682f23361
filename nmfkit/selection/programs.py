"""Gene programs in cNMF's units: TPM-normalised data, programs in TPM, z-scored gene scores.

After a consensus (:func:`nmfkit.selection.consensus`) cNMF (Kotliar et al. 2019) reports each
program twice besides its spectrum on the variable genes: in TPM units over all genes (the
spectra refitted by non-negative least squares to the TPM data with the usages fixed, each
program scaled to sum to 10^6) and as gene scores (the ordinary least-squares coefficients of
every gene's z-scored TPM on the usages). This module computes both from any usages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._validation import InvalidInputError
from nmfkit.solvers import nnls_project

__all__ = ["tpm", "variable_genes", "scale_genes", "gene_scores", "tpm_programs"]


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
    mean = np.asarray(T.mean(axis=0), dtype=float).ravel()
    if sp.issparse(T):
        sq = np.asarray(T.multiply(T).mean(axis=0), dtype=float).ravel()
        var = sq - mean**2
        # E[x^2] - m^2 leaves round-off where the gene is constant: a coefficient of variation below 1e-6 is 0
        return mean, np.where(var > 1e-12 * mean**2, var, 0.0)
    return mean, np.asarray(T, dtype=float).var(axis=0)


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


def _dense64(T: Any) -> np.ndarray:
    """``T`` as a dense float64 array, sparse or dense, whatever its dtype (the refits run in float64)."""
    return np.asarray(T.toarray() if sp.issparse(T) else T, dtype=float)


def _usages(usages: Any, n_cells: int, caller: str) -> np.ndarray:
    U = np.asarray(usages, dtype=float)
    if U.ndim != 2 or U.shape[0] != n_cells:
        msg = f"{caller}: usages must have shape (n_cells={n_cells}, n_programs); got {U.shape}."
        raise InvalidInputError(msg)
    if not np.all(np.isfinite(U)) or np.any(U < 0):
        msg = f"{caller}: usages must be finite and non-negative."
        raise InvalidInputError(msg)
    return U


def gene_scores(usages: Any, tpm_data: Any) -> np.ndarray:
    """cNMF's gene scores: every gene's z-scored TPM regressed on the usages (least squares, no intercept).

    ``Z = (T - mean) / std`` per gene (population standard deviation, as cNMF's
    TPM statistics), then ``scores = pinv(U) Z``. A gene that never varies gets
    zero scores.

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
    Td = _dense64(T)
    mean, std = Td.mean(axis=0), Td.std(axis=0)
    Z = np.where(std > 0, (Td - mean) / np.where(std > 0, std, 1.0), 0.0)
    return np.linalg.pinv(U) @ Z


def tpm_programs(usages: Any, tpm_data: Any) -> np.ndarray:
    """cNMF's programs in TPM units: spectra refitted to the TPM data with the usages fixed.

    The usages are scaled to sum to one per cell, the spectra ``S >= 0`` minimise
    ``||T - U S||_F`` (non-negative least squares, one gene at a time, all genes
    together), and each program is scaled to sum to 10^6.

    Parameters
    ----------
    usages : array-like of shape (n_cells, n_programs)
    tpm_data : {array-like, sparse matrix} of shape (n_cells, n_genes)

    Returns
    -------
    ndarray of shape (n_programs, n_genes)
    """
    T, _ = V.check_data(tpm_data, caller="tpm_programs")
    U = _usages(usages, T.shape[0], "tpm_programs")
    sums = U.sum(axis=1, keepdims=True)
    Un = np.divide(U, sums, out=np.zeros_like(U), where=sums > 0)  # a cell using no program: no information
    Td = _dense64(T)
    S = nnls_project(Td.T, Un.T).T
    totals = S.sum(axis=1, keepdims=True)
    return np.divide(S, totals, out=np.zeros_like(S), where=totals > 0) * 1e6
