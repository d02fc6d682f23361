"""Checks at the public boundary, with one message format.

Parameter errors read
``The 'max_iter' parameter of nmf must be an int in the range [1, inf). Got 0 instead.``
Data errors name the argument, what is wrong, and the fix. Private functions
trust what passed through here.
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit.losses import BETA_ALIASES

__all__ = [
    "InvalidInputError", "DataWarning", "check_interval", "check_options", "check_data", "check_factor",
    "check_mask", "check_n_components", "check_random_state", "check_beta_loss",
]


class InvalidInputError(ValueError, TypeError):
    """An argument or data set the caller can fix; the message names it, what is wrong and the fix.

    Every check at nmfkit's public boundary raises this, so that code (the
    command line above all) can tell a problem with its input from a bug:
    anything else escaping nmfkit is a bug. It is a ``ValueError`` *and* a
    ``TypeError``, so ``except ValueError`` and ``except TypeError`` keep
    catching what they caught before.
    """


class DataWarning(UserWarning):
    """Something about the input data that the user should know (e.g. all-zero rows)."""


_CALLER: ContextVar[str | None] = ContextVar("nmfkit_caller", default=None)


@contextmanager
def calling(name: str) -> Iterator[None]:
    """Within the block, the fits a method starts name ``name`` (the method the user called) in their messages.

    ``with calling("gsvd_nmf"): nmf(...)`` makes ``nmf``'s checks say "The
    'max_iter' parameter of gsvd_nmf ..." without a private argument on ``nmf``.
    """
    token = _CALLER.set(name)
    try:
        yield
    finally:
        _CALLER.reset(token)


def caller_name(default: str) -> str:
    """The name set by the innermost :func:`calling` block, else ``default`` (the function itself)."""
    return _CALLER.get() or default


def _fmt_interval(kind: str, low: float | None, high: float | None, closed: str) -> str:
    left = "[" if closed in ("left", "both") and low is not None else "("
    right = "]" if closed in ("right", "both") and high is not None else ")"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{kind} in the range {left}{lo}, {hi}{right}"


def _finite(value: Any) -> bool:
    """A finite real number (huge ints are finite too)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return isinstance(value, numbers.Integral)


def check_interval(value: Any, name: str, caller: str, *, kind: str = "float",
                   low: float | None = None, high: float | None = None, closed: str = "both",
                   allow_none: bool = False) -> Any:
    """Check a scalar parameter against an interval; return it (ints stay ints)."""
    if value is None and allow_none:
        return None
    wanted = numbers.Integral if kind == "int" else numbers.Real
    ok = isinstance(value, wanted) and not isinstance(value, bool) and _finite(value)
    if ok:
        if low is not None and (value < low or (value == low and closed in ("right", "neither"))):
            ok = False
        if high is not None and (value > high or (value == high and closed in ("left", "neither"))):
            ok = False
    if not ok:
        desc = _fmt_interval(f"an {kind}" if kind == "int" else f"a {kind}", low, high, closed)
        if allow_none:
            desc += " or None"
        msg = f"The {name!r} parameter of {caller} must be {desc}. Got {value!r} instead."
        raise InvalidInputError(msg)
    return value


def check_options(value: Any, name: str, caller: str, options: tuple, *, extra: str = "") -> Any:
    """Check that ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        opts = "{" + ", ".join(repr(o) for o in sorted(options)) + "}"
        msg = f"The {name!r} parameter of {caller} must be one of {opts}{extra}. Got {value!r} instead."
        raise InvalidInputError(msg)
    return value


def check_beta_loss(beta_loss: Any, caller: str) -> float:
    """Resolve ``beta_loss`` to a float >= 0."""
    if isinstance(beta_loss, str) and beta_loss in BETA_ALIASES:
        return BETA_ALIASES[beta_loss]
    if isinstance(beta_loss, numbers.Real) and not isinstance(beta_loss, bool) and _finite(beta_loss) \
            and float(beta_loss) >= 0:
        return float(beta_loss)
    opts = "{" + ", ".join(repr(o) for o in sorted(BETA_ALIASES)) + "}"
    msg = f"The 'beta_loss' parameter of {caller} must be a float >= 0 or one of {opts}. Got {beta_loss!r} instead."
    raise InvalidInputError(msg)


def check_random_state(random_state: Any, caller: str) -> tuple[np.random.Generator, int | None]:
    """The one Generator of a fit, and the seed to record (None when not an int)."""
    if random_state is None:
        return np.random.default_rng(), None
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and int(random_state) >= 0:
        return np.random.default_rng(int(random_state)), int(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state, None
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max)), None
    msg = (f"The 'random_state' parameter of {caller} must be None, an int >= 0, a numpy.random.Generator "
           f"or a numpy.random.RandomState. Got {random_state!r} instead.")
    raise InvalidInputError(msg)


def host_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype of a NumPy or torch dtype (``torch.float32`` -> ``float32``)."""
    if isinstance(dtype, np.dtype):
        return dtype
    return np.dtype(str(dtype).replace("torch.", ""))


def float_dtype(dtype: np.dtype) -> np.dtype:
    """The float dtype data of ``dtype`` are fitted in: float32 and float64 kept, others float64 (float16 up)."""
    if dtype in (np.float32, np.float64):
        return dtype
    if dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def is_tensor(X: Any) -> bool:
    """True for a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(X, torch.Tensor)


def _torch_numeric(X: Any, name: str) -> Any:
    """A float tensor on X's device: float32/float64 kept, integers to float32 on GPU and float64 on CPU.

    Sparse tensors become CSR (COO is coalesced first, so duplicates are summed).
    """
    import torch

    X = X.detach()
    if X.is_complex():
        msg = f"Complex data not supported: {name} has dtype {X.dtype}; NMF needs real non-negative values."
        raise InvalidInputError(msg)
    if X.dtype not in (torch.float32, torch.float64):
        if X.is_floating_point():
            dtype = torch.float32
        else:
            dtype = torch.float32 if X.device.type != "cpu" else torch.float64
        X = X.to(dtype)
    if X.layout == torch.sparse_coo:
        X = X.coalesce().to_sparse_csr()
    elif X.layout == torch.sparse_csc:
        X = X.to_sparse_csr()
    elif X.layout != torch.sparse_csr and X.layout != torch.strided:
        msg = f"{name}: unsupported tensor layout {X.layout}; pass a dense, COO, CSR or CSC tensor."
        raise InvalidInputError(msg)
    return X


def as_numeric(X: Any, name: str) -> Any:
    """NumPy array, CSR matrix or torch tensor with a float dtype; TypeError for anything else."""
    if is_tensor(X):
        return _torch_numeric(X, name)
    if sp.issparse(X):
        if np.iscomplexobj(np.empty(0, dtype=X.dtype)):
            msg = f"Complex data not supported: {name} has dtype {X.dtype}; NMF needs real non-negative values."
            raise InvalidInputError(msg)
        X = X.tocsr()
        if X.dtype.kind not in "biuf":
            msg = f"{name} must hold numbers; got a sparse matrix of dtype {X.dtype}."
            raise InvalidInputError(msg)
        X = X.astype(float_dtype(X.dtype), copy=False)
        X.sum_duplicates()
        return X
    if isinstance(X, (str, bytes)) or X is None or isinstance(X, (numbers.Number, dict, set)):
        msg = (f"{name} must be a 2-D array-like of numbers or a scipy.sparse matrix; "
               f"got {type(X).__name__}.")
        raise InvalidInputError(msg)
    if hasattr(X, "__array__") or isinstance(X, (list, tuple)):
        arr = np.asarray(X)
    else:
        msg = (f"{name} must be a 2-D array-like of numbers or a scipy.sparse matrix; "
               f"got {type(X).__module__}.{type(X).__qualname__}.")
        raise InvalidInputError(msg)
    if np.iscomplexobj(arr):
        msg = f"Complex data not supported: {name} has dtype {arr.dtype}; NMF needs real non-negative values."
        raise InvalidInputError(msg)
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            columns = [str(c) for c, t in getattr(X, "dtypes", {}).items() if getattr(t, "kind", "O") not in "biuf"]
            where = f" (non-numeric columns: {', '.join(columns[:5])}{', ...' if len(columns) > 5 else ''})" \
                if columns else ""
            msg = f"{name} must hold numbers{where}: {exc}."
            raise InvalidInputError(msg) from None
    elif arr.dtype.kind not in "biuf":
        msg = f"{name} must hold numbers; got dtype {arr.dtype}."
        raise InvalidInputError(msg)
    return np.asarray(arr, dtype=float_dtype(arr.dtype))


def check_2d(X: Any, name: str = "X") -> None:
    """Raise the 2-D error early (estimators call it before their feature-count bookkeeping)."""
    if not hasattr(X, "ndim"):
        X = np.asarray(X)
    if X.ndim != 2:
        shape = X.shape
        msg = (f"{name} must be 2-D (n_samples, n_features); got an array of shape {shape}. "
               "Reshape your data with X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample.")
        raise InvalidInputError(msg)


def check_finite(name: str, n_inf: int, n_nan: int, missing: str, sparse: bool, densify: str) -> None:
    """Raise for inf, and for NaN unless they are to be masked (dense data only)."""
    if n_inf:
        msg = f"{name} contains inf ({n_inf} entries); NMF needs finite input."
        raise InvalidInputError(msg)
    if n_nan and missing != "mask":
        msg = (f"{name} contains NaN ({n_nan} entries); pass missing='mask' to treat NaN as "
               "missing values, or remove them.")
        raise InvalidInputError(msg)
    if n_nan and sparse:
        msg = f"{name} is sparse and contains NaN; masks need a dense {name} (use {name}.{densify}())."
        raise InvalidInputError(msg)


def check_non_negative(name: str, caller: str, n_neg: int, minimum: float) -> None:
    if n_neg:
        msg = (f"Negative values in data passed to {caller} ({name}): {n_neg} negative "
               f"entr{'y' if n_neg == 1 else 'ies'}, min = {minimum:.6g}; NMF needs non-negative input.")
        raise InvalidInputError(msg)


def value_counts(values: np.ndarray) -> dict:
    """NaN, inf and negative entries of an array, and its smallest finite entry when one is negative."""
    n_neg = int(np.count_nonzero(values < 0))
    return {"nan": int(np.count_nonzero(np.isnan(values))), "inf": int(np.count_nonzero(np.isinf(values))),
            "neg": n_neg, "min": float(values[np.isfinite(values)].min()) if n_neg else 0.0}


def safe_range(dtype: Any) -> tuple[float, float]:
    """The largest entries ``[low, high]`` that data of ``dtype`` can have for NMF's arithmetic to stay finite.

    Solvers form products of up to four entries (``||X H^T||^2``, the
    curvature terms of line searches) and multiply them by step sizes, so the
    range is the fourth root of ``dtype``'s (``2**-32 .. 2**32``, about
    2e-10 to 4e9, in float32), and in float64 no wider than float32's normal
    range (``2**-126 .. 2**128``, about 1e-38 to 3e38): a margin of 1e154 for
    the steps.
    """
    info = np.finfo(dtype)
    return 2.0 ** max(info.minexp // 4, -126), 2.0 ** min(info.maxexp // 4, 128)


def safe_scale(largest: float, dtype: Any) -> float:
    """A power of two ``s`` such that data whose largest entry is ``largest`` are safe to fit as ``X / s``.

    Products and powers of the data (``X H^T``, ``||X||^2``, ``(WH)^beta``)
    overflow or underflow in ``dtype`` when its entries are far from 1: with
    ``X`` scaled by 1e300 the factors become NaN, and with 1e-300 the
    objective underflows to 0. Inside :func:`safe_range` nothing is done
    (``s = 1``); outside, ``s`` brings the largest entry to 1, exactly (a
    power of two). Every beta-divergence satisfies
    ``D(X/s | W H) = s**-beta D(X | s W H)``, so the minimizers of the scaled
    problem, with ``W`` multiplied by ``s``, are those of the original.
    """
    if not largest > 0 or not math.isfinite(largest):
        return 1.0
    low, high = safe_range(dtype)
    if low <= largest <= high:
        return 1.0
    return math.ldexp(1.0, math.frexp(largest)[1] - 1)


def check_data(X: Any, *, caller: str, missing: str = "error",
               beta: float = 2.0, name: str = "X", masked_ok: bool = False,
               rescales: bool = False) -> tuple[Any, Any]:
    """Validate the data matrix.

    Data whose largest entry lies outside the range where products of entries
    are safe (:func:`safe_range`: about 1e-38 to 3e38 in float64, 2e-10 to
    4e9 in float32) would give NaN factors. Unless the caller ``rescales``
    such data itself (:func:`nmfkit.nmf` does), float32 data are computed in
    float64 when that range holds them, and anything else is refused with a
    message naming the largest entry and the fix.

    A NumPy masked array (``numpy.ma``) marks its masked entries as missing:
    with ``masked_ok`` (the caller fits masks) they are left out of the fit,
    whatever they hold; otherwise they are an error naming the way out. A
    masked array with nothing masked is its data.

    Returns
    -------
    X : ndarray or CSR matrix of float32/float64
        NaN entries (and masked ones) replaced by 0 when they are missing.
    nan_mask : ndarray of bool or None
        ``True`` where ``X`` was observed, when entries were missing.
    """
    hidden = None
    if isinstance(X, np.ma.MaskedArray):
        hidden = np.ma.getmaskarray(X)
        if not hidden.any():
            hidden = None
        elif not masked_ok:
            msg = (f"{name} is a masked array with {int(hidden.sum())} masked entries, and {caller} cannot leave "
                   f"entries out of the fit; fill them ({name}.filled(value)) or use nmfkit.nmf / nmfkit.NMF, "
                   "which fit around masked entries.")
            raise InvalidInputError(msg)
        X = np.ma.getdata(X)
    X = as_numeric(X, name)
    if hidden is not None:
        X = np.where(hidden, 0.0, X).astype(X.dtype)  # what the mask hides is never read (negatives, NaN, inf)
    check_2d(X, name)
    if X.shape[0] == 0 or X.shape[1] == 0:
        what = "sample" if X.shape[0] == 0 else "feature"
        msg = (f"{name} is empty: 0 {what}(s) (shape={X.shape}) while a minimum of 1 is required; "
               "NMF needs at least one sample and one feature.")
        raise InvalidInputError(msg)
    if is_tensor(X):
        return _check_tensor_data(X, name, caller, missing)
    counts = value_counts(X.data if sp.issparse(X) else X)
    check_finite(name, counts["inf"], counts["nan"], missing, sp.issparse(X), "toarray")
    nan_mask = None
    if counts["nan"]:
        nan_mask = ~np.isnan(X)
        X = np.where(nan_mask, X, 0.0).astype(X.dtype)
    check_non_negative(name, caller, counts["neg"], counts["min"])
    if hidden is not None:
        nan_mask = ~hidden if nan_mask is None else nan_mask & ~hidden
    if not rescales:
        X = _check_range(X, name, caller)
    return X, nan_mask


def _check_range(X: Any, name: str, caller: str) -> Any:
    """``X``, in float64 if float32 cannot hold its products; an error if float64 cannot either."""
    values = X.data if sp.issparse(X) else X
    largest = float(np.max(values)) if values.size else 0.0
    if safe_scale(largest, X.dtype) == 1.0:
        return X
    if X.dtype == np.float32 and safe_scale(largest, np.float64) == 1.0:
        return X.astype(np.float64)
    low, high = safe_range(np.float64)
    msg = (f"{name}'s largest entry is {largest:.3g}: {caller} needs it between {low:.1e} and {high:.1e} "
           f"(products of entries further from 1 overflow or underflow, and the factors would be NaN). "
           f"Divide {name} by a constant first, e.g. {name} / {name}.max(); nmfkit.nmf does this for you.")
    raise InvalidInputError(msg)


def _check_tensor_data(X: Any, name: str, caller: str, missing: str) -> tuple[Any, Any]:
    """:func:`check_data` for a torch tensor; the counts are the only values copied to the host."""
    import torch

    sparse = X.layout == torch.sparse_csr
    values = X.values() if sparse else X
    n_nan = int(torch.isnan(values).sum())
    check_finite(name, int(torch.isinf(values).sum()), n_nan, missing, sparse, "to_dense")
    nan_mask = None
    if n_nan:
        nan_mask = ~torch.isnan(X)
        X = torch.where(nan_mask, X, 0.0)
        values = X
    n_neg = int((values < 0).sum())
    check_non_negative(name, caller, n_neg, float(values.min()) if n_neg else 0.0)
    return X, nan_mask


def _nonzero_lines(X: Any, mask: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Host booleans: rows and columns of a torch ``X`` with an observed non-zero, and the count of zeros."""
    import torch

    if X.layout == torch.sparse_csr:
        crow, cols, vals = X.crow_indices(), X.col_indices(), X.values()
        rows = torch.repeat_interleave(torch.arange(X.shape[0], device=X.device), crow[1:] - crow[:-1])
        keep = vals != 0
        row_nz = torch.zeros(X.shape[0], dtype=torch.bool, device=X.device)
        col_nz = torch.zeros(X.shape[1], dtype=torch.bool, device=X.device)
        row_nz[rows[keep]] = True
        col_nz[cols[keep]] = True
        n_zero = X.shape[0] * X.shape[1] - int(keep.sum())
    else:
        observed = X != 0 if mask is None else (X != 0) & (mask > 0)
        row_nz, col_nz = observed.any(dim=1), observed.any(dim=0)
        zeros = (X == 0) if mask is None else ((X == 0) & (mask > 0))
        n_zero = int(zeros.sum())
    return row_nz.cpu().numpy(), col_nz.cpu().numpy(), n_zero


def check_zeros(X: Any, mask: Any, *, beta: float, name: str = "X") -> None:
    """Reject zeros with beta <= 0; warn (once) about all-zero rows and columns."""
    report_zeros(*zero_lines(X, mask), beta=beta, name=name)


def zero_lines(X: Any, mask: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Host booleans: rows and columns with an observed non-zero; and the number of observed zeros."""
    if is_tensor(X):
        row_nz, col_nz, n_zero = _nonzero_lines(X, mask)
    elif sp.issparse(X):
        stored = X.data != 0  # (no row sums: they overflow for float32 data near its range)
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        row_nz = np.bincount(rows[stored], minlength=X.shape[0]) > 0
        col_nz = np.bincount(X.indices[stored], minlength=X.shape[1]) > 0
        n_zero = X.shape[0] * X.shape[1] - int(np.count_nonzero(X.data))
    else:
        observed = X if mask is None else X * (mask > 0)
        row_nz = np.any(observed != 0, axis=1)
        col_nz = np.any(observed != 0, axis=0)
        n_zero = int(np.count_nonzero((X == 0) if mask is None else ((X == 0) & (mask > 0))))
    return row_nz, col_nz, n_zero


def report_zeros(row_nz: np.ndarray, col_nz: np.ndarray, n_zero: int, *, beta: float, name: str = "X") -> None:
    """The errors and the warning of :func:`check_zeros`, from :func:`zero_lines`' summary."""
    if not row_nz.any():
        msg = f"{name} is all zeros (over its observed entries); there is nothing to factorize."
        raise InvalidInputError(msg)
    if beta <= 0 and n_zero:
        msg = (f"{name} contains zeros ({n_zero} entries) and beta_loss={beta:g}: the beta-divergence is "
               "infinite at x = 0 for beta <= 0 (e.g. Itakura-Saito). Add a small positive offset to "
               f"{name}, mask the zeros, or use beta_loss > 0.")
        raise InvalidInputError(msg)
    n_rows, n_cols = int(np.count_nonzero(~row_nz)), int(np.count_nonzero(~col_nz))
    if n_rows or n_cols:
        msg = (f"{name} has {n_rows} all-zero row{'s' * (n_rows != 1)} and {n_cols} all-zero "
               f"column{'s' * (n_cols != 1)}; their entries in W (rows) and H (columns) will be zero.")
        warnings.warn(msg, DataWarning, stacklevel=4)


def check_fit_options(caller: str, *, beta_loss: Any, alpha_W: Any, alpha_H: Any, l1_ratio: Any, tol: Any,
                      max_iter: Any, max_time: Any, verbose: Any, record_every: Any, update_H: Any,
                      callback: Any) -> dict:
    """The options every NMF fit shares, checked: a dict with ``beta`` and ``alpha_H`` as numbers."""
    out = {"beta": check_beta_loss(beta_loss, caller),
           "alpha_W": check_interval(alpha_W, "alpha_W", caller, low=0.0)}
    if not (isinstance(alpha_H, str) and alpha_H == "same"):
        check_interval(alpha_H, "alpha_H", caller, low=0.0)
    out["alpha_H"] = out["alpha_W"] if isinstance(alpha_H, str) else alpha_H
    out["l1_ratio"] = check_interval(l1_ratio, "l1_ratio", caller, low=0.0, high=1.0)
    out["tol"] = check_interval(tol, "tol", caller, low=0.0)
    out["max_iter"] = check_interval(max_iter, "max_iter", caller, kind="int", low=1, closed="left")
    out["max_time"] = check_interval(max_time, "max_time", caller, low=0.0, closed="neither", allow_none=True)
    out["verbose"] = check_interval(verbose, "verbose", caller, kind="int", low=0, closed="left")
    out["record_every"] = check_interval(record_every, "record_every", caller, kind="int", low=1, closed="left",
                                         allow_none=True)
    if not isinstance(update_H, (bool, np.bool_)):
        msg = f"The 'update_H' parameter of {caller} must be a bool. Got {update_H!r} instead."
        raise InvalidInputError(msg)
    if callback is not None and not callable(callback):
        msg = f"The 'callback' parameter of {caller} must be callable or None. Got {callback!r} instead."
        raise InvalidInputError(msg)
    return out


def check_n_components(n_components: Any, shape: tuple[int, int], caller: str) -> int:
    """An int in [1, min(n_samples, n_features)]."""
    limit = min(shape)
    if (not isinstance(n_components, numbers.Integral) or isinstance(n_components, bool)
            or not 1 <= int(n_components) <= limit):
        msg = (f"The 'n_components' parameter of {caller} must be an int in the range "
               f"[1, min(n_samples, n_features)] = [1, {limit}] for X of shape {shape}. "
               f"Got {n_components!r} instead.")
        raise InvalidInputError(msg)
    return int(n_components)


def check_factor(F: Any, name: str, expected: tuple[int, int], dtype: np.dtype, caller: str) -> np.ndarray:
    """A user-given W or H: dense, right shape, finite, non-negative; a host copy in X's dtype."""
    if is_tensor(F):
        F = F.detach().cpu().to_dense().numpy()
    dtype = host_dtype(dtype)
    if sp.issparse(F):
        F = F.toarray()
    F = as_numeric(F, name)
    if F.shape != expected:
        rows, cols = ("n_samples", "n_components") if name == "W" else ("n_components", "n_features")
        msg = f"{name} must have shape ({rows}, {cols}) = {expected}; got {F.shape}."
        raise InvalidInputError(msg)
    if not np.all(np.isfinite(F)):
        msg = f"{name} contains NaN or inf; initial factors must be finite."
        raise InvalidInputError(msg)
    n_neg = int(np.count_nonzero(F < 0))
    if n_neg:
        msg = (f"{name} has {n_neg} negative entr{'y' if n_neg == 1 else 'ies'} (min = {F.min():.6g}); "
               f"factors passed to {caller} must be non-negative.")
        raise InvalidInputError(msg)
    return np.array(F, dtype=dtype, copy=True)


def check_mask(mask: Any, X: Any, caller: str) -> np.ndarray:
    """A dense host mask of X's shape: booleans or finite non-negative weights (0 = missing), X's dtype."""
    tensor = is_tensor(X)
    if (tensor and X.layout != sys.modules["torch"].strided) or (not tensor and sp.issparse(X)):
        msg = "mask is not supported with sparse X; pass a dense X to fit with a mask."
        raise InvalidInputError(msg)
    if is_tensor(mask):
        mask = mask.detach().cpu().numpy()
    if sp.issparse(mask):
        mask = mask.toarray()
    M = np.asarray(mask)
    if M.shape != X.shape:
        msg = f"mask must have the shape of X {X.shape}; got {M.shape}."
        raise InvalidInputError(msg)
    if M.dtype.kind not in "biuf":
        msg = f"mask must be boolean or numeric weights; got dtype {M.dtype}."
        raise InvalidInputError(msg)
    M = M.astype(host_dtype(X.dtype))
    if not np.all(np.isfinite(M)):
        msg = "mask contains NaN or inf; weights must be finite."
        raise InvalidInputError(msg)
    if np.any(M < 0):
        msg = f"mask has negative weights (min = {M.min():.6g}); weights must be >= 0 (0 = missing)."
        raise InvalidInputError(msg)
    return M
