"""
Hyperspectral unmixing: Samson
==============================

Samson is a 95 x 95 pixel scene with 156 spectral bands and three materials (rock, tree, water).
Each pixel's spectrum is a non-negative mix of the materials' spectra, so NMF with rank 3 splits the
scene into endmembers (rows of ``H``) and abundance maps (columns of ``W``).

Every material has pure pixels, so the scene is near-separable: SNPA (Gillis 2014) picks one pure
pixel per material and the abundances follow by exact non-negative least squares. Plain NMF, which
does not know this, is fitted too. Both are scored against the ground truth by the spectral angle
(SAD, degrees) between true and estimated endmembers.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import linear_sum_assignment

import nmfkit
from nmfkit import datasets
from nmfkit.methods import separable_nmf

scene = datasets.load_samson()
X, M_true = scene.X, scene.extras["endmembers"]  # (9025, 156), (3, 156)
result = separable_nmf(X, 3, algorithm="snpa")
plain = nmfkit.nmf(X, 3, solver="hals", max_iter=1000, random_state=0)


def angles(A, B):
    An = A / np.linalg.norm(A, axis=1, keepdims=True)
    Bn = B / np.linalg.norm(B, axis=1, keepdims=True)
    return np.degrees(np.arccos(np.clip(An @ Bn.T, -1, 1)))


for name, fit in (("separable NMF (SNPA)", result), ("plain NMF (HALS)", plain)):
    sad = angles(M_true, fit.H)
    rows, cols = linear_sum_assignment(sad)
    scores = ", ".join(f"{scene.extras['endmember_names'][r]} {sad[r, c]:.1f}" for r, c in zip(rows, cols, strict=True))
    print(f"{name}: {scores}; mean SAD {sad[rows, cols].mean():.1f}")
sad = angles(M_true, result.H)
rows, cols = linear_sum_assignment(sad)

# %%
# Separable NMF's abundance maps (each pixel's usages scaled to sum to one), above the ground truth.
abundance = result.W / result.W.sum(axis=1, keepdims=True)
fig, axes = plt.subplots(2, 3, figsize=(9, 6))
for r, c in zip(rows, cols, strict=True):
    axes[0, r].imshow(abundance[:, c].reshape(95, 95).T, cmap="viridis", vmin=0, vmax=1)
    axes[0, r].set_title(f"SNPA: {scene.extras['endmember_names'][r]}")
    axes[1, r].imshow(scene.extras["abundances"][:, r].reshape(95, 95).T, cmap="viridis", vmin=0, vmax=1)
    axes[1, r].set_title("ground truth")
for ax in axes.ravel():
    ax.set_axis_off()
fig.tight_layout()

# %%
# Endmember spectra.
fig, ax = plt.subplots(figsize=(7, 3.5))
wavelengths = np.linspace(401, 889, X.shape[1])
for r, c in zip(rows, cols, strict=True):
    scale = np.linalg.norm(M_true[r]) / np.linalg.norm(result.H[c])
    (line,) = ax.plot(wavelengths, result.H[c] * scale, label=scene.extras["endmember_names"][r])
    ax.plot(wavelengths, M_true[r], "--", color=line.get_color())
ax.set_xlabel("wavelength (nm)")
ax.set_ylabel("reflectance")
ax.legend(title="solid: SNPA, dashed: truth")
fig.tight_layout()
