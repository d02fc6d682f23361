"""Synthetic data with known factors: planted, near-separable, swimmer, circles and the methods' worked examples.

The one home of nmfkit's data generators; :mod:`nmfkit.testing` re-exports the ones its tests use.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np
import scipy.sparse as sp

from nmfkit._docs import shared_docs
from nmfkit._validation import InvalidInputError
from nmfkit.datasets.registry import Dataset, numbered


@shared_docs
def make_planted(n_samples: int = 100, n_features: int = 80, n_components: int = 5, *, density: float = 0.5,
                 noise: str | None = None, noise_level: float = 0.0, sparse: bool = False,
                 random_state: Any = None) -> Dataset:
    """``X = W H`` (+ noise) with known non-negative factors in ``extras["W"], extras["H"]``.

    Parameters
    ----------
    n_samples, n_features, n_components : int, default=100, 80, 5
        Shape of ``X`` and the planted rank.
    density : float, default=0.5
        Share of non-zero entries in the planted factors (each row of ``W`` and column of ``H``
        keeps at least one).
    noise : {None, "gaussian", "poisson"}, default=None
        Gaussian noise of standard deviation ``noise_level * mean(WH)`` (clipped at 0), or
        Poisson counts with mean ``WH`` scaled so that ``mean(WH) = 1 / noise_level``.
    noise_level : float, default=0.0
    sparse : bool, default=False
        Return ``X`` as a CSR matrix.
    {random_state}
    """
    rng = np.random.default_rng(random_state)
    W = rng.random((n_samples, n_components)) * (rng.random((n_samples, n_components)) < density)
    H = rng.random((n_components, n_features)) * (rng.random((n_components, n_features)) < density)
    W[np.arange(n_samples), rng.integers(n_components, size=n_samples)] += 0.5  # no empty rows
    H[rng.integers(n_components, size=n_features), np.arange(n_features)] += 0.5
    X = W @ H
    if noise == "gaussian":
        X = np.maximum(X + noise_level * X.mean() * rng.standard_normal(X.shape), 0.0)
    elif noise == "poisson":
        scale = 1.0 / max(noise_level, 1e-12) / X.mean()
        X = rng.poisson(X * scale).astype(np.float64) / scale
    elif noise is not None:
        msg = f"noise must be None, 'gaussian' or 'poisson'; got {noise!r}."
        raise InvalidInputError(msg)
    if sparse:
        X = sp.csr_matrix(X)
    return Dataset("planted", X, numbered("sample", n_samples), numbered("feature", n_features),
                   description="Planted non-negative factors.", source="synthetic", extras={"W": W, "H": H})


def make_near_separable(n_samples: int = 100, n_features: int = 30, n_components: int = 5, *,
                        noise_level: float = 0.01, random_state: Any = None) -> Dataset:
    """Near-separable data: every sample a convex combination of ``n_components`` anchor samples, plus noise.

    The anchors are the first ``n_components`` rows (before shuffling); their indices are in
    ``extras["anchors"]`` and the mixing weights in ``extras["W"]``.
    """
    rng = np.random.default_rng(random_state)
    H = rng.random((n_components, n_features))
    W = rng.dirichlet(np.full(n_components, 0.5), size=n_samples)
    W[:n_components] = np.eye(n_components)
    order = rng.permutation(n_samples)
    W = W[order]
    X = np.maximum(W @ H + noise_level * rng.standard_normal((n_samples, n_features)), 0.0)
    anchors = np.array([int(np.flatnonzero(order == j)[0]) for j in range(n_components)])
    return Dataset("near_separable", X, numbered("sample", n_samples), numbered("feature", n_features),
                   description="Near-separable mixtures of anchor samples.", source="synthetic",
                   extras={"W": W, "H": H, "anchors": anchors})


def make_concentric_circles(n_per_circle: int = 20, n_features: int = 100, *, radii: tuple = (1.0, 2.0),
                            centres: tuple = ((0.0, 0.0, 0.0), (8.0, 0.0, 0.0)), noise_level: float = 0.05,
                            random_state: Any = None) -> Dataset:
    """Multi-scale concentric circles: small structure (circles) inside large structure (two clusters).

    Each centre carries ``len(radii)`` concentric circles in 3-D (tilted at random);
    the 3-D points are lifted to ``n_features`` non-negative features by a random
    non-negative map plus an offset. Labels number the circles, so the classes
    separate at a fine scale while the centres separate at a coarse one (the
    setting of persistent NMF).
    """
    rng = np.random.default_rng(random_state)
    points, labels = [], []
    label = 0
    for centre in centres:
        q, _ = np.linalg.qr(rng.standard_normal((3, 3)))  # random tilt of this pair of circles
        for r in radii:
            theta = rng.uniform(0, 2 * np.pi, n_per_circle)
            circle = np.column_stack([r * np.cos(theta), r * np.sin(theta), np.zeros(n_per_circle)]) @ q.T
            points.append(circle + np.asarray(centre) + noise_level * rng.standard_normal((n_per_circle, 3)))
            labels += [label] * n_per_circle
            label += 1
    P = np.vstack(points)
    lift = rng.random((3, n_features))
    X = P @ lift
    X = X - X.min() + 1.0  # non-negative, away from zero
    return Dataset("concentric_circles_synthetic", X, numbered("point", X.shape[0]), numbered("feature", n_features),
                   labels=np.array(labels), description="Synthetic multi-scale concentric circles.",
                   source="synthetic", extras={"points_3d": P})


def _segment(shape: tuple[int, int], start: tuple[float, float], angle: float, length: float) -> np.ndarray:
    """Pixels on a straight segment of a given angle (radians, 0 = right, counter-clockwise)."""
    img = np.zeros(shape)
    t = np.linspace(0.0, length, int(4 * length) + 1)
    rows = np.rint(start[0] - t * np.sin(angle)).astype(int)
    cols = np.rint(start[1] + t * np.cos(angle)).astype(int)
    keep = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    img[rows[keep], cols[keep]] = 1.0
    return img


def swimmer() -> tuple[np.ndarray, np.ndarray]:
    """The swimmer data set (Donoho & Stodden 2003): a torso and four limbs in four positions each.

    Returns
    -------
    X : ndarray of shape (256, 1024)
        Each row a 32 x 32 image (row-major) with values in {0, 1}.
    parts : ndarray of shape (17, 1024)
        The torso, then 4 positions of each of the 4 limbs; ``X = W_true @ parts`` with a binary ``W_true``.
    """
    shape = (32, 32)
    torso = np.zeros(shape)
    torso[10:22, 15:17] = 1.0
    joints = [((11, 14), np.pi / 2, np.pi), ((11, 17), 0.0, np.pi / 2),
              ((21, 14), np.pi, 3 * np.pi / 2), ((21, 17), 3 * np.pi / 2, 2 * np.pi)]
    limbs = []
    for joint, a0, a1 in joints:
        positions = []
        for angle in np.linspace(a0, a1, 4):
            seg = _segment(shape, joint, angle, 9.0)
            seg[torso > 0] = 0.0  # parts do not overlap the torso
            positions.append(seg)
        limbs.append(positions)
    parts = np.vstack([torso.ravel()] + [p.ravel() for positions in limbs for p in positions])
    rows = []
    for choice in product(range(4), repeat=4):
        img = torso.copy()
        for limb, pos in enumerate(choice):
            img = np.maximum(img, limbs[limb][pos])
        rows.append(img.ravel())
    return np.vstack(rows), parts


def gsvd_demo() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 150 x 120, ten-feature example of the GSVD-NMF README.

    ``W[:, r]`` is a Gaussian bump (sigma 2, 17 samples, peak 1) centred at row
    ``10 r + 9`` and ``H[r]`` a boxcar of ten ones starting at column ``10 r + 6``
    (0-based, ``r = 1..10``); ``X = W @ H``.

    Returns
    -------
    X : ndarray of shape (150, 120)
    W : ndarray of shape (150, 10)
    H : ndarray of shape (10, 120)
    """
    W = np.zeros((150, 10))
    H = np.zeros((10, 120))
    bump = np.exp(-np.arange(-8, 9) ** 2 / (2 * 2.0**2))
    for r in range(1, 11):
        c = 10 * r + 9
        W[c - 8:c + 9, r - 1] = bump
        H[r - 1, 10 * r + 6:10 * r + 16] = 1.0
    return W @ H, W, H


def plateau_example() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 8 x 8 exact rank-4 example of the NMF-Merge paper (eq. 20, appendix A).

    Returns
    -------
    X : ndarray of shape (8, 8)
        ``W @ H``; ``||X||_F^2 = 322344``.
    W : ndarray of shape (8, 4)
    H : ndarray of shape (4, 8)
    """
    W = np.array([[6, 0, 4, 9], [0, 4, 8, 3], [4, 4, 0, 7], [9, 1, 1, 1],
                  [0, 3, 0, 4], [8, 1, 4, 0], [0, 0, 4, 2], [0, 9, 5, 5]], dtype=float)
    Ht = np.array([[6, 0, 3, 4], [10, 10, 5, 9], [8, 2, 0, 10], [2, 9, 2, 7],
                   [0, 10, 4, 7], [1, 6, 0, 0], [2, 0, 0, 0], [10, 0, 8, 0]], dtype=float)
    return W @ Ht.T, W, Ht.T


def planted(n: int = 40, m: int = 30, k: int = 3, *, separable: bool = True, sparsity: float = 0.5,
            rng: np.random.Generator | int | None = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact ``X = W @ H`` with sparse non-negative factors, unique up to permutation and scaling.

    With ``separable=True`` the first ``k`` rows of ``W`` and the first ``k``
    columns of ``H`` form identity blocks (then permuted), which makes the NMF
    unique (Donoho & Stodden's separability in both factors).

    Returns
    -------
    X : ndarray of shape (n, m)
    W : ndarray of shape (n, k)
    H : ndarray of shape (k, m)
    """
    rng = np.random.default_rng(rng)
    W = rng.random((n, k)) * (rng.random((n, k)) > sparsity)
    H = rng.random((k, m)) * (rng.random((k, m)) > sparsity)
    if separable:
        W[:k] = np.eye(k)
        H[:, :k] = np.eye(k)
        W = W[rng.permutation(n)]
        H = H[:, rng.permutation(m)]
    W[W.sum(axis=1) == 0, rng.integers(k)] = 1.0  # keep rows of X non-zero
    H[rng.integers(k), H.sum(axis=0) == 0] = 1.0
    return W @ H, W, H


def planted_noisy(n: int = 300, m: int = 150, k: int = 5, *, noise: str = "gaussian", signal_share: float = 0.95,
                  rng: np.random.Generator | int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """A rank-``k`` non-negative signal plus noise that explains ``1 - signal_share`` of the variance.

    ``W`` is Gamma(1, 1) and ``H`` Gamma(0.5, 1) with 40 % of its entries set to
    zero. The signal's share of the variance is ``s = signal_share`` in the
    sense ``1 - ||X - S||^2 / ||X - mean(X)||^2 = s``:

    - Gaussian: ``X = max(S + sigma Z, 0)`` with ``Z`` standard normal and
      ``sigma`` solved (Brent) so that the share is exactly ``s`` after clipping;
    - Poisson: ``X ~ Poisson(c S)`` with ``c`` chosen so that the expected share
      ``c^2 var(S) / (c^2 var(S) + c mean(S))`` is ``s``.

    Returns
    -------
    X : ndarray of shape (n, m)
        The noisy data (may hold all-zero rows or columns at small sizes).
    S : ndarray of shape (n, m)
        The planted rank-``k`` signal at the data's scale.
    """
    rng = np.random.default_rng(rng)
    W = rng.gamma(1.0, 1.0, (n, k))
    H = rng.gamma(0.5, 1.0, (k, m)) * (rng.random((k, m)) < 0.6)
    S = W @ H
    if noise == "gaussian":
        from scipy.optimize import brentq

        Z = rng.standard_normal(S.shape)

        def excess(sigma: float) -> float:
            X = np.maximum(S + sigma * Z, 0.0)
            return 1.0 - np.sum((X - S) ** 2) / np.sum((X - X.mean()) ** 2) - signal_share

        hi = S.std() * np.sqrt(1.0 / signal_share)  # clipping only lowers the noise, so the root lies above
        while excess(hi) > 0:
            hi *= 2.0
        sigma = brentq(excess, 0.0, hi, xtol=1e-12 * S.std())
        return np.maximum(S + sigma * Z, 0.0), S
    if noise == "poisson":
        c = signal_share * S.mean() / ((1 - signal_share) * S.var())
        return rng.poisson(c * S).astype(float), c * S
    msg = f"noise must be 'gaussian' or 'poisson', got {noise!r}."
    raise InvalidInputError(msg)


def laurberg_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 6 x 3 rank-3 matrix with a unique NMF (Laurberg et al. 2008, sufficiently spread factors).

    ``W`` has the zero pattern of ``[I; 1 - I]`` and ``H = W.T``, so every
    component has zeros in the other components' supports.

    Returns
    -------
    X : ndarray of shape (6, 6)
    W : ndarray of shape (6, 3)
    H : ndarray of shape (3, 6)

    References
    ----------
    .. [1] H. Laurberg, M. G. Christensen, M. D. Plumbley, L. K. Hansen and
       S. H. Jensen, "Theorems on positive data: on the uniqueness of NMF",
       Computational Intelligence and Neuroscience, 2008. :doi:`10.1155/2008/764206`
    """
    W = np.vstack([np.eye(3), 1.0 - np.eye(3)])
    W = W * np.array([1.0, 2.0, 3.0])
    H = np.vstack([np.eye(3), 1.0 - np.eye(3)]).T * np.array([[1.0], [0.5], [2.0]])
    return W @ H, W, H
