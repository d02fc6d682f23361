"""scikit-learn estimators: thin wrappers over the functional API (no math here)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from nmfkit import _validation as V
from nmfkit import defaults as D
from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError, calling, check_2d, check_data
from nmfkit.backend import get_backend
from nmfkit.distributed import is_dask_array
from nmfkit.fit import FitResult, nmf
from nmfkit.methods.deep import deep_nmf, deep_usage, layer_features
from nmfkit.methods.merge import nmf_merge
from nmfkit.methods.persistent import embed_new_samples, persistent_nmf
from nmfkit.online import codes, online_nmf, partial_fit_batch, start

__all__ = ["NMF", "NMFMerge", "DeepNMF", "PersistentNMF"]


class _NonNegativeTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """The scikit-learn tags every nmfkit transformer shares: non-negative, sparse-capable input."""

    _preserves_dtype: tuple[str, ...] = ("float64", "float32")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = list(self._preserves_dtype)
        return tags


@shared_docs
class NMF(_NonNegativeTransformer):
    """Non-negative matrix factorization ``X ~ W @ H`` as a scikit-learn transformer.

    Every parameter has the meaning it has in :func:`nmfkit.nmf`, which does the
    work; ``fit_transform`` returns ``W`` and stores ``H`` as ``components_``.

    Parameters
    ----------
    n_components : int, default=None
        Rank; ``None`` means ``min(n_samples, n_features)``.
    beta_loss : float or str, default="frobenius"
    solver : str or Solver, default="auto"
    init : str or Initializer, default=None
    alpha_W : float, default=0.0
    alpha_H : float or "same", default="same"
    l1_ratio : float, default=0.0
    stop : str or StoppingRule, default="objective"
    tol : float, default=1e-4
    max_iter : int, default=1000
    max_time : float, default=None
    missing : {"error", "mask"}, default="error"
    random_state : int, Generator, RandomState or None, default=None
    {verbose}
    extrapolate : bool, "auto" or Extrapolation, default="auto"
        Extrapolated alternating updates for the Frobenius loss, on wherever
        they apply (see :func:`nmfkit.nmf`).
    checkpoint : str or path, default=None
        Save the fit's state there every ``checkpoint_every`` sweeps and resume
        from it when it exists (see :func:`nmfkit.nmf`).
    checkpoint_every : int, default=100

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``H``.
    n_components_ : int
    reconstruction_err_ : float
        ``sqrt(2 * loss)``: the Frobenius norm of ``X - WH`` for beta = 2.
    n_iter_ : int
    result_ : FitResult
        The full result of the last fit (history, stop reason, ...).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import NMF
    >>> X = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])
    >>> model = NMF(n_components=2, random_state=0, max_iter=1000)
    >>> W = model.fit_transform(X)
    >>> model.components_.shape
    (2, 2)
    """

    def __init__(self, n_components: int | None = None, *, beta_loss: str | float = "frobenius",
                 solver: Any = "auto", init: Any = None, alpha_W: float = 0.0, alpha_H: float | str = "same",
                 l1_ratio: float = 0.0, stop: Any = "objective", tol: float = D.TOL, max_iter: int = D.MAX_ITER,
                 max_time: float | None = None, missing: str = "error", random_state: Any = None,
                 verbose: int = 0, extrapolate: Any = D.EXTRAPOLATE, checkpoint: Any = None,
                 checkpoint_every: int = 100) -> None:
        self.n_components = n_components
        self.beta_loss = beta_loss
        self.solver = solver
        self.init = init
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.stop = stop
        self.tol = tol
        self.max_iter = max_iter
        self.max_time = max_time
        self.missing = missing
        self.random_state = random_state
        self.verbose = verbose
        self.extrapolate = extrapolate
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every

    def _fit_params(self) -> dict:
        return {k: v for k, v in self.get_params().items() if k != "n_components"}

    def fit_transform(self, X: Any, y: Any = None, W: Any = None, H: Any = None, mask: Any = None) -> np.ndarray:
        """Fit to ``X`` and return ``W`` of shape (n_samples, n_components).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ignored
        W, H : array-like, optional
            Starting factors (both).
        mask : array-like of shape (n_samples, n_features), optional
            Weights of the entries (0 = missing).
        """
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        with calling(type(self).__name__):
            result = nmf(X, self.n_components, W=W, H=H, mask=mask, **self._fit_params())
        self._store(result)
        return result.W

    def fit(self, X: Any, y: Any = None, **params: Any) -> NMF:
        """Fit to ``X``; see :meth:`fit_transform`."""
        self.fit_transform(X, y, **params)
        return self

    def _store(self, result: FitResult) -> None:
        self.result_ = result
        self.components_ = result.H
        self.n_components_ = result.H.shape[0]
        self.n_iter_ = result.n_iter
        self.reconstruction_err_ = float(np.sqrt(2.0 * max(result.extras["loss_value"], 0.0)))

    def transform(self, X: Any, mask: Any = None) -> np.ndarray:
        """``W`` for new data with the fitted components held fixed.

        For the Frobenius loss each row of ``W`` is the exact non-negative least
        squares solution (block principal pivoting), so rows are independent of
        each other; other losses run the fitted solver with ``H`` fixed.
        """
        check_is_fitted(self)
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        params = self._transform_params(mask)
        if is_dask_array(X):  # a Dask fit evaluates the objective, not the factors, between sweeps
            params["stop"] = "fixed" if params["max_iter"] == 1 else "objective"
        with warnings.catch_warnings():
            if params["max_iter"] == 1:  # one exact solve is the answer, not a truncated loop
                warnings.simplefilter("ignore", ConvergenceWarning)
            with calling(type(self).__name__):
                result = nmf(X, self.n_components_, H=self.components_, update_H=False, mask=mask, **params)
        return result.W

    def _transform_params(self, mask: Any) -> dict:
        params = self._fit_params()
        params.update(init=None, stop="factor", tol=min(self.tol, 1e-6), max_iter=max(self.max_iter, 1000),
                      extrapolate=False, checkpoint=None)  # H is fixed: nothing to extrapolate or resume
        if params["beta_loss"] in (2, 2.0, "frobenius") and mask is None:
            params.update(solver="anls-bpp", stop="factor", tol=0.0, max_iter=1)
        return params

    def inverse_transform(self, X: Any) -> np.ndarray:
        """``X @ components_``: data of shape (n_samples, n_features) from ``W`` of shape (n_samples, n_components)."""
        check_is_fitted(self)
        W = np.asarray(X, dtype=self.components_.dtype)
        if W.ndim != 2 or W.shape[1] != self.n_components_:
            msg = f"X must have shape (n_samples, n_components={self.n_components_}); got {W.shape}."
            raise InvalidInputError(msg)
        return W @ self.components_

    @property
    def _n_features_out(self) -> int:
        return self.components_.shape[0]


@shared_docs
class MiniBatchNMF(_NonNegativeTransformer):
    """Online (minibatch) NMF as a scikit-learn transformer, with ``partial_fit`` for rows that arrive in batches.

    ``fit`` runs :func:`nmfkit.online.online_nmf` over ``X`` in minibatches;
    ``partial_fit`` folds one batch into the running statistics (the first call
    starts ``H`` from that batch), the past weighted by ``forget_factor`` at each
    call. ``transform`` fits codes with the components held fixed.

    Parameters
    ----------
    n_components : int, default=None
        Rank; ``None`` means ``min(n_samples, n_features)`` of the first data seen.
    beta_loss : float or str, default="frobenius"
    batch_size : int, default=1024
    n_epochs : int, default=5
    forget_factor : float, default=0.7
    inner : int, default=10
    init : str or Initializer, default="random"
    {random_state}
    shuffle : bool, default=True
    {verbose}

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    n_components_ : int
    state_ : OnlineState
        The running statistics.
    n_batches_ : int
        Batches seen.
    """

    def __init__(self, n_components: int | None = None, *, beta_loss: str | float = "frobenius",
                 batch_size: int = 1024, n_epochs: int = 5, forget_factor: float = 0.7, inner: int = 10,
                 init: Any = "random", random_state: Any = None, shuffle: bool = True, verbose: int = 0) -> None:
        self.n_components = n_components
        self.beta_loss = beta_loss
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.forget_factor = forget_factor
        self.inner = inner
        self.init = init
        self.random_state = random_state
        self.shuffle = shuffle
        self.verbose = verbose

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit over minibatches of ``X``; return the codes ``W`` (n_samples, n_components)."""
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        k = self.n_components if self.n_components is not None else min(X.shape)
        result = online_nmf(X, k, beta_loss=self.beta_loss, batch_size=self.batch_size, n_epochs=self.n_epochs,
                            forget_factor=self.forget_factor, inner=self.inner, init=self.init,
                            random_state=self.random_state, shuffle=self.shuffle, verbose=self.verbose)
        self.result_ = result
        self.state_ = result.extras["state"]
        self._set_components()
        return result.W

    def fit(self, X: Any, y: Any = None) -> MiniBatchNMF:
        """Fit over minibatches of ``X``; see :meth:`fit_transform`."""
        self.fit_transform(X, y)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> MiniBatchNMF:
        """Fold the batch ``X`` (batch_size, n_features) into the running statistics and update ``H``."""
        first = not hasattr(self, "state_")
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=first)
        caller = "MiniBatchNMF.partial_fit"
        beta = V.check_beta_loss(self.beta_loss, caller)
        Xv, _ = V.check_data(X, caller=caller, beta=beta)
        backend = get_backend(Xv)
        if first:
            k = self.n_components if self.n_components is not None else min(Xv.shape)
            k = V.check_n_components(k, (max(Xv.shape[0], k), Xv.shape[1]), caller)
            V.check_interval(self.forget_factor, "forget_factor", caller, low=0.0, high=1.0, closed="right")
            rng, _ = V.check_random_state(self.random_state, caller)
            self.state_ = start(Xv, k, beta, self.init, rng, backend)
        partial_fit_batch(self.state_, Xv, rho=self.forget_factor, inner=self.inner, backend=backend)
        self._set_components()
        return self

    def transform(self, X: Any) -> Any:
        """Codes of ``X`` with the components held fixed: exact NNLS (Frobenius) or multiplicative updates."""
        check_is_fitted(self)
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        Xv, _ = V.check_data(X, caller="MiniBatchNMF.transform", beta=self.state_.beta)
        return codes(Xv, self.state_.H, self.state_.beta, get_backend(Xv), 50 * self.inner)

    def _set_components(self) -> None:
        self.components_ = self.state_.H
        self.n_components_ = self.state_.H.shape[0]
        self.n_batches_ = self.state_.n_batches

    @property
    def _n_features_out(self) -> int:
        return self.components_.shape[0]


@shared_docs
class NMFMerge(NMF):
    """NMF-Merge (Guo & Holy) as a scikit-learn transformer; :func:`nmfkit.methods.nmf_merge` does the work.

    Parameters
    ----------
    n_components : int, default=None
        Final rank; ``None`` means ``min(n_samples, n_features)``.
    n_extra : int, default=None
        Extra components before merging; default ``max(1, round(0.2 n_components))``.
    solver : str or Solver, default="hals"
    tol_intermediate : float, default=1e-2
    tol_final : float, default=1e-4
    max_iter : int, default=1000000
    svd : {"auto", "full", "randomized"}, default="auto"
    {random_state}
    {verbose}

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    n_components_ : int
    reconstruction_err_ : float
    n_iter_ : int
        Sweeps of the final stage.
    result_ : FitResult
        With ``extras["stage_times"]``, ``extras["merge_sequence"]``, ...
    """

    def __init__(self, n_components: int | None = None, *, n_extra: int | None = None, solver: Any = "hals",
                 tol_intermediate: float = 1e-2, tol_final: float = 1e-4, max_iter: int = 10**6, svd: str = "auto",
                 random_state: Any = None, verbose: int = 0) -> None:
        self.n_components = n_components
        self.n_extra = n_extra
        self.solver = solver
        self.tol_intermediate = tol_intermediate
        self.tol_final = tol_final
        self.max_iter = max_iter
        self.svd = svd
        self.random_state = random_state
        self.verbose = verbose

    def fit_transform(self, X: Any, y: Any = None, W: Any = None, H: Any = None, mask: Any = None) -> np.ndarray:
        """Fit to ``X`` (optionally improving a given ``W, H``) and return ``W``; masks are not supported."""
        if mask is not None:
            msg = "NMFMerge does not support masks; use NMF(mask=...) or fill the missing values."
            raise InvalidInputError(msg)
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        k = self.n_components
        if k is None:
            k = min(check_data(X, caller=type(self).__name__)[0].shape)
        result = nmf_merge(X, k, n_extra=None if self.n_extra is None else min(self.n_extra, k), solver=self.solver,
                           tol_intermediate=self.tol_intermediate, tol_final=self.tol_final, W=W, H=H,
                           max_iter=self.max_iter, svd=self.svd, random_state=self.random_state,
                           verbose=self.verbose)
        self._store(result)
        return result.W

    def _transform_params(self, mask: Any) -> dict:
        return {"beta_loss": "frobenius", "solver": "anls-bpp" if mask is None else "hals", "init": None,
                "stop": "factor", "tol": 0.0 if mask is None else 1e-8,
                "max_iter": 1 if mask is None else 10000, "random_state": None, "verbose": 0}


@shared_docs
class DeepNMF(_NonNegativeTransformer):
    """Deep beta-NMF (X ≈ W1 H1, W1 ≈ W2 H2, and so on) as a scikit-learn transformer.

    :func:`nmfkit.methods.deep_nmf` does the work (layer-centric loss, Leplat,
    Hien, Onwunta & Gillis). ``transform`` gives every layer's usage, side by
    side: ``[W_1, W_2, ..., W_L]`` of shape (n_samples, r_1 + ... + r_L), the
    minimiser of the deep objective over the W's with the fitted H's fixed
    (rows are independent); :meth:`transform_layers` returns them as a list.

    Parameters
    ----------
    ranks : sequence of int
        Strictly decreasing ``[r_1, ..., r_L]``, e.g. ``[80, 40, 20]``.
    beta_loss : {"kullback-leibler", "frobenius"} or {1, 1.5, 2}, default="kullback-leibler"
    lambdas : "auto" or sequence of float, default="auto"
    normalization : {"rows", "cols"}, default="rows"
    min_vol : bool, default=False
    alphas : float or sequence of float, default=0.05
    delta : float, default=1.0
    max_iter : int, default=500
        Deep sweeps.
    init_iter : int, default=500
        Multilayer sweeps per layer for the initialisation.
    tol : float, default=None
        Optional early stop on the weighted objective.
    {random_state}
    {verbose}

    Attributes
    ----------
    components_ : ndarray of shape (r_1, n_features)
        ``H_1``.
    layer_components_ : list of ndarray
        The layer features ``H_l ... H_1``, of shape (r_l, n_features).
    H_layers_ : list of ndarray
    lambdas_ : list of float
    result_ : FitResult
    n_iter_ : int
    """

    def __init__(self, ranks: Any = None, *, beta_loss: str | float = "kullback-leibler", lambdas: Any = "auto",
                 normalization: str = "rows", min_vol: bool = False, alphas: Any = 0.05, delta: float = 1.0,
                 max_iter: int = 500, init_iter: int = 500, tol: float | None = None, random_state: Any = None,
                 verbose: int = 0) -> None:
        self.ranks = ranks
        self.beta_loss = beta_loss
        self.lambdas = lambdas
        self.normalization = normalization
        self.min_vol = min_vol
        self.alphas = alphas
        self.delta = delta
        self.max_iter = max_iter
        self.init_iter = init_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None) -> DeepNMF:
        """Fit the deep factorization to ``X`` of shape (n_samples, n_features)."""
        if self.ranks is None:
            msg = "DeepNMF needs ranks, e.g. DeepNMF(ranks=[80, 40, 20])."
            raise InvalidInputError(msg)
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        result = deep_nmf(X, self.ranks, self.beta_loss, lambdas=self.lambdas, normalization=self.normalization,
                          min_vol=self.min_vol, alphas=self.alphas, delta=self.delta, max_iter=self.max_iter,
                          init_iter=self.init_iter, tol=self.tol, random_state=self.random_state,
                          verbose=self.verbose)
        self.result_ = result
        self.H_layers_ = [np.asarray(H) for H in result.extras["H_layers"]]
        self.W_layers_ = [np.asarray(W) for W in result.extras["W_layers"]]
        self.lambdas_ = list(result.extras["lambdas"])
        self.components_ = self.H_layers_[0]
        self.layer_components_ = layer_features(result)
        self.n_iter_ = result.n_iter
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return every layer's usage side by side (see :meth:`transform`)."""
        return self.fit(X, y)._transform(X, start=self.W_layers_)

    def transform_layers(self, X: Any) -> list:
        """Every layer's usage of ``X``: a list of arrays ``W_l`` of shape (n_samples, r_l)."""
        check_is_fitted(self)
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        return self._usage(X, None)

    def transform(self, X: Any) -> np.ndarray:
        """``[W_1, ..., W_L]`` side by side, shape (n_samples, r_1 + ... + r_L)."""
        check_is_fitted(self)
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        return self._transform(X, start=None)

    def _usage(self, X: Any, start: Any) -> list:
        return [np.asarray(W) for W in deep_usage(X, self.H_layers_, self.beta_loss, lambdas=self.lambdas_,
                                                   W_layers=start)]

    def _transform(self, X: Any, start: Any) -> np.ndarray:
        return np.hstack(self._usage(X, start))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """``W_1 @ H_1`` from usages of shape (n_samples, r_1 + ... + r_L) (only the layer-1 block is used)."""
        check_is_fitted(self)
        W = np.asarray(X, dtype=self.components_.dtype)
        if W.ndim != 2 or W.shape[1] != self._n_features_out:
            msg = f"X must have shape (n_samples, {self._n_features_out}) (every layer's usage); got {W.shape}."
            raise InvalidInputError(msg)
        return W[:, : self.components_.shape[0]] @ self.components_

    @property
    def _n_features_out(self) -> int:
        return sum(H.shape[0] for H in self.H_layers_)


@shared_docs
class PersistentNMF(_NonNegativeTransformer):
    """Persistent NMF (Zhang, Miao & Li) as a scikit-learn transformer.

    :func:`nmfkit.methods.persistent_nmf` does the work: one graph-regularized
    embedding per scale of the samples' 0-dimensional persistence, coupled
    across neighbouring scales. ``transform`` returns the embedding at scale
    ``scale`` (1 = finest): for a training sample (recognised by its exact
    values) its fitted embedding, for a new sample
    :func:`~nmfkit.methods.persistent.embed_new_samples` (the sample's own terms
    of the objective, solved exactly with the fit held fixed).

    Parameters
    ----------
    n_components : int, default=None
        ``None``: ``ceil(sqrt(n_samples))``.
    lambdas : (float, float, float), default=(100, 100, 1)
    n_sweeps : int, default=10
    max_scales : int, "auto" or None, default="auto"
        See :func:`nmfkit.methods.persistent_nmf`; ``None`` keeps every scale.
    scale : int, default=1
        The scale whose embedding ``transform`` returns.
    faithful : bool, default=True
    {verbose}

    Attributes
    ----------
    embeddings_ : ndarray of shape (n_scales, n_samples, n_components)
    components_ : ndarray of shape (n_components, n_features)
        The basis at ``scale``.
    bases_ : ndarray of shape (n_scales, n_components, n_features)
    eps_ : ndarray of shape (n_scales,)
    result_ : FitResult
    """

    def __init__(self, n_components: int | None = None, *, lambdas: Any = (100.0, 100.0, 1.0), n_sweeps: int = 10,
                 max_scales: Any = "auto", scale: int = 1, faithful: bool = True, verbose: int = 0) -> None:
        self.n_components = n_components
        self.lambdas = lambdas
        self.n_sweeps = n_sweeps
        self.max_scales = max_scales
        self.scale = scale
        self.faithful = faithful
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None) -> PersistentNMF:
        """Fit every scale's embedding of ``X`` (n_samples, n_features)."""
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        result = persistent_nmf(X, self.n_components, lambdas=self.lambdas, n_sweeps=self.n_sweeps,
                                max_scales=self.max_scales, faithful=self.faithful, return_bases=True,
                                verbose=self.verbose)
        self.result_ = result
        self.embeddings_ = result.extras["embeddings"]
        self.bases_ = result.extras["bases"]
        self.eps_ = result.extras["eps"]
        self._X_train = np.array(X.toarray() if hasattr(X, "toarray") else X, dtype=float)
        self._train_rows = {row.tobytes(): i for i, row in enumerate(self._X_train)}
        t = self._scale_index()
        self.components_ = self.bases_[t]
        self.n_components_ = self.components_.shape[0]
        return self

    def _scale_index(self) -> int:
        T = len(self.eps_)
        if not isinstance(self.scale, (int, np.integer)) or not 1 <= self.scale <= T:
            msg = f"scale must be an int in [1, {T}] (the fit has {T} scales); got {self.scale!r}."
            raise InvalidInputError(msg)
        return int(self.scale) - 1

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return the embedding at ``scale`` (n_samples, n_components)."""
        return self.fit(X).embeddings_[self._scale_index()]

    def transform(self, X: Any) -> np.ndarray:
        """The embedding at ``scale``: fitted for the training samples, else solved for the new ones."""
        check_is_fitted(self)
        check_2d(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        t = self._scale_index()
        Xv, _ = check_data(X, caller=type(self).__name__)
        Xd = np.asarray(Xv.toarray() if hasattr(Xv, "toarray") else Xv, dtype=float)
        known = np.array([self._train_rows.get(row.tobytes(), -1) for row in Xd], dtype=int)
        out = np.empty((Xd.shape[0], self.n_components_))
        out[known >= 0] = self.embeddings_[t][known[known >= 0]]
        new = known < 0
        if new.any():
            out[new] = embed_new_samples(Xd[new], self._X_train, self.embeddings_[t], self.bases_[t],
                                         float(self.eps_[t]), lambdas=self.lambdas)
        return out

    inverse_transform = NMF.inverse_transform  # ``X @ components_``, with the same shape check

    @property
    def _n_features_out(self) -> int:
        return self.components_.shape[0]

    _preserves_dtype = ("float64",)
