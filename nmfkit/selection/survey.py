"""The rank survey: every criterion per candidate rank, a knee, a permuted baseline, one recommendation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from nmfkit import _validation as V
from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.selection.crossval import bicross_validation_error, masked_cv_error
from nmfkit.selection.replicates import dense, replicate_seeds, run_replicates
from nmfkit.selection.stability import consensus_matrix, cophenetic_correlation, dispersion, silhouette_stability

__all__ = ["CRITERIA", "knee", "permuted", "RankSurvey", "select_rank"]


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
    Xd = dense(X)
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


@shared_docs
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
    {random_state}
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
    Xd = dense(Xv)
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
