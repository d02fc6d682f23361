"""Online (minibatch) NMF: rows arrive in batches, the components are refined from running statistics.

For a batch ``X_b`` (rows = samples) with the components ``H`` fixed, the codes
``W_b`` are fitted; the batch then enters statistics of ``H``'s subproblem,
older batches weighted down by a forgetting factor ``rho``:

- Frobenius (Mairal et al. 2010): ``W_b = argmin_{W >= 0} ||X_b - W H||`` exactly
  (block principal pivoting); ``A <- rho A + W_b^T W_b``, ``B <- rho B + W_b^T X_b``;
  ``H`` minimizes ``0.5 tr(H^T A H) - tr(B^T H)`` over ``H >= 0`` by HALS passes.
- Any beta (Lefevre et al. 2011): ``W_b`` by multiplicative updates; the
  terms of ``H``'s multiplicative update are accumulated,
  ``N <- rho N + H^(1/gamma) W_b^T (X_b (W_b H)^(beta - 2))``,
  ``D <- rho D + W_b^T (W_b H)^(beta - 1)``, and ``H <- (N / D)^gamma(beta)`` (with one batch and
  ``rho = 0`` this is the batch MU step).

References
----------
.. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
   factorization and sparse coding", JMLR 11, 2010.
.. [2] A. Lefevre, F. Bach and C. Fevotte, "Online algorithms for nonnegative
   matrix factorization with the Itakura-Saito divergence", WASPAA 2011.
   :doi:`10.1109/ASPAA.2011.6082314`
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nmfkit import _validation as V
from nmfkit.backend import get_backend
from nmfkit.driver import FitResult, run
from nmfkit.initialization import get_initializer
from nmfkit.losses import BetaDivergence
from nmfkit.solvers.anls import nnls_bpp, well_posed
from nmfkit.solvers.hals import HALS
from nmfkit.solvers.mu import multiplicative_step
from nmfkit.stopping import FixedSweeps

__all__ = ["OnlineState", "online_nmf", "partial_fit_batch", "start"]


@dataclass
class OnlineState:
    """What an online fit carries from one batch to the next.

    Attributes
    ----------
    H : array of shape (n_components, n_features)
        The components.
    num, den : arrays of shape (n_components, n_components) and (n_components, n_features)
        Frobenius: ``A`` (``sum W_b^T W_b``) and ``B`` (``sum W_b^T X_b``); other
        losses: the accumulated numerator and denominator of ``H``'s update (both
        of shape (n_components, n_features)).
    n_batches : int
    beta : float
    """

    H: Any
    num: Any = None
    den: Any = None
    n_batches: int = 0
    beta: float = 2.0
    history: list = field(default_factory=list)


def start(X: Any, n_components: int, beta: float, init: Any, rng: Any, backend: Any) -> OnlineState:
    """An empty state whose components start from ``init`` on ``X`` (validated data)."""
    _, H0 = get_initializer(init)(backend.to_host(X), n_components, rng=rng)
    return OnlineState(H=backend.asarray(H0, like=X, dtype=X.dtype), beta=beta)


def codes(X: Any, H: Any, beta: float, backend: Any, inner: int, W: Any = None) -> Any:
    """``W_b`` for the batch ``X`` with ``H`` fixed: exact NNLS (Frobenius) or ``inner`` MU steps."""
    xp = backend.xp
    if beta == 2.0:
        G = well_posed(H @ H.T, backend)
        B = backend.matmul(X, H.T).T
        return nnls_bpp(G, B, B > 0, backend).T
    loss = BetaDivergence(beta)
    eps = backend.eps(H.dtype)
    if W is None:
        scale = (backend.to_float(backend.sum_all(X)) / (X.shape[0] * X.shape[1]) / H.shape[0]) ** 0.5
        W = xp.full((X.shape[0], H.shape[0]), scale, dtype=H.dtype)
    for _ in range(inner):
        num, den = loss.mu_terms(X, W, H, backend=backend)
        W = multiplicative_step(W, num, den, loss.mm_exponent, xp, eps)
    return W


def partial_fit_batch(state: OnlineState, X: Any, *, rho: float, inner: int = 10, backend: Any = None) -> Any:
    """Fold one batch into ``state`` (in place) and return its codes ``W_b`` (batch_size, n_components)."""
    backend = backend or get_backend(X)
    xp = backend.xp
    H, beta = state.H, state.beta
    W = codes(X, H, beta, backend, inner)
    if beta == 2.0:
        A = W.T @ W
        B = backend.matmul(backend.transpose(X), W).T
        state.num = A if state.num is None else rho * state.num + A
        state.den = B if state.den is None else rho * state.den + B
        # H^T minimizes 0.5 tr(H A H^T) - tr(B H^T): HALS passes on the transposed statistics
        state.H = HALS(delta=0.1).sweep_columns(H.T, state.den.T, state.num, inner, backend).T
    else:
        loss = BetaDivergence(beta)
        eps = backend.eps(H.dtype)
        gamma = loss.mm_exponent
        num, den = loss.mu_terms(backend.transpose(X), H.T, W.T, backend=backend)  # H's terms, transposed
        # the numerator enters multiplied by the H it was computed at (H^(1/gamma)), so that
        # H = (N / D)^gamma is the batch MU step when only one batch has been seen
        weighted = (H ** (1.0 / gamma) if gamma != 1.0 else H) * num.T
        state.num = weighted if state.num is None else rho * state.num + weighted
        state.den = den.T if state.den is None else rho * state.den + den.T
        ratio = state.num / xp.maximum(state.den, eps)
        state.H = ratio**gamma if gamma != 1.0 else ratio
    state.n_batches += 1
    return W


def online_nmf(X: Any, n_components: int, *, beta_loss: str | float = "frobenius", batch_size: int = 1024,
               n_epochs: int = 5, forget_factor: float = 0.7, inner: int = 10, init: Any = "random",
               random_state: Any = None, shuffle: bool = True, verbose: int = 0) -> Any:
    """Minibatch NMF of ``X`` (rows = samples), epoch after epoch; see the module docstring.

    Parameters
    ----------
    X : {array, sparse matrix, tensor} of shape (n_samples, n_features)
    n_components : int
    beta_loss : float or str, default="frobenius"
    batch_size : int, default=1024
        Rows per batch.
    n_epochs : int, default=5
        Passes over the rows.
    forget_factor : float, default=0.7
        Weight kept by the past statistics over one epoch: each batch multiplies
        them by ``forget_factor ** (batch_size / n_samples)`` (scikit-learn's
        ``MiniBatchNMF`` convention); 1 keeps everything.
    inner : int, default=10
        HALS passes on ``H`` (Frobenius, fewer once they stall) or MU steps on each batch's codes.
    init : str or Initializer, default="random"
        Start of ``H`` (computed from the whole ``X``).
    random_state : int, Generator or None
        Seeds the start and the batch order.
    shuffle : bool, default=True
        Visit the batches in a new random order at every epoch.
    verbose : int, default=0
        Print a progress table: the objective after each epoch, then why the loop stopped.

    Returns
    -------
    FitResult
        ``W`` (the codes of every row with the final ``H``), ``H``, ``n_iter`` =
        epochs (one sweep each: ``converged=False``, a fixed budget), the
        objective after each epoch in ``history``, and the
        :class:`OnlineState` in ``extras["state"]`` (to continue with
        :func:`partial_fit_batch`).
    """
    caller = "online_nmf"
    beta = V.check_beta_loss(beta_loss, caller)
    X, _ = V.check_data(X, caller=caller, beta=beta)
    n, m = X.shape
    k = V.check_n_components(n_components, (n, m), caller)
    V.check_zeros(X, None, beta=beta)
    batch_size = V.check_interval(batch_size, "batch_size", caller, kind="int", low=1, closed="left")
    n_epochs = V.check_interval(n_epochs, "n_epochs", caller, kind="int", low=1, closed="left")
    forget_factor = V.check_interval(forget_factor, "forget_factor", caller, low=0.0, high=1.0, closed="right")
    inner = V.check_interval(inner, "inner", caller, kind="int", low=1, closed="left")
    rng, seed = V.check_random_state(random_state, caller)
    backend = get_backend(X)
    state = start(X, k, beta, init, rng, backend)
    rho = forget_factor ** (min(batch_size, n) / n)
    loss = BetaDivergence(beta)
    method = _Epochs(X, loss, rng, batch_size=batch_size, rho=rho, inner=inner, shuffle=shuffle, backend=backend)
    state, info = run(method, state, stop=FixedSweeps(n_epochs), backend=backend, verbose=verbose, record_every=1)
    state.history = info["history"]
    value = info["objective"]
    extras = {"state": state, "loss_value": value, "beta_loss": beta, "loss": loss.name, "solver": "online",
              "batch_size": batch_size, "forget_factor": forget_factor}
    return FitResult(method.W, state.H, backend=backend.name, random_state=seed, extras=extras, **info)


class _Epochs:
    """Online NMF as the driver runs it: one sweep is one epoch over the batches; the objective refits the codes."""

    def __init__(self, X: Any, loss: BetaDivergence, rng: np.random.Generator, *, batch_size: int, rho: float,
                 inner: int, shuffle: bool, backend: Any) -> None:
        self.X, self.loss, self.rng, self.backend = X, loss, rng, backend
        self.batch_size, self.rho, self.inner, self.shuffle = batch_size, rho, inner, shuffle
        self.W: Any = None  # the codes of every row at the last evaluation

    def step(self, state: OnlineState) -> OnlineState:
        X, n, backend = self.X, self.X.shape[0], self.backend
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for lo in range(0, n, self.batch_size):
            rows = np.sort(order[lo:lo + self.batch_size])
            Xb = X[rows] if not hasattr(X, "detach") else X.index_select(0, backend.asarray(rows, like=X).long())
            partial_fit_batch(state, Xb, rho=self.rho, inner=self.inner, backend=backend)
        return state

    def objective(self, state: OnlineState) -> Any:
        self.W = codes(self.X, state.H, state.beta, self.backend, 5 * self.inner)
        return self.loss.value(self.X, self.W, state.H, backend=self.backend)

    def factors(self, state: OnlineState) -> dict:
        return {"H": state.H}
