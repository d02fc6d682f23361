"""NumPy + scipy.sparse backend: the reference implementation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from array_api_compat import array_namespace

from nmfkit.backend import draw as host_draw

# Largest number of float entries a temporary dense block may hold when an
# operation on a sparse X has to look at every entry of W @ H (row-blocked).
_BLOCK_ENTRIES = 1 << 20
# Above one stored entry in this many, entries of W @ H on X's support come from dense row blocks.
_DENSE_BLOCK_DENSITY = 64


class NumpyBackend:
    """NumPy arrays and scipy.sparse matrices/arrays (CSR/CSC preferred)."""

    name = "numpy"

    def __init__(self) -> None:
        self.xp = array_namespace(np.empty(0))

    # -- ownership and conversion -------------------------------------------------
    def owns(self, a: Any) -> bool:
        return isinstance(a, np.ndarray) or sp.issparse(a)

    def is_sparse(self, a: Any) -> bool:
        return sp.issparse(a)

    def asarray(self, a: Any, *, like: Any = None, dtype: Any = None) -> Any:
        if dtype is None and like is not None:
            dtype = like.dtype
        return np.asarray(a, dtype=dtype)

    def eps(self, dtype: Any) -> float:
        return float(np.finfo(dtype).eps)

    def to_float(self, scalar: Any) -> float:
        return float(scalar)

    def to_numpy(self, a: Any) -> np.ndarray:
        if sp.issparse(a):
            return a.toarray()
        return np.asarray(a)

    def to_host(self, a: Any) -> Any:
        """The array itself (NumPy and scipy.sparse already live on the host)."""
        return a

    def nonneg_(self, a: Any) -> Any:
        """``max(a, 0)`` written into ``a`` (a temporary the caller owns); returns ``a``."""
        return np.maximum(a, 0.0, out=a)

    # -- products ------------------------------------------------------------------
    def matmul(self, A: Any, B: Any) -> Any:
        out = A @ B
        if isinstance(out, np.matrix):  # legacy spmatrix @ ndarray may give np.matrix
            out = np.asarray(out)
        return out

    def transpose(self, X: Any) -> Any:
        if sp.issparse(X):
            # keep the row-oriented format on both sides so row slicing stays cheap
            return X.T.tocsr()
        return X.T

    def support_blocks(self, W: Any, H: Any, X: Any) -> Iterator[tuple[slice, Any, Any]]:
        """Cache-sized blocks ``(span, x, y)`` of X's stored values and of ``W @ H`` at the same entries.

        ``span`` indexes ``X.data`` (CSR order). Above one stored entry in
        ``_DENSE_BLOCK_DENSITY``, ``y`` comes from a dense row block of ``W @ H``
        (one BLAS product; a BLAS multiply-add costs ~1/80 of a gathered one);
        below, from gathered rows of ``W`` and columns of ``H``. Temporaries hold
        at most ``_BLOCK_ENTRIES`` floats, whatever the size of ``X``.
        """
        X = X if X.format == "csr" else X.tocsr()
        n, m = X.shape
        k = W.shape[1]
        indptr, indices, data = X.indptr, X.indices, X.data
        if X.nnz * _DENSE_BLOCK_DENSITY >= n * m:
            step = max(1, (_BLOCK_ENTRIES // 4) // max(m, 1))
            for s in range(0, n, step):
                e = min(s + step, n)
                lo, hi = int(indptr[s]), int(indptr[e])
                if hi == lo:
                    continue
                flat = np.repeat(np.arange(0, (e - s) * m, m), np.diff(indptr[s:e + 1]))
                flat += indices[lo:hi]  # positions of the stored entries in the row-major block
                yield slice(lo, hi), data[lo:hi], (W[s:e] @ H).ravel().take(flat)
            return
        rows = np.repeat(np.arange(n), np.diff(indptr))
        Ht = H.T
        step = max(1, _BLOCK_ENTRIES // max(k, 1))
        for lo in range(0, rows.shape[0], step):
            hi = min(lo + step, rows.shape[0])
            yield slice(lo, hi), data[lo:hi], np.einsum("ij,ij->i", W[rows[lo:hi]], Ht[indices[lo:hi]])

    def sparse_data(self, X: Any) -> Any:
        return X.data

    def with_data(self, X: Any, data: Any) -> Any:
        """A CSR matrix with ``X``'s structure (shared, not copied) and the given values."""
        X = X if X.format == "csr" else X.tocsr()
        return sp.csr_matrix((np.asarray(data), X.indices, X.indptr), shape=X.shape, copy=False)

    def row_blocks(self, n_rows: int, n_cols: int) -> list[slice]:
        step = max(1, _BLOCK_ENTRIES // max(n_cols, 1))
        return [slice(s, min(s + step, n_rows)) for s in range(0, n_rows, step)]

    def sum_all(self, X: Any) -> Any:
        return X.sum()

    # -- special functions ---------------------------------------------------------
    def sq_norm(self, X: Any, dtype: Any = None) -> Any:
        data = X.data if sp.issparse(X) else np.ravel(X)
        if dtype is not None:
            data = data.astype(dtype, copy=False)
        return np.dot(data, data)

    def random(self, shape: tuple[int, ...], rng: np.random.Generator, *, like: Any,
               distribution: str = "normal") -> Any:
        draw = host_draw(shape, rng, distribution)
        return np.asarray(draw, dtype=like.dtype)
