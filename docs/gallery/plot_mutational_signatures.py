"""
Mutational signatures of 21 breast cancers
==========================================

Somatic mutations fall into 96 types (the substituted base and its two neighbours). A tumour's
catalogue is a non-negative mix of mutational processes, each with its own signature over the 96
types, so NMF of the samples x types count matrix with the Kullback-Leibler divergence (Poisson
counts) extracts the signatures (rows of ``H``) and their exposures (``W``).

Consensus NMF pools the components of many random restarts and keeps the stable ones; rank 3 is
what :func:`nmfkit.select_rank` recommends for these genomes. Each extracted signature is then named
by its closest COSMIC v3.4 signature (cosine similarity). De novo signatures of few genomes mix
several COSMIC ones, hence similarities near 0.8; ``examples/signatures.py`` decomposes each into
COSMIC signatures by non-negative least squares.
"""

import matplotlib.pyplot as plt
import numpy as np

import nmfkit
from nmfkit import datasets

counts = datasets.load_breast21()
cosmic = datasets.load_cosmic()
result = nmfkit.consensus(counts.X, 3, n_runs=10, beta_loss="kullback-leibler", solver="mu", max_iter=2000,
                          tol=1e-6, random_state=0)
signatures = result.H / result.H.sum(axis=1, keepdims=True)
unit = signatures / np.linalg.norm(signatures, axis=1, keepdims=True)
reference = cosmic.X / np.linalg.norm(cosmic.X, axis=1, keepdims=True)
similarity = unit @ reference.T
print(f"stability (silhouette of the replicate components): {result.extras['stability']:.3f}")
for i, row in enumerate(similarity):
    best = int(np.argmax(row))
    print(f"signature {i + 1}: closest COSMIC {cosmic.sample_names[best]} (cosine {row[best]:.3f})")

# %%
# The three signatures over the 96 mutation types, coloured by substitution class.
colours = {"C>A": "#1ebff0", "C>G": "#050708", "C>T": "#e62725", "T>A": "#cbcacb", "T>C": "#a1cf64",
           "T>G": "#edc8c5"}
types = counts.feature_names
bar_colours = [next((c for k, c in colours.items() if k in t), "grey") for t in types]
fig, axes = plt.subplots(len(signatures), 1, figsize=(10, 1.8 * len(signatures)), sharex=True)
for i, ax in enumerate(axes):
    best = int(np.argmax(similarity[i]))
    ax.bar(range(96), signatures[i], color=bar_colours, width=0.8)
    ax.set_ylabel("share")
    ax.set_title(f"signature {i + 1} ~ {cosmic.sample_names[best]} (cosine {similarity[i, best]:.2f})",
                 fontsize=9, loc="left")
axes[-1].set_xticks([])
fig.tight_layout()
