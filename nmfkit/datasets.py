"""Data embedded in the package (generated, so nothing is downloaded).

- :func:`swimmer`: the "swimmer" images of Donoho & Stodden (2003): a torso
  and four limbs, each limb in one of four positions; 256 images of 32 x 32
  pixels whose 17 generating parts NMF should recover.
- :func:`plateau_example`: the exact rank-4, 8 x 8 matrix of the NMF-Merge
  paper's eq. (20), with its ground-truth factors.

References
----------
.. [1] D. Donoho and V. Stodden, "When does non-negative matrix factorization
   give a correct decomposition into parts?", NIPS 16, 2003.
"""

from __future__ import annotations

from itertools import product

import numpy as np

__all__ = ["swimmer", "plateau_example"]


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
    """The swimmer data set.

    Returns
    -------
    X : ndarray of shape (256, 1024)
        Each row a 32 x 32 image (row-major) with values in {0, 1}.
    parts : ndarray of shape (17, 1024)
        The generating parts: the torso, then 4 positions of each of the 4
        limbs. Every image is the torso plus one position of each limb, so
        ``X = W_true @ parts`` with a binary ``W_true``.
    """
    shape = (32, 32)
    torso = np.zeros(shape)
    torso[10:22, 15:17] = 1.0
    # limbs attach at the shoulders (row 11) and hips (row 21); angles sweep a quarter turn
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


def plateau_example() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 8 x 8 exact rank-4 example of the NMF-Merge paper (eq. 20).

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
