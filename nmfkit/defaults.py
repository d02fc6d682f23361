"""The defaults every entry point shares: ``nmf``, ``NMF``, the CLI and ``nmfkit.tl``.

What a plain ``nmf(X, k)`` (or ``nmf(X, k, beta_loss=...)``) runs is decided
here and nowhere else, from the measurements in ``benchmarks/defaults/`` and
``benchmarks/perf/`` (the README's "Defaults" section gives the figures):

- Frobenius (dense or sparse): accelerated HALS with extrapolation
  (:class:`~nmfkit.acceleration.Extrapolation`), the first to come within
  1e-3 of the best objective on CBCL, ORL at 64 x 64, dense planted data and
  normalized log counts (4x, 7x, 1.2x and 1.7x faster than accelerated HALS
  alone); plain HALS where extrapolation does not apply (a mask,
  ``update_H=False``, Dask arrays, ``stop="factor"``).
- Every other beta: multiplicative updates with the MM exponent, the only
  solver for general beta.
- Start NNDSVDa; stop when the objective changes by at most ``TOL`` (relative)
  over the rule's 10 sweeps, or after ``MAX_ITER`` sweeps.

``MiniBatchNMF`` counts epochs over minibatches and keeps its own parameters.
"""

from __future__ import annotations

__all__ = ["MAX_ITER", "TOL", "INIT", "EXTRAPOLATE", "extrapolation_applies"]

#: Most sweeps of a default fit; the default solvers converge well within it on the benchmark problems.
MAX_ITER = 1000
#: Relative objective change over the evaluation interval that counts as convergence.
TOL = 1e-4
#: Starting factors when none are given.
INIT = "nndsvda"
#: ``extrapolate="auto"``: extrapolation wherever it applies (:func:`extrapolation_applies`), unless the
#: stopping rule watches the factors (``stop="factor"``). Such a rule judges a solver's own iterates;
#: extrapolated iterates keep moving by the extrapolation long after the objective has settled (HALS
#: with NMF.jl's rule at 1e-4 on 100 x 40 counts: 537 plain sweeps, over 10^5 extrapolated).
EXTRAPOLATE = "auto"


def extrapolation_applies(*, quadratic_loss: bool, quadratic_solver: bool, masked: bool, update_H: bool) -> bool:
    """Whether extrapolation can run on a fit with these properties (what ``extrapolate=True`` requires)."""
    return quadratic_loss and quadratic_solver and not masked and update_H
