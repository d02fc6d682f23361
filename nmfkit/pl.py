"""Plots of :mod:`nmfkit.tl` results in scanpy's look (scanpy draws them; ``pip install scanpy``).

- :func:`usage`: each program's usage coloured on an embedding (``sc.pl.embedding``);
- :func:`top_genes`: each program's top genes by loading (``sc.pl.pca_loadings``'s layout);
- :func:`k_selection`: cNMF's k-selection plot of :func:`nmfkit.tl.gene_programs` (matplotlib);
- :func:`clustergram`: cNMF's consensus clustergram of the same (matplotlib, scipy's linkage).

Both read what the tools stored and leave ``adata`` unchanged; like scanpy's plots they take
``show`` and ``save`` and return the axes when ``show=False``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nmfkit._validation import InvalidInputError
from nmfkit.tl import program_names, stored

__all__ = ["usage", "top_genes", "k_selection", "clustergram"]


def _scanpy() -> Any:
    try:
        import scanpy
    except ImportError as err:
        msg = "nmfkit.pl draws with scanpy: pip install scanpy."
        raise ImportError(msg) from err
    return scanpy


def _programs(key: str, k: int, programs: Any) -> list[int]:
    if programs is None:
        return list(range(k))
    chosen = [programs] if isinstance(programs, (int, str)) else list(programs)
    names = program_names(key, k)
    out = []
    for p in chosen:
        if isinstance(p, str):
            if p not in names:
                msg = f"Unknown program {p!r}; programs are {names}."
                raise KeyError(msg)
            out.append(names.index(p))
        elif not 1 <= int(p) <= k:
            msg = f"Program {p} out of range: programs are numbered 1 to {k}."
            raise InvalidInputError(msg)
        else:
            out.append(int(p) - 1)
    return out


def usage(adata: Any, key: str = "nmf", *, basis: str = "umap", programs: Any = None, **kwargs: Any) -> Any:
    """Colour an embedding by each program's usage.

    Parameters
    ----------
    adata : AnnData
        With ``obsm["X_<key>"]`` from :mod:`nmfkit.tl` and ``obsm["X_<basis>"]``.
    key : str, default="nmf"
    basis : str, default="umap"
        The embedding to draw on (``"umap"``, ``"tsne"``, ``"pca"``, or another tool's key).
    programs : int, str or list, default=None
        Programs to draw (numbers from 1, or names like ``"nmf_3"``); all by default.
    **kwargs
        Passed to ``scanpy.pl.embedding`` (``ncols``, ``cmap``, ``show``, ``save``, ...).

    Returns
    -------
    The axes when ``show=False`` (as ``scanpy.pl.embedding``).
    """
    import pandas as pd

    sc = _scanpy()
    W = stored(adata, key, "usages", "pl.usage")
    embedding = basis if basis.startswith("X_") else f"X_{basis}"
    if embedding not in adata.obsm:
        msg = f"adata.obsm has no {embedding!r} to draw on; compute it first (e.g. scanpy.tl.umap)."
        raise KeyError(msg)
    chosen = _programs(key, W.shape[1], programs)
    names = program_names(key, W.shape[1])
    columns = [names[j] for j in chosen]
    view = sc.AnnData(obs=pd.DataFrame(W[:, chosen], index=adata.obs_names, columns=columns),
                      obsm={embedding: np.asarray(adata.obsm[embedding])})
    return sc.pl.embedding(view, embedding, color=columns, **kwargs)


def top_genes(adata: Any, key: str = "nmf", *, programs: Any = None, n_genes: int = 10, **kwargs: Any) -> Any:
    """Each program's top genes by loading, drawn as scanpy draws PCA loadings.

    Parameters
    ----------
    adata : AnnData
        With ``varm["<KEY>_components"]`` from :mod:`nmfkit.tl`.
    key : str, default="nmf"
    programs : int, str or list, default=None
        Programs to draw (numbers from 1 or names); all by default.
    n_genes : int, default=10
        Genes per program.
    **kwargs
        Passed to ``scanpy.pl.pca_loadings`` (``show``, ``save``).
    """
    sc = _scanpy()
    C = stored(adata, key, "components", "pl.top_genes")
    chosen = _programs(key, C.shape[1], programs)
    view = sc.AnnData(np.zeros((1, adata.n_vars), dtype=np.float32), var=adata.var[[]].copy())
    view.varm["PCs"] = C
    return sc.pl.pca_loadings(view, components=[j + 1 for j in chosen], include_lowest=False,
                              n_points=n_genes, **kwargs)


def k_selection(adata: Any, key: str = "programs", *, ax: Any = None, show: bool = False,
                save: str | None = None) -> Any:
    """cNMF's k-selection plot: stability and prediction error against the rank, the chosen rank marked.

    Stability (left axis) is the silhouette of every replicate program clustered into k groups;
    the prediction error (right axis) is ``||X - U S||^2`` of the usages refitted to those
    clusters' medians, at each rank (:func:`nmfkit.tl.gene_programs` stores both in
    ``uns["<key>"]["k_selection"]``).

    Parameters
    ----------
    adata : AnnData
    key : str, default="programs"
    ax : matplotlib Axes, optional
    show : bool, default=False
        Call ``matplotlib.pyplot.show()``.
    save : str, optional
        Write the figure to this file.

    Returns
    -------
    (Axes, Axes)
        The stability and error axes.
    """
    info = adata.uns.get(key) if hasattr(adata, "uns") else None
    if not info or "k_selection" not in info:
        msg = f"adata.uns has no {key!r} k-selection; run nmfkit.tl.gene_programs(adata, ranks, key_added={key!r})."
        raise KeyError(msg)
    import matplotlib.pyplot as plt

    from nmfkit.plotting import plot_k_selection

    sel = info["k_selection"]
    ax, err = plot_k_selection(sel["ranks"], sel["stability"], sel["prediction_error"], int(info["n_components"]),
                               ax=ax)
    ax.set_title(f"{key}: chosen k = {int(info['n_components'])}", fontsize=9)
    if save:
        ax.figure.savefig(save, dpi=150)
    if show:
        plt.show()
    return ax, err


def clustergram(adata: Any, key: str = "programs", *, save: str | None = None, show: bool = False) -> Any:
    """cNMF's consensus clustergram: distances between the replicate programs, grouped by consensus cluster.

    The programs the density filter kept are ordered by cluster and, within a cluster, by
    average-linkage clustering; the Euclidean distances between them (unit-norm programs)
    are drawn with the cluster of each row, next to the histogram of every replicate
    program's local density and the filter's threshold.

    Parameters
    ----------
    adata : AnnData
        With ``uns["<key>"]["replicates"]`` from :func:`nmfkit.tl.gene_programs`.
    key : str, default="programs"
    save : str, optional
        Write the figure to this file.
    show : bool, default=False
        Call ``matplotlib.pyplot.show()``.

    Returns
    -------
    Figure
    """
    info = adata.uns.get(key) if hasattr(adata, "uns") else None
    if not info or "replicates" not in info:
        msg = f"adata.uns has no {key!r} replicates; run nmfkit.tl.gene_programs(adata, ranks, key_added={key!r})."
        raise KeyError(msg)
    import matplotlib.pyplot as plt

    from nmfkit.plotting import plot_clustergram

    rep = info["replicates"]
    fig = plot_clustergram(rep["components"], rep["labels"], rep["local_density"], float(rep["density_threshold"]),
                           int(info["n_components"]))
    if save:
        fig.savefig(save, dpi=150)
    if show:
        plt.show()
    return fig
