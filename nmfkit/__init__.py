"""nmfkit: non-negative matrix factorization.

Public surface: :func:`nmf` (functional API returning a :class:`FitResult`) and
the scikit-learn estimator :class:`NMF`. Solvers, initializations and stopping
rules live in :mod:`nmfkit.solvers`, :mod:`nmfkit.initialization` and
:mod:`nmfkit.stopping`.
"""

from nmfkit import pl, tl  # scanpy-style tools (anndata and scanpy load on use)
from nmfkit._version import __version__
from nmfkit.distributed import nmf_distributed
from nmfkit.estimators import NMF, DeepNMF, MiniBatchNMF, NMFMerge, PersistentNMF
from nmfkit.fit import FitResult, nmf
from nmfkit.methods import deep_nmf, multilayer_nmf, nmf_merge, persistent_nmf
from nmfkit.online import online_nmf
from nmfkit.selection import consensus, select_rank

__all__ = ["nmf", "NMF", "nmf_merge", "NMFMerge", "deep_nmf", "multilayer_nmf", "DeepNMF",
           "persistent_nmf", "PersistentNMF", "select_rank", "consensus", "FitResult", "online_nmf", "MiniBatchNMF",
           "nmf_distributed", "tl", "pl", "__version__"]
