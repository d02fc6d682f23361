"""Data sets: real data from a data folder, data shipped with scikit-learn, and synthetic generators.

Every loader returns a :class:`Dataset` with samples as rows
(``X`` of shape (n_samples, n_features)), names, labels when the source has
them, a description, a citation, the licence and where the file came from.

The data folder is found in this order: the ``data_dir`` argument, the
``NMFKIT_DATA`` environment variable, ``../shared/data`` beside a source
checkout, and the user cache folder (``~/.cache/nmfkit``). A file found in
none of them is downloaded into the cache (:func:`fetch`, with pooch: public
origin URLs and SHA-256 hashes in ``nmfkit._fetch``; a mirror with
``NMFKIT_DATA_URL``) unless ``download=False`` or ``NMFKIT_OFFLINE=1``;
otherwise :class:`FileNotFoundError` names every place searched and how to
get the file.

:mod:`~nmfkit.datasets.registry` holds the registry and the file search,
:mod:`~nmfkit.datasets.real` the loaders, :mod:`~nmfkit.datasets.synthetic` the generators.
"""

from __future__ import annotations

from nmfkit.datasets.real import (
                                  load_breast21,
                                  load_cbcl,
                                  load_classic3,
                                  load_concentric_circles,
                                  load_cosmic,
                                  load_digits,
                                  load_emg_envelopes,
                                  load_golub,
                                  load_gse57249,
                                  load_he_optical_density,
                                  load_karate,
                                  load_lcms,
                                  load_mini_acc,
                                  load_moffett,
                                  load_mouse_10k,
                                  load_orl,
                                  load_pbmc68k_reduced,
                                  load_pbmc_small,
                                  load_piano_mary,
                                  load_piano_mhll,
                                  load_samson,
                                  load_tdt2,
                                  magnitude_spectrogram,
)
from nmfkit.datasets.registry import Dataset, available, data_dirs, fetch, load
from nmfkit.datasets.synthetic import (
                                  gsvd_demo,
                                  make_concentric_circles,
                                  make_near_separable,
                                  make_planted,
                                  plateau_example,
                                  swimmer,
)

__all__ = [
    "Dataset", "data_dirs", "available", "fetch", "load", "load_digits", "load_cbcl", "load_orl", "load_samson",
    "load_moffett", "load_piano_mary", "load_piano_mhll", "magnitude_spectrogram", "load_tdt2", "load_classic3",
    "load_mouse_10k", "load_pbmc68k_reduced", "load_pbmc_small", "load_gse57249", "load_breast21",
    "load_cosmic", "load_mini_acc", "load_karate", "load_emg_envelopes", "load_lcms", "load_he_optical_density",
    "load_golub", "load_concentric_circles", "make_planted", "make_near_separable",
    "make_concentric_circles", "swimmer", "plateau_example", "gsvd_demo",
]
