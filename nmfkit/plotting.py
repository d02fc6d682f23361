"""Plots of fits (matplotlib, the ``plot`` extra). The CLI and the HTML report use these same functions.

Every function draws on a given ``ax`` (or a new figure) and returns the figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_convergence", "plot_component_images", "plot_top_features", "plot_usage", "plot_merge_penalties"]


def _plt() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        msg = "Plotting needs matplotlib; install it with pip install 'nmfkit[plot]'."
        raise ImportError(msg) from None
    return plt


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def plot_convergence(result: Any, ax: Any = None, *, relative_to: float | None = None) -> Any:
    """Objective against sweeps (log scale), with the stop reason in the title.

    Parameters
    ----------
    result : FitResult
    ax : matplotlib Axes, optional
    relative_to : float, optional
        Divide the objective by this value (e.g. ``0.5 * ||X||^2`` for the relative squared error).
    """
    fig, ax = _axes(ax, (5.5, 3.5))
    its = [h.n_iter for h in result.history]
    values = np.array([h.objective for h in result.history], dtype=float)
    if relative_to:
        values = values / relative_to
    ax.plot(its, values, marker="o", markersize=3, lw=1.2)
    if np.all(values > 0):
        ax.set_yscale("log")
    ax.set_xlabel("sweep")
    ax.set_ylabel("relative objective" if relative_to else "objective")
    ax.set_title(result.stop_reason, fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


def plot_component_images(H: np.ndarray, image_shape: tuple[int, int], *, n_cols: int | None = None,
                          cmap: str = "gray_r", titles: list[str] | None = None) -> Any:
    """Each row of ``H`` reshaped to ``image_shape``, as a gallery.

    Parameters
    ----------
    H : ndarray of shape (n_components, n_features)
    image_shape : tuple of int
        ``(height, width)`` with ``height * width == n_features`` (row-major pixels).
    n_cols : int, optional
    cmap : str, default="gray_r"
    titles : list of str, optional
    """
    plt = _plt()
    k = H.shape[0]
    n_cols = n_cols or int(np.ceil(np.sqrt(k)))
    n_rows = int(np.ceil(k / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.6 * n_cols, 1.6 * n_rows), squeeze=False,
                             layout="constrained")
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i < k:
            ax.imshow(np.asarray(H[i]).reshape(image_shape), cmap=cmap, interpolation="nearest")
            ax.set_title(titles[i] if titles else f"component {i + 1}", fontsize=7)
    return fig


def plot_top_features(H: np.ndarray, feature_names: list[str], *, n_top: int = 10, ax: Any = None) -> Any:
    """Heatmap of each component's top features (rows: union of the top ``n_top`` per component).

    Parameters
    ----------
    H : ndarray of shape (n_components, n_features)
    feature_names : list of str
    n_top : int, default=10
    ax : matplotlib Axes, optional
    """
    H = np.asarray(H, dtype=float)
    scaled = H / np.maximum(H.max(axis=1, keepdims=True), np.finfo(float).tiny)
    order: list[int] = []
    for row in scaled:
        for j in np.argsort(row)[::-1][:n_top]:
            if j not in order:
                order.append(int(j))
    fig, ax = _axes(ax, (1.2 + 0.45 * H.shape[0], 1.0 + 0.18 * len(order)))
    image = ax.imshow(scaled[:, order].T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_yticks(range(len(order)), [str(feature_names[j]) for j in order], fontsize=6)
    ax.set_xticks(range(H.shape[0]), [str(i + 1) for i in range(H.shape[0])], fontsize=7)
    ax.set_xlabel("component")
    ax.figure.colorbar(image, ax=ax, label="loading / max")
    return fig


def plot_usage(W: np.ndarray, *, sample_names: list[str] | None = None, ax: Any = None, max_samples: int = 200) -> Any:
    """Stacked bars of each sample's normalized component usage (rows of ``W`` summing to 1).

    Parameters
    ----------
    W : ndarray of shape (n_samples, n_components)
    sample_names : list of str, optional
    ax : matplotlib Axes, optional
    max_samples : int, default=200
        Evenly spaced samples shown when there are more.
    """
    W = np.asarray(W, dtype=float)
    idx = np.linspace(0, W.shape[0] - 1, min(max_samples, W.shape[0])).astype(int)
    usage = W[idx] / np.maximum(W[idx].sum(axis=1, keepdims=True), np.finfo(float).tiny)
    fig, ax = _axes(ax, (7, 3))
    bottom = np.zeros(len(idx))
    cmap = _plt().get_cmap("tab20")
    for j in range(W.shape[1]):
        ax.bar(range(len(idx)), usage[:, j], bottom=bottom, width=1.0, color=cmap(j % 20), label=str(j + 1))
        bottom += usage[:, j]
    ax.set_xlim(-0.5, len(idx) - 0.5)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of usage")
    ax.set_xlabel("sample" if sample_names is None or len(idx) > 40 else "")
    if sample_names is not None and len(idx) <= 40:
        ax.set_xticks(range(len(idx)), [str(sample_names[i]) for i in idx], rotation=90, fontsize=6)
    if W.shape[1] <= 20:
        ax.legend(title="component", fontsize=6, title_fontsize=7, ncols=min(10, W.shape[1]), loc="upper center",
                  bbox_to_anchor=(0.5, -0.25))
    return fig


def plot_merge_penalties(sequence: list, ax: Any = None) -> Any:
    """Penalty of each merge along an NMF-Merge sequence, and their running sum.

    Parameters
    ----------
    sequence : list of MergeStep
    ax : matplotlib Axes, optional
    """
    fig, ax = _axes(ax, (5.5, 3.2))
    p = np.array([s.penalty for s in sequence], dtype=float)
    steps = np.arange(1, len(p) + 1)
    ax.plot(steps, p, marker="o", label="penalty of the merge")
    ax.plot(steps, np.cumsum(p), marker=".", ls="--", label="accumulated")
    if len(p) and np.all(p > 0):
        ax.set_yscale("log")
    ax.set_xlabel("merge")
    ax.set_ylabel("||WH - W'H'||^2")
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    return fig
