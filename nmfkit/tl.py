"""NMF of AnnData objects, in scanpy's conventions (``import nmfkit.tl as tl``).

Each tool fits cells x genes and stores its results in the AnnData object:

- ``adata.obsm["X_<key>"]``: the usages ``W`` (n_obs, k), one column per program;
- ``adata.varm["<KEY>_components"]``: the programs ``H.T`` (n_vars, k); genes left out of the fit
  (``genes=``) get zeros, so the array always spans every gene;
- ``adata.uns["<key>"]``: the parameters and the fit's summary (iterations, why it stopped, objective,
  its history, the genes used, the program names).

``key`` is ``key_added`` (``"nmf"``, ``"cnmf"``, ``"pnmf"`` by default) and ``KEY`` its upper case, so
:func:`nmf` fills ``obsm["X_nmf"]``, ``varm["NMF_components"]`` and ``uns["nmf"]``. The data come from
``adata.X``, a layer, or ``adata.raw`` (the raw values of ``adata``'s genes); they must be non-negative
(counts or log-normalized values, not scaled ones). Sparse matrices stay sparse; a backed AnnData is read
in row blocks. Plots: :mod:`nmfkit.pl`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.fit import nmf as fit_nmf
from nmfkit.methods.persistent import persistent_nmf
from nmfkit.selection import consensus as fit_consensus
from nmfkit.selection.programs import gene_programs as _gene_programs

__all__ = ["nmf", "consensus", "gene_programs", "persistent", "top_genes", "program_names", "stored"]

_BLOCK_ROWS = 10_000  # rows read at a time from a backed AnnData


def _anndata() -> Any:
    try:
        import anndata
    except ImportError as err:  # pragma: no cover - the anndata extra installs it
        msg = "nmfkit.tl needs anndata: pip install 'nmfkit[anndata]'."
        raise ImportError(msg) from err
    return anndata


def _check_adata(adata: Any, caller: str) -> None:
    if not isinstance(adata, _anndata().AnnData):
        msg = f"{caller} takes an AnnData object; got {type(adata).__module__}.{type(adata).__qualname__}."
        raise InvalidInputError(msg)


def _read(matrix: Any) -> Any:
    """A matrix as NumPy or CSR, reading a backed one in row blocks."""
    if isinstance(matrix, np.ndarray) or sp.issparse(matrix):
        return matrix
    if hasattr(matrix, "to_memory"):  # anndata's backed sparse dataset
        return matrix.to_memory()
    n = matrix.shape[0]
    return np.concatenate([np.asarray(matrix[s:s + _BLOCK_ROWS]) for s in range(0, n, _BLOCK_ROWS)])


def _gene_mask(adata: Any, genes: Any) -> np.ndarray:
    """Boolean mask over ``adata.var`` from None, a boolean ``var`` column, a mask or gene names."""
    n_vars = adata.n_vars
    if genes is None:
        return np.ones(n_vars, dtype=bool)
    if isinstance(genes, str):
        if genes not in adata.var.columns:
            msg = f"genes={genes!r} is not a column of adata.var; columns: {list(adata.var.columns)}."
            raise KeyError(msg)
        mask = np.asarray(adata.var[genes])
        if mask.dtype != bool:
            msg = f"adata.var[{genes!r}] must be boolean (e.g. 'highly_variable'); got dtype {mask.dtype}."
            raise InvalidInputError(msg)
        return mask
    values = np.asarray(genes)
    if values.dtype == bool:
        if values.shape != (n_vars,):
            msg = f"A boolean genes mask needs one entry per gene ({n_vars}); got shape {values.shape}."
            raise InvalidInputError(msg)
        return values
    missing = [g for g in values.tolist() if g not in adata.var_names]
    if missing:
        msg = f"genes: {len(missing)} name(s) not in adata.var_names, e.g. {missing[:5]}."
        raise KeyError(msg)
    return np.asarray(adata.var_names.isin(values.tolist()))


def _data(adata: Any, layer: str | None, use_raw: bool, genes: Any, caller: str) -> tuple[Any, np.ndarray, str]:
    """The cells x genes matrix to fit, the genes it spans (mask over ``adata.var``) and where it came from."""
    _check_adata(adata, caller)
    if layer is not None and use_raw:
        msg = f"{caller}: pass layer= or use_raw=True, not both."
        raise InvalidInputError(msg)
    mask = _gene_mask(adata, genes)
    if not mask.any():
        msg = f"{caller}: the genes selection is empty."
        raise InvalidInputError(msg)
    if use_raw:
        if adata.raw is None:
            msg = f"{caller}: use_raw=True but adata.raw is None."
            raise InvalidInputError(msg)
        where = "adata.raw.X"
        missing = ~adata.var_names.isin(adata.raw.var_names)
        if missing[mask].any():
            msg = f"{caller}: {int(missing[mask].sum())} selected gene(s) are not in adata.raw.var_names."
            raise KeyError(msg)
        columns = adata.raw.var_names.get_indexer(adata.var_names[mask])
        X = _read(adata.raw.X)[:, columns]
    elif layer is not None:
        if layer not in adata.layers:
            msg = f"{caller}: no layer {layer!r}; adata.layers holds {list(adata.layers.keys())}."
            raise KeyError(msg)
        where = f"adata.layers[{layer!r}]"
        X = _read(adata.layers[layer])
        X = X[:, mask] if not mask.all() else X
    else:
        where = "adata.X"
        if adata.X is None:
            msg = f"{caller}: adata.X is None; pass layer= or use_raw=True."
            raise InvalidInputError(msg)
        X = _read(adata.X)
        X = X[:, mask] if not mask.all() else X
    X = sp.csr_matrix(X) if sp.issparse(X) else np.asarray(X)
    values: Any = X.data if sp.issparse(X) else X
    if values.size and np.nanmin(values) < 0:
        msg = (f"{caller}: {where} has negative values (min {np.nanmin(values):.4g}), as scaled data do; NMF "
               "needs counts or log-normalized values: pass layer= or use_raw=True.")
        raise InvalidInputError(msg)
    return X, mask, where


def stored(adata: Any, key: str, what: str, caller: str) -> np.ndarray:
    """A tool's stored result: ``what="usages"`` (``obsm["X_<key>"]``) or ``"components"`` (``varm``)."""
    _check_adata(adata, caller)
    where, name = ("obsm", f"X_{key}") if what == "usages" else ("varm", f"{key.upper()}_components")
    if name not in getattr(adata, where):
        msg = f"adata.{where} has no {name!r}; run nmfkit.tl.nmf(adata, ..., key_added={key!r}) first."
        raise KeyError(msg)
    return np.asarray(getattr(adata, where)[name])


def program_names(key: str, k: int) -> list[str]:
    """``["<key>_1", ..., "<key>_k"]``, the names of the programs in plots and tables."""
    return [f"{key}_{i + 1}" for i in range(k)]


def _store(adata: Any, key: str, W: Any, H: Any, mask: np.ndarray, summary: dict) -> None:
    k = W.shape[1]
    components = np.zeros((adata.n_vars, k), dtype=np.asarray(H).dtype)
    components[mask] = np.asarray(H).T
    adata.obsm[f"X_{key}"] = np.asarray(W)
    adata.varm[f"{key.upper()}_components"] = components
    summary.update(genes_used=mask, programs=program_names(key, k))
    adata.uns[key] = summary


def _summary(result: Any, params: dict) -> dict:
    """The FitResult's summary in types AnnData writes to .h5ad (no None, no objects)."""
    history = np.array([[h.n_iter, h.objective, h.elapsed] for h in result.history], dtype=float).reshape(-1, 3)
    out = {"params": {k: _plain(v) for k, v in params.items() if v is not None},
           "n_iter": int(result.n_iter), "converged": bool(result.converged), "stop_reason": str(result.stop_reason),
           "objective": float(result.objective), "history": history}
    loss = result.extras.get("loss_value")
    if loss is not None:
        out["loss_value"] = float(loss)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    return repr(value)


def _params(caller: str, k: int, where: str, genes: Any, random_state: Any, extra: dict) -> dict:
    genes_name = genes if isinstance(genes, str) else ("all" if genes is None else "custom")
    seed = random_state if isinstance(random_state, (int, np.integer)) else None
    return {"method": caller, "n_components": k, "data": where, "genes": genes_name, "random_state": seed, **extra}


@shared_docs
def nmf(adata: Any, n_components: int, *, layer: str | None = None, use_raw: bool = False, genes: Any = None,
        beta_loss: str | float = "frobenius", key_added: str = "nmf", copy: bool = False, random_state: Any = 0,
        **kwargs: Any) -> Any:
    """NMF of ``adata`` (cells x genes): usages in ``obsm``, programs in ``varm``, summary in ``uns``.

    Parameters
    ----------
    adata : AnnData
        Dense, sparse or backed. The data must be non-negative.
    n_components : int
        Number of programs ``k``.
    layer : str, default=None
        Fit ``adata.layers[layer]`` instead of ``adata.X``.
    use_raw : bool, default=False
        Fit ``adata.raw``'s values of ``adata``'s genes.
    genes : str, array of bool or list of str, default=None
        Genes to fit: a boolean ``adata.var`` column (e.g. ``"highly_variable"``), a mask or names;
        the others get zero loadings.
    beta_loss : float or str, default="frobenius"
        ``"kullback-leibler"`` (Poisson) suits raw counts.
    key_added : str, default="nmf"
        Results go to ``obsm["X_<key>"]``, ``varm["<KEY>_components"]`` and ``uns["<key>"]``.
    copy : bool, default=False
        Work on and return a copy; otherwise modify ``adata`` and return None.
    {random_state}
    **kwargs
        Passed to :func:`nmfkit.nmf` (``solver``, ``init``, ``tol``, ``max_iter``, penalties, ...).

    Returns
    -------
    AnnData or None
        The copy when ``copy=True``.

    Examples
    --------
    >>> import anndata, numpy as np
    >>> import nmfkit.tl as tl
    >>> adata = anndata.AnnData(np.random.default_rng(0).poisson(2.0, (60, 30)).astype(float))
    >>> tl.nmf(adata, 4, beta_loss="kullback-leibler", max_iter=500)
    >>> adata.obsm["X_nmf"].shape, adata.varm["NMF_components"].shape
    ((60, 4), (30, 4))
    """
    X, mask, where = _data(adata, layer, use_raw, genes, "tl.nmf")
    result = fit_nmf(X, n_components, beta_loss=beta_loss, random_state=random_state, **kwargs)
    adata = adata.copy() if copy else adata
    params = _params("nmf", result.H.shape[0], where, genes, random_state,
                     {"beta_loss": result.extras["beta_loss"], "solver": result.extras["solver"],
                      "init": result.extras["init"], **kwargs})
    _store(adata, key_added, result.W, result.H, mask, _summary(result, params))
    return adata if copy else None


def consensus(adata: Any, n_components: int, *, n_runs: int = 20, layer: str | None = None, use_raw: bool = False,
              genes: Any = None, key_added: str = "cnmf", copy: bool = False, random_state: Any = 0,
              **kwargs: Any) -> Any:
    """Consensus NMF (cNMF, Kotliar et al. 2019) of ``adata``: stable programs from ``n_runs`` replicates.

    Stores like :func:`nmf`; ``uns["<key>"]`` also holds ``stability`` (silhouette of the clustered
    replicate components), ``component_silhouette`` per program, ``kept`` (share of components kept)
    and ``n_runs``.

    Parameters
    ----------
    adata : AnnData
    n_components : int
    n_runs : int, default=20
        Replicates pooled.
    layer, use_raw, genes : see :func:`nmf`
    key_added : str, default="cnmf"
    copy, random_state : see :func:`nmf`
    **kwargs
        Passed to :func:`nmfkit.consensus` (``density_threshold``, ``n_jobs``, the replicates' fit
        options such as ``beta_loss``).

    Returns
    -------
    AnnData or None
    """
    X, mask, where = _data(adata, layer, use_raw, genes, "tl.consensus")
    result = fit_consensus(X, n_components, n_runs, random_state=random_state, **kwargs)
    adata = adata.copy() if copy else adata
    params = _params("consensus", n_components, where, genes, random_state, {"n_runs": n_runs, **kwargs})
    summary = _summary(result, params)
    summary.update(stability=float(result.extras["stability"]), kept=float(result.extras["kept"]),
                   component_silhouette=np.asarray(result.extras["component_silhouette"], dtype=float),
                   n_runs=int(n_runs))
    _store(adata, key_added, result.W, result.H, mask, summary)
    return adata if copy else None



def gene_programs(adata: Any, ranks: Any, n_components: int | None = None, *, n_runs: int = 20,
                  n_genes: int = 2000, density_threshold: float = 0.5, layer: str | None = None,
                  use_raw: bool = False, key_added: str = "programs", copy: bool = False, random_state: Any = 0,
                  checkpoint: Any = None, **kwargs: Any) -> Any:
    """cNMF's workflow on raw counts (:func:`nmfkit.selection.gene_programs`), stored in ``adata``.

    TPM, the ``n_genes`` most over-dispersed genes scaled to unit variance, a consensus of
    ``n_runs`` replicates at every rank with cNMF's k-selection statistics, and at
    ``n_components`` (default: the most stable rank) the programs ordered by total usage, in
    TPM units and as z-scored gene scores over every gene, with the usages refitted as cnmf's
    final step. A sparse matrix stays sparse throughout.

    Stores ``obsm["X_<key>"]`` (usages), ``varm["<KEY>_components"]`` (consensus programs on the
    variable genes, zeros elsewhere), ``varm["<KEY>_tpm"]`` and ``varm["<KEY>_scores"]`` (every gene),
    ``var["<key>_variable"]`` and ``uns["<key>"]`` (the fit's summary, ``k_selection`` with ``ranks``,
    ``stability`` and ``prediction_error``, the chosen ``n_components``, and ``replicates``: the
    pooled replicate programs of that rank with their clusters and local densities, for
    :func:`nmfkit.pl.clustergram`).

    Parameters
    ----------
    adata : AnnData
        Raw counts (cells x genes) in ``adata.X``, a layer or ``adata.raw``.
    ranks : sequence of int
        Ranks to survey (cNMF's ``-k``).
    n_components : int, optional
        The rank to report; must be one of ``ranks``.
    n_runs : int, default=20
        Replicates per rank.
    n_genes : int, default=2000
        Over-dispersed genes factorized.
    density_threshold : float, default=0.5
        Local-density filter of the replicate programs (``2`` keeps all).
    layer, use_raw : see :func:`nmf`
    key_added : str, default="programs"
    copy, random_state : see :func:`nmf`
    checkpoint : str or path, optional
        A folder that keeps every finished rank (``rank_<k>.npz``, written atomically): an
        interrupted survey run again with the same data and settings resumes from the ranks
        already done, with the same result; other settings are refused.
    **kwargs
        Passed to :func:`nmfkit.selection.gene_programs` (``n_jobs``, ``progress``,
        ``neighbors_fraction``, the replicates' fit options).

    Returns
    -------
    AnnData or None

    Notes
    -----
    Differences from cnmf 1.7.1 are listed in :func:`nmfkit.selection.gene_programs`.

    References
    ----------
    .. [1] D. Kotliar et al., "Identifying gene expression programs of cell-type identity and
       cellular activity with single-cell RNA-Seq", eLife 8 (2019) e43803. :doi:`10.7554/eLife.43803`
    """
    X, _, where = _data(adata, layer, use_raw, None, "tl.gene_programs")
    gp = _gene_programs(X, ranks, n_components, n_runs=n_runs, n_genes=n_genes, density_threshold=density_threshold,
                        random_state=random_state, checkpoint=checkpoint, **kwargs)
    result = gp.consensus
    adata = adata.copy() if copy else adata
    params = _params("gene_programs", gp.n_components, where, None, random_state,
                     {"n_runs": n_runs, "n_genes": n_genes, "density_threshold": density_threshold, **kwargs})
    summary = _summary(result, params)
    summary.update(k_selection={"ranks": np.array(gp.ranks), "stability": gp.stability,
                                "prediction_error": gp.prediction_error},
                   stability=float(result.extras["stability"]), kept=float(result.extras["kept"]),
                   n_components=gp.n_components, n_runs=int(n_runs),
                   replicates={"components": np.asarray(result.extras["replicate_components"], dtype=np.float32),
                               "labels": np.asarray(result.extras["replicate_labels"]),
                               "local_density": np.asarray(result.extras["local_density"], dtype=float),
                               "density_threshold": float(density_threshold)})
    _store(adata, key_added, gp.usages, gp.spectra, gp.genes, summary)
    adata.varm[f"{key_added.upper()}_tpm"] = gp.tpm.T
    adata.varm[f"{key_added.upper()}_scores"] = gp.scores.T
    adata.var[f"{key_added}_variable"] = gp.genes
    return adata if copy else None


def persistent(adata: Any, n_components: int | None = None, *, layer: str | None = None, use_raw: bool = False,
               genes: Any = None, key_added: str = "pnmf", copy: bool = False, **kwargs: Any) -> Any:
    """Persistent NMF (Zhang, Miao & Li 2026) of ``adata``: one embedding per persistent-homology scale.

    Stores like :func:`nmf` (``obsm["X_<key>"]`` is the finest scale's embedding), plus
    ``obsm["X_<key>_scale<t>"]`` for every scale ``t`` (fine to coarse) and, in ``uns["<key>"]``,
    ``scales`` (the filtration values) and ``n_scales``. ``**kwargs`` go to
    :func:`nmfkit.persistent_nmf` (``lambdas``, ``max_scales``, ``n_sweeps``, ...). The data are
    densified (the method builds dense cell graphs).

    Parameters
    ----------
    adata : AnnData
    n_components : int, default=None
        Rank; default ``ceil(sqrt(n_obs))`` as :func:`nmfkit.persistent_nmf`.
    layer, use_raw, genes : see :func:`nmf`
    key_added : str, default="pnmf"
    copy : bool, default=False
    **kwargs
        Passed to :func:`nmfkit.persistent_nmf`.

    Returns
    -------
    AnnData or None
    """
    X, mask, where = _data(adata, layer, use_raw, genes, "tl.persistent")
    result = persistent_nmf(X, n_components, **kwargs)
    adata = adata.copy() if copy else adata
    k = result.W.shape[1]
    params = _params("persistent", k, where, genes, None, dict(kwargs))
    summary = _summary(result, params)
    embeddings = np.asarray(result.extras["embeddings"])
    summary.update(scales=np.asarray(result.extras["eps"], dtype=float), n_scales=int(len(embeddings)))
    _store(adata, key_added, result.W, result.H, mask, summary)
    for t, E in enumerate(embeddings):
        adata.obsm[f"X_{key_added}_scale{t}"] = np.asarray(E)
    return adata if copy else None


def top_genes(adata: Any, key: str = "nmf", n_genes: int = 20, *, loadings: bool = False) -> Any:
    """The genes with the largest loadings in each program.

    Parameters
    ----------
    adata : AnnData
        Holding ``varm["<KEY>_components"]`` from a tool of this module.
    key : str, default="nmf"
    n_genes : int, default=20
    loadings : bool, default=False
        Return a long table (``program``, ``rank``, ``gene``, ``loading``) instead of one column of gene
        names per program.

    Returns
    -------
    pandas.DataFrame
        ``n_genes`` rows (rank 1 first) and one column per program (``<key>_1``, ...), or the long table.
    """
    import pandas as pd

    C = stored(adata, key, "components", "tl.top_genes")
    n_genes = max(1, min(int(n_genes), C.shape[0]))
    order = np.argsort(-C, axis=0, kind="stable")[:n_genes]
    programs = program_names(key, C.shape[1])
    genes = np.asarray(adata.var_names)
    if not loadings:
        return pd.DataFrame({p: genes[order[:, j]] for j, p in enumerate(programs)},
                            index=pd.RangeIndex(1, n_genes + 1, name="rank"))
    rows = [(p, r + 1, genes[order[r, j]], float(C[order[r, j], j])) for j, p in enumerate(programs)
            for r in range(n_genes)]
    return pd.DataFrame(rows, columns=["program", "rank", "gene", "loading"])
