"""
Persistent NMF: embeddings across scales
========================================

Persistent NMF (Zhang, Miao & Li 2026) regularizes one NMF embedding per scale of a persistent-homology
filtration of the samples' distances: coarse scales connect everything, fine scales only close
neighbours, and a smoothness term couples the embeddings of consecutive scales.

The data are multi-scale: two clusters, each made of two noisy concentric circles, embedded in 100
dimensions (80 samples). The plot shows the first two coordinates of each scale's embedding,
coloured by circle: every scale separates the two clusters, while how the circles inside a cluster
are arranged changes from scale to scale.
"""

import nmfkit
from nmfkit import datasets
from nmfkit.plotting import plot_scale_embeddings

circles = datasets.make_concentric_circles(random_state=0)
result = nmfkit.persistent_nmf(circles.X, 4, max_scales=6, n_sweeps=5)
print(f"{result.extras['embeddings'].shape[0]} scales; {result.stop_reason}")

# %%
# One embedding per scale, coloured by the true circle.
embeddings = result.extras["embeddings"]
plot_scale_embeddings(embeddings, list(range(len(embeddings))), labels=circles.labels)
