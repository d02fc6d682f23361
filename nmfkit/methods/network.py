"""NMF for networks: symmetric NMF ``A ≈ H Hᵀ`` for undirected graphs, ``A ≈ W Hᵀ`` for directed ones.

Symmetric NMF (Kuang, Ding & Park 2012; Kuang, Yun & Park 2015) factorizes a
symmetric similarity or adjacency matrix ``A`` (n, n) as ``H Hᵀ`` with ``H >= 0``
(n, k); row ``i`` of ``H`` is node ``i``'s membership in ``k`` overlapping
communities. It is solved by the penalty form

    min_{W, H >= 0} ||A - W Hᵀ||_F² + α ||W - H||_F²

with alternating non-negative least squares: each half-step is one solver call
on the core engine, where the proximity term edits the statistics
``A H -> A H + α H`` and ``Hᵀ H -> Hᵀ H + α I`` (a :class:`~nmfkit.penalties.Proximity`
penalty). ``α = max(A)²`` as in the authors' code. A directed graph has no
such symmetry: ``A ≈ W Hᵀ`` is plain NMF, with ``W`` the out-going and ``H`` the
in-coming memberships.

Orientation: the paper's ``H`` (n, k) is nmfkit's ``W``; ``FitResult.W`` holds
the memberships and ``FitResult.H`` their transpose, so ``W @ H ≈ A``.

References
----------
.. [1] D. Kuang, C. Ding and H. Park, "Symmetric nonnegative matrix factorization
   for graph clustering", SIAM SDM 2012. :doi:`10.1137/1.9781611972825.10`
.. [2] D. Kuang, S. Yun and H. Park, "SymNMF: nonnegative low-rank approximation
   of a similarity matrix for graph clustering", J. Global Optim. 62(3), 2015.
   :doi:`10.1007/s10898-014-0247-2`
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.fit import FitResult, nmf, run
from nmfkit.losses import BetaDivergence
from nmfkit.penalties import Proximity
from nmfkit.solvers import Problem, get_solver
from nmfkit.stopping import AnyOf, MaxIter, RelativeObjectiveChange

__all__ = ["symmetric_nmf", "network_nmf", "communities"]


def _is_symmetric(A: Any) -> bool:
    """``A`` equals its transpose up to ``1e-8`` of its largest entry (dense or sparse)."""
    asym = abs(A - A.T)
    return (asym.max() if sp.issparse(asym) else np.max(asym)) <= 1e-8 * max(abs(A).max(), np.finfo(float).tiny)


class _SymmetricANLS:
    """The penalty-form SymNMF as an :class:`~nmfkit.fit.Iterative`: W then H, each one solver call."""

    def __init__(self, A: Any, alpha: float, solver: Any, backend: Any) -> None:
        self.A = A
        self.alpha = alpha
        self.solver = solver
        self.backend = backend
        self.loss = BetaDivergence(2.0)

    def _problem(self, target: Any) -> Problem:
        return Problem(self.A, self.A, self.loss, self.backend, penalties_left=(Proximity(self.alpha, target),))

    def step(self, state: tuple) -> tuple:
        W, H = state
        W = self.solver.update_left(self._problem(H), W, H.T)
        H = self.solver.update_left(self._problem(W), H, W.T)
        return (W, H)

    def objective(self, state: tuple) -> Any:
        W, H = state
        return self._problem(H).objective(W, H.T)

    def factors(self, state: tuple) -> dict:
        W, H = state
        return {"W": W, "H": H}


@shared_docs
def symmetric_nmf(A: Any, n_components: int, *, alpha: float | None = None, solver: str = "anls-bpp",
                  H: Any = None, tol: float = 1e-6, max_iter: int = 1000, random_state: Any = None,
                  verbose: int = 0) -> Any:
    """Symmetric NMF ``A ≈ H Hᵀ`` with ``H >= 0`` by penalized alternating NNLS (Kuang, Yun & Park).

    Parameters
    ----------
    A : {array-like, sparse matrix} of shape (n, n)
        Symmetric, non-negative (adjacency or similarity).
    n_components : int
        Number of communities ``k``.
    alpha : float, optional
        Weight of ``||W - H||²``; default ``max(A)²``.
    solver : str, default="anls-bpp"
        A quadratic solver of the registry (``"anls-bpp"``, ``"hals"``, ``"gcd"``).
    H : array of shape (n, k), optional
        Starting memberships; default ``2 sqrt(mean(A) / k) U(0, 1)`` as in the
        authors' code.
    tol : float, default=1e-6
        Relative change of the penalized objective (checked every 10 sweeps).
    max_iter : int, default=1000
    {random_state}
    {verbose}

    Returns
    -------
    FitResult
        ``W`` (n, k): the memberships (the average of the two penalized factors,
        which agree at convergence); ``H = W.T``; ``objective`` is the penalized
        objective ``0.5 ||A - W Hᵀ||² + 0.5 α ||W - H||²`` of the two factors;
        ``extras``: ``symmetric_error`` ``||A - W Wᵀ||_F / ||A||_F``, ``gap``
        ``||W - H||_F / ||H||_F`` and ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.methods import symmetric_nmf
    >>> H = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.5, 0.5]])
    >>> res = symmetric_nmf(H @ H.T, 2, random_state=0)
    >>> bool(res.extras["symmetric_error"] < 1e-4)
    True
    """
    Av, _ = V.check_data(A, caller="symmetric_nmf", name="A")
    n = Av.shape[0]
    if Av.shape != (n, n):
        msg = f"symmetric_nmf: A must be square; got shape {Av.shape}."
        raise InvalidInputError(msg)
    if not _is_symmetric(Av):
        msg = "symmetric_nmf: A is not symmetric; for a directed graph use network_nmf(A, k, directed=True)."
        raise InvalidInputError(msg)
    k = V.check_n_components(n_components, Av.shape, "symmetric_nmf")
    V.check_interval(alpha, "alpha", "symmetric_nmf", low=0.0, allow_none=True)
    V.check_interval(max_iter, "max_iter", "symmetric_nmf", kind="int", low=1)
    rng, seed = V.check_random_state(random_state, "symmetric_nmf")
    Ad: Any = Av.tocsr().astype(float) if sp.issparse(Av) else np.asarray(Av, dtype=float)
    a_max = float(Ad.max())
    alpha = a_max**2 if alpha is None else float(alpha)
    if H is None:
        H0 = 2.0 * np.sqrt(float(Ad.mean()) / k) * rng.random((n, k))
    else:
        H0 = V.check_factor(H, "H", (n, k), np.dtype(float), "symmetric_nmf")
    backend = get_backend(Ad)
    method = _SymmetricANLS(Ad, alpha, get_solver(solver), backend)
    stop = AnyOf(RelativeObjectiveChange(tol, every=10), MaxIter(max_iter))
    (W, Hf), info = run(method, (H0.copy(), H0.copy()), stop=stop, backend=backend, verbose=verbose,
                        warn_name="max_iter")
    M = 0.5 * (W + Hf)
    sq = float(Ad.multiply(Ad).sum()) if sp.issparse(Ad) else float(np.sum(Ad * Ad))
    R = Ad - M @ M.T
    err = float(np.sqrt(np.sum(np.asarray(R) ** 2) / sq)) if sq > 0 else 0.0
    gap = float(np.linalg.norm(W - Hf) / max(np.linalg.norm(Hf), np.finfo(float).tiny))
    return FitResult(M, M.T.copy(), random_state=seed, **info,
                     extras={"method": "symmetric_nmf", "alpha": alpha, "symmetric_error": err, "gap": gap})


@shared_docs
def network_nmf(A: Any, n_components: int, *, directed: bool | None = None, random_state: Any = None,
                **params: Any) -> Any:
    """Overlapping communities of a graph: symmetric NMF when undirected, ``A ≈ W Hᵀ`` when directed.

    Parameters
    ----------
    A : {array-like, sparse matrix} of shape (n, n)
        Non-negative adjacency (weights allowed).
    n_components : int
    directed : bool, optional
        Default: directed exactly when ``A`` is not symmetric.
    {random_state}
    **params
        For :func:`symmetric_nmf` (undirected) or :func:`nmfkit.nmf` (directed).

    Returns
    -------
    FitResult
        Undirected: ``W`` (n, k) memberships. Directed: ``W`` (n, k) out-going and
        ``H.T`` (n, k) in-coming memberships. ``extras["directed"]``.
    """
    if directed is None:
        directed = not _is_symmetric(A if sp.issparse(A) else np.asarray(A, dtype=float))
    if directed:
        res = nmf(A, n_components, random_state=random_state, **{"init": "nndsvda", "max_iter": 1000, **params})
    else:
        res = symmetric_nmf(A, n_components, random_state=random_state, **params)
    res.extras["directed"] = bool(directed)
    return res


def communities(memberships: Any, *, threshold: float | None = None) -> Any:
    """Community labels from a membership matrix: the strongest community per node, or every one above a share.

    Parameters
    ----------
    memberships : array of shape (n, k)
    threshold : float, optional
        When given, return a boolean (n, k) matrix: node ``i`` belongs to community
        ``j`` when its share ``M[i, j] / sum_j M[i, j]`` is at least ``threshold``
        (overlapping communities).

    Returns
    -------
    ndarray of int, shape (n,), or of bool, shape (n, k)
    """
    M = np.asarray(memberships, dtype=float)
    if threshold is None:
        return np.argmax(M, axis=1)
    s = M.sum(axis=1, keepdims=True)
    return M / np.where(s > 0, s, 1.0) >= threshold
