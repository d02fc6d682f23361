"""Plots of fits (matplotlib, the ``plot`` extra). The CLI and the HTML report use these same functions.

Every function draws on a given ``ax`` (or a new figure) and returns the figure.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

__all__ = ["plot_convergence", "plot_component_images", "plot_top_features", "plot_usage", "plot_merge_penalties",
           "plot_layer_errors", "plot_deep_layers", "plot_barcode", "plot_scale_embeddings", "plot_scores_by_scale",
           "plot_rank_survey", "plot_k_selection", "plot_clustergram"]


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
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite > 0):
        ax.set_yscale("log")
    if finite.size and finite.max() - finite.min() <= 1e-9 * abs(finite.max()):
        # a flat curve (to rounding): give the axis a height, or matplotlib divides by a zero-height range
        v = float(finite.max())
        ax.set_ylim(v / 2, v * 2) if v > 0 else ax.set_ylim(-1.0, 1.0)
    ax.set_xlabel("sweep")
    ax.set_ylabel("relative objective" if relative_to else "objective")
    ax.set_title(result.stop_reason, fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


def _order(order: str) -> Literal["C", "F"]:
    return "F" if order == "F" else "C"


def plot_component_images(H: np.ndarray, image_shape: tuple[int, int], *, n_cols: int | None = None,
                          cmap: str = "gray_r", titles: list[str] | None = None, order: str = "C") -> Any:
    """Each row of ``H`` reshaped to ``image_shape``, as a gallery.

    Parameters
    ----------
    H : ndarray of shape (n_components, n_features)
    image_shape : tuple of int
        ``(height, width)`` with ``height * width == n_features``.
    n_cols : int, optional
    cmap : str, default="gray_r"
    titles : list of str, optional
    order : {"C", "F"}, default="C"
        How each image was flattened: row by row ("C", NumPy) or column by
        column ("F", MATLAB and Fortran).
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
            ax.imshow(np.asarray(H[i]).reshape(image_shape, order=_order(order)), cmap=cmap, interpolation="nearest")
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


def plot_layer_errors(result: Any, ax: Any = None) -> Any:
    """Each layer's error ``D(W_{l-1} | W_l H_l)`` along the deep sweeps, relative to its initial value."""
    fig, ax = _axes(ax, (5.5, 3.5))
    hist = np.asarray(result.extras["layer_history"], dtype=float)
    iters = result.extras["layer_history_iters"]
    for layer in range(hist.shape[1]):
        ax.plot(iters, hist[:, layer] / hist[0, layer], label=f"layer {layer + 1}")
    ax.set_xlabel("deep sweep")
    ax.set_ylabel("error / error at start")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_deep_layers(features: list, H_layers: list, *, image_shape: tuple[int, int] | None = None,
                     feature_names: list[str] | None = None, n_parts: int = 4, max_rows: int = 10,
                     order: str = "C") -> Any:
    """How the features of layer l combine those of layer l - 1.

    With ``image_shape`` (features are images): for every layer l >= 2 and each of
    its features (up to ``max_rows``), the feature's image followed by the
    ``n_parts`` layer-(l-1) features with the largest weights ``H_l[k, j]``
    (weights in the titles). Otherwise a heat map of every ``H_l`` (l >= 2), rows
    labelled by the layer-l feature's top data features.

    Parameters
    ----------
    features : list of arrays
        ``F_l = H_l ... H_1`` of shape (r_l, n_features).
    H_layers : list of arrays
        ``H_l`` of shape (r_l, r_{l-1}).
    image_shape : (int, int), default=None
        Draw the features as images of this shape.
    feature_names : list of str, default=None
        Names of the data features, for the heat maps' row labels.
    n_parts : int, default=4
        Layer-(l-1) features shown next to each layer-l feature.
    max_rows : int, default=10
        Most layer-l features drawn per layer.
    order : {"C", "F"}, default="C"
        How each image was flattened (see :func:`plot_component_images`).
    """
    plt = _plt()
    L = len(H_layers)
    if L < 2:
        fig, ax = _axes(None, (4, 2))
        ax.text(0.5, 0.5, "one layer: nothing to combine", ha="center", va="center")
        ax.set_axis_off()
        return fig
    if image_shape is not None:
        blocks = [(layer, k) for layer in range(1, L) for k in range(min(max_rows, H_layers[layer].shape[0]))]
        n_cols = 1 + n_parts
        fig, axes = plt.subplots(len(blocks), n_cols, figsize=(1.35 * n_cols + 0.4, 1.45 * len(blocks)),
                                 squeeze=False, layout="constrained")
        for row, (layer, k) in enumerate(blocks):
            weights = np.asarray(H_layers[layer][k])
            parts = np.argsort(weights)[::-1][:n_parts]
            axes[row, 0].imshow(np.asarray(features[layer][k]).reshape(image_shape, order=_order(order)), cmap="gray_r")
            axes[row, 0].set_title(f"layer {layer + 1} #{k + 1}", fontsize=7)
            for c, j in enumerate(parts, start=1):
                axes[row, c].imshow(np.asarray(features[layer - 1][j]).reshape(image_shape, order=_order(order)),
                                    cmap="gray_r")
                axes[row, c].set_title(f"{weights[j]:.2f} x L{layer} #{j + 1}", fontsize=6)
            for ax in axes[row]:
                ax.set_axis_off()
        return fig
    height = 0.35 * max(H.shape[0] for H in H_layers[1:]) + 1.5
    fig, axes = plt.subplots(1, L - 1, figsize=(3.2 * (L - 1) + 1.5, height), squeeze=False, layout="constrained")
    for layer in range(1, L):
        ax = axes[0, layer - 1]
        H = np.asarray(H_layers[layer])
        im = ax.imshow(H, aspect="auto", cmap="viridis")
        ax.set_xlabel(f"layer {layer} feature")
        ax.set_xticks(range(H.shape[1]), [str(j + 1) for j in range(H.shape[1])], fontsize=6)
        labels = []
        for k in range(H.shape[0]):
            top = np.argsort(np.asarray(features[layer][k]))[::-1][:3]
            names = ", ".join(feature_names[t] for t in top) if feature_names is not None else ""
            labels.append(f"{k + 1}: {names}" if names else str(k + 1))
        ax.set_yticks(range(H.shape[0]), labels, fontsize=6)
        ax.set_title(f"H_{layer + 1}: layer {layer + 1} from layer {layer}", fontsize=8)
        fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def plot_barcode(deaths: Any, ax: Any = None) -> Any:
    """The H0 barcode: one bar per component, born at 0, dying at its death time (longest at the top)."""
    fig, ax = _axes(ax, (5.5, 3.5))
    d = np.sort(np.asarray(deaths, dtype=float))
    ax.hlines(np.arange(len(d)), 0, d, lw=1.2, color="tab:blue")
    ax.set_xlabel("scale (distance)")
    ax.set_ylabel("component (sorted by death)")
    ax.set_title(f"0-dimensional persistence: {len(d)} finite bars", fontsize=9)
    ax.grid(alpha=0.3, axis="x")
    return fig


def plot_scale_embeddings(embeddings: Any, scales: list[int], *, labels: Any = None) -> Any:
    """Scatter of the first two embedding components at the given (1-based) scales, colored by label."""
    plt = _plt()
    E = np.asarray(embeddings)
    fig, axes = plt.subplots(1, len(scales), figsize=(2.6 * len(scales), 2.7), squeeze=False, layout="constrained")
    colors = None
    if labels is not None:
        _, colors = np.unique(np.asarray(labels), return_inverse=True)
    for ax, t in zip(axes[0], scales, strict=True):
        F = E[t - 1]
        y = F[:, 1] if F.shape[1] > 1 else np.zeros(F.shape[0])
        ax.scatter(F[:, 0], y, c=colors, s=8, cmap="tab10" if colors is not None else None)
        ax.set_title(f"scale t = {t}", fontsize=8)
        ax.tick_params(labelsize=6)
    return fig


def plot_scores_by_scale(scores: list, ax: Any = None) -> Any:
    """Clustering scores (ARI, NMI, purity, accuracy) of every scale's embedding."""
    fig, ax = _axes(ax, (6, 3.5))
    t = np.arange(1, len(scores) + 1)
    for key in ("ari", "nmi", "purity", "accuracy"):
        ax.plot(t, [s[key] for s in scores], label=key.upper() if key in ("ari", "nmi") else key)
    ax.set_xlabel("scale index t (1 = finest)")
    ax.set_ylabel("score")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_rank_survey(survey: Any) -> Any:
    """Every criterion of a :class:`~nmfkit.selection.RankSurvey` against the rank; the recommendation dashed."""
    plt = _plt()
    groups = [("error", ["relative_error", "permuted_relative_error"]), ("cross-validation", ["bcv_error",
              "masked_cv_error"]), ("stability", ["cophenetic", "dispersion", "silhouette", "silhouette_min"])]
    groups = [(title, [k for k in keys if k in survey.table]) for title, keys in groups]
    groups = [g for g in groups if g[1]]
    fig, axes = plt.subplots(1, len(groups), figsize=(3.6 * len(groups), 3.2), squeeze=False, layout="constrained")
    for ax, (title, keys) in zip(axes[0], groups, strict=True):
        for key in keys:
            ax.plot(survey.ranks, survey.table[key], marker="o", ms=3, label=key.replace("_", " "))
        ax.axvline(survey.recommended, color="gray", ls="--", lw=1)
        ax.set_xlabel("rank")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(f"rank survey: recommended {survey.recommended}", fontsize=9)
    return fig


def plot_k_selection(ranks: Any, stability: Any, error: Any, chosen: int | None = None, ax: Any = None) -> Any:
    """cNMF's k-selection plot: stability (left axis) and prediction error (right axis) against the rank.

    Parameters
    ----------
    ranks, stability, error : array-like of shape (n_ranks,)
        Silhouette of the clustered replicate programs and ``||X - U S||^2`` per rank.
    chosen : int, optional
        The chosen rank, marked by a dashed line.
    ax : matplotlib Axes, optional

    Returns
    -------
    (Axes, Axes)
        The stability and error axes.
    """
    _, ax = _axes(ax, (5, 3.5))
    ks = np.asarray(ranks)
    ax.plot(ks, stability, "o-", color="tab:blue", label="stability")
    ax.set_xlabel("rank k")
    ax.set_ylabel("stability (silhouette)", color="tab:blue")
    err = ax.twinx()
    err.plot(ks, error, "s-", color="tab:red", label="error")
    err.set_ylabel("prediction error", color="tab:red")
    if chosen is not None:
        ax.axvline(int(chosen), ls="--", color="gray", lw=0.8)
        ax.set_title(f"chosen k = {int(chosen)}", fontsize=9)
    return ax, err


def plot_clustergram(components: Any, labels: Any, local_density: Any, density_threshold: float,
                     n_clusters: int) -> Any:
    """cNMF's consensus clustergram: distances between replicate programs, grouped by consensus cluster.

    The programs the density filter kept are ordered by cluster and, within a cluster, by
    average-linkage clustering; their Euclidean distances are drawn with the cluster of each row,
    beside the histogram of every replicate program's local density and the filter's threshold.

    Parameters
    ----------
    components : array-like of shape (n_programs, n_features)
        The pooled unit-norm replicate programs.
    labels : array-like of int, shape (n_programs,)
        Consensus cluster of each; -1 where the density filter dropped it.
    local_density : array-like of shape (n_programs,)
    density_threshold : float
    n_clusters : int

    Returns
    -------
    Figure
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import pdist, squareform

    plt = _plt()
    P, labels = np.asarray(components, dtype=float), np.asarray(labels)
    kept = labels >= 0
    order: list = []
    for g in np.unique(labels[kept]):
        idx = np.flatnonzero(labels == g)
        order += list(idx[leaves_list(linkage(P[idx], "average"))] if idx.size > 1 else idx)
    D = squareform(pdist(P[order]))
    fig, (lab_ax, ax, hist_ax) = plt.subplots(1, 3, figsize=(10, 4.5), layout="constrained",
                                              gridspec_kw={"width_ratios": [0.3, 6, 3]})
    lab_ax.imshow(labels[order][:, None], aspect="auto", cmap="tab20", interpolation="none")
    lab_ax.set_axis_off()
    im = ax.imshow(D, cmap="viridis", interpolation="none")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{len(order)} replicate programs kept, {int(n_clusters)} clusters", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8, label="distance")
    density = np.asarray(local_density, dtype=float)
    hist_ax.hist(density, bins=40)
    hist_ax.axvline(float(density_threshold), ls="--", color="k")
    hist_ax.set_xlabel(f"local density ({int((~kept).sum())} of {labels.size} removed)")
    return fig
