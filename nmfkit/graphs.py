"""Graphs over samples or features for graph-regularized NMF: k-nearest neighbours and spatial neighbours.

Each builder returns a symmetric, non-negative ``scipy.sparse`` adjacency with a
zero diagonal, ready for :class:`nmfkit.penalties.GraphLaplacian` (through
:func:`nmfkit.methods.graph_nmf` or ``nmf(..., penalties_W=...)``). The
persistent homology of the samples (:func:`death_times`, :func:`persistence_scales`)
and the one graph per scale it defines (:class:`ScaleGraphs`) are persistent NMF's
(:mod:`nmfkit.methods.persistent`, which re-exports them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit._validation import InvalidInputError

__all__ = ["sample_distances", "knn_graph", "tnmf_graph", "ktnmf_graph", "fuzzy_union", "spatial_graph",
           "death_times", "persistence_scales", "ScaleGraphs"]


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
    Xd, dist, idx = _neighbours(X, n_neighbors)
    w = _heat(Xd, dist, power) if weight == "heat" else np.ones(dist.size)
    A = _directed(w, idx)
    return A.maximum(A.T).tocsr()


def _neighbours(X: Any, n_neighbors: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The samples as a dense array, and each one's ``n_neighbors`` nearest others: distances and indices (n, k)."""
    from sklearn.neighbors import NearestNeighbors

    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
    k = min(n_neighbors, Xd.shape[0] - 1)
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(Xd).kneighbors(Xd)
    return Xd, dist[:, 1:], idx[:, 1:]


def _heat(Xd: np.ndarray, dist: np.ndarray, power: float) -> np.ndarray:
    """``exp(-d^2 / d_max^power)`` of the neighbour distances, ``d_max`` the largest pairwise distance (flat)."""
    d = dist.ravel()
    dmax = float(sample_distances(Xd).max())
    return np.exp(-(d * d) / max(dmax, 1e-300) ** power)


def _directed(values: np.ndarray, idx: np.ndarray) -> sp.csr_matrix:
    """The directed graph with ``values`` (flat, row-major) on the edges from each sample to its neighbours ``idx``."""
    n, k = idx.shape
    return sp.csr_matrix((values, (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))


def _level_weights(weights: Any) -> np.ndarray:
    w = np.asarray(weights, dtype=float).ravel()
    if w.size == 0 or np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise InvalidInputError(f"weights must be non-negative with a positive sum; got {list(w)}")
    return w / w.sum()


def fuzzy_union(A: sp.spmatrix) -> sp.csr_matrix:
    """``A + A^T - A * A^T`` (elementwise): the symmetric fuzzy union of a graph with entries in [0, 1]."""
    A = sp.csr_matrix(A)
    return (A + A.T - A.multiply(A.T)).tocsr()


def tnmf_graph(X: Any, n_neighbors: int = 10, *, weights: Any = (1, 0, 1, 0, 1, 0, 1, 1),
               power: float = 1.5) -> sp.csr_matrix:
    """The filtered k-NN graph of TNMF (Hozumi & Wei 2024), a baseline of persistent NMF.

    The directed k-nearest-neighbour heat kernel ``K_ij = exp(-d_ij^2 / d_max^power)``
    (``j`` among the ``n_neighbors`` nearest of ``i``) is filtered at ``L = len(weights)``
    levels: with ``l_min``, ``l_max`` the smallest and largest kernel values,
    level ``i = 0, ..., L-1`` adds the weight ``w_{L-i}`` (weights normalised to
    sum 1, 1-based) to every entry with ``K_ij >= l_min + (i / L)(l_max - l_min)``.
    So the strongest edges gather the most weight, and an entry is at most 1. The
    result is symmetrised by the fuzzy union ``A + A^T - A * A^T``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_neighbors : int, default=10
    weights : sequence of float, default=(1, 0, 1, 0, 1, 0, 1, 1)
        Level weights ``w_1, ..., w_L`` (the persistent-NMF paper's setting).
    power : float, default=1.5

    Returns
    -------
    csr_matrix of shape (n_samples, n_samples)

    References
    ----------
    .. [1] Y. Hozumi and G.-W. Wei, "Analyzing single cell RNA sequencing with
       topological nonnegative matrix factorization", J. Comput. Appl. Math. 445
       (2024) 115842. :doi:`10.1016/j.cam.2024.115842`
    """
    w = _level_weights(weights)
    Xd, dist, idx = _neighbours(X, n_neighbors)
    kern = _heat(Xd, dist, power)
    lo, hi = float(kern.min()), float(kern.max())
    L = w.size
    vals = np.zeros_like(kern)
    for i in range(L):
        vals += w[L - 1 - i] * (kern >= lo + (i / L) * (hi - lo))
    A = _directed(vals, idx)
    A.eliminate_zeros()
    return fuzzy_union(A)


def ktnmf_graph(X: Any, *, weights: Any = (1, 0, 1, 0, 1, 0, 1, 1)) -> sp.csr_matrix:
    """The k-NN persistent graph of kTNMF (Hozumi & Wei 2024), a baseline of persistent NMF.

    For ``r = 1, ..., L`` (``L = len(weights)``, weights normalised to sum 1) the
    weight ``w_r`` is added to the edges from each sample to its ``r`` nearest
    neighbours, so the ``q``-th nearest neighbour carries ``w_q + ... + w_L``;
    the result is symmetrised by the fuzzy union ``A + A^T - A * A^T``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    weights : sequence of float, default=(1, 0, 1, 0, 1, 0, 1, 1)

    Returns
    -------
    csr_matrix of shape (n_samples, n_samples)

    References
    ----------
    .. [1] Y. Hozumi and G.-W. Wei, J. Comput. Appl. Math. 445 (2024) 115842.
    """
    w = _level_weights(weights)
    _, _, idx = _neighbours(X, w.size)
    n, k = idx.shape
    per_rank = np.cumsum(w[::-1])[::-1][:k]  # q-th neighbour: w_q + ... + w_L
    A = _directed(np.tile(per_rank, n), idx)
    A.eliminate_zeros()
    return fuzzy_union(A)


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


# ---------------------------------------------------------------------------------------------
# persistent homology of the samples: death times, scales and one graph per scale
# ---------------------------------------------------------------------------------------------
def death_times(D: np.ndarray) -> np.ndarray:
    """Death times of the 0-dimensional persistence of the Vietoris-Rips filtration of ``D``.

    Every bar is born at 0 and dies when its component merges into another: the
    ``N - 1`` death times are the edge lengths of a minimum spanning tree (a
    library MST). Zero distances (duplicate samples) are merged first and give
    zero death times, which a sparse MST routine would silently drop.

    Parameters
    ----------
    D : ndarray of shape (N, N)
        Symmetric distances, zero diagonal.

    Returns
    -------
    ndarray of shape (N - 1,), ascending
    """
    from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

    N = D.shape[0]
    if N < 2:
        return np.zeros(0)
    zero = (D == 0) & ~np.eye(N, dtype=bool)
    n_groups, group = connected_components(sp.csr_matrix(zero), directed=False)
    reps = np.array([np.flatnonzero(group == g)[0] for g in range(n_groups)])
    deaths = [np.zeros(N - n_groups)]
    if n_groups > 1:
        tree = minimum_spanning_tree(D[np.ix_(reps, reps)])
        deaths.append(np.asarray(tree.data, dtype=float))
    return np.sort(np.concatenate(deaths))


def persistence_scales(D: np.ndarray, *, include_complete_graph: bool = True, dedupe: bool = False,
                       max_scales: int | None = None, offset: float = 1e-9, deaths: Any = None) -> np.ndarray:
    """The canonical scale set: every death time, plus ``max(D) + offset`` (the complete graph).

    Parameters
    ----------
    D : ndarray of shape (N, N)
    include_complete_graph : bool, default=True
    dedupe : bool, default=False
        Drop repeated death times (the reference code keeps them).
    max_scales : int, optional
        Keep at most this many scales: the finest, the coarsest, and the death
        times whose component count persists longest (largest gap to the next
        death time). Not in the paper; for large N.
    offset : float, default=1e-9
    deaths : array, optional
        :func:`death_times` of ``D`` when already computed.

    Returns
    -------
    ndarray, ascending: ``eps_1 <= ... <= eps_T``
    """
    values = list(death_times(D) if deaths is None else deaths)
    if include_complete_graph or not values:
        values.append(float(D.max()) + offset)
    eps = np.sort(np.asarray(values, dtype=float))
    if dedupe:
        eps = np.unique(eps)
    if max_scales is not None and len(eps) > max_scales:
        if max_scales < 2:
            msg = f"max_scales must be at least 2 (the finest and the coarsest scale); got {max_scales}."
            raise InvalidInputError(msg)
        gaps = np.diff(eps)[1:-1]  # persistence of the component count entered at eps[1..T-2]
        keep = 1 + np.argsort(-gaps, kind="stable")[: max_scales - 2]
        eps = eps[np.sort(np.concatenate([[0], keep, [len(eps) - 1]]))]
    return eps


class ScaleGraphs:
    """Heat-kernel graphs at every scale, built one at a time from one sorted edge list.

    ``A_t[i, j] = exp(-d_ij^2 / eps_t^power)`` for ``d_ij < eps_t`` (strict, the
    reference code's rule; ``threshold="inclusive"`` uses ``<=``), ``i != j``. The
    pairs under a threshold form a prefix of the edge list sorted once by
    distance, so a graph costs O(its edges) and nothing is stored per scale:
    memory is O(N^2) for the edge list instead of three dense N x N matrices per
    scale. Graphs with more than a quarter of all pairs (or with at most 200
    nodes) are returned dense.

    Parameters
    ----------
    D : ndarray of shape (N, N)
    eps : array of shape (T,)
    power : float, default=1.5
    threshold : {"strict", "inclusive"}, default="strict"
    """

    def __init__(self, D: np.ndarray, eps: np.ndarray, *, power: float = 1.5, threshold: str = "strict") -> None:
        N = D.shape[0]
        iu, ju = np.triu_indices(N, k=1)
        d = D[iu, ju]
        order = np.argsort(d, kind="stable")
        self.i, self.j, self.d = iu[order].astype(np.int32), ju[order].astype(np.int32), d[order]
        self.eps = np.asarray(eps, dtype=float)
        self.power, self.threshold, self.N = power, threshold, N
        self.counts = np.searchsorted(self.d, self.eps, side="left" if threshold == "strict" else "right")

    def __len__(self) -> int:
        return len(self.eps)

    def adjacency(self, t: int) -> tuple[Any, np.ndarray]:
        """``(A_t, degree_t)`` for the 0-based scale index ``t`` (``t = 0`` is the finest)."""
        c = int(self.counts[t])
        d = self.d[:c]
        w = np.exp(-(d * d) / self.eps[t] ** self.power)
        i, j, N = self.i[:c], self.j[:c], self.N
        if 2 * c > N * N // 4 or N <= 200:  # dense: mostly full, or small enough that sparse overhead dominates
            A = np.zeros((N, N))
            A[i, j] = w
            A[j, i] = w
            return A, A.sum(axis=1)
        A = sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(N, N))
        degree = np.bincount(i, weights=w, minlength=N) + np.bincount(j, weights=w, minlength=N)
        return A, degree

    def laplacian_increments(self) -> list[tuple[float, float]]:
        """``||L_{t+1} - L_t||_2`` and its bound for every pair of consecutive scales (persistent NMF, §1.8 (a)).

        On ``[eps_t, eps_{t+1})`` no edge appears and each weight moves by at most
        ``p / (e eps_t)`` per unit of ``eps`` (``p`` the kernel power); ``||E_ij||_2 = 2``
        for the Laplacian of one edge. So
        ``||L_{t+1} - L_t||_2 <= 2 m_t p / (e eps_t) (eps_{t+1} - eps_t) + 2 sum_new w_ij(eps_{t+1})``
        with ``m_t`` the edges at scale ``t`` and the sum over the edges that appear.
        Each Laplacian is built once and the norms are computed densely (O(T N^3)):
        a diagnostic for data of up to a few thousand samples.

        Returns
        -------
        list of (float, float)
            ``(increment, bound)`` for the 0-based scales ``t`` and ``t + 1``, ``t = 0 .. T - 2``.
        """
        def laplacian(t: int) -> np.ndarray:
            A, degree = self.adjacency(t)
            return np.diag(degree) - (A.toarray() if sp.issparse(A) else A)

        out = []
        previous = laplacian(0)
        for t in range(len(self) - 1):
            current = laplacian(t + 1)
            increment = float(np.max(np.abs(np.linalg.eigvalsh(current - previous))))
            lo, hi = int(self.counts[t]), int(self.counts[t + 1])
            new = self.d[lo:hi]
            step = self.eps[t + 1] - self.eps[t]
            bound = (2.0 * lo * self.power / (np.e * self.eps[t]) * step
                     + 2.0 * float(np.sum(np.exp(-(new * new) / self.eps[t + 1] ** self.power))))
            out.append((increment, float(bound)))
            previous = current
        return out

    def n_components(self, t: int) -> int:
        """Connected components of the graph at scale ``t`` (from its edges, not its weights)."""
        from scipy.sparse.csgraph import connected_components

        c = int(self.counts[t])
        G = sp.csr_matrix((np.ones(c), (self.i[:c], self.j[:c])), shape=(self.N, self.N))
        return int(connected_components(G, directed=False)[0])
