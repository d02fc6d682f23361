"""Agreement across replicates: consensus matrix, cophenetic correlation, dispersion, matched silhouettes."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["consensus_matrix", "cophenetic_correlation", "dispersion", "unit_rows", "match_runs",
           "silhouette_stability"]


def consensus_matrix(Ws: Sequence[Any]) -> np.ndarray:
    """Share of replicates that put samples i and j in the same cluster (cluster = argmax of the usage row).

    Parameters
    ----------
    Ws : sequence of arrays of shape (n_samples, k)

    Returns
    -------
    ndarray of shape (n_samples, n_samples), values in [0, 1], ones on the diagonal
    """
    labels = [np.argmax(np.asarray(W), axis=1) for W in Ws]
    C = np.zeros((len(labels[0]), len(labels[0])))
    for lab in labels:
        C += lab[:, None] == lab[None, :]
    return C / len(labels)


def cophenetic_correlation(C: np.ndarray) -> float:
    """Brunet et al.'s cophenetic correlation of a consensus matrix.

    Pearson correlation between the distances ``1 - C`` and the cophenetic
    distances of their average-linkage tree: 1 for a perfectly stable
    clustering (``C`` all zeros and ones).

    Parameters
    ----------
    C : array of shape (n_samples, n_samples)
        Consensus matrix (:func:`consensus_matrix`), values in [0, 1].

    Returns
    -------
    float
        In [-1, 1]; 1 also when every distance is equal (nothing to disagree on).

    References
    ----------
    .. [1] J.-P. Brunet, P. Tamayo, T. R. Golub and J. P. Mesirov, "Metagenes and
       molecular pattern discovery using matrix factorization", PNAS 101(12), 2004.
       :doi:`10.1073/pnas.0308531101`
    """
    from scipy.cluster.hierarchy import cophenet, linkage
    from scipy.spatial.distance import squareform

    D = squareform(1.0 - np.asarray(C, dtype=float), checks=False)
    if D.size == 0 or np.ptp(D) == 0:
        return 1.0
    coph = cophenet(linkage(D, method="average"))
    if np.ptp(coph) == 0:
        return 1.0
    return float(np.corrcoef(D, coph)[0, 1])


def dispersion(C: np.ndarray) -> float:
    """Kim & Park's dispersion ``mean(4 (C_ij - 1/2)^2)``: 1 for a consensus of zeros and ones, 0 at 1/2."""
    C = np.asarray(C, dtype=float)
    return float(np.mean(4.0 * (C - 0.5) ** 2))


# ---------------------------------------------------------------------------------------------
# component stability
# ---------------------------------------------------------------------------------------------
def unit_rows(H: Any) -> np.ndarray:
    """The rows of ``H`` scaled to unit Euclidean norm (zero rows stay zero)."""
    H = np.asarray(H, dtype=float)
    n = np.linalg.norm(H, axis=1, keepdims=True)
    return H / np.where(n > 0, n, 1.0)


def match_runs(Hs: Sequence[Any], *, max_iter: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the components of every replicate into k groups, one component per replicate per group.

    Matched k-means on cosine similarity (as in SigProfilerExtractor): start
    from the first replicate, match each replicate's unit-norm components to
    the centroids by the Hungarian algorithm, recompute the centroids, repeat
    until the matching stops changing.

    Parameters
    ----------
    Hs : sequence of arrays of shape (k, n_features)
    max_iter : int, default=50
        Most rounds of matching and recomputing the centroids.

    Returns
    -------
    centroids : ndarray of shape (k, n_features), unit rows
    assignment : ndarray of shape (n_runs, k)
        ``assignment[r, i]``: the group of component ``i`` of replicate ``r``.
    """
    from scipy.optimize import linear_sum_assignment

    units = [unit_rows(H) for H in Hs]
    centroids = units[0].copy()
    assignment = np.tile(np.arange(centroids.shape[0]), (len(units), 1))
    for _ in range(max_iter):
        new = np.empty_like(assignment)
        for r, U in enumerate(units):
            rows, cols = linear_sum_assignment(-(U @ centroids.T))
            new[r, rows] = cols
        sums = np.zeros_like(centroids)
        for r, U in enumerate(units):
            np.add.at(sums, new[r], U)
        centroids = unit_rows(sums)
        if np.array_equal(new, assignment):
            break
        assignment = new
    return centroids, assignment


def silhouette_stability(Hs: Sequence[Any]) -> dict:
    """Silhouette (cosine distance) of the replicates' components grouped by :func:`match_runs`.

    Returns
    -------
    dict
        ``mean`` (average silhouette width), ``min_group`` (the least stable
        component's mean silhouette), ``per_group`` and the ``centroids``. NaN for
        k = 1 or a single replicate.
    """
    from sklearn.metrics import silhouette_samples

    centroids, assignment = match_runs(Hs)
    k = centroids.shape[0]
    if k < 2 or len(Hs) < 2:
        return {"mean": float("nan"), "min_group": float("nan"), "per_group": [float("nan")] * k,
                "centroids": centroids}
    pooled = np.vstack([unit_rows(H) for H in Hs])
    labels = assignment.ravel()
    s = silhouette_samples(pooled, labels, metric="cosine")
    per = [float(s[labels == g].mean()) for g in range(k)]
    return {"mean": float(s.mean()), "min_group": float(min(per)), "per_group": per, "centroids": centroids}
