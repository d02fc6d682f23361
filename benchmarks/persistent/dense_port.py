"""A straightforward dense port of the persistent-NMF algorithm, for the cost comparison only.

Written from the method specification (its section 2.8 pseudo-code), in the paper's orientation
(X is M features x N samples): every scale's A, D and L are built up front as dense N x N
matrices and kept, and the graph terms use dense products. Memory is therefore 3 N^3 doubles.
It is not part of nmfkit; ``run.py`` times it against :func:`nmfkit.methods.persistent_nmf`
and checks that both give the same embeddings.
"""

from __future__ import annotations

import numpy as np

DELTA = 1e-9


def nndsvda(X, k):
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    W, H = np.zeros((X.shape[0], k)), np.zeros((k, X.shape[1]))
    W[:, 0], H[0] = np.sqrt(s[0]) * np.abs(U[:, 0]), np.sqrt(s[0]) * np.abs(Vt[0])
    for j in range(1, k):
        u, v = U[:, j], Vt[j]
        up, un, vp, vn = np.maximum(u, 0), np.maximum(-u, 0), np.maximum(v, 0), np.maximum(-v, 0)
        mp = np.linalg.norm(up) * np.linalg.norm(vp)
        mn = np.linalg.norm(un) * np.linalg.norm(vn)
        if mp > mn:
            W[:, j] = np.sqrt(s[j] * mp) * up / np.linalg.norm(up)
            H[j] = np.sqrt(s[j] * mp) * vp / np.linalg.norm(vp)
        else:
            W[:, j] = np.sqrt(s[j] * mn) * un / np.linalg.norm(un)
            H[j] = np.sqrt(s[j] * mn) * vn / np.linalg.norm(vn)
    avg = X.mean()
    W[W < 1e-8] = avg
    H[H < 1e-8] = avg
    return W, H


def scales_and_graphs(X, power=1.5):
    sq = np.sum(X * X, axis=0)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X.T @ X, 0))
    D = np.maximum(D, D.T)
    N = D.shape[0]
    iu, ju = np.triu_indices(N, 1)
    order = np.argsort(D[iu, ju], kind="stable")
    parent = list(range(N))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    deaths = []
    for e in order:
        a, b = find(iu[e]), find(ju[e])
        if a != b:
            parent[a] = b
            deaths.append(D[iu[e], ju[e]])
    eps = np.sort(np.array(deaths + [D.max() + 1e-9]))
    As, Ds, Ls = [], [], []
    off = ~np.eye(N, dtype=bool)
    for e in eps:  # every scale's three dense matrices, stored
        A = np.where((D < e) & off, np.exp(-D**2 / e**power), 0.0)
        A = np.maximum(A, A.T)
        Dg = np.diag(A.sum(axis=1))
        As.append(A)
        Ds.append(Dg)
        Ls.append(Dg - A)
    return eps, As, Ds, Ls


def normalize(W, H):
    s = np.linalg.norm(W, axis=0)
    s[s == 0] = 1
    return W / s, H * s[:, None]


def gnmf(X, W, H, A, Dg, L, lam, tol=1e-3, max_iter=1000):
    def loss(W, H):
        return np.linalg.norm(X - W @ H) ** 2 + lam * np.sum((H @ L) * H)

    f_prev, f, it = 1e9, loss(W, H), 0
    while it < max_iter and abs(f_prev - f) / f_prev > tol:
        f_prev = f
        W = W * (X @ H.T) / (W @ H @ H.T + DELTA)
        H = H * (W.T @ X + lam * H @ A) / (W.T @ W @ H + lam * H @ Dg + DELTA)
        W, H = normalize(W, H)
        f = loss(W, H)
        it += 1
    return W, H


def block(X, W, H, A, Dg, L, Hp, Hn, a, b, l1, l3, tol=1e-3, max_iter=1000):
    def loss(W, H):
        v = np.linalg.norm(X - W @ H) ** 2 + l1 * np.sum((H @ L) * H) + l3 * np.sum(H * H)
        if a:
            v += a * np.sum((H - Hp) ** 2)
        if b:
            v += b * np.sum((H - Hn) ** 2)
        return v

    f_prev, f, it = 1e9, loss(W, H), 0
    while it < max_iter and abs(f_prev - f) / f_prev > tol:
        f_prev = f
        HHt = H @ H.T
        G = W @ HHt - X @ H.T
        Wb = np.where(G >= 0, W, np.maximum(W, DELTA))
        W = W - Wb / (Wb @ HHt + DELTA) * G
        WtW = W.T @ W
        G = WtW @ H - W.T @ X + l1 * H @ L + l3 * H
        if a:
            G += a * (H - Hp)
        if b:
            G += b * (H - Hn)
        Hb = np.where(G >= 0, H, np.maximum(H, DELTA))
        H = H - Hb / (WtW @ Hb + l1 * Hb @ Dg + (a + b + l3) * Hb + DELTA) * G
        W, H = normalize(W, H)
        f = loss(W, H)
        it += 1
    return W, H


def pnmf(X, k, l1=100.0, l2=100.0, l3=1.0, n_sweeps=10):
    """X: M x N (columns = samples). Returns H of shape T x k x N."""
    eps, As, Ds, Ls = scales_and_graphs(X)
    T = len(eps)
    W, H = nndsvda(X, k)
    Ws, Hs = [None] * T, [None] * T
    for t in range(T - 1, -1, -1):
        W, H = gnmf(X, W, H, As[t], Ds[t], Ls[t], l1)
        Ws[t], Hs[t] = W, H
    for _ in range(n_sweeps):
        for t in range(T):
            a = l2 if t > 0 else 0.0
            b = l2 if t < T - 1 else 0.0
            Ws[t], Hs[t] = block(X, Ws[t], Hs[t], As[t], Ds[t], Ls[t], Hs[t - 1] if t > 0 else None,
                                 Hs[t + 1] if t < T - 1 else None, a, b, l1, l3)
    return np.stack(Hs)
