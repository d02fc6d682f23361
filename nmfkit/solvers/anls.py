"""Alternating non-negative least squares: block principal pivoting and projected gradient."""

from __future__ import annotations

from typing import Any

from nmfkit.backend import get_backend
from nmfkit.solvers._base import Problem, QuadraticSolver

__all__ = ["ANLSBPP", "ANLSPG", "nnls_bpp", "nnls_project"]


def _group_columns(F: Any, xp: Any) -> tuple[Any, int]:
    """Label the columns of the boolean matrix ``F`` (k, p) so that equal columns share a label.

    Rows are packed 52 at a time into exact float keys; labels are refined block
    by block with ``unique_inverse`` on ``label * p + block_label``.
    """
    k, p = F.shape
    labels = xp.zeros(p, dtype=xp.int64)
    n_labels = 1
    for start in range(0, k, 52):
        block = xp.astype(F[start:start + 52, :], xp.float64)
        weights = 2.0 ** xp.arange(block.shape[0], dtype=xp.float64)
        _, block_labels = xp.unique_inverse(weights @ block)
        values, labels = xp.unique_inverse(labels * p + xp.astype(block_labels, xp.int64))
        n_labels = values.shape[0]
    return labels, n_labels


# Above this many distinct passive sets, the columns are solved as one batch of masked systems.
_BATCH_GROUPS = 32
# Entries of the (columns, k, k) stack of masked systems solved at once.
_BATCH_ENTRIES = 1 << 22


def _solve_batched(G: Any, B: Any, Fc: Any, cols: Any, X: Any, xp: Any) -> bool:
    """``X[:, cols]`` from one batched solve per chunk; False if a system is singular (nothing written).

    Column ``j``'s system is ``G`` on its passive set and the identity elsewhere,
    with right-hand side ``b_j`` zeroed off the set: its solution is the
    restricted minimizer, zero off the set. One stacked LAPACK (or cuSOLVER)
    call replaces a Python-level solve per group.
    """
    k = G.shape[0]
    f = xp.astype(xp.permute_dims(Fc, (1, 0)), G.dtype)  # (p, k)
    eye = xp.eye(k, dtype=G.dtype)
    step = max(1, _BATCH_ENTRIES // (k * k))
    out = []
    for start in range(0, f.shape[0], step):
        fs = f[start:start + step]
        M = G[None, :, :] * (fs[:, :, None] * fs[:, None, :]) + eye[None, :, :] * (1.0 - fs)[:, :, None]
        rhs = xp.permute_dims(B[:, cols[start:start + step]], (1, 0)) * fs
        try:
            x = xp.linalg.solve(M, rhs[:, :, None])[:, :, 0] * fs
        except (ValueError, RuntimeError):  # a singular system: the grouped path has the fallback
            return False
        out.append(x)
    X[:, cols] = xp.permute_dims(xp.concat(out, axis=0), (1, 0))
    return True


def _solve_on_passive(G: Any, B: Any, F: Any, cols: Any, X: Any, backend: Any) -> Any:
    """Set ``X[:, cols]`` to the unconstrained minimizers on the passive sets ``F[:, cols]``."""
    xp = backend.xp
    Fc = F[:, cols]
    labels, n_labels = _group_columns(Fc, xp)
    if n_labels > _BATCH_GROUPS and _solve_batched(G, B, Fc, cols, X, xp):
        return X
    for g in range(n_labels):
        idx = cols[labels == g]
        f = F[:, idx[0]]
        x = xp.zeros((F.shape[0], idx.shape[0]), dtype=B.dtype)
        if backend.to_float(xp.sum(xp.astype(f, xp.float64))) > 0:
            Gff, Bf = G[f, :][:, f], B[f, :][:, idx]
            try:
                x[f, :] = xp.linalg.solve(Gff, Bf)
            except (ValueError, RuntimeError):  # singular Gram (rank-deficient H): least-norm solution
                x[f, :] = xp.linalg.pinv(Gff) @ Bf
        X[:, idx] = x
    return X


def nnls_bpp(G: Any, B: Any, passive: Any, backend: Any, max_iter: int | None = None) -> Any:
    """Solve ``min_{x_j >= 0} 0.5 x_j^T G x_j - b_j^T x_j`` for every column ``b_j`` of ``B``.

    Block principal pivoting with multiple right-hand sides (Kim & Park 2011):
    columns that share a passive set are solved together.

    Parameters
    ----------
    G : array of shape (k, k)
        Symmetric positive (semi)definite Gram matrix.
    B : array of shape (k, p)
        Right-hand sides.
    passive : bool array of shape (k, p)
        Initial guess of the passive (non-zero) set, e.g. ``x_prev > 0``.
    backend : Backend
    max_iter : int, optional
        Pivoting iterations; default ``5 * k``.

    Returns
    -------
    X : array of shape (k, p)

    References
    ----------
    .. [1] J. Kim and H. Park, "Fast nonnegative matrix factorization: an
       active-set-like method and comparisons", SIAM J. Sci. Comput. 33(6),
       2011. :doi:`10.1137/110821172`
    """
    xp = backend.xp
    k, p = B.shape
    max_iter = 5 * k if max_iter is None else max_iter
    F = xp.asarray(passive, copy=True)
    X = xp.zeros_like(B)
    all_cols = xp.arange(p)
    X = _solve_on_passive(G, B, F, all_cols, X, backend)
    alpha = xp.full(p, 3, dtype=xp.int64)
    beta = xp.full(p, k + 1, dtype=xp.int64)
    rows = xp.arange(k)[:, None]
    for _ in range(max_iter):
        Y = G @ X - B
        # infeasible: passive variables below zero, or active ones with negative gradient
        V = (F & (X < 0)) | (~F & (Y < 0))
        n_bad = xp.sum(xp.astype(V, xp.int64), axis=0)
        bad = n_bad > 0
        if backend.to_float(xp.sum(xp.astype(bad, xp.int64))) == 0:
            break
        full = bad & (n_bad < beta)
        partial = bad & ~full & (alpha >= 1)
        backup = bad & ~full & ~partial
        beta = xp.where(full, n_bad, beta)
        alpha = xp.where(full, 3, xp.where(partial, alpha - 1, alpha))
        # backup rule: exchange only the infeasible variable with the largest index
        last = xp.max(xp.where(V, rows, -1), axis=0)
        exchange = (V & (full | partial)[None, :]) | ((rows == last[None, :]) & backup[None, :])
        F = F ^ exchange
        cols = all_cols[bad]
        X = _solve_on_passive(G, B, F, cols, X, backend)
    return xp.maximum(X, 0.0)  # round-off may leave tiny negatives on an unfinished run


class ANLSBPP(QuadraticSolver):
    """Alternating NNLS solved exactly by block principal pivoting (Kim & Park 2011).

    Each update solves ``min_{W >= 0} ||X - W H||_F^2`` to optimality from the
    statistics ``A = X H^T``, ``G = H H^T``, warm-started from the passive set
    ``W > 0``. Penalties edit ``A`` and ``G``.

    References
    ----------
    .. [1] J. Kim and H. Park, "Fast nonnegative matrix factorization: an
       active-set-like method and comparisons", SIAM J. Sci. Comput. 33(6),
       2011. :doi:`10.1137/110821172`
    """

    name = "anls-bpp"
    row_separable = True

    def solve(self, problem: Problem, W: Any, A: Any, G: Any) -> Any:
        """The exact minimizer over ``W >= 0`` from ``A = X H^T`` (n, k) and ``G = H H^T`` (k, k)."""
        return nnls_bpp(well_posed(G, problem.backend), A.T, W.T > 0, problem.backend).T


def nnls_project(X: Any, H: Any, backend: Any = None) -> Any:
    """The exact ``argmin_{W >= 0} ||X - W H||_F`` for ``X`` (n, m), dense or sparse, and ``H`` (k, m): W (n, k).

    Every row of ``W`` is an independent non-negative least-squares problem,
    solved together by :func:`nnls_bpp` on the Gram matrix ``H H^T`` and ``H X^T``
    (a sparse ``X`` is never densified).
    """
    if backend is None:
        backend = get_backend(H)
    G = H @ H.T
    B = backend.matmul(X, H.T).T if backend.is_sparse(X) else H @ X.T
    return nnls_bpp(G, B, B > 0, backend).T


def well_posed(G: Any, backend: Any) -> Any:
    """``G`` itself when numerically positive definite, else ``G + delta I``.

    Block principal pivoting assumes a unique solution. When ``H`` is rank
    deficient (e.g. more components than the data's rank) the Gram matrix is
    singular, and a ridge ``delta = sqrt(eps) * lambda_max`` restores
    uniqueness while changing the objective only at the ``sqrt(eps)`` level.
    """
    xp = backend.xp
    eig = xp.linalg.eigvalsh(G)
    top = backend.to_float(eig[-1])
    eps = backend.eps(G.dtype)
    if top < float(xp.finfo(G.dtype).tiny):  # zero, or so small (subnormal) that no ridge from it helps
        return G + xp.eye(G.shape[0], dtype=G.dtype)
    if backend.to_float(eig[0]) > G.shape[0] * eps**0.5 * top:
        return G
    return G + (eps**0.5 * top) * xp.eye(G.shape[0], dtype=G.dtype)


class ANLSPG(QuadraticSolver):
    """Alternating projected gradient with Armijo search along the projection arc (Lin 2007).

    Each update runs projected-gradient steps on
    ``0.5 tr(W G W^T) - tr(A^T W)`` until the projected-gradient norm falls
    below ``tol`` times its value at the start of the update, or ``max_sub_iter``
    steps. The step size follows Lin's rule: a trial step ``a`` is accepted when
    ``(1 - sigma) <grad, D> + 0.5 <D, D G> < 0`` with ``D = P[W - a grad] - W``,
    grown by ``1/beta`` while accepted and shrunk by ``beta`` otherwise.

    Parameters
    ----------
    tol : float, default=1e-3
        Relative projected-gradient tolerance of each subproblem.
    max_sub_iter : int, default=200
        Projected-gradient steps per subproblem.
    sigma : float, default=0.01
        Sufficient-decrease constant.
    beta : float, default=0.1
        Step-size shrink factor.

    References
    ----------
    .. [1] C.-J. Lin, "Projected gradient methods for nonnegative matrix
       factorization", Neural Computation 19(10), 2007.
       :doi:`10.1162/neco.2007.19.10.2756`
    """

    name = "anls-pg"

    def __init__(self, tol: float = 1e-3, max_sub_iter: int = 200, sigma: float = 0.01,
                 beta: float = 0.1) -> None:
        self.tol = tol
        self.max_sub_iter = max_sub_iter
        self.sigma = sigma
        self.beta = beta

    def solve(self, problem: Problem, W: Any, A: Any, G: Any) -> Any:
        """Update ``W`` (n, k) from the statistics ``A = X H^T`` (n, k) and ``G = H H^T`` (k, k)."""
        backend = problem.backend
        xp = backend.xp
        step = 1.0
        threshold = None
        for _ in range(self.max_sub_iter):
            grad = W @ G - A
            proj = xp.where((grad < 0) | (W > 0), grad, 0.0)
            pg = backend.to_float(xp.sum(proj * proj))
            if threshold is None:
                threshold = (self.tol**2) * pg
            if pg <= threshold or pg == 0.0:
                break
            W, step = self._search(W, grad, G, step, backend)
        return W

    def _search(self, W: Any, grad: Any, G: Any, step: float, backend: Any) -> tuple[Any, float]:
        xp = backend.xp
        accepted = W
        decrease = None
        for _ in range(20):
            Wn = xp.maximum(W - step * grad, 0.0)
            D = Wn - W
            model = (1.0 - self.sigma) * xp.sum(grad * D) + 0.5 * xp.sum((D @ G) * D)
            sufficient = backend.to_float(model) < 0
            if decrease is None:
                decrease = not sufficient
            if decrease:
                if sufficient:
                    return Wn, step
                step *= self.beta
            else:
                if not sufficient or backend.to_float(xp.max(xp.abs(Wn - accepted))) == 0:
                    return accepted, step
                accepted = Wn
                step /= self.beta
        return accepted, step
