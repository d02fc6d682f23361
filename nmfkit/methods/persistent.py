"""Persistent NMF: multi-scale graph-regularized NMF at the scales of 0-dimensional persistent homology.

Zhang, Miao & Li, "Persistent Nonnegative Matrix Factorization via Multi-Scale Graph
Regularization" (arXiv 2602.22536), following the semantics of the authors' reference
code, which reproduces the published embeddings.

The paper writes ``X`` (M features x N samples) ≈ ``W_t H_t`` with one embedding
``H_t`` (k x N) per scale. Here, as everywhere in nmfkit, ``X`` is (n_samples,
n_features) and ``X ≈ W_t H_t`` with the sample embedding ``W_t`` (N x k) on the
left: the paper's ``H_t`` is our ``W_t`` transposed, and the paper's basis is our
``H_t`` transposed. The objective is

    sum_t [ ||X - W_t H_t||^2 + l1 tr(W_t^T L_t W_t) ] + l2 sum_{t>1} ||W_t - W_{t-1}||^2
      + l3 sum_t ||W_t||^2

where ``L_t`` is the Laplacian of a thresholded heat-kernel graph at scale
``eps_t``, and the scales are the death times of the H0 barcode (the minimum
spanning tree's edge lengths) plus one scale above the diameter.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.fit import FitResult, run

# re-exported: persistent NMF builds on them
from nmfkit.graphs import (
    ScaleGraphs,
    death_times,
    knn_graph,
    ktnmf_graph,
    persistence_scales,
    sample_distances,
    tnmf_graph,
)
from nmfkit.initialization import NNDSVD, get_initializer
from nmfkit.losses import BetaDivergence
from nmfkit.penalties import L2, GraphLaplacian, Proximity
from nmfkit.selection.stability import unit_rows
from nmfkit.solvers import MU, LinMU, Problem, nnls_bpp, nnls_project
from nmfkit.stopping import AnyOf, FixedSweeps, MaxIter, RelativeObjectiveChange

__all__ = ["sample_distances", "death_times", "persistence_scales", "ScaleGraphs", "knn_graph", "tnmf_graph",
           "ktnmf_graph", "gnmf", "select_scale", "auto_max_scales",
           "persistent_nmf", "preprocess_counts", "embed_new_samples"]


# ---------------------------------------------------------------------------------------------
# block iterations
# ---------------------------------------------------------------------------------------------
def _sq_residual(sq_norm: Any, W: Any, H: Any, XHt: Any, xp: Any) -> Any:
    """``||X - W H||^2 = ||X||^2 - 2 <W, X H^T> + <W^T W, H H^T>`` (clipped at 0): no N x M temporary."""
    return xp.maximum(sq_norm - 2.0 * xp.sum(W * XHt) + xp.sum((W.T @ W) * (H @ H.T)), 0.0)


class _Block:
    """Alternating updates of one scale's (W, H): H (the paper's basis) first, then the embedding W.

    The objective is ``2 * problem.objective`` (the paper has no factor 1/2). After a
    step it comes from the products the W update already made,
    ``||X - WH||^2 = ||X||^2 - 2 <W, X H^T> + <W^T W, H H^T>``: no pass over X (the
    reference code evaluates it directly, which doubles the cost of a block with
    many features).
    """

    def __init__(self, problem: Problem, solver: Any, normalize: bool, sq_norm: Any = None) -> None:
        self.problem, self.solver, self.normalize = problem, solver, normalize
        self.sq_norm = sq_norm  # ||X||^2, computed on first use when not given
        self.cache: tuple[Any, Any] | None = None  # (H, X H^T) at the end of the last step
        self.memo: tuple[Any, Any, Any] | None = None  # (W, H, objective) of the last evaluation

    def step(self, state: tuple) -> tuple:
        W, H = state
        backend = self.problem.backend
        xp = backend.xp
        H = self.solver.update_left(self.problem.T, H.T, W.T).T
        XHt = backend.matmul(self.problem.X, H.T)
        if isinstance(self.solver, LinMU):
            W = self.solver.update_from(self.problem, W, H, XHt)
        else:  # MU at beta = 2: its terms are X H^T and W H H^T
            W = self.solver.apply(self.problem, W, XHt, W @ (H @ H.T))
        if self.normalize:
            s = xp.sqrt(xp.sum(H * H, axis=1))
            s = xp.where(s > 0, s, 1.0)
            W, H, XHt = W * s[None, :], H / s[:, None], XHt / s[None, :]
        self.cache = (H, XHt)
        return (W, H)

    def product_of(self, H: Any) -> Any:
        """The last step's ``X H^T`` when it is that of ``H``, else None."""
        return self.cache[1] if self.cache is not None and self.cache[0] is H else None

    def objective(self, state: tuple) -> Any:
        W, H = state
        if self.memo is not None and self.memo[0] is W and self.memo[1] is H:
            return self.memo[2]  # the same state twice (the start test, then the driver's first record)
        backend = self.problem.backend
        xp = backend.xp
        if self.sq_norm is None:
            self.sq_norm = backend.sq_norm(self.problem.X)
        # X H^T from the last step, or one product (cheaper than forming X - W H)
        XHt = self.product_of(H)
        if XHt is None:
            XHt = backend.matmul(self.problem.X, H.T)
        total = _sq_residual(self.sq_norm, W, H, XHt, xp)
        for p in self.problem.penalties_left:
            total = total + 2.0 * p.value(W, xp)
        for p in self.problem.penalties_right:
            total = total + 2.0 * p.value(H.T, xp)
        self.memo = (W, H, total)
        return total

    def factors(self, state: tuple) -> dict:
        return {"W": state[0], "H": state[1]}


def _inner(problem: Problem, solver: Any, W: Any, H: Any, *, tol: float, max_iter: int, normalize: bool,
           start: float | None, backend: Any, sq_norm: Any = None) -> tuple[Any, Any, int, bool, Any]:
    """The reference code's inner loop: while ``|F_prev - F| / F_prev > tol`` (F after each update).

    Returns ``(W, H, iterations, converged, X H^T or None)``: the last product ``X H^T`` when it is that of
    the returned ``H``.
    """
    method = _Block(problem, solver, normalize, sq_norm)
    if start is not None:  # F_prev starts at `start` (1e9 in the reference code): equal within tol -> no update
        f0 = backend.to_float(method.objective((W, H)))
        if abs(start - f0) / start <= tol:
            return W, H, 0, True, method.product_of(H)
    with warnings.catch_warnings():
        from sklearn.exceptions import ConvergenceWarning  # loaded when needed
        warnings.simplefilter("ignore", ConvergenceWarning)
        (W, H), info = run(method, (W, H), stop=AnyOf(RelativeObjectiveChange(tol, every=1, absolute=True),
                                                      MaxIter(max_iter)), backend=backend, record_every=1)
    return W, H, info["n_iter"], info["converged"], method.product_of(H)


class _Sweeps:
    """One outer sweep visits the scales fine to coarse (Gauss-Seidel over the cross-scale terms)."""

    def __init__(self, X: Any, XT: Any, graphs: ScaleGraphs, lambdas: tuple, backend: Any, *, inner_tol: float,
                 inner_max_iter: int, normalize: bool, start: float | None, shared_basis: bool = False) -> None:
        self.X, self.XT, self.graphs, self.backend = X, XT, graphs, backend
        # each scale's ||X - W_t H_t||^2 + l1 tr(...) is recorded when its block ends, while its graph is at
        # hand (nothing changes it later in the sweep): the total objective builds no graph again
        self.shared_basis = shared_basis  # one basis buffer, each block warm-started from the previous scale's
        self.fit_terms: list[Any] = [None] * len(graphs)
        self.l1, self.l2, self.l3 = lambdas
        self.inner_tol, self.inner_max_iter, self.normalize, self.start = inner_tol, inner_max_iter, normalize, start
        self.loss = BetaDivergence(2.0)
        self.solver = LinMU(1e-9)
        self.sq_norm = backend.sq_norm(X)  # ||X||^2 for every block's objective
        self.inner_iterations: list[list[int]] = []
        self.unconverged = 0

    def problem(self, t: int, Ws: Sequence[Any]) -> Problem:
        T = len(self.graphs)
        A, degree = self.graphs.adjacency(t)
        pens: list[Any] = [GraphLaplacian(self.l1, A, degree, memo=True)] if self.l1 else []
        if t > 0 and self.l2:
            pens.append(Proximity(self.l2, Ws[t - 1]))
        if t < T - 1 and self.l2:
            pens.append(Proximity(self.l2, Ws[t + 1]))
        if self.l3:
            pens.append(L2(self.l3))
        return Problem(self.X, self.XT, self.loss, self.backend, penalties_left=tuple(pens))

    def fit_term(self, t: int, W: Any, H: Any, problem: Problem | None = None, XHt: Any = None) -> Any:
        """``||X - W H||^2 + l1 tr(W^T L_t W)``, from the block's ``problem`` (its graph penalty) and its
        last ``X H^T`` when given."""
        XHt = self.backend.matmul(self.X, H.T) if XHt is None else XHt
        total = _sq_residual(self.sq_norm, W, H, XHt, self.backend.xp)
        if self.l1:
            if problem is None:
                A, degree = self.graphs.adjacency(t)
                graph = GraphLaplacian(self.l1, A, degree)
            else:
                graph = problem.penalties_left[0]
            total = total + 2.0 * graph.value(W, self.backend.xp)
        return total

    def step(self, state: tuple) -> tuple:
        Ws, Hs = list(state[0]), list(state[1])
        its = []
        for t in range(len(self.graphs)):
            b = 0 if self.shared_basis else t
            problem = self.problem(t, Ws)
            Ws[t], Hs[b], n, ok, XHt = _inner(problem, self.solver, Ws[t], Hs[b], tol=self.inner_tol,
                                              max_iter=self.inner_max_iter, normalize=self.normalize,
                                              start=self.start, backend=self.backend, sq_norm=self.sq_norm)
            self.fit_terms[t] = self.fit_term(t, Ws[t], Hs[b], problem, XHt)
            its.append(n)
            self.unconverged += not ok
        self.inner_iterations.append(its)
        return (tuple(Ws), tuple(Hs))

    def objective(self, state: tuple) -> Any:
        Ws, Hs = state
        xp = self.backend.xp
        total = 0.0
        for t, W in enumerate(Ws):
            total = total + self.fit_terms[t]
            if t > 0:
                d = W - Ws[t - 1]
                total = total + self.l2 * xp.sum(d * d)
            total = total + self.l3 * xp.sum(W * W)
        return total

    def factors(self, state: tuple) -> dict:
        return {f"W{t + 1}": W for t, W in enumerate(state[0])}


def _gnmf_iterations(X: Any, XT: Any, W: Any, H: Any, A: Any, degree: Any, lam: float, backend: Any, *,
                     tol: float, max_iter: int, start: float | None, sq_norm: Any = None) -> tuple[Any, Any, int, bool]:
    """GNMF (Cai et al.) from (W, H): MU with the graph on W, unit-norm rows of H after each iteration."""
    pens = (GraphLaplacian(lam, A, degree, memo=True),) if lam else ()
    problem = Problem(X, XT, BetaDivergence(2.0), backend, penalties_left=pens)
    return _inner(problem, MU(delta=1e-9), W, H, tol=tol, max_iter=max_iter, normalize=True, start=start,
                  backend=backend, sq_norm=sq_norm)[:4]


_STARTS = ("nndsvda", "nndsvdar", "random")
AUTO_ALL_SCALES = 100  # max_scales="auto" keeps every scale up to this many samples


def auto_max_scales(n_samples: int) -> int | None:
    """``max_scales="auto"``: every scale (None) up to :data:`AUTO_ALL_SCALES` samples, ``ceil(4 log2 N)`` beyond."""
    return None if n_samples <= AUTO_ALL_SCALES else math.ceil(4 * math.log2(n_samples))


def _start(X: np.ndarray, k: int, start: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The first factors: the reference code's NNDSVDa (no randomness), NNDSVDar or a random start."""
    if start == "random":
        return get_initializer("random")(X, k, rng=rng)
    fill = "mean" if start == "nndsvda" else "random"
    return NNDSVD(fill, leading="special", ties="negative", threshold=1e-8, svd="full")(X, k, rng=rng)


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
@shared_docs
def gnmf(X: Any, n_components: int, *, graph: Any = None, lam: float = 100.0, n_neighbors: int = 5,
         W: Any = None, H: Any = None, init: str = "nndsvda", tol: float = 1e-3, max_iter: int = 1000,
         random_state: Any = None) -> Any:
    """Graph-regularized NMF (Cai, He, Han & Huang 2011): ``||X - WH||^2 + lam tr(W^T L W)``.

    Multiplicative updates with the graph on the sample factor W; after each
    iteration the rows of H (the basis) get unit norm. Stops when the objective
    changes by at most ``tol`` (relative) or after ``max_iter`` iterations.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    graph : {array, sparse matrix} of shape (n_samples, n_samples), optional
        Symmetric adjacency; default :func:`knn_graph` with ``n_neighbors``.
    lam : float, default=100.0
    n_neighbors : int, default=5
    W, H : arrays, optional
        Starting factors; default from ``init``.
    init : {"nndsvda", "nndsvdar", "random"}, default="nndsvda"
        The start when ``W`` and ``H`` are not given: NNDSVD with zeros filled by
        the mean (no randomness: ``random_state`` then changes nothing), by small
        random values, or random factors at the data's scale.
    tol : float, default=1e-3
    max_iter : int, default=1000
    random_state : int, Generator or None, default=None
        Seeds the ``"nndsvdar"`` and ``"random"`` starts.

    Returns
    -------
    FitResult
        ``W`` (n_samples, k) the embedding, ``H`` (k, n_features) the basis;
        ``extras["graph"]``.

    References
    ----------
    D. Cai, X. He, J. Han, T. S. Huang, "Graph regularized nonnegative matrix
    factorization for data representation", IEEE TPAMI 33(8), 2011.
    """
    Xv, _ = V.check_data(X, caller="gnmf")
    k = V.check_n_components(n_components, Xv.shape, "gnmf")
    V.check_interval(lam, "lam", "gnmf", low=0.0)
    V.check_options(init, "init", "gnmf", _STARTS)
    rng, seed = V.check_random_state(random_state, "gnmf")
    Xd = Xv.toarray() if sp.issparse(Xv) else Xv
    A = knn_graph(Xd, n_neighbors) if graph is None else graph
    if A.shape != (Xd.shape[0], Xd.shape[0]):
        msg = f"graph must have shape (n_samples, n_samples) = {(Xd.shape[0],) * 2}; got {A.shape}."
        raise InvalidInputError(msg)
    degree = np.asarray(A.sum(axis=1)).ravel()
    if W is None or H is None:
        W, H = _start(Xd, k, init, rng)
    backend = get_backend(Xd)
    started = time.perf_counter()
    W, H, n, ok = _gnmf_iterations(Xd, Xd.T, np.asarray(W, float), np.asarray(H, float), A, degree, lam, backend,
                                   tol=tol, max_iter=max_iter, start=None)
    problem = Problem(Xd, Xd.T, BetaDivergence(2.0), backend, penalties_left=(GraphLaplacian(lam, A, degree),))
    return FitResult(W, H, n_iter=n, converged=ok,
                     stop_reason="converged" if ok else f"max_iter={max_iter} reached",
                     objective=2.0 * float(problem.objective(W, H)), elapsed=time.perf_counter() - started,
                     random_state=seed, extras={"method": "gnmf", "graph": A, "lam": lam})


@shared_docs
def persistent_nmf(X: Any, n_components: int | None = None, *, lambdas: Sequence[float] = (100.0, 100.0, 1.0),
                   n_sweeps: int = 10, tol: float | None = None, inner_tol: float = 1e-3,
                   inner_max_iter: int = 1000, gnmf_tol: float = 1e-3, gnmf_max_iter: int = 1000,
                   kernel_power: float = 1.5, threshold: str = "strict", dedupe_scales: bool = False,
                   include_complete_graph: bool = True, max_scales: Any = "auto", schedule: str = "spread",
                   faithful: bool = True,
                   store_bases: bool = True, return_bases: bool = False, init: Any = "gnmf-chain",
                   start: str = "nndsvda", random_state: Any = None, verbose: int = 0, callback: Any = None) -> Any:
    """Persistent NMF: one graph-regularized embedding per persistent-homology scale, coupled across scales.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Non-negative data, one sample per row (the paper's columns). For
        single-cell counts apply :func:`nmfkit.methods.persistent.preprocess_counts` first
        (it keeps sparse counts sparse). A sparse X stays sparse in every
        product of the iterations (each costs ``nnz(X) k`` instead of ``N M k``);
        the distances and the start use a dense copy.
    n_components : int, optional
        Rank k; default ``ceil(sqrt(N))`` (``ceil(sqrt(M))`` if that exceeds M).
    lambdas : (l1, l2, l3), default=(100, 100, 1)
        Geometric (Laplacian), cross-scale smoothness, and ridge weights.
    n_sweeps : int, default=10
        Outer sweeps over the scales (fine to coarse); the reference runs exactly 10.
    tol : float, optional
        Also stop when the total objective changes by at most ``tol`` (relative).
    inner_tol, inner_max_iter : float, int
        Per-block stop: ``|F_prev - F| / F_prev <= inner_tol``.
    gnmf_tol, gnmf_max_iter : float, int
        The coarse-to-fine GNMF initialization chain's stop.
    kernel_power : float, default=1.5
        ``A_ij = exp(-d_ij^2 / eps^kernel_power)``.
    threshold : {"strict", "inclusive"}, default="strict"
    dedupe_scales, include_complete_graph : bool
        Scale-set options (defaults as the reference code).
    max_scales : int, "auto" or None, default="auto"
        How many of the ``N`` scales to keep (the finest and the coarsest always
        among them; see :func:`persistence_scales`). ``None`` keeps every death
        time, as the reference code does: the cost grows as ``N^3`` (700 cells,
        765 genes: 92 s). ``"auto"`` keeps every scale up to
        ``N = AUTO_ALL_SCALES`` (100: the published synthetic set, reproduced to
        round-off) and ``ceil(4 log2 N)`` scales beyond (54 at 10 000 cells), spread
        geometrically from both ends of the filtration. Fewer scales couple more
        distant graphs through ``lambdas[1]``; on the published circles 27 of the
        80 scales move the finest embedding by 1.0 % (relative Frobenius), and on
        pbmc68k_reduced (700 cells) the default 38 scales cluster the finest
        embedding as well as all 700 (ARI 0.612 against 0.608) in 6.6 s.
        Not in the paper.
    schedule : {"spread", "gaps"}, default="spread"
        Which scales ``max_scales`` keeps: geometrically spread from both ends
        (:func:`nmfkit.graphs.spread_indices`), or the most persistent component
        counts (largest gaps between death times).
    faithful : bool, default=True
        Follow the reference code exactly: each block's loop starts its
        comparison from ``F_prev = 1e9`` (a block whose objective is within
        ``inner_tol`` of 1e9 is skipped) and the basis rows are rescaled to unit
        norm after every iteration, which the regularizers are not invariant to
        (the total objective can rise). ``faithful=False`` never rescales and
        always runs a block, so every update and every sweep decreases the
        total objective.
    store_bases : bool, default=True
        Keep every scale's basis between sweeps (the reference algorithm;
        memory ``T k M``). ``False`` keeps one basis buffer that each block
        warm-starts from, the basis left by the previous (finer) scale: memory
        ``O(N^2 + M N + T k N)`` for data with many features; not the
        reference iterates.
    return_bases : bool, default=False
        Also return every scale's basis (``extras["bases"]``, T x k x M; needs
        ``store_bases``).
    init : "gnmf-chain", "nndsvda" or (W, H), default="gnmf-chain"
        ``"gnmf-chain"``: the ``start``, then GNMF on every graph from the
        coarsest (complete) to the finest, each from the previous solution;
        ``"nndsvda"``: the ``start`` alone on every scale.
    start : {"nndsvda", "nndsvdar", "random"}, default="nndsvda"
        The first factors: the reference code's NNDSVDa (no randomness:
        ``random_state`` then changes nothing), NNDSVD with random fill, or
        random factors at the data's scale.
    random_state : int, Generator or None, default=None
        Seeds the ``"nndsvdar"`` and ``"random"`` starts.
    {verbose}
    callback : callable, optional

    Returns
    -------
    FitResult
        ``W`` (N, k): the embedding at the finest scale (t = 1); ``H`` (k, M)
        its basis. ``objective`` is the total objective after the last sweep.
        ``extras``: ``eps`` (T,), ``embeddings`` (T, N, k),
        ``H_paper`` (T, k, N, the paper's orientation), ``n_components_per_scale``,
        ``inner_iterations`` (sweeps x T), ``gnmf_iterations``, ``unconverged_blocks``.
    """
    caller = "persistent_nmf"
    Xv, _ = V.check_data(X, caller=caller)
    Xd = np.asarray(Xv.toarray() if sp.issparse(Xv) else Xv, dtype=float)
    N, M = Xd.shape
    if N < 2:
        msg = f"persistent_nmf needs at least 2 samples to build graphs; got n_samples={N}."
        raise InvalidInputError(msg)
    V.check_zeros(Xd, None, beta=2.0)  # all zeros: error; zero samples or features: a warning
    if n_components is None:
        n_components = math.ceil(math.sqrt(N))
        if n_components > M:
            n_components = math.ceil(math.sqrt(M))
    k = V.check_n_components(n_components, Xd.shape, caller)
    if len(lambdas) != 3:
        msg = f"lambdas must be (geometric, smoothness, ridge); got {lambdas!r}."
        raise InvalidInputError(msg)
    lam = tuple(V.check_interval(float(v), name, caller, low=0.0) for v, name in
                zip(lambdas, ("lambdas[0]", "lambdas[1]", "lambdas[2]"), strict=True))
    V.check_interval(n_sweeps, "n_sweeps", caller, kind="int", low=1)
    V.check_options(threshold, "threshold", caller, ("strict", "inclusive"))
    V.check_options(start, "start", caller, _STARTS)
    V.check_options(schedule, "schedule", caller, ("spread", "gaps"))
    if not (max_scales is None or max_scales == "auto"):
        V.check_interval(max_scales, "max_scales", caller, kind="int", low=2)
    rng, seed = V.check_random_state(random_state, caller)
    backend = get_backend(Xd)
    started = time.perf_counter()
    D = sample_distances(Xd)
    deaths = death_times(D)
    eps = persistence_scales(D, include_complete_graph=include_complete_graph, dedupe=dedupe_scales,
                             max_scales=auto_max_scales(N) if max_scales == "auto" else max_scales,
                             schedule=schedule, deaths=deaths)
    graphs = ScaleGraphs(D, eps, power=kernel_power, threshold=threshold, deaths=deaths, reuse_buffer=True)
    T = len(graphs)
    f_prev = 1e9 if faithful else None  # the reference code's first F_prev
    # the loop multiplies by X and X^T only: a sparse X stays sparse there (distances and starts use Xd)
    Xloop = sp.csr_matrix(Xv, dtype=float) if sp.issparse(Xv) else Xd
    XT = backend.transpose(Xloop)
    if isinstance(init, tuple):
        W, H = init
    else:
        V.check_options(init, "init", caller, ("gnmf-chain", "nndsvda"))
        W, H = _start(Xd, k, start, rng)
    if return_bases and not store_bases:
        msg = "return_bases=True needs store_bases=True."
        raise InvalidInputError(msg)
    method = _Sweeps(Xloop, XT, graphs, lam, backend, inner_tol=inner_tol, inner_max_iter=inner_max_iter,
                     normalize=faithful, start=f_prev, shared_basis=not store_bases)
    Ws: list[Any] = [None] * T
    Hs: list[Any] = [None] * T
    gnmf_its = [0] * T
    for t in range(T - 1, -1, -1):  # coarse -> fine
        if init == "gnmf-chain":
            A, degree = graphs.adjacency(t)
            W, H, gnmf_its[t], _ = _gnmf_iterations(Xloop, XT, W, H, A, degree, lam[0], backend, tol=gnmf_tol,
                                                    max_iter=gnmf_max_iter, start=f_prev, sq_norm=method.sq_norm)
        Ws[t] = W
        if store_bases:
            Hs[t] = H
        method.fit_terms[t] = method.fit_term(t, W, H)
    if not store_bases:
        Hs = [H]  # the finest scale's basis: where the first sweep starts
    stop: Any = FixedSweeps(n_sweeps)
    if tol is not None:
        stop = AnyOf(RelativeObjectiveChange(tol, every=1), stop)
    (Ws, Hs), info = run(method, (tuple(Ws), tuple(Hs)), stop=stop, backend=backend, callback=callback,
                         verbose=verbose, record_every=1)
    from sklearn.exceptions import ConvergenceWarning  # loaded when needed
    if method.unconverged:
        warnings.warn(f"{method.unconverged} block solves reached inner_max_iter={inner_max_iter}.",
                      ConvergenceWarning, stacklevel=2)
    emb = np.stack([np.asarray(W) for W in Ws])
    extras = {"method": "persistent-nmf", "eps": eps, "embeddings": emb, "H_paper": emb.transpose(0, 2, 1),
              "n_components_per_scale": [graphs.n_components(t) for t in range(T)],
              "inner_iterations": np.array(method.inner_iterations), "gnmf_iterations": gnmf_its,
              "unconverged_blocks": method.unconverged, "lambdas": lam, "death_times": deaths,
              "sweep_objective": [h.objective for h in info["history"]], "n_scales": T,
              "seconds_total": time.perf_counter() - started}
    if return_bases:
        extras["bases"] = np.stack([np.asarray(H) for H in Hs])
    basis = Hs[0] if store_bases else nnls_project(Xd.T, Ws[0].T, backend).T  # the LS basis for W_1
    return FitResult(Ws[0], basis, n_iter=info["n_iter"], converged=info["converged"],
                     stop_reason=info["stop_reason"], objective=info["objective"], history=info["history"],
                     elapsed=info["elapsed"], backend=backend.name, random_state=seed, extras=extras)


def select_scale(embeddings: Any, n_clusters: int, *, random_state: Any = 0, n_init: int = 10) -> dict:
    """Choose a persistent-NMF scale without labels: the embedding whose k-means clusters are best separated.

    For every scale ``t`` the embedding ``W_t`` (rows unit-normalised, so that
    the scale of the embedding does not count) is clustered by k-means into
    ``n_clusters`` groups and scored by the silhouette coefficient (Rousseeuw
    1987) of those clusters; the scale with the highest silhouette is chosen,
    ties going to the finer scale. The rule uses only the embeddings and the
    number of clusters (which the k-means scoring of the paper's protocol takes
    too); no labels. A scale whose k-means finds fewer than two distinct
    clusters scores -1.

    Parameters
    ----------
    embeddings : array-like of shape (T, n_samples, k)
        ``extras["embeddings"]`` of :func:`persistent_nmf` (finest scale first).
    n_clusters : int
        Number of clusters, at least 2.
    random_state : int, Generator or None, default=0
        Seeds k-means (the same seed at every scale).
    n_init : int, default=10

    Returns
    -------
    dict
        ``scale`` (0-based index of the chosen scale), ``silhouettes`` (T,), and
        ``labels`` (the chosen scale's k-means clusters).

    Notes
    -----
    The default embedding of :func:`persistent_nmf` stays the finest scale
    (``W``, t = 1, the paper's). On the labelled single-cell sets of the
    benchmark (``benchmarks/persistent/run.py --parts compare``) this rule picks
    coarse, over-smoothed scales, whose collapsed clusters look well separated,
    and scores below t = 1 against the labels; use it to compare scales, not as
    a default.

    References
    ----------
    .. [1] P. J. Rousseeuw, "Silhouettes: a graphical aid to the interpretation and
       validation of cluster analysis", J. Comput. Appl. Math. 20 (1987) 53-65.
       :doi:`10.1016/0377-0427(87)90125-7`
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    E = np.asarray(embeddings, dtype=float)
    if E.ndim != 3:
        msg = f"embeddings must have shape (T, n_samples, k); got {E.shape}."
        raise InvalidInputError(msg)
    N = E.shape[1]
    c = V.check_interval(n_clusters, "n_clusters", "select_scale", kind="int", low=2, high=N - 1)
    _, seed = V.check_random_state(random_state, "select_scale")
    scores, labels = np.full(E.shape[0], -1.0), []
    for t, W in enumerate(E):
        Wn = unit_rows(W)
        lab = KMeans(n_clusters=c, n_init=n_init, random_state=seed).fit_predict(Wn)
        labels.append(lab)
        if len(np.unique(lab)) >= 2:
            scores[t] = silhouette_score(Wn, lab)
    best = int(np.argmax(scores))  # first maximum: the finer scale on ties
    return {"scale": best, "silhouettes": scores, "labels": labels[best]}


def preprocess_counts(X: Any) -> Any:
    """The reference code's single-cell preprocessing: ``log10(1 + counts)``, then unit-L2 samples (rows).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_cells, n_genes)

    Returns
    -------
    ndarray or csr_matrix of shape (n_cells, n_genes)
        Sparse when ``X`` is sparse (the zeros stay zeros).

    Raises
    ------
    ValueError
        For negative counts or an all-zero cell (it has no direction).
    """
    Xv, _ = V.check_data(X, caller="preprocess_counts")
    if sp.issparse(Xv):  # log10(1 + 0) = 0: the zeros stay implicit
        Xs = sp.csr_matrix(Xv, dtype=float, copy=True)
        Xs.data = np.log10(1.0 + Xs.data)
        norms = np.sqrt(np.asarray(Xs.multiply(Xs).sum(axis=1)).ravel())
    else:
        Xd = np.log10(1.0 + np.asarray(Xv, dtype=float))
        norms = np.linalg.norm(Xd, axis=1)
    if np.any(norms == 0):
        msg = f"{int(np.sum(norms == 0))} cell(s) have no counts; remove them before preprocessing."
        raise InvalidInputError(msg)
    if sp.issparse(Xv):
        return sp.csr_matrix(sp.diags(1.0 / norms) @ Xs)
    return Xd / norms[:, None]


def embed_new_samples(X_new: Any, X_train: Any, embedding: Any, basis: Any, eps: float, *,
                      lambdas: Sequence[float] = (100.0, 100.0, 1.0), kernel_power: float = 1.5,
                      threshold: str = "strict") -> np.ndarray:
    """Embed new samples at one scale, the fitted embedding and basis held fixed.

    Each new sample ``x`` gets ``argmin_{w >= 0} ||x - w H||^2 + l1 sum_j a_j ||w - w_j||^2 + l3 ||w||^2``,
    its own terms of the persistent-NMF objective: ``a_j`` are the heat-kernel
    weights to the training samples within ``eps`` and ``w_j`` their embeddings
    (the cross-scale term needs the sample at other scales and is left out).
    Solved exactly by non-negative least squares.

    Parameters
    ----------
    X_new : array of shape (n_new, n_features)
    X_train : array of shape (n_train, n_features)
    embedding : array of shape (n_train, k)
    basis : array of shape (k, n_features)
    eps : float
        The scale.
    lambdas, kernel_power, threshold
        As in the fit.

    Returns
    -------
    ndarray of shape (n_new, k)
    """
    Xn = np.asarray(X_new.toarray() if sp.issparse(X_new) else X_new, dtype=float)
    Xt = np.asarray(X_train, dtype=float)
    B, E = np.asarray(basis, float), np.asarray(embedding, float)
    l1, _, l3 = (float(v) for v in lambdas)
    sq = np.einsum("ij,ij->i", Xn, Xn)[:, None] + np.einsum("ij,ij->i", Xt, Xt)[None, :] - 2.0 * Xn @ Xt.T
    d = np.sqrt(np.maximum(sq, 0.0))
    inside = d < eps if threshold == "strict" else d <= eps
    a = np.where(inside, np.exp(-(d * d) / eps**kernel_power), 0.0)
    G0, rhs = B @ B.T, B @ Xn.T + l1 * (a @ E).T
    c = l1 * a.sum(axis=1) + l3
    backend = get_backend(G0)
    out = np.empty((Xn.shape[0], B.shape[0]))
    for i in range(Xn.shape[0]):
        G = G0 + c[i] * np.eye(B.shape[0])
        out[i] = nnls_bpp(G, rhs[:, i:i + 1], np.ones((B.shape[0], 1), dtype=bool), backend)[:, 0]
    return out
