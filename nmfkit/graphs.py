"""Graphs over samples or features for graph-regularized NMF: k-nearest neighbours and spatial neighbours.

Each builder returns a symmetric, non-negative ``scipy.sparse`` adjacency with a
zero diagonal, ready for :class:`nmfkit.penalties.GraphLaplacian` (through
:func:`nmfkit.methods.graph_nmf` or ``nmf(..., penalties_W=...)``). The
persistent homology of the samples (:func:`death_times`, :func:`persistence_scales`)
and the one graph per scale it defines (:class:`ScaleGraphs`) are persistent NMF's
(:mod:`nmfkit.methods.persistent`, which re-exports them).
"""

from __future__ import annotations

from typing import Any, Literal

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
    D = X @ X.T  # in place from here: one N x N array (and one temporary for the symmetrisation)
    D *= -2.0
    D += sq[:, None]
    D += sq[None, :]
    np.maximum(D, 0.0, out=D)
    np.sqrt(D, out=D)
    np.maximum(D, D.T, out=D)
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
    ``N - 1`` death times are the edge lengths of a minimum spanning tree, which
    are the merge heights of single-linkage clustering. They come from SciPy's
    single linkage (an O(N^2) minimum-spanning-tree algorithm on the condensed
    distances: exact values of ``D``, zero distances of duplicate samples
    included, and no sparse copy of all N^2 pairs).

    Parameters
    ----------
    D : ndarray of shape (N, N)
        Symmetric distances, zero diagonal.

    Returns
    -------
    ndarray of shape (N - 1,), ascending
    """
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    if D.shape[0] < 2:
        return np.zeros(0)
    return np.sort(linkage(squareform(D, checks=False), method="single")[:, 2])


def spread_indices(T: int, m: int) -> np.ndarray:
    """At most ``m`` of the scale indices ``0 .. T-1``, evenly spaced in ``log((1 + t) / (T - t))``.

    The spacing is geometric at both ends: in the scale index near the finest scale
    (``t = 0, 1, 3, 7, ...`` at ratio 2) and in the number of connected components
    near the coarsest (``1, 2, 3, 5, 9, ...`` components), so the sparse graphs
    that give the finest embedding and the merges of the last few clusters are
    both kept, and the middle of the filtration, where one merge changes little,
    is thinned. Both ends are always kept.

    Parameters
    ----------
    T : int
    m : int
        At least 2.

    Returns
    -------
    ndarray of int, ascending, ``0`` and ``T - 1`` included.
    """
    if m >= T:
        return np.arange(T)
    t = np.arange(T, dtype=float)
    f = np.log1p(t) - np.log(T - t)

    def pick(n: int) -> np.ndarray:
        y = np.linspace(f[0], f[-1], n)
        hi = np.clip(np.searchsorted(f, y), 1, T - 1)
        lo = hi - 1
        return np.unique(np.where(y - f[lo] <= f[hi] - y, lo, hi))

    best, n = pick(m), m
    while len(best) < m and n < 4 * T:  # near the ends several targets share an index: ask for more
        n += 1
        more = pick(n)
        if len(more) > m:
            break
        best = more
    return best


def persistence_scales(D: np.ndarray, *, include_complete_graph: bool = True, dedupe: bool = False,
                       max_scales: int | None = None, schedule: str = "spread", offset: float = 1e-9,
                       deaths: Any = None) -> np.ndarray:
    """The canonical scale set: every death time, plus ``max(D) + offset`` (the complete graph).

    Parameters
    ----------
    D : ndarray of shape (N, N)
    include_complete_graph : bool, default=True
    dedupe : bool, default=False
        Drop repeated death times (the reference code keeps them).
    max_scales : int, optional
        Keep at most this many scales, the finest and the coarsest always among
        them. Not in the paper; for large N.
    schedule : {"spread", "gaps"}, default="spread"
        Which scales ``max_scales`` keeps: ``"spread"`` spaces them geometrically
        from both ends of the filtration (:func:`spread_indices`: the finest
        scales, where one merge is a large relative change of the graph, and the
        last merges of a few clusters); ``"gaps"`` keeps the death times whose
        component count persists longest (largest gap to the next death time).
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
        if schedule == "spread":
            return eps[spread_indices(len(eps), max_scales)]
        if schedule != "gaps":
            msg = f"schedule must be one of 'spread', 'gaps'; got {schedule!r}."
            raise InvalidInputError(msg)
        gaps = np.diff(eps)[1:-1]  # persistence of the component count entered at eps[1..T-2]
        keep = 1 + np.argsort(-gaps, kind="stable")[: max_scales - 2]
        eps = eps[np.sort(np.concatenate([[0], keep, [len(eps) - 1]]))]
    return eps


class ScaleGraphs:
    """Heat-kernel graphs at every scale, built one at a time: nothing is stored per scale.

    ``A_t[i, j] = exp(-d_ij^2 / eps_t^power)`` for ``d_ij < eps_t`` (strict, the
    reference code's rule; ``threshold="inclusive"`` uses ``<=``), ``i != j``.
    With at most ``max_edge_list`` pairs, the pairs are sorted once by distance
    and the pairs under a threshold form a prefix of that list, so a graph costs
    O(its edges); beyond, each graph is thresholded from ``D`` row block by row
    block in O(N^2), without the list's 16 bytes per pair. Either way memory is
    O(N^2) instead of three dense N x N matrices per scale. Graphs with more than
    a quarter of all pairs (or with at most 200 nodes) are returned dense. The
    last graph built is kept, so asking for the same scale twice builds it once.

    Parameters
    ----------
    D : ndarray of shape (N, N)
    eps : array of shape (T,)
    power : float, default=1.5
    threshold : {"strict", "inclusive"}, default="strict"
    deaths : array of shape (N - 1,), optional
        :func:`death_times` of ``D`` (computed when not given); the component
        counts come from them.
    max_edge_list : int, default=2**23
        The largest number of pairs kept as a sorted edge list (16 bytes each).
    reuse_buffer : bool, default=False
        Write every dense graph into one N x N buffer: no fresh allocation per
        graph, but a dense graph is overwritten by the next one (copy it to keep
        it). Persistent NMF uses one graph at a time.
    """

    def __init__(self, D: np.ndarray, eps: np.ndarray, *, power: float = 1.5, threshold: str = "strict",
                 deaths: Any = None, max_edge_list: int = 2**23, reuse_buffer: bool = False) -> None:
        N = D.shape[0]
        self.reuse_buffer = reuse_buffer
        self._buffer: np.ndarray | None = None
        self.D, self.N = D, N
        self.eps = np.asarray(eps, dtype=float)
        self.power, self.threshold = power, threshold
        self.deaths = np.sort(np.asarray(death_times(D) if deaths is None else deaths, dtype=float))
        self.side: Literal["left", "right"] = "left" if threshold == "strict" else "right"
        self.d: np.ndarray | None = None
        if N * (N - 1) // 2 <= max_edge_list:
            iu, ju = np.triu_indices(N, k=1)
            d = D[iu, ju]
            order = np.argsort(d, kind="stable")
            self.i, self.j, self.d = iu[order].astype(np.int32), ju[order].astype(np.int32), d[order]
        self._last: tuple[int, Any, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.eps)

    def _inside(self, block: np.ndarray, t: int) -> np.ndarray:
        return block < self.eps[t] if self.threshold == "strict" else block <= self.eps[t]

    def _weights(self, d: np.ndarray, t: int) -> np.ndarray:
        """Kernel weights of pairs at distances ``d`` inside scale ``t`` (at scale 0, only duplicates: the limit 1)."""
        return np.exp(-(d * d) / self.eps[t] ** self.power) if self.eps[t] > 0 else np.ones(len(d))

    def _count(self, inside: np.ndarray, t: int) -> int:
        """Edges of the N x N mask ``inside`` of scale ``t``: its pairs, the diagonal (distance 0) left out."""
        return (int(np.count_nonzero(inside)) - self.N * int(self._inside(np.zeros(1), t)[0])) // 2

    def n_edges(self, t: int) -> int:
        """Edges (unordered pairs) of the graph at scale ``t``."""
        if self.d is not None:
            return int(np.searchsorted(self.d, self.eps[t], side=self.side))
        return self._count(self._inside(self.D, t), t)

    def adjacency(self, t: int) -> tuple[Any, np.ndarray]:
        """``(A_t, degree_t)`` for the 0-based scale index ``t`` (``t = 0`` is the finest)."""
        if self._last is not None and self._last[0] == t:
            return self._last[1], self._last[2]
        A, degree = self._edge_list(t) if self.d is not None else self._from_distances(t)
        self._last = (t, A, degree)
        return A, degree

    def _dense(self, t: int, inside: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The graph as an N x N array, from ``D`` (and its mask ``inside`` when at hand) in a few in-place passes."""
        D, N = self.D, self.N
        A = self._buffer if self._buffer is not None else np.empty((N, N))
        if self.reuse_buffer:
            self._buffer = A
        inside = self._inside(D, t) if inside is None else inside
        if self.eps[t] > 0:
            np.multiply(D, D, out=A)
            A /= -(self.eps[t] ** self.power)  # (d d) / (-s) = -(d d) / s exactly, as on the edge list
            np.exp(A, out=A)
            A *= inside
        else:  # at scale 0 only duplicates (inclusive threshold) are joined, with the kernel's limit 1
            A[...] = inside
        np.fill_diagonal(A, 0.0)
        return A, A.sum(axis=1)

    def _edge_list(self, t: int) -> tuple[Any, np.ndarray]:
        c = self.n_edges(t)
        N = self.N
        if 2 * c > N * N // 4 or N <= 200:  # dense: mostly full, or small enough that sparse overhead dominates
            return self._dense(t)
        w = self._weights(self.d[:c], t)  # type: ignore[index]
        i, j = self.i[:c], self.j[:c]
        A = sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(N, N))
        degree = np.bincount(i, weights=w, minlength=N) + np.bincount(j, weights=w, minlength=N)
        return A, degree

    def _from_distances(self, t: int) -> tuple[Any, np.ndarray]:
        N, D = self.N, self.D
        inside = self._inside(D, t)  # one threshold pass serves the count and the graph
        if 2 * self._count(inside, t) > N * N // 4:
            return self._dense(t, inside)
        np.fill_diagonal(inside, False)
        step = max(1, 2**22 // N)  # row blocks of about 4 M entries
        cols, vals, counts = [], [], []
        for r0 in range(0, N, step):
            block, mask = D[r0:r0 + step], inside[r0:r0 + step]
            r, c = np.nonzero(mask)
            cols.append(c.astype(np.int32))
            vals.append(self._weights(block[r, c], t))
            counts.append(np.count_nonzero(mask, axis=1))
        indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))])
        A = sp.csr_matrix((np.concatenate(vals), np.concatenate(cols), indptr), shape=(N, N))
        return A, np.asarray(A.sum(axis=1)).ravel()

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

        upper = self.D[np.triu_indices(self.N, k=1)]
        out = []
        previous = laplacian(0)
        for t in range(len(self) - 1):
            current = laplacian(t + 1)
            increment = float(np.max(np.abs(np.linalg.eigvalsh(current - previous))))
            new = upper[~self._inside(upper, t) & self._inside(upper, t + 1)]
            step = self.eps[t + 1] - self.eps[t]
            bound = (2.0 * self.n_edges(t) * self.power / (np.e * self.eps[t]) * step
                     + 2.0 * float(np.sum(np.exp(-(new * new) / self.eps[t + 1] ** self.power))))
            out.append((increment, float(bound)))
            previous = current
        return out

    def n_components(self, t: int) -> int:
        """Connected components of the graph at scale ``t``: ``N`` minus the tree edges under the threshold.

        Kruskal's algorithm merges two components at each minimum-spanning-tree
        edge, so the graph of the pairs under ``eps_t`` has ``N`` minus the number
        of death times under ``eps_t`` components.
        """
        return self.N - int(np.searchsorted(self.deaths, self.eps[t], side=self.side))
