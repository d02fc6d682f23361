"""Joint NMF of several data blocks: a shared factor for aligned samples, or shared features (LIGER's iNMF).

**Joint NMF** (several modalities measured on the same samples, e.g. the RNA
and miRNA of the same patients):

    min  sum_b  lambda_b D_{beta_b}(X_b | W H_b),     W, H_b >= 0,

with ``X_b`` (n_samples, m_b), one shared usage matrix ``W`` (n_samples, k) — the
patients' factors — and one component matrix ``H_b`` (k, m_b) per block. Each
block has its own loss (KL for counts, Frobenius for continuous data). ``H_b``
takes one solver step on its own block after ``W`` takes one step on the sum: with
Frobenius blocks only, a quadratic solver on the statistics
``sum_b lambda_b X_b H_bᵀ`` and ``sum_b lambda_b H_b H_bᵀ`` (the concatenated
problem ``[sqrt(lambda_b) X_b]``); otherwise the multiplicative update with the
blocks' numerators and denominators summed, which keeps every block's
majorization, so the objective never increases for ``beta_b`` in [1, 2].
In the transposed orientation of much of the multi-omics literature
(features x samples, ``X_b ≈ W_b H``) the shared factor is ``H``.

**Integrative NMF** (iNMF, Welch et al. 2019; several data sets that share
features but not samples, e.g. single-cell batches):

    min  sum_i ||X_i - W_i (H + V_i)||_F^2 + lam sum_i ||W_i V_i||_F^2,

with shared components ``H`` (k, m), data-set-specific ``V_i`` (k, m) and
usages ``W_i`` (n_i, k); every block is an exact non-negative least-squares
problem on its Gram matrix (block coordinate descent, as in LIGER).

References
----------
.. [1] S. Zhang et al., "Discovery of multi-dimensional modules by integrative
   analysis of cancer genomic data", Nucleic Acids Res. 40(19), 2012.
   :doi:`10.1093/nar/gks725`
.. [2] J. D. Welch et al., "Single-cell multi-omic integration compares and
   contrasts features of brain cell identity", Cell 177(7), 2019.
   :doi:`10.1016/j.cell.2019.05.006`
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.fit import FitResult, run
from nmfkit.initialization import get_initializer
from nmfkit.losses import BetaDivergence, balancing_weights
from nmfkit.solvers import MU, Problem, resolve_solver
from nmfkit.solvers.anls import nnls_bpp
from nmfkit.stopping import AnyOf, MaxIter, RelativeObjectiveChange

__all__ = ["joint_nmf", "integrative_nmf"]


class _JointNMF:
    """Shared W, one H per block; see the module docstring."""

    def __init__(self, blocks: list[Problem], weights: list[float], solver: Any, concat: Problem | None) -> None:
        self.blocks = blocks
        self.weights = weights
        self.solver = solver
        self.concat = concat
        self.mu = MU()
        betas = {p.loss.beta for p in blocks}
        self.gamma = blocks[0].loss.mm_exponent if len(betas) == 1 else 1.0

    def step(self, state: tuple) -> tuple:
        W, Hs = state
        if self.concat is not None:
            xp = self.concat.backend.xp
            Ht = xp.concatenate([w**0.5 * H for w, H in zip(self.weights, Hs, strict=True)], axis=1)
            W = self.solver.update_left(self.concat, W, Ht)
        else:
            backend = self.blocks[0].backend
            xp = backend.xp
            num = den = 0.0
            for w, p, H in zip(self.weights, self.blocks, Hs, strict=True):
                n_b, d_b = p.loss.mu_terms(p.X, W, H, backend=backend)
                num, den = num + w * n_b, den + w * d_b
            ratio = num / xp.maximum(den, backend.eps(W.dtype))
            W = W * (ratio**self.gamma if self.gamma != 1.0 else ratio)
        Hs = tuple(self._solver(p).update_left(p.T, H.T, W.T).T for p, H in zip(self.blocks, Hs, strict=True))
        return (W, Hs)

    def _solver(self, p: Problem) -> Any:
        return self.solver if p.loss.is_quadratic and self.concat is not None else self.mu

    def block_losses(self, state: tuple) -> list[float]:
        W, Hs = state
        return [float(p.loss.value(p.X, W, H, backend=p.backend)) for p, H in zip(self.blocks, Hs, strict=True)]

    def objective(self, state: tuple) -> Any:
        W, Hs = state
        return sum(w * p.loss.value(p.X, W, H, backend=p.backend)
                   for w, p, H in zip(self.weights, self.blocks, Hs, strict=True))

    def factors(self, state: tuple) -> dict:
        W, Hs = state
        return {"W": W, **{f"H{b}": H for b, H in enumerate(Hs)}}


def _baseline(X: Any, loss: BetaDivergence) -> float:
    """The loss of the best constant fit (the block's mean): the scale that makes blocks comparable."""
    backend = get_backend(X)
    mean = float(X.mean())
    n, m = X.shape
    W = np.full((n, 1), np.sqrt(mean) if mean > 0 else 1.0)
    H = np.full((1, m), np.sqrt(mean) if mean > 0 else 1.0)
    return float(loss.value(X, W, H, backend=backend))


@shared_docs
def joint_nmf(Xs: Sequence[Any], n_components: int, *, beta_loss: Any = "frobenius", weights: Any = "auto",
              solver: str = "auto", init: str = "nndsvda", tol: float = 1e-5, max_iter: int = 1000,
              random_state: Any = None, verbose: int = 0) -> Any:
    """Joint NMF of blocks measured on the same samples: ``X_b ≈ W H_b`` with one shared ``W``.

    Parameters
    ----------
    Xs : sequence of {array-like, sparse matrix}, each of shape (n_samples, m_b)
        The blocks, rows aligned (same samples in the same order).
    n_components : int
    beta_loss : str, float or sequence, default="frobenius"
        One loss for every block, or one per block (e.g.
        ``["kullback-leibler", "frobenius"]`` for counts and continuous data).
    weights : "auto" or sequence of float, default="auto"
        ``lambda_b``. ``"auto"``: one over the block's loss at its best constant
        fit, so every block starts on an equal footing (that loss floored at
        eps times the largest block's, so that a constant block gets a large
        weight rather than an infinite one).
    solver : str, default="auto"
        For Frobenius-only problems a quadratic solver (``"hals"`` when
        ``"auto"``); otherwise multiplicative updates.
    init : str, default="nndsvda"
        Initialization of ``W`` and the H's, from the concatenated (weighted) blocks.
    tol : float, default=1e-5
    max_iter : int, default=1000
    {random_state}
    {verbose}

    Returns
    -------
    FitResult
        ``W`` (n_samples, k) the shared factor; ``H`` (k, sum m_b) the blocks'
        components side by side. ``extras``: ``H_blocks`` (list), ``blocks``
        (column slices), ``weights``, ``block_losses``, ``beta_loss`` per block.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.methods import joint_nmf
    >>> rng = np.random.default_rng(0)
    >>> W = rng.random((30, 2))
    >>> X1, X2 = W @ rng.random((2, 8)), rng.poisson(20 * W @ rng.random((2, 5))).astype(float)
    >>> res = joint_nmf([X1, X2], 2, beta_loss=["frobenius", "kullback-leibler"], random_state=0)
    >>> [H.shape for H in res.extras["H_blocks"]]
    [(2, 8), (2, 5)]
    """
    if isinstance(Xs, (np.ndarray, sp.spmatrix)) or len(Xs) < 1:
        msg = "joint_nmf: Xs must be a list of blocks (one array per modality)."
        raise InvalidInputError(msg)
    n_blocks = len(Xs)
    losses = list(beta_loss) if isinstance(beta_loss, (list, tuple)) else [beta_loss] * n_blocks
    if len(losses) != n_blocks:
        msg = f"joint_nmf: {len(losses)} losses for {n_blocks} blocks."
        raise InvalidInputError(msg)
    betas = [V.check_beta_loss(b, "joint_nmf") for b in losses]
    blocks = []
    for i, (X, beta) in enumerate(zip(Xs, betas, strict=True)):
        Xv, _ = V.check_data(X, caller="joint_nmf", beta=beta, name=f"Xs[{i}]")
        if Xv.shape[0] != np.shape(Xs[0])[0]:
            msg = f"joint_nmf: every block needs the same samples; Xs[{i}] has {Xv.shape[0]} rows, Xs[0] has " \
                  f"{np.shape(Xs[0])[0]}."
            raise InvalidInputError(msg)
        V.check_zeros(Xv, None, beta=beta, name=f"Xs[{i}]")
        Xv = Xv.astype(np.float64)
        blocks.append(Xv)
    n = blocks[0].shape[0]
    k = V.check_n_components(n_components, (n, sum(b.shape[1] for b in blocks)), "joint_nmf")
    rng, seed = V.check_random_state(random_state, "joint_nmf")
    problems = [Problem(X, get_backend(X).transpose(X), BetaDivergence(b), get_backend(X))
                for X, b in zip(blocks, betas, strict=True)]
    if isinstance(weights, str):
        V.check_options(weights, "weights", "joint_nmf", ("auto",))
        lam = balancing_weights([_baseline(X, p.loss) for X, p in zip(blocks, problems, strict=True)],
                                float(np.finfo(np.float64).eps))
    else:
        lam = [float(w) for w in weights]
        if len(lam) != n_blocks or min(lam) < 0:
            msg = f"joint_nmf: weights must be {n_blocks} non-negative numbers; got {weights!r}."
            raise InvalidInputError(msg)
    all_quadratic = all(b == 2.0 for b in betas)
    solver_obj = resolve_solver(solver, 2.0 if all_quadratic else 1.0)
    if not all_quadratic and not isinstance(solver_obj, MU):
        msg = f"joint_nmf: blocks with beta != 2 need solver='mu' (or 'auto'); got {solver!r}."
        raise InvalidInputError(msg)
    dense = [X.toarray() if sp.issparse(X) else X for X in blocks]
    Xcat = np.hstack([np.sqrt(w) * X for w, X in zip(lam, dense, strict=True)])
    concat = None
    if all_quadratic:
        concat = Problem(Xcat, Xcat.T, BetaDivergence(2.0), get_backend(Xcat))
    W0, Hcat = get_initializer(init)(Xcat, k, rng=rng)
    edges = np.cumsum([0] + [X.shape[1] for X in blocks])
    H0 = tuple(Hcat[:, a:b] / np.sqrt(max(w, 1e-300)) for w, a, b in zip(lam, edges[:-1], edges[1:], strict=True))
    method = _JointNMF(problems, lam, solver_obj, concat)
    stop = AnyOf(RelativeObjectiveChange(tol, every=10), MaxIter(max_iter))
    (W, Hs), info = run(method, (W0, H0), stop=stop, backend=get_backend(Xcat), verbose=verbose)
    extras = {"method": "joint_nmf", "H_blocks": list(Hs), "blocks": [slice(a, b) for a, b in
                                                                      zip(edges[:-1], edges[1:], strict=True)],
              "weights": lam, "beta_loss": betas, "block_losses": method.block_losses((W, Hs)),
              "loss_value": info["objective"]}
    return FitResult(W, np.hstack(Hs), random_state=seed, extras=extras, **info)


class _INMF:
    """iNMF block coordinate descent: W_i, V_i, then H, each an exact NNLS on its Gram matrix."""

    def __init__(self, Xs: list[np.ndarray], lam: float) -> None:
        self.Xs = Xs
        self.lam = lam
        self.backend = get_backend(Xs[0])

    def _nnls(self, G: np.ndarray, B: np.ndarray, F: np.ndarray) -> np.ndarray:
        """``argmin_{F >= 0} 0.5 tr(F G Fᵀ) - tr(Bᵀ F)`` for F (p, k), B (p, k)."""
        # a ridge far below well_posed's sqrt(eps): the blocks must stay exact for the objective to descend
        G = G + 1e-12 * max(float(np.trace(G)), 1e-300) / G.shape[0] * np.eye(G.shape[0])
        return nnls_bpp(G, B.T, F.T > 0, self.backend).T

    def step(self, state: tuple) -> tuple:
        Ws, H, Vs = state
        lam = self.lam
        Ws, Vs = list(Ws), list(Vs)
        for i, X in enumerate(self.Xs):
            M = H + Vs[i]
            Ws[i] = self._nnls(M @ M.T + lam * Vs[i] @ Vs[i].T, X @ M.T, Ws[i])
            WtW = Ws[i].T @ Ws[i]
            Vs[i] = self._nnls((1.0 + lam) * WtW, (X.T @ Ws[i] - H.T @ WtW), Vs[i].T).T
        G = sum(W.T @ W for W in Ws)
        B = sum(X.T @ W - Vb.T @ (W.T @ W) for X, W, Vb in zip(self.Xs, Ws, Vs, strict=True))
        H = self._nnls(G, B, H.T).T
        return (tuple(Ws), H, tuple(Vs))

    def objective(self, state: tuple) -> Any:
        Ws, H, Vs = state
        total = 0.0
        for X, W, Vb in zip(self.Xs, Ws, Vs, strict=True):
            R = X - W @ (H + Vb)
            P = W @ Vb
            total += float(np.sum(R * R)) + self.lam * float(np.sum(P * P))
        return np.asarray(total)

    def factors(self, state: tuple) -> dict:
        Ws, H, Vs = state
        return {"H": H, **{f"W{i}": W for i, W in enumerate(Ws)}, **{f"V{i}": Vb for i, Vb in enumerate(Vs)}}


@shared_docs
def integrative_nmf(Xs: Sequence[Any], n_components: int, *, lam: float = 5.0, tol: float = 1e-6,
                    max_iter: int = 500, random_state: Any = None, verbose: int = 0) -> Any:
    """Integrative NMF (LIGER's iNMF): shared components ``H`` plus data-set-specific ``V_i``.

    ``X_i ≈ W_i (H + V_i)`` for data sets ``X_i`` (n_i, m) that share the features;
    ``lam`` penalizes ``||W_i V_i||²`` and so how much of each data set the
    specific parts may explain.

    Parameters
    ----------
    Xs : sequence of {array-like, sparse matrix}, each of shape (n_i, n_features)
    n_components : int
    lam : float, default=5.0
        LIGER's default.
    tol : float, default=1e-6
    max_iter : int, default=500
    {random_state}
    {verbose}

    Returns
    -------
    FitResult
        ``W`` (sum n_i, k) the usages stacked, ``H`` (k, m) the shared components;
        ``extras``: ``W_blocks``, ``V_blocks`` (each (k, m)), ``rows`` (row slices)
        and ``lam``.
    """
    if isinstance(Xs, (np.ndarray, sp.spmatrix)) or len(Xs) < 1:
        msg = "integrative_nmf: Xs must be a list of data sets."
        raise InvalidInputError(msg)
    dense = []
    for i, X in enumerate(Xs):
        Xv, _ = V.check_data(X, caller="integrative_nmf", name=f"Xs[{i}]")
        if Xv.shape[1] != np.shape(Xs[0])[1]:
            msg = (f"integrative_nmf: every data set needs the same features; Xs[{i}] has {Xv.shape[1]} columns, "
                   f"Xs[0] has {np.shape(Xs[0])[1]}.")
            raise InvalidInputError(msg)
        dense.append(np.asarray(Xv.toarray() if sp.issparse(Xv) else Xv, dtype=np.float64))
    m = dense[0].shape[1]
    k = V.check_n_components(n_components, (min(X.shape[0] for X in dense), m), "integrative_nmf")
    V.check_interval(lam, "lam", "integrative_nmf", low=0.0)
    rng, seed = V.check_random_state(random_state, "integrative_nmf")
    # LIGER's start: uniform random factors
    Ws = tuple(rng.random((X.shape[0], k)) for X in dense)
    H = rng.random((k, m))
    Vs = tuple(rng.random((k, m)) for _ in dense)
    method = _INMF(dense, float(lam))
    stop = AnyOf(RelativeObjectiveChange(tol, every=10), MaxIter(max_iter))
    (Ws, H, Vs), info = run(method, (Ws, H, Vs), stop=stop, backend=get_backend(dense[0]), verbose=verbose)
    edges = np.cumsum([0] + [X.shape[0] for X in dense])
    extras = {"method": "integrative_nmf", "W_blocks": list(Ws), "V_blocks": list(Vs), "lam": lam,
              "rows": [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]}
    return FitResult(np.vstack(Ws), H, random_state=seed, extras=extras, **info)
