"""The functional API :func:`nmf`: one NMF problem, checked, started and handed to the driver loop."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nmfkit import _validation as V
from nmfkit import defaults as D
from nmfkit._validation import InvalidInputError
from nmfkit.acceleration import ExtrapolatedNMF, Extrapolation, resolve_extrapolation
from nmfkit.backend import get_backend
from nmfkit.checkpoint import Checkpoint
from nmfkit.driver import CallbackInfo, FitResult, HistoryEntry, Iterative, run
from nmfkit.initialization import Initializer
from nmfkit.losses import BetaDivergence
from nmfkit.options import engine_for, resolve
from nmfkit.penalties import check_penalties, elastic_net
from nmfkit.solvers import Problem, Solver
from nmfkit.stopping import StoppingRule

__all__ = ["nmf", "FitResult", "HistoryEntry", "Iterative", "CallbackInfo", "run"]


class _AlternatingNMF:
    """Standard NMF as an :class:`Iterative`: W by the solver, H by the solver on the transposed problem."""

    def __init__(self, problem: Problem, solver: Solver, update_W: bool = True, update_H: bool = True) -> None:
        self.problem = problem
        self.solver = solver
        self.update_W = update_W
        self.update_H = update_H

    def step(self, state: tuple) -> tuple:
        W, H = state
        if self.update_W:
            W = self.solver.update_left(self.problem, W, H)
        if self.update_H:
            H = self.solver.update_left(self.problem.T, H.T, W.T).T
        return (W, H)

    def objective(self, state: tuple) -> Any:
        return self.problem.objective(*state)

    def factors(self, state: tuple) -> dict:
        W, H = state
        return {"W": W, "H": H}


def nmf(X: Any, n_components: int | None = None, *, beta_loss: str | float = "frobenius",
        solver: str | Solver = "auto", init: str | Initializer | None = None, W: Any = None, H: Any = None,
        update_H: bool = True, mask: Any = None, missing: str = "error", alpha_W: float = 0.0,
        alpha_H: float | str = "same", l1_ratio: float = 0.0, penalties_W: Sequence[Any] = (),
        penalties_H: Sequence[Any] = (), stop: str | StoppingRule = "objective",
        extrapolate: bool | str | Extrapolation = D.EXTRAPOLATE, record_every: int | None = None,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 100,
        tol: float = D.TOL, max_iter: int = D.MAX_ITER, max_time: float | None = None, random_state: Any = None,
        callback: Callable[[CallbackInfo], Any] | None = None, verbose: int = 0) -> FitResult:
    """Non-negative matrix factorization ``X ~ W @ H`` with a beta-divergence.

    Minimizes ``sum d_beta(X | W H)`` (over the observed entries) plus the
    scikit-learn-scaled penalties
    ``n_features * alpha_W * (l1_ratio ||W||_1 + (1 - l1_ratio)/2 ||W||_F^2)``
    and the same for ``H`` with ``n_samples * alpha_H``, over ``W, H >= 0``.

    Parameters
    ----------
    X : {array-like, sparse matrix, torch tensor, dask array} of shape (n_samples, n_features)
        Non-negative data. Integer input is converted to float64; float32 is kept.
        A Dask array is fitted on the current Dask client, rows distributed
        (:func:`~nmfkit.distributed.nmf_distributed`, which also takes the
        client and a working folder).
    n_components : int, default=None
        Rank ``k`` in ``[1, min(n_samples, n_features)]``. ``None``: from ``W``
        or ``H`` when given, else ``min(n_samples, n_features)``.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, default="frobenius"
        Any ``beta >= 0``; the names stand for 2, 1 and 0. With beta = 2 the loss
        is ``0.5 * ||X - WH||_F^2``.
    solver : str or Solver, default="auto"
        ``"hals"`` (accelerated HALS), ``"anls-bpp"``, ``"gcd"``, ``"anls-pg"``
        (Frobenius only), ``"mu"`` (any beta), or a :class:`~nmfkit.solvers.Solver`
        instance. ``"auto"``: HALS (with extrapolation, see ``extrapolate``) for
        beta = 2, MU otherwise; the choice and its evidence are in
        :mod:`nmfkit.defaults`.
    init : str or Initializer, default=None
        ``"random"``, ``"nndsvd"``, ``"nndsvda"``, ``"nndsvdar"``, ``"spa"`` or an
        instance (e.g. ``NNDSVD(fill="zero", leading="uniform")``). ``None``:
        ``"custom"`` when ``W`` and ``H`` are given, else ``"nndsvda"``.
    W : array-like of shape (n_samples, n_components), default=None
        Starting ``W`` (with ``H``), copied.
    H : array-like of shape (n_components, n_features), default=None
        Starting ``H`` (with ``W``), or the fixed components when ``update_H=False``.
    update_H : bool, default=True
        ``False`` keeps ``H`` fixed and fits ``W`` only (projection of new data).
    mask : array-like of shape (n_samples, n_features), default=None
        Booleans or non-negative weights; 0 marks a missing entry. Dense ``X``;
        solvers ``"mu"`` and ``"hals"``. The masked entries of a NumPy masked
        array ``X`` (``numpy.ma``) are missing too, whatever they hold.
    missing : {"error", "mask"}, default="error"
        ``"mask"`` treats NaN in ``X`` as missing (combined with ``mask``).
    alpha_W : float, default=0.0
        Penalty strength on ``W``.
    alpha_H : float or "same", default="same"
        Penalty strength on ``H``; ``"same"`` uses ``alpha_W``.
    l1_ratio : float, default=0.0
        Share of L1 in the penalties (0: L2 only, 1: L1 only).
    penalties_W, penalties_H : sequence of Penalty, default=()
        Further penalties (:mod:`nmfkit.penalties`), added to the elastic net:
        e.g. ``GraphLaplacian(lam, A)`` on ``W`` with a sample graph ``A``
        (n_samples, n_samples), or on ``H`` with a feature graph (n_features,
        n_features). Penalties on ``H`` see it transposed (one row per feature).
        A penalty that couples rows (the graph) needs ``solver="mu"``.
    stop : str or StoppingRule, default="objective"
        Convergence rule: ``"objective"`` (relative objective change over 10
        sweeps), ``"factor"`` (per-component relative factor change, NMF.jl),
        ``"fixed"`` (exactly ``max_iter`` sweeps, no warning), or an instance
        from :mod:`nmfkit.stopping`.
    extrapolate : bool, "auto" or Extrapolation, default="auto"
        Frobenius loss with ``"hals"``, ``"anls-bpp"``, ``"gcd"`` or ``"anls-pg"``:
        extrapolate each factor along its last step, with restarts when the
        objective increases (Ang & Gillis 2019); several times fewer sweeps to
        a given error. ``"auto"`` turns it on wherever it applies (Frobenius,
        a quadratic solver, no mask, ``update_H=True``, in-memory data) unless
        the stopping rule watches the factors (``stop="factor"``);
        ``True`` asks for it (an error where it does not apply), ``False``
        turns it off, an :class:`~nmfkit.acceleration.Extrapolation` sets its
        parameters.
    record_every : int, default=None
        Sweeps between objective evaluations (history points, convergence
        checks, the objective passed to ``callback``); default: the stopping
        rule's own (10 sweeps). With ``stop="objective"`` the relative change is
        measured between consecutive evaluations. Each evaluation costs about
        one product with ``X`` (nothing with ``extrapolate`` in float64) and, on
        a GPU, one host synchronisation.
    checkpoint : str or path, default=None
        A ``.npz`` file where the loop saves its state every ``checkpoint_every``
        sweeps (atomically). If the file exists when the fit starts, the fit
        resumes from it and ends as an uninterrupted run would; a checkpoint of
        another problem (data shape, dtype or sum, rank, loss, solver, start,
        penalties, stopping rule) raises
        :class:`~nmfkit.checkpoint.CheckpointMismatch`. The file is left in place.
    checkpoint_every : int, default=100
        Sweeps between checkpoints.
    tol : float, default=1e-4
        Tolerance of the named rule.
    max_iter : int, default=1000
        Most sweeps; reaching it warns with :class:`~sklearn.exceptions.ConvergenceWarning`.
    max_time : float, default=None
        Most seconds in the loop.
    random_state : int, Generator, RandomState or None, default=None
        The only source of randomness (random init, NNDSVDar fill, randomized SVD).
    callback : callable, default=None
        Called after every sweep with a :class:`CallbackInfo`; return any true value (``True``,
        ``numpy.bool_(True)``) or raise StopIteration to stop, None or a false value to go on.
    verbose : int, default=0
        Print a progress table.

    Returns
    -------
    FitResult
        ``W``, ``H`` (same array type and dtype as ``X``), iterations, why it stopped, history.

    Raises
    ------
    ValueError
        For invalid data or parameters; the message names the argument.
    TypeError
        For unsupported input types.

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Learning the parts of objects by
       non-negative matrix factorization", Nature 401, 1999. :doi:`10.1038/44565`
    .. [2] C. Févotte and J. Idier, "Algorithms for nonnegative matrix
       factorization with the beta-divergence", Neural Computation 23(9),
       2011. :doi:`10.1162/NECO_a_00168`

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import nmf
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((30, 4)) @ rng.random((4, 20))
    >>> result = nmf(X, 4, tol=1e-6, max_iter=2000, random_state=0)
    >>> result.W.shape, result.H.shape
    ((30, 4), (4, 20))
    >>> bool(np.linalg.norm(X - result.W @ result.H) / np.linalg.norm(X) < 1e-2)
    True
    """
    caller = V.caller_name("nmf")
    engine = engine_for(X)
    if engine is not None:  # (Dask arrays)
        engine.refuse({"mask": mask is not None, "missing='mask'": missing == "mask",
                       "penalties_W": bool(penalties_W), "penalties_H": bool(penalties_H),
                       "extrapolate": extrapolate not in (False, None, "auto"), "checkpoint": checkpoint is not None})
        with V.calling(caller):
            return engine(X, n_components, beta_loss=beta_loss, solver=solver, init=init, W=W, H=H,
                          update_H=update_H, alpha_W=alpha_W, alpha_H=alpha_H, l1_ratio=l1_ratio, stop=stop,
                          record_every=record_every, tol=tol, max_iter=max_iter, max_time=max_time,
                          random_state=random_state, callback=callback, verbose=verbose)
    opts = resolve(caller, beta_loss=beta_loss, solver=solver, init=init, W=W, H=H, update_H=update_H,
                   alpha_W=alpha_W, alpha_H=alpha_H, l1_ratio=l1_ratio, stop=stop, record_every=record_every, tol=tol,
                   max_iter=max_iter, max_time=max_time, random_state=random_state, callback=callback,
                   verbose=verbose)
    beta, alpha_W, alpha_H_value, l1_ratio = opts.beta, opts.alpha_W, opts.alpha_H, opts.l1_ratio
    stop_rule, seed, solver_obj = opts.stop, opts.seed, opts.solver
    V.check_options(missing, "missing", caller, ("error", "mask"))
    checkpoint_every = V.check_interval(checkpoint_every, "checkpoint_every", caller, kind="int", low=1,
                                        closed="left")
    if checkpoint is not None:
        Checkpoint.check_path(checkpoint, caller)

    # -- data and problem (checked against the solver before any costly initialization) ----
    X, nan_mask = V.check_data(X, caller=caller, missing=missing, beta=beta, masked_ok=True, rescales=True)
    backend = get_backend(X)
    host_dtype = V.host_dtype(X.dtype)
    if mask is not None:
        mask = backend.asarray(V.check_mask(mask, X, caller), like=X)
    if nan_mask is not None:
        nan_mask = backend.asarray(nan_mask, like=X)
        mask = nan_mask if mask is None else mask * nan_mask
    n, m = X.shape
    k = opts.rank(n_components, (n, m))
    V.check_zeros(X, mask, beta=beta)
    user_start = opts.user_start(k, (n, m), host_dtype, data_sum=lambda: backend.to_float(backend.sum_all(X)))
    # data far from 1 (products overflow or the objective underflows) are fitted as X / scale
    largest = backend.to_float(backend.xp.max(backend.sparse_data(X) if backend.is_sparse(X) else X))
    scale = V.safe_scale(largest, host_dtype)
    if scale != 1.0 and user_start is not None:
        # a start far above the data (unit factors for data at 1e-200) would overflow once divided by the
        # scale; it is fitted as given, as it would be without the rescaling
        peak = float(np.max(user_start[0])) * float(np.max(user_start[1])) * k
        if V.safe_scale(peak / scale, host_dtype) > 1.0 or not np.isfinite(peak / scale):
            scale = 1.0
    if scale != 1.0:
        if alpha_W or alpha_H_value or penalties_W or penalties_H:
            msg = (f"X's largest entry is {largest:.3g}: the {host_dtype} products of data this far from 1 "
                   "overflow or underflow, and with penalties the problem is not scale invariant, so it cannot "
                   "be rescaled for you. Divide X by a constant (and adjust the penalties) first.")
            raise InvalidInputError(msg)
        X = backend.with_data(X, backend.sparse_data(X) / scale) if backend.is_sparse(X) else X / scale
    penalties_W = check_penalties(penalties_W, "penalties_W", n, backend, X)
    penalties_H = check_penalties(penalties_H, "penalties_H", m, backend, X)
    loss = BetaDivergence(beta)
    problem = Problem(
        X, backend.transpose(X), loss, backend,
        penalties_left=(*elastic_net(alpha_W, l1_ratio, m), *penalties_W),
        penalties_right=(*elastic_net(alpha_H_value, l1_ratio, n), *penalties_H),
        mask=mask, maskT=None if mask is None else mask.T,
    )
    solver_obj.check(problem)
    accelerate = resolve_extrapolation(extrapolate, solver_obj, stop_rule, caller=caller, beta=beta,
                                       masked=mask is not None, update_H=bool(update_H))
    saved = None
    store: Checkpoint | None = None
    if checkpoint is not None:
        fingerprint = {
            "backend": backend.name, "shape": [n, m], "dtype": str(host_dtype),
            "sum": repr(backend.to_float(backend.sum_all(X))), "n_components": k, "beta_loss": beta,
            "solver": repr(solver_obj), "init": "custom" if opts.custom or opts.W is not None else repr(init),
            "random_state": seed, "alpha_W": alpha_W, "alpha_H": alpha_H_value, "l1_ratio": l1_ratio,
            "penalties_W": [repr(p) for p in penalties_W], "penalties_H": [repr(p) for p in penalties_H],
            "mask": mask is not None, "update_H": bool(update_H),
            "extrapolate": repr(None if accelerate is None else accelerate[1]),
            "stop": repr(stop_rule), "record_every": opts.record_every,
        }
        store = Checkpoint(checkpoint, checkpoint_every, fingerprint)
        if store.exists():
            saved = store.load(backend, like=X)  # (state, n_iter, history, elapsed)

    # -- starting factors ----------------------------------------------------------------
    if user_start is not None:
        W, H, init_name = user_start
    else:
        initializer, init_name = opts.start()
        if saved is None:
            # initialization runs once, on the host (same start on every backend); see nmfkit.initialization
            W, H = initializer(backend.to_host(X), k, rng=opts.rng)
    if saved is None:
        W = backend.asarray(W, like=X, dtype=X.dtype)
        H = backend.asarray(H, like=X, dtype=X.dtype)
        if user_start is not None and scale != 1.0:
            W = W / scale
    resumed = None if saved is None else saved[1:]

    # -- loop ------------------------------------------------------------------------------
    options: dict[str, Any] = {"stop": opts.limits(), "backend": backend, "callback": callback,
                               "verbose": opts.verbose, "record_every": opts.record_every, "checkpoint": store,
                               "resumed": resumed}
    if accelerate is not None:
        accelerated = ExtrapolatedNMF(problem, *accelerate)
        state, info = run(accelerated, accelerated.start(W, H) if saved is None else saved[0], **options)
        W, H = accelerated.best(state)
    else:
        method = _AlternatingNMF(problem, solver_obj, update_W=True, update_H=bool(update_H))
        (W, H), info = run(method, (W, H) if saved is None else saved[0], **options)
    xp = backend.xp
    value = loss.value(X, W, H, backend=backend, mask=mask)
    # one transfer: 0 * (sum W + sum H) is NaN when a factor holds NaN or inf, so the probe is finite when
    # the loss and the factors are (the exact test runs only when it is not)
    loss_value = backend.to_float(value + 0.0 * (xp.sum(W) + xp.sum(H)))
    if not math.isfinite(loss_value):
        if not backend.to_float(xp.all(xp.isfinite(W)) & xp.all(xp.isfinite(H))):
            # never handed back as a result; the checks and the rescaling above are meant to make this unreachable
            msg = (f"The factors became NaN or inf within {info['n_iter']} sweeps ({X.dtype} data, largest entry "
                   f"{largest:.3g}, solver {solver_obj.name!r}). Try the data in float64 or divided by its largest "
                   "entry; this is unexpected, please report it with the data's shape, dtype and the call.")
            raise FloatingPointError(msg)
        loss_value = backend.to_float(value)
    extras = {"loss_value": loss_value, "solver": solver_obj, "init": init_name, "beta_loss": beta,
              "loss": loss.name, "stopping": stop_rule,
              "extrapolation": None if accelerate is None else accelerate[1], "data_scale": scale,
              "resumed_from": None if resumed is None else int(resumed[0])}
    if scale != 1.0:
        # back to the data's units: W * scale; values by scale**beta (they may over- or underflow there)
        W = W * scale

        def units(value: float) -> float:
            # inf when the value does not fit in a float64 (0 stays 0: never 0 * inf)
            if value == 0.0 or not math.isfinite(value):
                return value
            with np.errstate(over="ignore", under="ignore"):
                return float(np.float64(value) * np.float64(scale) ** beta)

        extras["loss_value"] = units(loss_value)
        info["objective"] = units(info["objective"])
        info["history"] = [HistoryEntry(h.n_iter, units(h.objective), h.elapsed) for h in info["history"]]
    return FitResult(W, H, backend=backend.name, random_state=seed, extras=extras, **info)
