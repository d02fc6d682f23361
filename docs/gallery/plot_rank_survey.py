"""
Choosing the rank
=================

No single criterion picks the rank of an NMF reliably, so :func:`nmfkit.select_rank` surveys
several on the same replicates: the reconstruction error and its knee, Brunet et al.'s cophenetic
correlation of the consensus matrix, the silhouette stability of the components, bi-cross-validation
error, and the gain over a permuted-data baseline. Here data with a planted rank of 4 and Poisson
noise.
"""

import nmfkit
from nmfkit import datasets
from nmfkit.plotting import plot_rank_survey

# Poisson counts, about 10 per entry
planted = datasets.make_planted(200, 80, 4, noise="poisson", noise_level=0.1, random_state=0)
survey = nmfkit.select_rank(planted.X, range(2, 8), n_runs=6, random_state=0, max_iter=300)
print(f"recommended rank: {survey.recommended}")
for reason in survey.reasons:
    print(" -", reason)

# %%
# Every criterion against the rank.
plot_rank_survey(survey)
