"""Array backends, inferred from the inputs.

Solver, loss and penalty code is written once against the array-API namespace
``backend.xp`` (from :mod:`array_api_compat`). A backend adds only what the
standard lacks: products with a sparse ``X``, products evaluated on ``X``'s
support, row-blocked evaluation that never materialises a dense ``n x m``
array, random draws placed on the data's device, and the one host
synchronisation point :meth:`Backend.to_float`.

PyTorch tensors (dense or sparse CSR, any device) are served by
:mod:`nmfkit.backend._torch`, created only once ``torch`` has been imported.
Other array libraries can be added with :func:`register_backend`. (Dask arrays
are not a backend: :func:`nmfkit.nmf` hands them to
:func:`nmfkit.nmf_distributed`, whose blocks are NumPy arrays.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from nmfkit._validation import InvalidInputError

__all__ = ["Backend", "get_backend", "register_backend", "available_backends"]


@runtime_checkable
class Backend(Protocol):
    """What the numerical core needs from an array library."""

    name: str
    xp: Any

    def owns(self, a: Any) -> bool: ...

    def is_sparse(self, a: Any) -> bool: ...

    def asarray(self, a: Any, *, like: Any = None, dtype: Any = None) -> Any: ...

    def eps(self, dtype: Any) -> float: ...

    def matmul(self, A: Any, B: Any) -> Any: ...

    def transpose(self, X: Any) -> Any: ...

    def support_blocks(self, W: Any, H: Any, X: Any) -> Any: ...

    def with_data(self, X: Any, data: Any) -> Any: ...

    def sparse_data(self, X: Any) -> Any: ...

    def row_blocks(self, n_rows: int, n_cols: int) -> list[slice]: ...

    def sum_all(self, X: Any) -> Any: ...

    def sq_norm(self, X: Any, dtype: Any = None) -> Any: ...

    def random(self, shape: tuple[int, ...], rng: np.random.Generator, *, like: Any,
               distribution: str = "normal") -> Any: ...

    def to_float(self, scalar: Any) -> float: ...

    def to_numpy(self, a: Any) -> np.ndarray: ...

    def to_host(self, a: Any) -> Any: ...

    # optional: ``nonneg_(a)``, ``max(a, 0)`` in place on a temporary (HALS passes use it when present)


def draw(shape: tuple[int, ...], rng: np.random.Generator, distribution: str = "normal") -> np.ndarray:
    """Host random numbers from the fit's Generator (every backend draws here, so seeds agree)."""
    if distribution == "normal":
        return rng.standard_normal(shape)
    if distribution == "uniform":
        return rng.random(shape)
    msg = f"Unknown distribution {distribution!r}; valid: 'normal', 'uniform'."
    raise InvalidInputError(msg)


_BACKENDS: dict[str, Callable[[], Backend]] = {}
_INSTANCES: dict[str, Backend] = {}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Register a backend factory under ``name``.

    Parameters
    ----------
    name : str
        Backend name, e.g. ``"numpy"``.
    factory : callable
        Zero-argument callable returning a :class:`Backend`. It is called lazily,
        so optional libraries are imported only when their arrays are seen.

    Raises
    ------
    KeyError
        If ``name`` is already registered.
    """
    if name in _BACKENDS:
        msg = f"A backend named {name!r} is already registered."
        raise KeyError(msg)
    _BACKENDS[name] = factory


def available_backends() -> list[str]:
    """Names of the registered backends, sorted."""
    return sorted(_BACKENDS)


def _instance(name: str) -> Backend:
    backend = _INSTANCES.get(name)
    if backend is None or isinstance(backend, _Absent):
        backend = _BACKENDS[name]()
        _INSTANCES[name] = backend
    return backend


def get_backend(*arrays: Any) -> Backend:
    """Infer the backend from array arguments (``None`` entries are ignored).

    Parameters
    ----------
    *arrays : array-like or None
        Arrays that will take part in one computation.

    Returns
    -------
    Backend
        The backend that owns every given array.

    Raises
    ------
    TypeError
        If an array belongs to no registered backend, or arrays belong to
        different backends (the message names both types).
    """
    chosen: Backend | None = None
    chosen_type: type = object
    for a in arrays:
        if a is None:
            continue
        owner = None
        for name in _BACKENDS:
            backend = _instance(name)
            if backend.owns(a):
                owner = backend
                break
        if owner is None:
            msg = (
                f"Unsupported array type {type(a).__module__}.{type(a).__qualname__}; "
                f"nmfkit accepts arrays of the backends {available_backends()}."
            )
            raise InvalidInputError(msg)
        if chosen is None:
            chosen, chosen_type = owner, type(a)
        elif owner.name != chosen.name:
            msg = (
                f"Arrays from different backends cannot be mixed: "
                f"{chosen_type.__module__}.{chosen_type.__qualname__} ({chosen.name}) and "
                f"{type(a).__module__}.{type(a).__qualname__} ({owner.name})."
            )
            raise InvalidInputError(msg)
    if chosen is None:
        return _instance("numpy")
    return chosen


def _numpy_factory() -> Backend:
    from nmfkit.backend._numpy import NumpyBackend

    return NumpyBackend()


def _torch_factory() -> Backend:
    from nmfkit.backend._torch import TorchBackend

    return TorchBackend()


class _Absent:
    """Stands in for a backend whose library is not imported: it owns nothing."""

    def __init__(self, name: str) -> None:
        self.name = name

    def owns(self, a: Any) -> bool:
        return False


def _lazy(name: str, module: str, factory: Callable[[], Backend]) -> Callable[[], Backend]:
    """A factory that imports nothing until ``module`` has been imported by the user."""

    def make() -> Backend:
        import sys

        if module not in sys.modules:
            return _Absent(name)  # type: ignore[return-value]
        return factory()

    return make


register_backend("numpy", _numpy_factory)
register_backend("torch", _lazy("torch", "torch", _torch_factory))
