"""Graph-regularized and spatial NMF: a Laplacian penalty on the usages or the components.

``min D_beta(X | W H) + 0.5 lam tr(Wᵀ L W)`` with ``L = D - A`` the Laplacian of
a graph ``A`` over the samples pulls the usages of neighbouring samples together
(GNMF, Cai et al. 2011); over spatial neighbours it gives spatially smooth
programs, as in spatial transcriptomics. With ``on="features"`` the graph joins
features and the penalty falls on ``H`` instead. The penalty is
:class:`nmfkit.penalties.GraphLaplacian` on the core engine, solved by
multiplicative updates (the graph couples rows, so per-row quadratic solvers
cannot carry it). The Laplacian alone leaves the scale free: shrinking the
penalized factor and growing the other lowers it without changing the fit. So
the other factor carries ``0.5 scale_weight ||.||_F^2`` (default ``lam``), which
makes the problem well posed (per component the two terms balance to
``lam sqrt(w_jᵀ L w_j) ||h_j||``), and the multiplicative updates then never
increase the Frobenius objective. (:func:`nmfkit.methods.gnmf` is Cai et al.'s
variant, which renormalizes after every sweep instead.)

References
----------
.. [1] D. Cai, X. He, J. Han and T. S. Huang, "Graph regularized nonnegative
   matrix factorization for data representation", IEEE TPAMI 33(8), 2011.
   :doi:`10.1109/TPAMI.2010.231`
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.fit import nmf
from nmfkit.graphs import knn_graph, spatial_graph
from nmfkit.penalties import L2, GraphLaplacian

__all__ = ["graph_nmf"]


@shared_docs
def graph_nmf(X: Any, n_components: int, *, lam: float = 1.0, graph: Any = None, on: str = "samples",
              coords: Any = None, n_neighbors: int = 6, radius: float | None = None,
              beta_loss: str | float = "frobenius",
              scale_weight: float | None = None, init: str = "nndsvda", tol: float = 1e-5, max_iter: int = 2000,
              random_state: Any = None, verbose: int = 0) -> Any:
    """NMF with a graph-Laplacian penalty on the usages (samples) or the components (features).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    lam : float, default=1.0
        Weight of ``0.5 tr(Fᵀ L F)`` (F = W, or H transposed).
    graph : {array, sparse matrix}, optional
        Symmetric non-negative adjacency over the samples (``on="samples"``) or
        the features (``on="features"``). Default: from ``coords`` by
        :func:`nmfkit.graphs.spatial_graph` when given, else the binary
        ``n_neighbors``-nearest-neighbour graph of the rows (or columns) of X.
    on : {"samples", "features"}, default="samples"
    coords : array-like of shape (n_samples, n_dims), optional
        Spatial coordinates of the samples (spots, cells, pixels).
    n_neighbors : int, default=6
    radius : float, optional
        Spatial neighbours within ``radius`` instead of the ``n_neighbors`` nearest.
    beta_loss : str or float, default="frobenius"
    scale_weight : float, optional
        Weight of ``0.5 ||.||_F^2`` on the other factor; default ``lam``.
    init : str, default="nndsvda"
    tol : float, default=1e-5
    max_iter : int, default=2000
    {random_state}
    {verbose}

    Returns
    -------
    FitResult
        ``extras["graph"]`` holds the adjacency and ``extras["smoothness"]``
        ``tr(Fᵀ L F) / ||F||_F^2`` of the penalized factor.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.methods import graph_nmf
    >>> X = np.random.default_rng(0).random((40, 12))
    >>> xy = np.stack(np.meshgrid(np.arange(8), np.arange(5)), -1).reshape(-1, 2)
    >>> res = graph_nmf(X, 3, coords=xy, lam=0.5, random_state=0)
    >>> res.W.shape, res.extras["graph"].shape
    ((40, 3), (40, 40))
    """
    V.check_options(on, "on", "graph_nmf", ("samples", "features"))
    V.check_interval(lam, "lam", "graph_nmf", low=0.0)
    shape = np.shape(X)
    size = shape[0] if on == "samples" else shape[1]
    if graph is None:
        if coords is not None:
            if on != "samples" or np.shape(coords)[0] != shape[0]:
                msg = f"coords must give one row per sample ({shape[0]}) and needs on='samples'."
                raise InvalidInputError(msg)
            graph = spatial_graph(coords, n_neighbors=n_neighbors, radius=radius)
        else:
            data = X if on == "samples" else (X.T if sp.issparse(X) else np.asarray(X).T)
            graph = knn_graph(data, n_neighbors, weight="binary")
    A = sp.csr_matrix(graph, dtype=float)
    if A.shape != (size, size):
        msg = f"graph must have shape ({size}, {size}) for on={on!r}; got {A.shape}."
        raise InvalidInputError(msg)
    if (abs(A - A.T)).max() > 1e-10 * max(abs(A).max(), 1e-300) or (A.nnz and A.data.min() < 0):
        msg = "graph must be a symmetric, non-negative adjacency matrix."
        raise InvalidInputError(msg)
    scale_weight = lam if scale_weight is None else scale_weight
    V.check_interval(scale_weight, "scale_weight", "graph_nmf", low=0.0)
    graph_pen, scale_pen = (GraphLaplacian(lam, A),), ((L2(scale_weight),) if scale_weight > 0 else ())
    pens: dict[str, Any] = ({"penalties_W": graph_pen, "penalties_H": scale_pen} if on == "samples"
                            else {"penalties_H": graph_pen, "penalties_W": scale_pen})
    with V.calling("graph_nmf"):
        res = nmf(X, n_components, beta_loss=beta_loss, solver="mu", init=init, tol=tol, max_iter=max_iter,
                  random_state=random_state, verbose=verbose, **pens)
    F = np.asarray(res.W if on == "samples" else res.H.T)
    deg = np.asarray(A.sum(axis=1)).ravel()
    rough = float(np.sum(F * (deg[:, None] * F - A @ F)))
    res.extras.update({"method": "graph_nmf", "graph": A, "lam": lam, "scale_weight": scale_weight, "on": on,
                       "smoothness": rough / max(float(np.sum(F * F)), 1e-300)})
    return res
