"""nmfkit: non-negative matrix factorization.

Public surface: :func:`nmf` (functional API returning a :class:`FitResult`) and
the scikit-learn estimator :class:`NMF`. Solvers, initializations and stopping
rules live in :mod:`nmfkit.solvers`, :mod:`nmfkit.initialization` and
:mod:`nmfkit.stopping`.
"""

from nmfkit._version import __version__
from nmfkit.estimators import NMF, NMFMerge
from nmfkit.fit import FitResult, nmf
from nmfkit.methods import nmf_merge

__all__ = ["nmf", "NMF", "nmf_merge", "NMFMerge", "FitResult", "__version__"]
