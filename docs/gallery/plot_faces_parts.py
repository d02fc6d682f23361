"""
Faces: NMF learns parts
=======================

Lee & Seung's classic: the 2429 CBCL face images (19 x 19 pixels) factorized with rank 49. Each
face is a non-negative combination of non-negative basis images, so the basis images are localized
parts (eyes, noses, mouths, cheeks), not the holistic "eigenfaces" of PCA.

HALS with extrapolation (Ang & Gillis 2019) reaches the NMF-Merge paper's fitting error of about
0.65 % (``100 ||X - WH||^2 / ||X||^2``) in about 100 sweeps.
"""

import numpy as np

import nmfkit
from nmfkit import datasets
from nmfkit.plotting import plot_component_images, plot_convergence

faces = datasets.load_cbcl()
X = faces.X  # 2429 faces x 361 pixels
result = nmfkit.nmf(X, 49, solver="hals", extrapolate=True, stop="fixed", max_iter=100, random_state=0)
fe = 100 * np.linalg.norm(X - result.W @ result.H) ** 2 / np.linalg.norm(X) ** 2
print(f"{result.n_iter} sweeps, fitting error {fe:.3f} %; {result.stop_reason}")

# %%
# The 49 basis images: parts of faces.
plot_component_images(result.H, faces.image_shape or (19, 19), n_cols=7)

# %%
# The objective along the fit.
plot_convergence(result)
