"""
Deep NMF: layers of parts
=========================

Deep beta-NMF (Leplat, Hien, Onwunta & Gillis) factorizes ``X ~ W1 H1``, ``W1 ~ W2 H2``, ... and
optimizes all layers together, so coarser layers combine the parts of finer ones. Here the CBCL
faces (2429 x 361) with ranks 40, 20 and 10 and the Kullback-Leibler divergence; each layer's
features are shown as images in pixel space.
"""

import nmfkit
from nmfkit import datasets
from nmfkit.methods import layer_features
from nmfkit.plotting import plot_deep_layers, plot_layer_errors

faces = datasets.load_cbcl()
result = nmfkit.deep_nmf(faces.X, [40, 20, 10], "kullback-leibler", max_iter=60, init_iter=100,
                         random_state=0)
print(result.stop_reason)

# %%
# Each layer's features in pixel space: from parts to larger groups of parts.
plot_deep_layers(layer_features(result), result.extras["H_layers"], image_shape=(19, 19), n_parts=6, max_rows=4)

# %%
# Error of each layer along the fit.
plot_layer_errors(result)
