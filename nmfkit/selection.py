"""Choosing the rank and trusting the parts: replicates, consensus, stability and cross-validation.

Every criterion works on replicate fits made by :func:`nmfkit.nmf` with seeds spawned
from one ``random_state`` (``numpy.random.SeedSequence``), so a survey is reproducible
and its replicates can run in parallel processes (joblib).

Criteria (each a function of its own, used by :func:`select_rank`):

- reconstruction error and explained variance, with a knee detector (Kneedle);
- the consensus matrix of sample assignments, its cophenetic correlation (Brunet et
  al. 2004) and dispersion (Kim & Park 2007);
- silhouette stability of the components clustered across replicates (the cNMF /
  SigProfilerExtractor practice);
- bi-cross-validation (Owen & Perry 2009) and masked-entry (Wold) cross-validation;
- a permuted-data baseline (Frigyesi & Höglund 2008).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from nmfkit._progress import track
from nmfkit._validation import InvalidInputError
from nmfkit.solvers import nnls_project

__all__ = ["replicate_seeds", "run_replicates", "consensus_matrix", "cophenetic_correlation", "dispersion",
           "match_runs", "silhouette_stability", "bicross_validation_error", "masked_cv_error", "knee",
           "permuted", "RankSurvey", "select_rank", "consensus", "bootstrap"]


# ---------------------------------------------------------------------------------------------
# replicates
# ---------------------------------------------------------------------------------------------
def replicate_seeds(random_state: Any, n: int) -> list[int]:
    """``n`` independent seeds spawned from ``random_state`` (``SeedSequence.spawn``): same input, same seeds."""
    if isinstance(random_state, np.random.Generator):
        entropy = int(random_state.integers(2**63))
    elif random_state is None:
        entropy = None
    else:
        entropy = int(random_state)
    return [int(s.generate_state(1, np.uint64)[0] % (2**63)) for s in np.random.SeedSequence(entropy).spawn(n)]


class Replicates(list):
    """One ``(W, H, loss)`` per replicate, in seed order, plus ``converged`` (one bool per replicate)."""

    converged: list


def _fit(X: Any, k: int, seed: int, params: dict) -> tuple[np.ndarray, np.ndarray, float, bool]:
    from nmfkit.fit import nmf

    with warnings.catch_warnings():
        from sklearn.exceptions import ConvergenceWarning  # loaded when needed
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = nmf(X, k, random_state=seed, **params)
    return np.asarray(res.W), np.asarray(res.H), float(res.extras["loss_value"]), bool(res.converged)


def _replicates(runs: Sequence, converged: Sequence[bool]) -> Replicates:
    out = Replicates(runs)
    out.converged = [bool(c) for c in converged]
    return out


_BATCH_SOLVERS = {"auto": None, "mu": "mu", "hals": "hals", "cd": "hals"}


def _batched(X: Any, n_components: int, seeds: list[int], device: str, params: dict) -> Replicates:
    """The replicates as one batch on a torch device (:func:`nmfkit.batch.nmf_batch`)."""
    import torch

    from nmfkit.batch import nmf_batch
    from nmfkit.losses import BETA_ALIASES

    params = dict(params)
    beta_loss = params.pop("beta_loss", "frobenius")
    beta = BETA_ALIASES.get(beta_loss, beta_loss) if isinstance(beta_loss, str) else float(beta_loss)
    solver = params.pop("solver", "auto")
    init = params.pop("init", "random")
    tol = params.pop("tol", 1e-4)
    max_iter = params.pop("max_iter", 1000)
    unsupported = sorted(params)
    if not isinstance(solver, str) or solver not in _BATCH_SOLVERS:
        unsupported.append(f"solver={solver!r}")
    if init != "random":
        unsupported.append(f"init={init!r}")
    if unsupported:
        msg = (f"Replicates on a device run as one batch with random starts, solver 'mu' or 'hals' (plain "
               f"passes), tol and max_iter only; unsupported here: {', '.join(unsupported)}. "
               "Drop device= to run them one by one.")
        raise InvalidInputError(msg)
    batch_solver = _BATCH_SOLVERS[solver] or ("hals" if beta == 2.0 else "mu")
    Xt = torch.as_tensor(_dense(X), device=device)
    batch = nmf_batch(Xt, n_components, seeds, beta_loss=beta, solver=batch_solver, tol=tol, max_iter=max_iter)
    return _replicates(batch, batch.converged)


def run_replicates(X: Any, n_components: int, n_runs: int = 10, *, random_state: Any = None, n_jobs: int = 1,
                   progress: bool = False, device: str | None = None,
                   **fit_params: Any) -> Replicates:
    """Fit ``n_runs`` replicates from independent random starts; returns ``(W, H, loss)`` per replicate.

    The list returned also says, in ``.converged``, which replicates met the
    stopping rule before ``max_iter`` (their ConvergenceWarnings are not shown).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    n_runs : int, default=10
    random_state : int, Generator or None
        Spawns one seed per replicate (:func:`replicate_seeds`).
    n_jobs : int, default=1
        Parallel processes (joblib); results do not depend on it.
    progress : bool, default=False
        Progress on stderr: a tqdm bar on a terminal, a log line every 5 s elsewhere.
    device : str, optional
        A torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``): the replicates run
        there as one batch (:func:`nmfkit.batch.nmf_batch`, needs PyTorch), each
        from the same random start as its sequential fit; HALS runs plain passes
        (``HALS(alpha=0)``). Only ``beta_loss``, ``solver`` (``"auto"``,
        ``"mu"``, ``"hals"``), ``tol`` and ``max_iter`` are supported then.
    **fit_params
        Passed to :func:`nmfkit.nmf` (default ``init="random"``, ``max_iter=1000``).
    """
    from joblib import Parallel, delayed

    params = {"init": "random", "max_iter": 1000, **fit_params}
    seeds = replicate_seeds(random_state, n_runs)
    if device is not None:
        return _batched(X, n_components, seeds, device, params)
    jobs = (delayed(_fit)(X, n_components, s, params) for s in seeds)
    done = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)  # in order, counted as they finish
    runs = list(track(done, total=len(seeds), desc=f"rank {n_components}", unit="replicates", enabled=progress))
    return _replicates([r[:3] for r in runs], [r[3] for r in runs])


# ---------------------------------------------------------------------------------------------
# consensus
# ---------------------------------------------------------------------------------------------
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
def _unit_rows(H: Any) -> np.ndarray:
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

    units = [_unit_rows(H) for H in Hs]
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
        centroids = _unit_rows(sums)
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
    pooled = np.vstack([_unit_rows(H) for H in Hs])
    labels = assignment.ravel()
    s = silhouette_samples(pooled, labels, metric="cosine")
    per = [float(s[labels == g].mean()) for g in range(k)]
    return {"mean": float(s.mean()), "min_group": float(min(per)), "per_group": per, "centroids": centroids}


# ---------------------------------------------------------------------------------------------
# cross-validation
# ---------------------------------------------------------------------------------------------
def _dense(X: Any) -> np.ndarray:
    from nmfkit.backend import get_backend

    if sp.issparse(X):
        return X.toarray()
    return np.asarray(get_backend(X).to_numpy(X), dtype=float)


def bicross_validation_error(X: Any, n_components: int, *, folds: tuple[int, int] = (2, 2), random_state: Any = None,
                             **fit_params: Any) -> float:
    """Owen & Perry's bi-cross-validation error of rank-``k`` NMF, relative to ``||X||^2``.

    Rows and columns are split at random into ``folds = (p, q)`` groups. For each
    held-out block ``A = X[I, J]``, NMF is fitted to ``D = X[~I, ~J]`` (``D ≈ W_D H_D``),
    then ``B = X[I, ~J] ≈ W_B H_D`` and ``C = X[~I, J] ≈ W_D H_C`` are solved exactly
    by non-negative least squares, and ``A`` is predicted by ``W_B H_C``. For an exact
    rank-r matrix with a unique NMF the error is zero at k = r.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    folds : (int, int), default=(2, 2)
    random_state : int, Generator or None
    **fit_params
        For :func:`nmfkit.nmf` on each held-in block (default: NNDSVDa start,
        HALS, tol 1e-6, 2000 sweeps).
    """
    from nmfkit.fit import nmf

    Xd = _dense(X)
    n, m = Xd.shape
    rng = np.random.default_rng(replicate_seeds(random_state, 1)[0])
    rows = np.array_split(rng.permutation(n), folds[0])
    cols = np.array_split(rng.permutation(m), folds[1])
    params = {"init": "nndsvda", "tol": 1e-6, "max_iter": 2000, **fit_params}
    total = 0.0
    for I in rows:  # noqa: E741
        keep_r = np.setdiff1d(np.arange(n), I)
        for J in cols:
            keep_c = np.setdiff1d(np.arange(m), J)
            D = Xd[np.ix_(keep_r, keep_c)]
            k = min(n_components, *D.shape)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = nmf(D, k, **params)
            WB = nnls_project(Xd[np.ix_(I, keep_c)], np.asarray(res.H))
            HC = nnls_project(Xd[np.ix_(keep_r, J)].T, np.asarray(res.W).T).T
            total += float(np.sum((Xd[np.ix_(I, J)] - WB @ HC) ** 2))
    return total / max(float(np.sum(Xd * Xd)), np.finfo(float).tiny)


def masked_cv_error(X: Any, n_components: int, *, fraction: float = 0.1, n_folds: int = 3, random_state: Any = None,
                    **fit_params: Any) -> float:
    """Wold-style cross-validation: hold out random entries, fit with a mask, score the held-out entries.

    Mean over ``n_folds`` random masks of ``||(X - WH)_held||^2 / ||X_held||^2``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    fraction : float, default=0.1
        Share of entries held out per fold.
    n_folds : int, default=3
    random_state : int, Generator or None
    **fit_params
        For :func:`nmfkit.nmf` (default: HALS with the mask, tol 1e-6, 2000 sweeps).
    """
    from nmfkit.fit import nmf

    Xd = _dense(X)
    errors = []
    for seed in replicate_seeds(random_state, n_folds):
        rng = np.random.default_rng(seed)
        held = rng.random(Xd.shape) < fraction
        params = {"solver": "hals", "init": "random", "tol": 1e-6, "max_iter": 2000, **fit_params}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = nmf(Xd, n_components, mask=~held, random_state=seed, **params)
        R = (Xd - np.asarray(res.W) @ np.asarray(res.H))[held]
        errors.append(float(np.sum(R * R) / max(float(np.sum(Xd[held] ** 2)), np.finfo(float).tiny)))
    return float(np.mean(errors))


# ---------------------------------------------------------------------------------------------
# knee and permuted baseline
# ---------------------------------------------------------------------------------------------
def knee(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kneedle (Satopää et al. 2011) for a decreasing convex curve: the x farthest below the chord.

    Both axes are scaled to [0, 1] and the knee maximises the difference curve
    ``(1 - y_n) - x_n``. ``None`` when the curve has fewer than 3 points or no
    knee (a straight line).
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xa) < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return None
    xn = (xa - xa.min()) / np.ptp(xa)
    yn = (ya - ya.min()) / np.ptp(ya)
    diff = (1.0 - yn) - xn
    i = int(np.argmax(diff))
    return float(x[i]) if diff[i] > 1e-12 else None


def permuted(X: Any, random_state: Any = None) -> np.ndarray:
    """X with every feature (column) permuted independently across samples: structure gone, marginals kept."""
    Xd = _dense(X)
    rng = np.random.default_rng(replicate_seeds(random_state, 1)[0])
    return np.column_stack([rng.permutation(Xd[:, j]) for j in range(Xd.shape[1])])


# ---------------------------------------------------------------------------------------------
# the survey
# ---------------------------------------------------------------------------------------------
CRITERIA = ("error", "consensus", "silhouette", "bcv", "masked_cv", "permuted")


@dataclass
class RankSurvey:
    """The result of :func:`select_rank`.

    Attributes
    ----------
    ranks : list of int
    table : dict of str -> list of float
        One value per rank for each computed quantity: ``relative_error``
        (best replicate, ``||X - WH|| / ||X||``), ``explained_variance``,
        ``cophenetic``, ``dispersion``, ``silhouette``, ``silhouette_min``,
        ``bcv_error``, ``masked_cv_error``, ``permuted_relative_error``.
    recommended : int
    reasons : list of str
        Why, in words.
    best : dict of int -> (W, H)
        The best replicate at every rank.
    consensus : dict of int -> ndarray
        The consensus matrices.
    """

    ranks: list[int]
    table: dict[str, list[float]]
    recommended: int
    reasons: list[str]
    best: dict = field(default_factory=dict, repr=False)
    consensus: dict = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        """The recommendation and its reasons as text."""
        return f"recommended rank: {self.recommended}\n" + "\n".join(f"- {r}" for r in self.reasons)

    def plot(self) -> Any:
        """Every criterion against the rank, the recommendation marked."""
        from nmfkit.plotting import plot_rank_survey

        return plot_rank_survey(self)


def _stability_cap(ranks: list[int], sil_min: np.ndarray, threshold: float = 0.8) -> tuple[int | None, str]:
    """The largest rank whose least reproducible component passes ``threshold`` (None when none does).

    Also returns a sentence citing the silhouettes it rests on: the ranks that
    pass and every rank that does not, with its value.
    """
    values = dict(zip(ranks, (float(v) for v in sil_min), strict=True))
    passed = [r for r in ranks if values[r] >= threshold]
    failed = [r for r in ranks if not values[r] >= threshold]
    failing = ", ".join(f"{r} ({values[r]:.3g})" for r in failed)
    plural = "s" if len(failed) > 1 else ""
    if not passed:
        return None, (f"no rank has every component reproducible across replicates (least silhouette below "
                      f"{threshold:g} at rank{plural} {failing}), so stability sets no cap")
    listed = ", ".join(str(r) for r in passed)
    text = (f"every component is reproducible across replicates (least silhouette ≥ {threshold:g}) at "
            f"rank{'s' if len(passed) > 1 else ''} {listed}")
    if failed:
        text += f", not at rank{plural} {failing}"
    return max(passed), text + f"; stability caps the rank at {max(passed)}"


def _recommend(ranks: list[int], table: dict, cv_tolerance: float = 0.05) -> tuple[int, list[str]]:
    """Cross-validation proposes, stability caps; the other criteria are reported as evidence.

    - CV pick: the smallest rank whose cross-validation error is within
      ``cv_tolerance`` (5 %) of the minimum (parsimony, in the spirit of the
      one-standard-error rule; every rank is scored on the same split, so the
      comparison is paired);
    - stability cap: the largest rank whose least reproducible component still
      has a silhouette of at least 0.8 across replicates (the reason lists
      every rank that fails, with its silhouette);
    - recommendation: the smaller of the two (either alone when only one is
      available), else the knee of the error curve, else the permuted-data
      baseline.
    """
    reasons: list[str] = []
    cv_key = "bcv_error" if "bcv_error" in table else "masked_cv_error" if "masked_cv_error" in table else None
    cv_pick = stable = None
    if cv_key is not None:
        cv = np.asarray(table[cv_key], dtype=float)
        i = int(np.nanargmin(cv))
        cv_pick = ranks[min(j for j in range(len(ranks)) if cv[j] <= cv[i] * (1.0 + cv_tolerance))]
        name = "bi-cross-validation" if cv_key == "bcv_error" else "masked cross-validation"
        reasons.append(f"{name} error is lowest at rank {ranks[i]} ({cv[i]:.4g}); the smallest rank within "
                       f"{100 * cv_tolerance:g} % of it is {cv_pick}")
    if "silhouette_min" in table:
        stable, why = _stability_cap(ranks, np.asarray(table["silhouette_min"], dtype=float))
        reasons.append(why)
    knee_rank = knee(ranks, table["relative_error"]) if "relative_error" in table else None
    if knee_rank is not None:
        reasons.append(f"the reconstruction error curve bends (Kneedle knee) at rank {int(knee_rank)}")
    perm_rank = None
    if "permuted_relative_error" in table:
        real, perm = np.asarray(table["relative_error"]) ** 2, np.asarray(table["permuted_relative_error"]) ** 2
        gain_real, gain_perm = -np.diff(real), -np.diff(perm)
        beyond = [ranks[j] for j in range(len(gain_real)) if gain_real[j] <= gain_perm[j]]
        if beyond:
            perm_rank = beyond[0]
            reasons.append(f"from rank {perm_rank} on, adding a component helps no more than on permuted data "
                           f"(Frigyesi & Höglund)")
    if "cophenetic" in table:
        coph = np.asarray(table["cophenetic"])
        good = [ranks[j] for j in range(len(ranks)) if coph[j] >= 0.95]
        if good:
            reasons.append(f"consensus clustering is stable (cophenetic ≥ 0.95) at ranks {good}")
    picks = [v for v in (cv_pick, stable) if v is not None]
    if picks:
        best = min(picks)
        if cv_pick is not None and stable is not None and stable < cv_pick:
            reasons.insert(0, f"rank {best}: cross-validation would allow {cv_pick}, but components beyond rank "
                              f"{stable} are not reproducible")
        else:
            reasons.insert(0, f"rank {best}: " + ("cross-validation and stability agree" if len(picks) == 2
                                                  else "chosen by " + ("cross-validation" if cv_pick else "stability")))
        return int(best), reasons
    for fallback, why in ((knee_rank, "the knee of the error curve"), (perm_rank, "the permuted-data baseline")):
        if fallback is not None:
            return int(fallback), [f"rank {int(fallback)}: chosen by {why}", *reasons]
    return ranks[0], ["no criterion could decide; the smallest rank is returned", *reasons]


def select_rank(X: Any, ranks: Sequence[int], *, n_runs: int = 10,
                criteria: Sequence[str] = ("error", "consensus", "silhouette", "bcv", "permuted"),
                random_state: Any = 0, n_jobs: int = 1, progress: bool = False, bcv_folds: tuple[int, int] = (2, 2),
                cv_tolerance: float = 0.05, device: str | None = None, **fit_params: Any) -> RankSurvey:
    """Survey candidate ranks with several criteria and recommend one, saying why.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    ranks : sequence of int
        Candidate ranks, e.g. ``range(2, 11)``.
    n_runs : int, default=10
        Replicates per rank (random starts) for the error, consensus and silhouette criteria.
    criteria : sequence of str
        Any of ``"error"``, ``"consensus"``, ``"silhouette"``, ``"bcv"``,
        ``"masked_cv"``, ``"permuted"``.
    random_state : int, Generator or None, default=0
    n_jobs : int, default=1
        Parallel processes for the replicates.
    progress : bool, default=False
    bcv_folds : (int, int), default=(2, 2)
        Row and column groups of the bi-cross-validation split; every rank is
        scored on the same split.
    cv_tolerance : float, default=0.05
        The cross-validation pick is the smallest rank whose error is within
        this fraction of the minimum.
    device : str, optional
        Run each rank's replicates as one batch on this torch device (e.g.
        ``"cuda"``); see :func:`run_replicates`.
    **fit_params
        Passed to :func:`nmfkit.nmf` (e.g. ``beta_loss``).

    Returns
    -------
    RankSurvey
        The recommendation rule: the smaller of the cross-validation pick (the
        smallest rank whose error is within ``cv_tolerance`` of the minimum) and the
        stability cap (the largest rank whose least reproducible component has
        a silhouette of at least 0.8); the knee, the permuted-data baseline and
        the cophenetic correlation are reported as evidence.

    Notes
    -----
    Stability is only meaningful for converged replicates. Multiplicative
    updates (the usual solver for ``beta_loss="kullback-leibler"``) converge
    slowly; with the default ``tol`` their replicates stop at different points
    and look unstable. Pass a tight ``tol`` (e.g. ``1e-8``) and a large
    ``max_iter`` for them.

    References
    ----------
    Brunet et al., PNAS 101(12), 2004; Kim & Park, Bioinformatics 23(12), 2007;
    Owen & Perry, Ann. Appl. Stat. 3(2), 2009; Frigyesi & Höglund, Cancer
    Informatics 6, 2008; Alexandrov et al., Cell Reports 3(1), 2013.
    """
    from nmfkit import _validation as V

    Xv, _ = V.check_data(X, caller="select_rank")
    ranks = sorted({int(V.check_n_components(int(r), Xv.shape, "select_rank")) for r in ranks})
    if not ranks:
        msg = "ranks must name at least one candidate rank."
        raise InvalidInputError(msg)
    unknown = sorted(set(criteria) - set(CRITERIA))
    if unknown:
        msg = f"Unknown criteria {unknown}; valid: {', '.join(CRITERIA)}."
        raise InvalidInputError(msg)
    V.check_interval(n_runs, "n_runs", "select_rank", kind="int", low=1)
    V.check_interval(cv_tolerance, "cv_tolerance", "select_rank", low=0.0)
    Xd = _dense(Xv)
    sq_norm = float(np.sum(Xd * Xd))
    centred = float(np.sum((Xd - Xd.mean(axis=0)) ** 2))
    *rank_seeds, cv_seed = replicate_seeds(random_state, len(ranks) + 1)
    seeds = dict(zip(ranks, rank_seeds, strict=True))
    table: dict[str, list[float]] = {}
    best, consensus = {}, {}
    Xp = permuted(Xd, random_state) if "permuted" in criteria else None
    for k in ranks:
        runs = run_replicates(Xd, k, n_runs, random_state=seeds[k], n_jobs=n_jobs, progress=progress,
                              device=device, **fit_params)
        losses = [r[2] for r in runs]
        b = int(np.argmin(losses))
        W, H = runs[b][0], runs[b][1]
        best[k] = (W, H)
        rss = float(np.sum((Xd - W @ H) ** 2))
        table.setdefault("relative_error", []).append(math.sqrt(rss / sq_norm))
        table.setdefault("explained_variance", []).append(1.0 - rss / centred if centred > 0 else float("nan"))
        if "consensus" in criteria:
            C = consensus_matrix([r[0] for r in runs])
            consensus[k] = C
            table.setdefault("cophenetic", []).append(cophenetic_correlation(C))
            table.setdefault("dispersion", []).append(dispersion(C))
        if "silhouette" in criteria:
            s = silhouette_stability([r[1] for r in runs])
            table.setdefault("silhouette", []).append(s["mean"])
            table.setdefault("silhouette_min", []).append(s["min_group"])
        if "bcv" in criteria:
            table.setdefault("bcv_error", []).append(
                bicross_validation_error(Xd, k, folds=bcv_folds, random_state=cv_seed, **fit_params))
        if "masked_cv" in criteria:
            table.setdefault("masked_cv_error", []).append(masked_cv_error(Xd, k, random_state=cv_seed,
                                                                             **fit_params))
        if Xp is not None:
            perm = run_replicates(Xp, k, max(1, min(n_runs, 3)), random_state=seeds[k], device=device,
                                  **fit_params)
            Wp, Hp, _ = min(perm, key=lambda r: r[2])
            table.setdefault("permuted_relative_error", []).append(
                math.sqrt(float(np.sum((Xp - Wp @ Hp) ** 2)) / sq_norm))
    recommended, reasons = _recommend(ranks, table, cv_tolerance)
    return RankSurvey(ranks, table, recommended, reasons, best, consensus)


# ---------------------------------------------------------------------------------------------
# consensus NMF and bootstrap
# ---------------------------------------------------------------------------------------------
def consensus(X: Any, n_components: int, n_runs: int = 20, *, density_threshold: float = 0.5,
              neighbors_fraction: float = 0.3, random_state: Any = 0, n_jobs: int = 1, progress: bool = False,
              device: str | None = None, **fit_params: Any) -> Any:
    """Consensus NMF in the manner of cNMF (Kotliar et al. 2019).

    1. Fit ``n_runs`` replicates and pool their components (rows of H) scaled to unit L2 norm.
    2. Drop low-density outliers: a component whose mean Euclidean distance to
       its ``neighbors_fraction * n_runs`` nearest neighbours exceeds
       ``density_threshold`` (distances between unit vectors lie in [0, 2]).
    3. Cluster the rest into ``n_components`` groups with k-means; each
       consensus component is its group's median, scaled to unit L1 norm.
    4. Refit the usages W by non-negative least squares with the consensus
       components fixed.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    n_runs : int, default=20
    density_threshold : float, default=0.5
        ``2`` keeps every component.
    neighbors_fraction : float, default=0.3
    random_state : int, Generator or None, default=0
    n_jobs : int, default=1
    progress : bool, default=False
    device : str, optional
        Run the replicates as one batch on this torch device (e.g. ``"cuda"``);
        see :func:`run_replicates`.
    **fit_params
        For the replicates (:func:`nmfkit.nmf`).

    Returns
    -------
    FitResult
        ``W`` (refit usages), ``H`` (consensus components); ``extras``:
        ``stability`` (silhouette of the clustering, in [-1, 1]),
        ``component_silhouette``, ``kept`` (share of components kept),
        ``local_density`` (per pooled component), ``n_runs``.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_samples

    from nmfkit import _validation as V
    from nmfkit.fit import FitResult

    Xv, _ = V.check_data(X, caller="consensus")
    k = V.check_n_components(n_components, Xv.shape, "consensus")
    V.check_interval(n_runs, "n_runs", "consensus", kind="int", low=2)
    Xd = _dense(Xv)
    runs = run_replicates(Xd, k, n_runs, random_state=random_state, n_jobs=n_jobs, progress=progress,
                          device=device, **fit_params)
    pooled = np.vstack([_unit_rows(H) for _, H, _ in runs])
    n_nb = max(1, int(round(neighbors_fraction * n_runs)))
    D = np.sqrt(np.maximum(2.0 - 2.0 * pooled @ pooled.T, 0.0))
    np.fill_diagonal(D, np.inf)
    density = np.sort(D, axis=1)[:, :n_nb].mean(axis=1)
    keep = density <= density_threshold
    if keep.sum() < k:
        msg = (f"Only {int(keep.sum())} of {len(pooled)} components pass density_threshold={density_threshold}; "
               f"need at least n_components={k}. Raise density_threshold.")
        raise InvalidInputError(msg)
    kept = pooled[keep]
    with warnings.catch_warnings():
        from sklearn.exceptions import ConvergenceWarning  # loaded when needed
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than k: answered below
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(kept)
    groups = len(np.unique(labels))
    if groups < k:
        msg = (f"The replicates' components form only {groups} distinct group{'s' if groups != 1 else ''}, fewer "
               f"than n_components={k}: the data support at most rank {groups} (rank of X: "
               f"{np.linalg.matrix_rank(Xd)}). Choose a smaller n_components.")
        raise InvalidInputError(msg)
    H = np.vstack([np.median(kept[labels == g], axis=0) for g in range(k)])
    H = H / np.maximum(H.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    W = nnls_project(Xd, H)
    W, H = W.astype(Xv.dtype, copy=False), H.astype(Xv.dtype, copy=False)  # float32 data, float32 factors
    # one cluster has no silhouette: stability is then undefined (NaN), not a warning
    sil = silhouette_samples(kept, labels) if k > 1 else None
    loss = 0.5 * float(np.sum((Xd - W @ H) ** 2))
    n_converged = sum(runs.converged)
    reason = (f"consensus of {n_runs} replicates ({int(keep.sum())} of {len(pooled)} components kept); "
              f"{n_converged} of {n_runs} replicates converged")
    if n_converged < n_runs:
        reason += " (raise max_iter)"
    return FitResult(W, H, n_iter=n_runs, converged=n_converged == n_runs, stop_reason=reason,
                     objective=loss, extras={"method": "consensus",
                                             "stability": math.nan if sil is None else float(np.mean(sil)),
                                             "component_silhouette": [math.nan if sil is None else
                                                                      float(np.mean(sil[labels == g]))
                                                                      for g in range(k)],
                                             "kept": float(keep.mean()), "local_density": density,
                                             "n_runs": n_runs, "replicates_converged": n_converged,
                                             "loss_value": loss, "beta_loss": 2.0,
                                             "loss": "frobenius", "solver": "consensus of replicates",
                                             "init": "random replicates"})


def bootstrap(X: Any, n_components: int, n_boot: int = 100, *, scheme: str = "samples", reference: Any = None,
              ci: float = 0.95, random_state: Any = 0, n_jobs: int = 1, progress: bool = False,
              **fit_params: Any) -> dict:
    """Bootstrap confidence intervals of the components (rows of H), matched to a reference fit.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_components : int
    n_boot : int, default=100
    scheme : {"samples", "poisson", "multinomial"}, default="samples"
        Resample the samples (rows) with replacement; or redraw every count as
        Poisson(x); or redraw each sample's total count over its features
        (multinomial, as in mutational-signature work).
    reference : (W, H), optional
        Components to match to; default a fit to the full data.
    ci : float, default=0.95
    random_state, n_jobs, progress, **fit_params

    Returns
    -------
    dict
        ``reference`` H (unit L1 rows), ``mean``, ``lower``, ``upper`` (each
        ``(k, n_features)``, unit-L1 components), ``cosine`` (``(n_boot, k)``:
        each resample's matched cosine to the reference) and ``samples``
        (``(n_boot, k, n_features)``).
    """
    from joblib import Parallel, delayed

    from nmfkit import _validation as V
    from nmfkit.metrics import match_components

    Xv, _ = V.check_data(X, caller="bootstrap")
    k = V.check_n_components(n_components, Xv.shape, "bootstrap")
    V.check_options(scheme, "scheme", "bootstrap", ("samples", "poisson", "multinomial"))
    Xd = _dense(Xv)
    params = {"init": "nndsvda", "max_iter": 1000, **fit_params}
    if reference is None:
        reference = _fit(Xd, k, replicate_seeds(random_state, 1)[0], params)[:2]
    Href = np.asarray(reference[1], dtype=float)
    Href = Href / np.maximum(Href.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    seeds = replicate_seeds(random_state, n_boot + 1)[1:]
    jobs = (delayed(_boot_one)(Xd, k, s, scheme, params) for s in seeds)
    done = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    Hs = list(track(done, total=len(seeds), desc="bootstrap", unit="resamples", enabled=progress))
    aligned, cos = [], []
    for H in Hs:
        H = H / np.maximum(H.sum(axis=1, keepdims=True), np.finfo(float).tiny)
        m = match_components(Href.T, H.T)
        aligned.append(H[m["permutation"]])
        cos.append(m["cosine_W"])
    S = np.stack(aligned)
    a = (1.0 - ci) / 2.0
    return {"reference": Href, "mean": S.mean(axis=0), "lower": np.quantile(S, a, axis=0),
            "upper": np.quantile(S, 1 - a, axis=0), "cosine": np.array(cos), "samples": S, "scheme": scheme}


def _boot_one(X: np.ndarray, k: int, seed: int, scheme: str, params: dict) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if scheme == "samples":
        Xb = X[rng.integers(0, X.shape[0], X.shape[0])]
    elif scheme == "poisson":
        Xb = rng.poisson(X).astype(float)
    else:
        totals = np.rint(X.sum(axis=1)).astype(int)
        probs = X / np.maximum(X.sum(axis=1, keepdims=True), np.finfo(float).tiny)
        Xb = np.vstack([rng.multinomial(t, p) for t, p in zip(totals, probs, strict=True)]).astype(float)
    keep = Xb.sum(axis=1) > 0
    return _fit(Xb[keep], k, seed, params)[1]
