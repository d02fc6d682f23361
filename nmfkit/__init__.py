"""nmfkit: non-negative matrix factorization.

Public surface: :func:`nmf` (functional API returning a :class:`FitResult`) and
the scikit-learn estimator :class:`NMF`. Solvers, initializations and stopping
rules live in :mod:`nmfkit.solvers`, :mod:`nmfkit.initialization` and
:mod:`nmfkit.stopping`.

The names below load on first use (PEP 562), so ``import nmfkit`` and the
command line's ``--help`` do not pay for scikit-learn, PyTorch, Dask or
matplotlib until a function that needs them is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nmfkit._version import __version__

# public name -> module that defines it
_LAZY = {
    "nmf": "nmfkit.fit", "FitResult": "nmfkit.driver",
    "NMF": "nmfkit.estimators", "DeepNMF": "nmfkit.estimators", "MiniBatchNMF": "nmfkit.estimators",
    "NMFMerge": "nmfkit.estimators", "PersistentNMF": "nmfkit.estimators",
    "deep_nmf": "nmfkit.methods", "multilayer_nmf": "nmfkit.methods", "nmf_merge": "nmfkit.methods",
    "persistent_nmf": "nmfkit.methods",
    "online_nmf": "nmfkit.online", "consensus": "nmfkit.selection", "select_rank": "nmfkit.selection",
    "nmf_distributed": "nmfkit.distributed", "InvalidInputError": "nmfkit._validation",
}
_SUBMODULES = ("tl", "pl")

__all__ = ["nmf", "NMF", "nmf_merge", "NMFMerge", "deep_nmf", "multilayer_nmf", "DeepNMF",
           "persistent_nmf", "PersistentNMF", "select_rank", "consensus", "FitResult", "online_nmf", "MiniBatchNMF",
           "nmf_distributed", "InvalidInputError", "tl", "pl", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from nmfkit import pl, tl
    from nmfkit._validation import InvalidInputError
    from nmfkit.distributed import nmf_distributed
    from nmfkit.driver import FitResult
    from nmfkit.estimators import NMF, DeepNMF, MiniBatchNMF, NMFMerge, PersistentNMF
    from nmfkit.fit import nmf
    from nmfkit.methods import deep_nmf, multilayer_nmf, nmf_merge, persistent_nmf
    from nmfkit.online import online_nmf
    from nmfkit.selection import consensus, select_rank


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"nmfkit.{name}")
    else:
        msg = f"module 'nmfkit' has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
