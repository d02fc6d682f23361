"""Choosing the rank and trusting the parts: replicates, consensus, stability and cross-validation.

One module each: :mod:`~nmfkit.selection.replicates`, :mod:`~nmfkit.selection.stability`,
:mod:`~nmfkit.selection.crossval`, :mod:`~nmfkit.selection.survey` and
:mod:`~nmfkit.selection.components` (consensus NMF and the bootstrap) and
:mod:`~nmfkit.selection.programs` (programs in TPM units and gene scores, as cNMF reports them).

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

from nmfkit.selection.components import bootstrap, cluster_components, consensus
from nmfkit.selection.crossval import bicross_validation_error, masked_cv_error
from nmfkit.selection.programs import (
                                      GenePrograms,
                                      gene_programs,
                                      gene_scores,
                                      scale_genes,
                                      tpm,
                                      tpm_programs,
                                      variable_genes,
)
from nmfkit.selection.replicates import Replicates, replicate_seeds, run_replicates
from nmfkit.selection.stability import (
                                        consensus_matrix,
                                        cophenetic_correlation,
                                        dispersion,
                                        match_runs,
                                        silhouette_stability,
)
from nmfkit.selection.survey import CRITERIA, RankSurvey, knee, permuted, select_rank

__all__ = ["replicate_seeds", "run_replicates", "Replicates", "consensus_matrix", "cophenetic_correlation",
           "dispersion", "match_runs", "silhouette_stability", "bicross_validation_error", "masked_cv_error", "knee",
           "permuted", "CRITERIA", "RankSurvey", "select_rank", "consensus", "bootstrap", "tpm", "gene_scores",
           "tpm_programs", "variable_genes", "scale_genes", "gene_programs", "GenePrograms",
           "cluster_components"]
