"""Comparing factorizations and scoring embeddings.

Matched cosine similarity, the consistency measures of Guo & Holy, and the
clustering scores (ARI, NMI, purity, Hungarian accuracy, k-means on an embedding)
used to evaluate embeddings against labels; sparse non-negative assignment of
profiles to a reference catalogue (e.g. COSMIC mutational signatures); Hoyer's sparseness, the
one measure of sparsity every method reports.

References
----------
.. [1] Y. Guo and T. E. Holy, "An optimal pairwise merge algorithm improves the
   quality and consistency of nonnegative matrix factorization", IEEE Trans.
   Signal Process. 73, 2025 (eqs. 18-19). :doi:`10.1109/TSP.2025.3585893`
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nmfkit._validation import InvalidInputError

__all__ = ["sparseness", "match_components", "subspace_consistency", "permutation_consistency", "purity",
           "clustering_accuracy", "clustering_scores", "kmeans_scores", "assign_to_reference"]


def _unit_columns(W: Any) -> np.ndarray:
    W = np.asarray(W, dtype=float)
    norms = np.linalg.norm(W, axis=0, keepdims=True)
    return W / np.where(norms > 0, norms, 1.0)


def match_components(W_true: Any, W_est: Any, H_true: Any = None, H_est: Any = None) -> dict:
    """Match estimated to true components up to permutation and scaling (Hungarian algorithm).

    Columns of ``W`` (and rows of ``H``, when given) are normalized to unit
    norm; the assignment maximizes the summed cosine similarity.

    Returns
    -------
    dict
        ``permutation`` (est index for each true component), ``cosine_W`` and
        ``cosine_H`` (per matched pair), ``min_cosine`` (the worst match).
    """
    sim = _unit_columns(W_true).T @ _unit_columns(W_est)
    if H_true is not None and H_est is not None:
        simH = _unit_columns(np.asarray(H_true, float).T).T @ _unit_columns(np.asarray(H_est, float).T)
        total = sim + simH
    else:
        simH, total = None, sim
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-total)
    out = {"permutation": cols, "cosine_W": sim[rows, cols]}
    out["cosine_H"] = None if simH is None else simH[rows, cols]
    both = out["cosine_W"] if simH is None else np.minimum(out["cosine_W"], out["cosine_H"])
    out["min_cosine"] = float(both.min())
    return out


def subspace_consistency(W1: Any, W2: Any, *, normalize: bool = True) -> float:
    """Guo & Holy's eq. (18): ``||W1 - W2 R2||^2 + ||W2 - W1 R1||^2`` with ``R2 = W2^+ W1``, ``R1 = W1^+ W2``.

    Zero exactly when the column spaces agree. Columns are scaled to unit norm
    first (``normalize=True``) so that the value does not depend on how each
    component's scale is split between W and H.
    """
    A, B = (_unit_columns(W1), _unit_columns(W2)) if normalize else (np.asarray(W1, float), np.asarray(W2, float))
    R2 = np.linalg.pinv(B) @ A
    R1 = np.linalg.pinv(A) @ B
    return float(np.linalg.norm(A - B @ R2) ** 2 + np.linalg.norm(B - A @ R1) ** 2)


def permutation_consistency(W1: Any, W2: Any) -> float:
    """Guo & Holy's eq. (19) with the sign fixed: a deviation of ``R = W1^+ W2`` from a permutation matrix.

    ``PC = sum_ij r_ij^2 (r_ij - 1)^2 + sum_i (sum_j r_ij - 1)^2 + sum_j (sum_i r_ij - 1)^2`` on
    unit-norm columns. The paper prints a minus before the bracket, which can make
    the value negative; both forms are zero for a permutation matrix.
    """
    R = np.linalg.pinv(_unit_columns(W1)) @ _unit_columns(W2)
    entries = np.sum(R**2 * (R - 1.0) ** 2)
    return float(entries + np.sum((R.sum(axis=1) - 1.0) ** 2) + np.sum((R.sum(axis=0) - 1.0) ** 2))


# -- clustering scores -------------------------------------------------------------------------
def _contingency(labels_true: Any, labels_pred: Any) -> np.ndarray:
    from sklearn.metrics.cluster import contingency_matrix

    return contingency_matrix(np.asarray(labels_true), np.asarray(labels_pred))


def purity(labels_true: Any, labels_pred: Any) -> float:
    """Share of samples in the majority true class of their cluster: ``sum_c max_k n_ck / N``."""
    C = _contingency(labels_true, labels_pred)
    return float(C.max(axis=0).sum() / C.sum())


def clustering_accuracy(labels_true: Any, labels_pred: Any) -> float:
    """Accuracy under the best one-to-one matching of clusters to classes (Hungarian): ``max_perm sum n / N``."""
    C = _contingency(labels_true, labels_pred)
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-C)
    return float(C[rows, cols].sum() / C.sum())


def clustering_scores(labels_true: Any, labels_pred: Any) -> dict:
    """ARI, NMI (arithmetic), purity, accuracy and their mean ("average")."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    out = {"ari": float(adjusted_rand_score(labels_true, labels_pred)),
           "nmi": float(normalized_mutual_info_score(labels_true, labels_pred)),
           "purity": purity(labels_true, labels_pred),
           "accuracy": clustering_accuracy(labels_true, labels_pred)}
    out["average"] = float(np.mean(list(out.values())))
    return out


def kmeans_scores(embedding: Any, labels: Any, *, n_clusters: int | None = None, n_init: int = 10,
                  random_state: int = 0) -> dict:
    """Cluster the rows of an embedding with k-means and score against labels (the persistent-NMF protocol).

    ``KMeans(n_clusters = number of classes, n_init=10, random_state=0)`` on the
    samples (rows), then :func:`clustering_scores`; ``"labels_pred"`` is added.

    Parameters
    ----------
    embedding : array of shape (n_samples, k)
    labels : array of shape (n_samples,)
    n_clusters : int, optional
        Default: the number of distinct labels.
    n_init, random_state : int
    """
    from sklearn.cluster import KMeans

    labels = np.asarray(labels)
    k = len(np.unique(labels)) if n_clusters is None else n_clusters
    pred = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit_predict(np.asarray(embedding))
    out = clustering_scores(labels, pred)
    out["labels_pred"] = pred
    return out


def assign_to_reference(Y: Any, reference: Any, *, max_components: int = 4, min_gain: float = 0.01,
                        names: Any = None) -> dict:
    """Explain each row of ``Y`` as a sparse non-negative combination of reference rows.

    Forward selection with non-negative least squares (as in mutational-signature
    assignment): start from the single reference row with the best NNLS fit, then
    add the row that raises the cosine similarity of the reconstruction most, while
    the gain is at least ``min_gain`` and fewer than ``max_components`` are used.

    Parameters
    ----------
    Y : array-like of shape (n_profiles, n_features)
        Profiles to explain (e.g. de novo signatures or sample catalogues).
    reference : array-like of shape (n_reference, n_features)
        The catalogue (e.g. COSMIC signatures, one per row).
    max_components : int, default=4
    min_gain : float, default=0.01
        Smallest rise of the cosine similarity that justifies one more component.
    names : sequence of str, optional
        Names of the reference rows, used in ``terms``.

    Returns
    -------
    dict
        ``weights`` (n_profiles, n_reference) NNLS coefficients (zero outside the
        chosen set), ``cosine`` (n_profiles,) of each reconstruction, and ``terms``:
        per profile, ``(name or index, share)`` pairs sorted by share, shares summing to 1.
    """
    from scipy.optimize import nnls

    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    R = np.asarray(reference, dtype=float)
    if Y.shape[1] != R.shape[1]:
        msg = f"Y has {Y.shape[1]} features but reference has {R.shape[1]}."
        raise InvalidInputError(msg)
    labels = list(names) if names is not None else list(range(R.shape[0]))

    def cosine(y: np.ndarray, x: np.ndarray) -> float:
        d = np.linalg.norm(y) * np.linalg.norm(x)
        return float(y @ x / d) if d > 0 else 0.0

    weights = np.zeros((Y.shape[0], R.shape[0]))
    cos = np.zeros(Y.shape[0])
    terms = []
    for i, y in enumerate(Y):
        chosen: list[int] = []
        best_cos, best_w = 0.0, np.zeros(0)
        while len(chosen) < min(max_components, R.shape[0]):
            trial = []
            for j in range(R.shape[0]):
                if j in chosen:
                    continue
                w, _ = nnls(R[chosen + [j]].T, y)
                trial.append((cosine(y, w @ R[chosen + [j]]), j, w))
            c, j, w = max(trial, key=lambda t: t[0])
            if chosen and c - best_cos < min_gain:
                break
            chosen.append(j)
            best_cos, best_w = c, w
        weights[i, chosen] = best_w
        cos[i] = best_cos
        total = best_w.sum()
        order = np.argsort(-best_w)
        terms.append([(labels[chosen[o]], float(best_w[o] / total) if total > 0 else 0.0) for o in order
                      if best_w[o] > 0])
    return {"weights": weights, "cosine": cos, "terms": terms}


def sparseness(x: Any, axis: int = -1) -> Any:
    """Hoyer's sparseness ``(sqrt(n) - ||x||_1 / ||x||_2) / (sqrt(n) - 1)`` along ``axis``.

    In [0, 1]: 0 for a constant vector, 1 for a single non-zero. Undefined
    (NaN) for an all-zero vector and for vectors of length 1.
    """
    x = np.abs(np.asarray(x, dtype=float))
    n = x.shape[axis]
    if n == 1:
        return np.full(np.delete(x.shape, axis % x.ndim), np.nan)
    l1 = x.sum(axis=axis)
    l2 = np.sqrt((x * x).sum(axis=axis))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(l2 > 0, (np.sqrt(n) - l1 / np.where(l2 > 0, l2, 1.0)) / (np.sqrt(n) - 1.0), np.nan)
