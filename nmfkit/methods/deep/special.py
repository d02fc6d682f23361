"""The Wright omega function on any backend (deep KL-NMF's closed-form W step and min-vol's Z step)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import wrightomega

__all__ = ["wright_omega"]


def wright_omega(z: Any, backend: Any) -> Any:
    """``w(z) = W_0(exp(z))``, the root of ``w + log w = z``, without forming ``exp(z)``.

    NumPy arrays go to :func:`scipy.special.wrightomega`. Other arrays (PyTorch
    on a device) stay where they are: start from ``z - log z`` (large ``z``)
    or ``exp(z)`` (small ``z``) and take six Halley steps on
    ``f(w) = w + log w - z``, which reach machine precision for every real ``z``.

    Parameters
    ----------
    z : array
    backend : Backend
        The backend of ``z``.

    Returns
    -------
    array of the shape, dtype and device of ``z``
    """
    if backend.name == "numpy":
        return np.asarray(wrightomega(z), dtype=z.dtype)
    xp = backend.xp
    big = z > 1.0
    w = xp.where(big, z - xp.log(xp.where(big, z, 1.0)), xp.exp(xp.minimum(z, 1.0)))
    tiny = xp.finfo(w.dtype).tiny
    w = xp.maximum(w, tiny)  # exp(z) underflows for very negative z
    for _ in range(6):
        f = w + xp.log(w) - z
        # Halley on f with f' = 1 + 1/w, f'' = -1/w^2, written without dividing by w
        w1 = w + 1.0
        w = xp.maximum(w - f * w / (w1 + 0.5 * f / w1), tiny)
    return w
