"""Research methods built on the core engine (each keeps its paper's notation in its docstrings)."""

from nmfkit.methods.deep import deep_nmf, deep_usage, hoyer_sparsity, layer_features, multilayer_nmf
from nmfkit.methods.graph import graph_nmf
from nmfkit.methods.joint import integrative_nmf, joint_nmf
from nmfkit.methods.merge import gsvd_nmf, gsvd_recover, merge_components, merge_pair, merge_replay, nmf_merge
from nmfkit.methods.network import communities, network_nmf, symmetric_nmf
from nmfkit.methods.persistent import (
    embed_new_samples,
    gnmf,
    knn_graph,
    ktnmf_graph,
    persistent_nmf,
    preprocess_counts,
    select_scale,
    tnmf_graph,
)
from nmfkit.methods.separable import separable_nmf, snpa, spa
from nmfkit.methods.sparse import hoyer_project, nmf_sc, sparseness

__all__ = [
    "deep_nmf", "deep_usage", "hoyer_sparsity", "layer_features", "multilayer_nmf",
    "gsvd_nmf", "gsvd_recover", "merge_components", "merge_pair", "merge_replay", "nmf_merge",
    "embed_new_samples", "gnmf", "knn_graph", "ktnmf_graph", "persistent_nmf", "preprocess_counts", "select_scale",
    "tnmf_graph",
    "separable_nmf", "snpa", "spa", "communities", "network_nmf", "symmetric_nmf",
    "hoyer_project", "nmf_sc", "sparseness", "graph_nmf",
    "integrative_nmf", "joint_nmf",
]
