"""Multilayer and deep beta-NMF: the iterations the driver runs, the checks, and the public functions."""

from __future__ import annotations

import time
import warnings
from typing import Any, Sequence

import numpy as np

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.backend import get_backend
from nmfkit.driver import FitResult, run
from nmfkit.losses import BetaDivergence, balancing_weights
from nmfkit.methods.deep.datacentric import DataCentric
from nmfkit.methods.deep.minvol import log10det, minvol_admm, minvol_last
from nmfkit.methods.deep.updates import (
    constrained_right,
    coupled_left,
    mu_left,
    mu_right,
    normalize,
)
from nmfkit.metrics import sparseness
from nmfkit.stopping import AnyOf, FixedSweeps, MaxIter, RelativeObjectiveChange

__all__ = ["multilayer_nmf", "deep_nmf", "deep_usage", "layer_features", "hoyer_sparsity"]

_BETAS = (1.0, 1.5, 2.0)


class _DeepBeta:
    """One sweep = one pass over the layers (Algorithm 1, or Algorithm 2 when ``min_vol``)."""

    def __init__(self, X: Any, loss: BetaDivergence, lambdas: Sequence[float], backend: Any, *,
                 normalization: str, last_layer: str, min_vol: bool, alphas: Sequence[float], delta: float,
                 rho: float, exact_prox: bool, order: str, admm: dict, newton_tol: float,
                 newton_max_iter: int) -> None:
        self.X, self.loss, self.backend = X, loss, backend
        self.lambdas = [float(v) for v in lambdas]
        self.normalization, self.last_layer = normalization, last_layer
        self.min_vol, self.alphas, self.delta, self.rho = min_vol, [float(a) for a in alphas], delta, rho
        self.exact_prox, self.order, self.admm = exact_prox, order, admm
        self.newton_tol, self.newton_max_iter = newton_tol, newton_max_iter
        self.sweeps = 0
        self.layer_history: list[tuple[int, list[float]]] = []
        self.counters = {"newton_iterations": 0, "admm_iterations": 0, "admm_calls": 0, "admm_capped": 0}
        self.mu_last = None

    # -- blocks --------------------------------------------------------------------------
    def _H(self, Y: Any, W: Any, H: Any, constrained: bool) -> Any:
        if not constrained:
            return mu_right(Y, W, H, self.loss, self.backend)
        H, n = constrained_right(Y, W, H, self.loss, self.backend, axis=1 if self.normalization == "rows" else 0,
                                  tol=self.newton_tol, max_iter=self.newton_max_iter)
        self.counters["newton_iterations"] += n
        return H

    def step(self, state: tuple) -> tuple:
        Ws, Hs = list(state[0]), list(state[1])
        xp, eps = self.backend.xp, self.backend.eps(Ws[0].dtype)
        L = len(Ws)
        for l in range(L):  # noqa: E741 - the paper's layer index
            Y = self.X if l == 0 else Ws[l - 1]
            last = l == L - 1
            if self.min_vol:
                Ws[l], Hs[l] = self._minvol_layer(Y, Ws, Hs, l, last)
            elif not last:
                Hs[l] = self._H(Y, Ws[l], Hs[l], constrained=True)
                Wbar = xp.maximum(Ws[l + 1] @ Hs[l + 1], eps)
                Ws[l] = coupled_left(Y, Ws[l], Hs[l], Wbar, self.lambdas[l + 1] / self.lambdas[l], self.loss,
                                      self.backend)
            elif self.normalization == "rows" and self.last_layer == "code":
                Hs[l] = mu_right(Y, Ws[l], Hs[l], self.loss, self.backend)
                Ws[l] = mu_left(Y, Ws[l], Hs[l], self.loss, self.backend)
                Ws[l], Hs[l] = normalize(Ws[l], Hs[l], "rows", xp)
            else:
                Hs[l] = self._H(Y, Ws[l], Hs[l], constrained=True)
                Ws[l] = mu_left(Y, Ws[l], Hs[l], self.loss, self.backend)
        self.sweeps += 1
        return (tuple(Ws), tuple(Hs))

    def _minvol_layer(self, Y: Any, Ws: list, Hs: list, l: int, last: bool) -> tuple[Any, Any]:  # noqa: E741
        xp, eps = self.backend.xp, self.backend.eps(Ws[0].dtype)
        W, H = Ws[l], Hs[l]
        if self.order == "paper":
            H = mu_right(Y, W, H, self.loss, self.backend)
        if last:
            if self.mu_last is None:
                self.mu_last = xp.zeros(W.shape[1], dtype=W.dtype)
            W, self.mu_last, n = minvol_last(Y, W, H, self.alphas[l], self.delta, self.mu_last, self.loss,
                                              self.backend, tol=self.newton_tol, max_iter=self.newton_max_iter)
            self.counters["newton_iterations"] += n
        else:
            Wbar = xp.maximum(Ws[l + 1] @ Hs[l + 1], eps)
            W, info = minvol_admm(Y, W, H, Wbar, lam_l=self.lambdas[l], lam_next=self.lambdas[l + 1],
                                   alpha=self.alphas[l], delta=self.delta, rho=self.rho,
                                   exact_prox=self.exact_prox, newton_tol=self.newton_tol,
                                   newton_max_iter=self.newton_max_iter, loss=self.loss, backend=self.backend,
                                   **self.admm)
            self.counters["newton_iterations"] += info["newton_iterations"]
            self.counters["admm_iterations"] += info["admm_iterations"]
            self.counters["admm_calls"] += 1
            self.counters["admm_capped"] += info["admm_iterations"] >= self.admm["max_iter"]
        if self.order != "paper":
            H = mu_right(Y, W, H, self.loss, self.backend)
        return W, H

    # -- what the driver reads -------------------------------------------------------------
    def layer_errors(self, state: tuple) -> list:
        Ws, Hs = state
        return [self.loss.value(self.X if l == 0 else Ws[l - 1], Ws[l], Hs[l], backend=self.backend)
                for l in range(len(Ws))]  # noqa: E741

    def volumes(self, state: tuple) -> list:
        xp = self.backend.xp
        return [log10det(W, self.delta, xp) for W in state[0]]

    def objective(self, state: tuple) -> Any:
        errors = self.layer_errors(state)
        self.layer_history.append((self.sweeps, [self.backend.to_float(e) for e in errors]))
        total = sum(lam * e for lam, e in zip(self.lambdas, errors, strict=True))
        if self.min_vol:
            total = total + sum(a * v for a, v in zip(self.alphas, self.volumes(state), strict=True))
        return total

    def factors(self, state: tuple) -> dict:
        Ws, Hs = state
        out = {f"W{l + 1}": W for l, W in enumerate(Ws)}  # noqa: E741
        out.update({f"H{l + 1}": H for l, H in enumerate(Hs)})  # noqa: E741
        return out


class _DeepUsage:
    """The deep objective over ``W_1 .. W_L`` with every ``H_l`` fixed (rows of X are independent).

    Jointly convex for beta in {1, 2}; each sweep applies the same block updates as
    :class:`_DeepBeta` to the W's only, so the objective never increases.
    """

    def __init__(self, X: Any, Hs: Sequence[Any], loss: BetaDivergence, lambdas: Sequence[float], backend: Any) -> None:
        self.X, self.Hs, self.loss, self.lambdas, self.backend = X, list(Hs), loss, list(lambdas), backend

    def step(self, state: tuple) -> tuple:
        Ws = list(state)
        xp, eps = self.backend.xp, self.backend.eps(Ws[0].dtype)
        L = len(Ws)
        for l in range(L):  # noqa: E741
            Y = self.X if l == 0 else Ws[l - 1]
            if l < L - 1:
                Wbar = xp.maximum(Ws[l + 1] @ self.Hs[l + 1], eps)
                Ws[l] = coupled_left(Y, Ws[l], self.Hs[l], Wbar, self.lambdas[l + 1] / self.lambdas[l], self.loss,
                                      self.backend)
            else:
                Ws[l] = mu_left(Y, Ws[l], self.Hs[l], self.loss, self.backend)
        return tuple(Ws)

    def objective(self, state: tuple) -> Any:
        return sum(lam * self.loss.value(self.X if l == 0 else state[l - 1], state[l], self.Hs[l], backend=self.backend)
                   for l, lam in enumerate(self.lambdas))  # noqa: E741

    def factors(self, state: tuple) -> dict:
        return {f"W{l + 1}": W for l, W in enumerate(state)}  # noqa: E741


def deep_usage(X: Any, H_layers: Sequence[Any], beta_loss: str | float = "kullback-leibler", *,
               lambdas: Sequence[float] | None = None, W_layers: Sequence[Any] | None = None, tol: float = 1e-8,
               max_iter: int = 5000) -> list:
    """Every layer's usage ``W_1 .. W_L`` of (new) samples X under fixed ``H_1 .. H_L``.

    Minimises ``sum_l lambda_l D_beta(W_{l-1} | W_l H_l)`` over the W's only,
    from ``W_layers`` when given, else from a flat start; stops when the objective
    changes by less than ``tol`` (relative) over 10 sweeps.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
    H_layers : sequence of arrays, ``H_l`` of shape (r_l, r_{l-1})
    beta_loss : float or str, default="kullback-leibler"
    lambdas : sequence of float, optional
        Layer weights; default all 1.
    W_layers : sequence of arrays, optional
        Starting usages.
    tol, max_iter : float, int

    Returns
    -------
    list of ndarray
        ``W_l`` of shape (m, r_l).
    """

    Xv, _ = V.check_data(X, caller="deep_usage")
    loss = BetaDivergence(V.check_beta_loss(beta_loss, "deep_usage"))
    backend = get_backend(Xv)
    xp = backend.xp
    Hs = [xp.asarray(H, dtype=Xv.dtype) for H in H_layers]
    if Hs[0].shape[1] != Xv.shape[1]:
        msg = f"X has {Xv.shape[1]} features but H_1 expects {Hs[0].shape[1]}."
        raise InvalidInputError(msg)
    lam = [1.0] * len(Hs) if lambdas is None else [float(v) for v in lambdas]
    if W_layers is None:
        # flat start at the right scale: x ~ r_1 w_1 mean(H_1), w_{l-1} ~ r_l w_l mean(H_l)
        level = backend.to_float(backend.sum_all(Xv)) / (Xv.shape[0] * Xv.shape[1])
        Ws = []
        for H in Hs:
            level = max(level / (H.shape[0] * backend.to_float(xp.mean(H))), 1e-12)
            Ws.append(xp.full((Xv.shape[0], H.shape[0]), level, dtype=Xv.dtype))
    else:
        Ws = [xp.asarray(W, dtype=Xv.dtype, copy=True) for W in W_layers]
    with warnings.catch_warnings():
        from sklearn.exceptions import ConvergenceWarning  # loaded when needed
        warnings.simplefilter("ignore", ConvergenceWarning)
        state, _ = run(_DeepUsage(Xv, Hs, loss, lam, backend), tuple(Ws),
                       stop=AnyOf(RelativeObjectiveChange(tol, every=10), MaxIter(max_iter)), backend=backend)
    return list(state)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------
def _check_common(X: Any, ranks: Any, beta_loss: Any, caller: str, normalization: str) -> tuple:

    Xv, _ = V.check_data(X, caller=caller)
    beta = V.check_beta_loss(beta_loss, caller)
    if beta not in _BETAS:
        msg = (f"{caller} supports beta_loss in {{1 ('kullback-leibler'), 1.5, 2 ('frobenius')}}, where the layer "
               f"updates are closed form; got beta_loss={beta_loss!r}.")
        raise InvalidInputError(msg)
    V.check_zeros(Xv, None, beta=beta)
    if isinstance(ranks, (int, np.integer)) or not hasattr(ranks, "__len__") or len(ranks) == 0:
        msg = f"ranks must be a non-empty sequence of ints, e.g. [80, 40, 20]; got {ranks!r}."
        raise InvalidInputError(msg)
    ranks = list(ranks)
    if not all(isinstance(r, (int, np.integer)) and not isinstance(r, bool) for r in ranks):
        msg = f"ranks must be ints; got {ranks!r}."
        raise InvalidInputError(msg)
    ranks = [int(r) for r in ranks]
    limit = min(Xv.shape)
    if not 1 <= ranks[0] <= limit:
        msg = (f"The first rank must be in [1, min(n_samples, n_features)] = [1, {limit}] for X with "
               f"n_samples={Xv.shape[0]}, n_features={Xv.shape[1]}; got ranks={ranks}.")
        raise InvalidInputError(msg)
    if any(b >= a for a, b in zip(ranks, ranks[1:], strict=False)) or ranks[-1] < 1:
        msg = (f"ranks must be strictly decreasing and positive (each layer summarises the one before); "
               f"got ranks={ranks}.")
        raise InvalidInputError(msg)
    V.check_options(normalization, "normalization", caller, ("rows", "cols"))
    return Xv, ranks, BetaDivergence(beta)


def _layer_weights(value: Any, L: int, name: str, *, positive: bool) -> list[float]:
    vals = [float(value)] * L if np.ndim(value) == 0 else [float(v) for v in value]
    if len(vals) != L:
        msg = f"{name} must be a number or one value per layer ({L}); got {value!r}."
        raise InvalidInputError(msg)
    bad = [v for v in vals if not np.isfinite(v) or v < 0 or (positive and v == 0)]
    if bad:
        msg = f"{name} must be finite and {'positive' if positive else 'non-negative'}; got {value!r}."
        raise InvalidInputError(msg)
    return vals


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
@shared_docs
def multilayer_nmf(X: Any, ranks: Sequence[int], beta_loss: str | float = "kullback-leibler", *,
                   max_iter: int = 1000, tol: float = 1e-4, normalization: str = "rows",
                   random_state: Any = None, reset_seed: bool = False, verbose: int = 0,
                   _column_stochastic: bool = False) -> Any:
    """Multilayer beta-NMF: fit ``W_{l-1} ≈ W_l H_l`` one layer after the other, never revisiting.

    The baseline of the paper and the initialisation of :func:`deep_nmf`. With
    ``normalization="rows"`` each layer is beta-NMF by multiplicative updates (H
    then W) from a uniform [0, 1) start, stopped after ``max_iter`` sweeps or when
    the objective changes by less than ``tol`` (relative) over 10 sweeps, the
    reference code's accuracy test; the layer is then rescaled so that the rows of
    ``H_l`` sum to 1 and the next layer factorizes that ``W_l``. With
    ``normalization="cols"`` (a different model: ``e^T H_l = e^T``) every layer
    runs exactly ``max_iter`` sweeps of the column-constrained H update and the W
    multiplicative update.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
        Non-negative data.
    ranks : sequence of int
        Strictly decreasing ``[r_1, ..., r_L]`` with ``r_1 <= min(m, n)``.
    beta_loss : {"kullback-leibler", "frobenius"} or {1, 1.5, 2}, default="kullback-leibler"
    max_iter : int, default=1000
        Sweeps per layer.
    tol : float, default=1e-4
        Early-stop accuracy (rows mode); 0 disables it.
    normalization : {"rows", "cols"}, default="rows"
    {random_state}
    reset_seed : bool, default=False
        Restart the generator from ``random_state`` before every layer, as the
        reference code does (``rng(seed)`` per layer). By default one generator
        feeds the layers in turn.
    {verbose}

    Returns
    -------
    FitResult
        ``W = W_1`` (m, r_1), ``H = H_1`` (r_1, n); ``extras`` holds ``W_layers``,
        ``H_layers``, ``layer_errors`` (``D_beta(W_{l-1} | W_l H_l)`` per layer),
        ``layer_histories`` (objective history per layer), ``layer_iterations`` and
        ``ranks``.
    """

    caller = "multilayer_nmf"
    Xv, ranks, loss = _check_common(X, ranks, beta_loss, caller, normalization)
    V.check_interval(max_iter, "max_iter", caller, kind="int", low=1)
    V.check_interval(tol, "tol", caller, low=0.0)
    return _multilayer(Xv, ranks, loss, max_iter=max_iter, tol=tol, normalization=normalization,
                       random_state=random_state, reset_seed=reset_seed, verbose=verbose,
                       column_stochastic=_column_stochastic, caller=caller)


def _multilayer(X: Any, ranks: Sequence[int], loss: BetaDivergence, *, max_iter: int, tol: float, normalization: str,
                random_state: Any, reset_seed: bool, verbose: int, column_stochastic: bool, caller: str) -> Any:

    backend = get_backend(X)
    xp = backend.xp
    rng, seed = V.check_random_state(random_state, caller)
    dtype = X.dtype
    Ws, Hs, errors, histories, iters, convergeds = [], [], [], [], [], []
    started = time.perf_counter()
    Y = X
    for r in ranks:
        if reset_seed:
            rng, _ = V.check_random_state(random_state, caller)
        like = xp.empty((0,), dtype=dtype)
        W0 = backend.random((Y.shape[0], r), rng, like=like, distribution="uniform")
        H0 = backend.random((r, Y.shape[1]), rng, like=like, distribution="uniform")
        if normalization == "cols":
            H0 = H0 / xp.sum(H0, axis=0, keepdims=True)
        method = _DeepBeta(Y, loss, [1.0], backend, normalization=normalization, last_layer="code",
                           min_vol=False, alphas=[0.0], delta=1.0, rho=1.0, exact_prox=False, order="code", admm={},
                           newton_tol=1e-10, newton_max_iter=10_000)
        stop: Any
        if normalization == "rows" and tol > 0:
            stop = AnyOf(RelativeObjectiveChange(tol, every=10), FixedSweeps(max_iter))
        else:
            stop = FixedSweeps(max_iter)
        (W, H), info = run(method, ((W0,), (H0,)), stop=stop, backend=backend, verbose=verbose)
        W, H = W[0], H[0]
        if normalization == "rows":
            W, H = normalize(W, H, "wcols" if column_stochastic else "rows", xp)
        Ws.append(W)
        Hs.append(H)
        errors.append(backend.to_float(loss.value(Y, W, H, backend=backend)))
        histories.append(info["history"])
        iters.append(info["n_iter"])
        convergeds.append(info["converged"])
        Y = W
    elapsed = time.perf_counter() - started
    reason = (f"fitted {len(ranks)} layers sequentially ({', '.join(map(str, iters))} sweeps); "
              f"{sum(convergeds)} of {len(ranks)} converged")
    return FitResult(Ws[0], Hs[0], n_iter=sum(iters), converged=all(convergeds), stop_reason=reason,
                     objective=sum(errors), history=histories[0], elapsed=elapsed, backend=backend.name,
                     random_state=seed,
                     extras={"method": "multilayer", "W_layers": Ws, "H_layers": Hs, "layer_errors": errors,
                             "layer_histories": histories, "layer_iterations": iters, "ranks": ranks,
                             "beta_loss": loss.name, "normalization": normalization})


@shared_docs
def deep_nmf(X: Any, ranks: Sequence[int], beta_loss: str | float = "kullback-leibler", *,
             lambdas: Any = "auto", normalization: str = "rows", model: str = "layer-centric",
             min_vol: bool = False, alphas: Any = 0.05,
             delta: float = 1.0, rho: float = 100.0, max_iter: int = 500, init_iter: int = 500,
             tol: float | None = None, init: Any = None, last_layer: str = "code", order: str = "code",
             exact_prox: bool = False, admm_tol: float = 1e-6, admm_max_iter: int = 200,
             admm_accelerated: bool = True, newton_tol: float = 1e-10, newton_max_iter: int = 10_000,
             record_every: int = 1, random_state: Any = None, reset_seed: bool = False, verbose: int = 0,
             callback: Any = None) -> Any:
    """Deep beta-NMF with the layer-centric loss (Algorithm 1), or minimum-volume deep KL-NMF (Algorithm 2).

    Minimises ``sum_l lambda_l D_beta(W_{l-1} | W_l H_l)`` over ``W_l, H_l >= eps``
    with ``H_l e = e`` (``normalization="rows"``, the paper's model) or
    ``e^T H_l = e^T`` (``"cols"``, the reference code's abundance-style option, a
    different model). With ``min_vol=True`` (beta = 1 only) it minimises
    ``sum_l lambda_l D_KL(W_{l-1} | W_l H_l) + alpha_l log det(W_l^T W_l + delta I)``
    with ``W_l^T e = e`` instead.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
        Non-negative data (sparse is used as such at layer 1).
    ranks : sequence of int
        Strictly decreasing ``[r_1, ..., r_L]``.
    beta_loss : {"kullback-leibler", "frobenius"} or {1, 1.5, 2}, default="kullback-leibler"
        beta = 2 uses the derived multiplicative W rule (not in the paper).
    lambdas : "auto" or sequence of float, default="auto"
        Layer weights; "auto" is ``1 / e_l`` with ``e_l`` the layer errors of the
        multilayer initialisation (every term then starts at 1).
    normalization : {"rows", "cols"}, default="rows"
    model : {"layer-centric", "data-centric"}, default="layer-centric"
        ``"data-centric"``: the paper's eq. (3), ``sum_l lambda_l D_beta(X | W_l H_l ... H_1)``
        with ``H_l e = e``, every layer approximating the data
        (:mod:`nmfkit.methods.deep.datacentric`); rows normalization, no min-vol.
        ``layer_errors`` are then ``D(X | W_l H_l ... H_1)``.
    min_vol : bool, default=False
    alphas : float or sequence, default=0.05
        Min-vol only: the target initial ratio ``alpha~_l`` of volume to data term;
        ``alpha_l = alpha~_l e_l / |log10 det(W_l^T W_l + delta I)|`` at the
        initialisation (reference code; the MM uses the natural-log gradient, so
        the effective weight on ``ln det`` is this ``alpha_l``).
    delta : float, default=1.0
        Min-vol regulariser of the log-det (reference code).
    rho : float, default=100.0
        ADMM penalty.
    max_iter : int, default=500
        Deep sweeps (the paper runs a fixed number; see ``tol``).
    init_iter : int, default=500
        Multilayer sweeps per layer for the initialisation (ignored with ``init``).
    tol : float, optional
        Also stop when the weighted objective changes by less than ``tol``
        (relative) over ``record_every`` sweeps; default: run ``max_iter`` sweeps.
    init : FitResult, optional
        A :func:`multilayer_nmf` result (or any result with ``W_layers`` and
        ``H_layers`` of the right shapes) to start from.
    last_layer : {"code", "paper"}, default="code"
        Rows mode: "code" updates ``H_L`` and ``W_L`` by standard MU and rescales
        the rows of ``H_L`` (what produced Table 2); "paper" uses the constrained
        H update at the last layer too (Algorithm 1). Both solve the same problem.
    order : {"code", "paper"}, default="code"
        Min-vol: "code" updates W then H in each layer; "paper" H then W (Algorithm 2).
    exact_prox : bool, default=False
        Min-vol ADMM W-step: False reproduces the reference code (proximal gradient
        ``rho (W / W~ - V)`` and Newton anchored on the previous ADMM iterate, so the
        column sums of W hold approximately); True solves the exact proximal step
        with Newton anchored on W~ (column sums exact).
    admm_tol, admm_max_iter, admm_accelerated : float, int, bool
        ADMM stop on ``||W - Z||_F``, its cap, and momentum ``k / (k + 10)``.
    newton_tol, newton_max_iter : float, int
        Newton on the multipliers (relative step tolerance).
    record_every : int, default=1
        Sweeps between evaluations of the per-layer errors (the history).
    {random_state}
    reset_seed : bool, default=False
        See :func:`multilayer_nmf`.
    {verbose}
    callback : callable, optional
        ``callback(CallbackInfo)`` after each sweep.

    Returns
    -------
    FitResult
        ``W = W_1``, ``H = H_1``; ``objective`` is the weighted objective.
        ``extras``: ``W_layers``, ``H_layers``, ``lambdas``, ``layer_errors`` (final,
        per layer), ``layer_history`` (array ``(n_records, L)``) with
        ``layer_history_iters``, ``initial_errors``, ``init`` (the multilayer
        result), ``alphas`` and ``log10det`` (min-vol), Newton and ADMM counters.

    References
    ----------
    V. Leplat, L. T. K. Hien, A. Onwunta, N. Gillis, "Deep nonnegative matrix
    factorization with beta divergences", arXiv:2309.08249 (2023).
    """

    caller = "deep_nmf"
    Xv, ranks, loss = _check_common(X, ranks, beta_loss, caller, normalization)
    L = len(ranks)
    V.check_interval(max_iter, "max_iter", caller, kind="int", low=1)
    V.check_interval(init_iter, "init_iter", caller, kind="int", low=1)
    V.check_interval(record_every, "record_every", caller, kind="int", low=1)
    V.check_options(last_layer, "last_layer", caller, ("code", "paper"))
    V.check_options(order, "order", caller, ("code", "paper"))
    for name, value in (("delta", delta), ("rho", rho), ("admm_tol", admm_tol), ("newton_tol", newton_tol)):
        V.check_interval(value, name, caller, low=0.0, closed="neither")
    if tol is not None:
        V.check_interval(tol, "tol", caller, low=0.0)
    if min_vol and loss.beta != 1.0:
        msg = f"min_vol=True is defined for the KL divergence (beta_loss=1) only; got beta_loss={beta_loss!r}."
        raise InvalidInputError(msg)
    if min_vol and normalization != "rows":
        msg = "min_vol=True normalises the columns of W (W^T e = e); leave normalization='rows'."
        raise InvalidInputError(msg)
    V.check_options(model, "model", caller, ("layer-centric", "data-centric"))
    if model == "data-centric" and (min_vol or normalization != "rows"):
        msg = "model='data-centric' is the paper's eq. (3) with H_l e = e: leave normalization='rows', min_vol=False."
        raise InvalidInputError(msg)
    backend = get_backend(Xv)
    xp = backend.xp
    if init is None:
        init = _multilayer(Xv, ranks, loss, max_iter=init_iter, tol=1e-4, normalization=normalization,
                           random_state=random_state, reset_seed=reset_seed, verbose=0,
                           column_stochastic=min_vol, caller=caller)
    else:
        shapes = [(Xv.shape[0], r) for r in ranks], [(r, p) for r, p in zip(ranks, [Xv.shape[1], *ranks[:-1]],
                                                                            strict=True)]
        got = ([tuple(W.shape) for W in init.extras.get("W_layers", [])],
               [tuple(H.shape) for H in init.extras.get("H_layers", [])])
        if got != shapes:
            msg = f"init must hold W_layers and H_layers of shapes {shapes}; got {got}."
            raise InvalidInputError(msg)
    Ws = [xp.asarray(W, dtype=Xv.dtype, copy=True) for W in init.extras["W_layers"]]
    Hs = [xp.asarray(H, dtype=Xv.dtype, copy=True) for H in init.extras["H_layers"]]
    if min_vol:
        Ws, Hs = map(list, zip(*(normalize(W, H, "wcols", xp) for W, H in zip(Ws, Hs, strict=True)), strict=True))
    centric = DataCentric(Xv, loss, [1.0] * L, backend) if model == "data-centric" else None
    if centric is not None:
        errors0 = [backend.to_float(e) for e in centric.errors((Ws, Hs))]
    else:
        errors0 = [backend.to_float(loss.value(Xv if l == 0 else Ws[l - 1], Ws[l], Hs[l], backend=backend))
                   for l in range(L)]  # noqa: E741
    if isinstance(lambdas, str) and lambdas == "auto":
        lam = balancing_weights(errors0, float(backend.eps(Xv.dtype)))  # 1 / e_l, e_l floored
    else:
        lam = _layer_weights(lambdas, L, "lambdas", positive=True)
    alpha_values = [0.0] * L
    if min_vol:
        tilde = _layer_weights(alphas, L, "alphas", positive=False)
        logdets = [abs(backend.to_float(log10det(W, delta, xp))) for W in Ws]
        alpha_values = [t * e / max(v, np.finfo(float).tiny) for t, e, v in zip(tilde, errors0, logdets, strict=True)]
    method: Any
    if centric is not None:
        centric.lambdas = list(lam)
        method = centric
    else:
        method = _DeepBeta(Xv, loss, lam, backend, normalization=normalization, last_layer=last_layer,
                           min_vol=min_vol, alphas=alpha_values, delta=delta, rho=rho, exact_prox=exact_prox,
                           order=order, admm={"tol": admm_tol, "max_iter": admm_max_iter,
                                              "accelerated": admm_accelerated},
                           newton_tol=newton_tol, newton_max_iter=newton_max_iter)
    stop: Any = FixedSweeps(max_iter)
    if tol is not None:
        stop = AnyOf(RelativeObjectiveChange(tol, every=record_every), stop)
    state, info = run(method, (tuple(Ws), tuple(Hs)), stop=stop, backend=backend, callback=callback,
                      verbose=verbose, record_every=record_every)
    from sklearn.exceptions import ConvergenceWarning  # loaded when needed
    Ws, Hs = list(state[0]), list(state[1])
    counters = getattr(method, "counters", {})
    if counters.get("admm_capped"):
        warnings.warn(f"{counters['admm_capped']} of {counters['admm_calls']} ADMM calls reached "
                      f"admm_max_iter={admm_max_iter}; raise it or admm_tol.", ConvergenceWarning, stacklevel=2)
    iters = [n for n, _ in method.layer_history]
    history = np.array([e for _, e in method.layer_history])
    extras = {"method": "deep-min-vol" if min_vol else "deep", "W_layers": Ws, "H_layers": Hs, "ranks": ranks,
              "lambdas": lam, "layer_errors": list(map(float, history[-1])), "layer_history": history,
              "layer_history_iters": iters, "initial_errors": errors0, "init": init, "beta_loss": loss.name,
              "normalization": normalization, "model": model, **counters}
    if min_vol:
        extras.update(alphas=alpha_values, alpha_tilde=_layer_weights(alphas, L, "alphas", positive=False),
                      log10det=[backend.to_float(v) for v in method.volumes(state)],
                      weighted_error=float(sum(a * e for a, e in zip(lam, history[-1], strict=True))))
    return FitResult(Ws[0], Hs[0], n_iter=info["n_iter"], converged=info["converged"],
                     stop_reason=info["stop_reason"], objective=info["objective"], history=info["history"],
                     elapsed=info["elapsed"], backend=backend.name, random_state=init.random_state, extras=extras)


# ---------------------------------------------------------------------------------------------
# helpers for analysis
# ---------------------------------------------------------------------------------------------
def layer_features(result: Any) -> list[np.ndarray]:
    """The features of every layer of a deep or multilayer result: ``F_l``, the product of ``H_l`` down to ``H_1``.

    ``F_l = H_l H_(l-1) ⋯ H_1`` has shape ``(r_l, n)``: one row per layer-l feature.

    Parameters
    ----------
    result : FitResult
        From :func:`nmfkit.deep_nmf` or :func:`nmfkit.multilayer_nmf` (``extras["H_layers"]``).

    Returns
    -------
    list of ndarray
        ``[F_1, ..., F_L]``.
    """
    Hs = result.extras["H_layers"]
    out, F = [], None
    for H in Hs:
        F = np.asarray(H) if F is None else np.asarray(H) @ F
        out.append(F)
    return out


def hoyer_sparsity(F: Any, axis: int = 1) -> np.ndarray:
    """Hoyer's sparsity of every row (``axis=1``) of F: :func:`nmfkit.metrics.sparseness`.

    In [0, 1]: 0 for a constant vector, 1 for a single non-zero. Undefined (NaN)
    for an all-zero vector or ``n = 1``.
    """

    return np.asarray(sparseness(F, axis=axis))
