"""PyTorch backend: dense tensors and sparse CSR tensors, on the CPU or a CUDA device.

Every operation stays on the data's device. The only host synchronisation is
:meth:`TorchBackend.to_float`, which the driver calls when a stopping rule is
due. Random draws come from the fit's ``numpy.random.Generator`` and are moved
to the device, so the same ``random_state`` gives the same start as NumPy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from array_api_compat import array_namespace

from nmfkit.backend import draw as host_draw

# Largest number of float entries a temporary block may hold (as in the NumPy backend).
_BLOCK_ENTRIES = 1 << 20
# Rows of dense temporaries (losses on dense or general-beta data): 16M entries per block.
_DENSE_BLOCK_ENTRIES = 1 << 24


def torch_loaded() -> bool:
    """True when PyTorch has been imported (its tensors can only exist then)."""
    return "torch" in sys.modules


class TorchBackend:
    """``torch.Tensor`` data, strided (dense) or ``torch.sparse_csr`` (COO is converted at the boundary)."""

    name = "torch"

    def __init__(self) -> None:
        import warnings

        import torch

        # torch flags every CSR construction as beta; the operations used here are stable
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
        self.torch = torch
        self.xp = array_namespace(torch.empty(0))
        self._sparse_layouts = (torch.sparse_csr, torch.sparse_coo, torch.sparse_csc)

    # -- ownership and conversion -------------------------------------------------
    def owns(self, a: Any) -> bool:
        return torch_loaded() and isinstance(a, self.torch.Tensor)

    def is_sparse(self, a: Any) -> bool:
        return a.layout in self._sparse_layouts

    def asarray(self, a: Any, *, like: Any = None, dtype: Any = None) -> Any:
        torch = self.torch
        if dtype is None and like is not None:
            dtype = like.dtype
        if isinstance(dtype, np.dtype) or (isinstance(dtype, type) and issubclass(dtype, np.generic)):
            dtype = torch.from_numpy(np.empty(0, dtype=dtype)).dtype  # torch's name for the NumPy dtype
        device = like.device if like is not None else None
        if isinstance(a, torch.Tensor):
            return a.to(device=device if device is not None else a.device, dtype=dtype)
        import scipy.sparse as sp

        if sp.issparse(a):
            a = a.tocsr()
            return torch.sparse_csr_tensor(torch.as_tensor(a.indptr, dtype=torch.int64),
                                           torch.as_tensor(a.indices, dtype=torch.int64),
                                           torch.as_tensor(a.data, dtype=dtype), size=a.shape, device=device)
        return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)

    def eps(self, dtype: Any) -> float:
        return float(self.torch.finfo(dtype).eps)

    def to_float(self, scalar: Any) -> float:
        if isinstance(scalar, self.torch.Tensor):
            return float(scalar.item())
        return float(scalar)

    def to_numpy(self, a: Any) -> np.ndarray:
        if self.is_sparse(a):
            a = a.to_dense()
        return a.detach().cpu().numpy()

    def to_host(self, a: Any) -> Any:
        """NumPy array, or scipy.sparse CSR matrix for a sparse tensor (no dense copy)."""
        if not self.is_sparse(a):
            return a.detach().cpu().numpy()
        import scipy.sparse as sp

        a = a.detach().cpu()
        return sp.csr_matrix((a.values().numpy(), a.col_indices().numpy(), a.crow_indices().numpy()),
                             shape=tuple(a.shape))

    def nonneg_(self, a: Any) -> Any:
        """``max(a, 0)`` written into ``a`` (a temporary the caller owns); returns ``a``. Native
        ``clamp_``: no array-API wrapper, which costs a scalar-to-tensor conversion and a promotion
        check per call (half of a HALS pass at n = 1000 on the CPU)."""
        return a.clamp_(min=0)

    # -- products ------------------------------------------------------------------
    def matmul(self, A: Any, B: Any) -> Any:
        return A @ B

    def transpose(self, X: Any) -> Any:
        if self.is_sparse(X):
            # CSR of the transpose: row slicing and CSR products on both sides
            return X.t().to_sparse_csr()
        return X.T

    def _rows(self, X: Any) -> Any:
        torch = self.torch
        crow = X.crow_indices()
        counts = crow[1:] - crow[:-1]
        return torch.repeat_interleave(torch.arange(X.shape[0], device=X.device), counts)

    def support_blocks(self, W: Any, H: Any, X: Any) -> Iterator[tuple[slice, Any, Any]]:
        """Blocks ``(span, x, y)`` of X's stored values and of ``W @ H`` at the same entries.

        On CUDA one block: cuSPARSE's sampled product (SDDMM) evaluates ``W @ H``
        on X's pattern without gathering. On the CPU, gathered blocks of at most
        ``_BLOCK_ENTRIES`` floats.
        """
        torch = self.torch
        values = X.values()
        if X.device.type == "cuda":
            y = torch.sparse.sampled_addmm(X, W.contiguous(), H.contiguous(), beta=0.0, alpha=1.0).values()
            yield slice(0, values.shape[0]), values, y
            return
        rows = self._rows(X)
        cols = X.col_indices()
        Ht = H.T.contiguous()
        step = max(1, _BLOCK_ENTRIES // max(W.shape[1], 1))
        for lo in range(0, rows.shape[0], step):
            hi = min(lo + step, rows.shape[0])
            yield slice(lo, hi), values[lo:hi], (W[rows[lo:hi]] * Ht[cols[lo:hi]]).sum(dim=1)

    def sparse_data(self, X: Any) -> Any:
        return X.values()

    def with_data(self, X: Any, data: Any) -> Any:
        """A CSR tensor with ``X``'s structure and the given values."""
        return self.torch.sparse_csr_tensor(X.crow_indices(), X.col_indices(), data, size=X.shape)

    def row_blocks(self, n_rows: int, n_cols: int) -> list[slice]:
        # larger than the NumPy backend's: each block is a few kernel launches on a GPU
        step = max(1, _DENSE_BLOCK_ENTRIES // max(n_cols, 1))
        return [slice(s, min(s + step, n_rows)) for s in range(0, n_rows, step)]

    def sum_all(self, X: Any) -> Any:
        if self.is_sparse(X):
            return X.values().sum()
        return X.sum()

    # -- special functions ---------------------------------------------------------
    def sq_norm(self, X: Any, dtype: Any = None) -> Any:
        data = X.values() if self.is_sparse(X) else X.reshape(-1)
        if dtype is not None:
            data = data.to(dtype)
        return data @ data

    def random(self, shape: tuple[int, ...], rng: np.random.Generator, *, like: Any,
               distribution: str = "normal") -> Any:
        draw = host_draw(shape, rng, distribution)
        return self.torch.as_tensor(draw, dtype=like.dtype, device=like.device)
