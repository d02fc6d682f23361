"""Graphs over samples or features for graph-regularized NMF: k-nearest neighbours and spatial neighbours.

Each builder returns a symmetric, non-negative ``scipy.sparse`` adjacency with a
zero diagonal, ready for :class:`nmfkit.penalties.GraphLaplacian` (through
:func:`nmfkit.methods.graph_nmf` or ``nmf(..., penalties_W=...)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit._validation import InvalidInputError

__all__ = ["sample_distances", "knn_graph", "spatial_graph"]


def sample_distances(X: Any) -> np.ndarray:
    """Euclidean distances between the rows (samples) of X, as the reference code computes them.

    ``sqrt(max(|x_i|^2 + |x_j|^2 - 2 x_i.x_j, 0))`` symmetrised by an elementwise
    maximum, with an exact zero diagonal.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_samples)
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
    sq = np.einsum("ij,ij->i", X, X)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (X @ X.T), 0.0))
    D = np.maximum(D, D.T)
    np.fill_diagonal(D, 0.0)
    return D


def knn_graph(X: Any, n_neighbors: int = 5, *, weight: str = "heat", power: float = 1.5) -> sp.csr_matrix:
    """Symmetric k-nearest-neighbour graph of the rows of X (GNMF's graph).

    Weights ``exp(-d^2 / d_max^power)`` (``weight="heat"``, ``d_max`` the largest
    pairwise distance, the baseline setting of the persistent-NMF paper) or 1
    (``"binary"``); symmetrised by the elementwise maximum.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_neighbors : int, default=5
    weight : {"heat", "binary"}, default="heat"
    power : float, default=1.5

    Returns
    -------
    csr_matrix of shape (n_samples, n_samples)
    """
    from sklearn.neighbors import NearestNeighbors

    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
    n = Xd.shape[0]
    k = min(n_neighbors, n - 1)
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(Xd).kneighbors(Xd)
    rows = np.repeat(np.arange(n), k)
    d = dist[:, 1:].ravel()
    if weight == "heat":
        dmax = float(sample_distances(Xd).max())
        w = np.exp(-(d * d) / max(dmax, 1e-300) ** power)
    else:
        w = np.ones_like(d)
    A = sp.csr_matrix((w, (rows, idx[:, 1:].ravel())), shape=(n, n))
    return A.maximum(A.T).tocsr()


def spatial_graph(coords: Any, *, n_neighbors: int | None = 6, radius: float | None = None,
                  weight: str = "binary", bandwidth: float | None = None) -> sp.csr_matrix:
    """Spatial neighbours from coordinates (spots, cells or pixels): the ``k`` nearest, or all within ``radius``.

    As used by spatial transcriptomics (e.g. 6 neighbours on a Visium hexagonal
    grid, or a radius in microns).

    Parameters
    ----------
    coords : array-like of shape (n_samples, n_dims)
        Spatial coordinates (2-D or 3-D).
    n_neighbors : int or None, default=6
        The ``k`` nearest neighbours (ignored when ``radius`` is given).
    radius : float, optional
        Every pair closer than ``radius``.
    weight : {"binary", "gaussian"}, default="binary"
        1 per edge, or ``exp(-d^2 / (2 bandwidth^2))``.
    bandwidth : float, optional
        For ``weight="gaussian"``; default the median edge length.

    Returns
    -------
    csr_matrix of shape (n_samples, n_samples)
        Symmetric (elementwise maximum), zero diagonal.
    """
    from sklearn.neighbors import NearestNeighbors

    C = np.asarray(coords, dtype=float)
    if C.ndim != 2 or not np.all(np.isfinite(C)):
        msg = f"coords must be a finite 2-D array (n_samples, n_dims); got shape {C.shape}."
        raise InvalidInputError(msg)
    if weight not in ("binary", "gaussian"):
        msg = f"weight must be 'binary' or 'gaussian'; got {weight!r}."
        raise InvalidInputError(msg)
    n = C.shape[0]
    nn = NearestNeighbors().fit(C)
    if radius is not None:
        if radius <= 0:
            msg = f"radius must be > 0; got {radius}."
            raise InvalidInputError(msg)
        G = nn.radius_neighbors_graph(C, radius=radius, mode="connectivity")
    else:
        if n_neighbors is None or n_neighbors < 1:
            msg = f"n_neighbors must be >= 1 (or pass radius); got {n_neighbors}."
            raise InvalidInputError(msg)
        G = nn.kneighbors_graph(C, n_neighbors=min(n_neighbors + 1, n), mode="connectivity")
    G = sp.csr_matrix(G)
    G.setdiag(0.0)  # each point is its own neighbour in the query
    G.eliminate_zeros()
    rows, cols = G.nonzero()
    d = np.linalg.norm(C[rows] - C[cols], axis=1)
    if weight == "binary":
        w = np.ones_like(d)
    else:
        h = float(bandwidth) if bandwidth is not None else float(np.median(d)) if d.size else 1.0
        h = h if h > 0 else 1.0
        w = np.exp(-(d * d) / (2.0 * h * h))
    A = sp.csr_matrix((w, (rows, cols)), shape=(n, n))
    return A.maximum(A.T).tocsr()
