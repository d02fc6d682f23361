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

__all__ = ["tpm", "gene_scores", "tpm_programs"]


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
    Td = T.toarray() if sp.issparse(T) else np.asarray(T, dtype=float)
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
    Td = T.toarray() if sp.issparse(T) else np.asarray(T, dtype=float)
    S = nnls_project(Td.T, Un.T).T
    totals = S.sum(axis=1, keepdims=True)
    return np.divide(S, totals, out=np.zeros_like(S), where=totals > 0) * 1e6
