"""Joint NMF (shared samples) and integrative NMF (shared features): monotone, KKT, planted factors recovered."""

import numpy as np
import pytest

import nmfkit
from nmfkit.methods import integrative_nmf, joint_nmf
from nmfkit.testing import kkt_residual, match_components


def planted_blocks(seed=0, n=60, k=3):
    rng = np.random.default_rng(seed)
    W = rng.random((n, k)) * (rng.random((n, k)) < 0.6)
    W[np.arange(n), rng.integers(k, size=n)] += 1.0
    H1 = rng.random((k, 40)) * (rng.random((k, 40)) < 0.5)
    H2 = rng.random((k, 25)) * (rng.random((k, 25)) < 0.5)
    H1[:, :k] += np.eye(k)
    H2[:, :k] += np.eye(k)
    return W, H1, H2


def monotone(res, rel=1e-12):
    values = [h.objective for h in res.history]
    return all(b <= a * (1 + rel) for a, b in zip(values, values[1:], strict=False))


def test_frobenius_joint_nmf_is_nmf_of_the_weighted_concatenation():
    W, H1, H2 = planted_blocks()
    X1, X2 = W @ H1, 5.0 * W @ H2
    joint = joint_nmf([X1, X2], 3, weights=[1.0, 1.0], solver="hals", tol=0, max_iter=50)
    plain = nmfkit.nmf(np.hstack([X1, X2]), 3, solver="hals", init="nndsvda", tol=0, max_iter=50,
                        extrapolate=False)
    np.testing.assert_allclose(joint.W, plain.W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(joint.H, plain.H, rtol=1e-10, atol=1e-12)


def test_joint_nmf_recovers_the_shared_factor_with_kkt():
    W, H1, H2 = planted_blocks(seed=1)
    X1, X2 = W @ H1, 100.0 * W @ H2  # very different scales: the auto weights balance them
    res = joint_nmf([X1, X2], 3, tol=1e-12, max_iter=3000, random_state=0)
    assert monotone(res)
    assert match_components(W, res.W)["cosine_W"].min() > 0.999
    lam = res.extras["weights"]
    unscaled = joint_nmf([X1, X2 / 100.0], 3, max_iter=1, random_state=0).extras["weights"]
    assert (unscaled[1] / unscaled[0]) / (lam[1] / lam[0]) == pytest.approx(1e4)  # weights follow the scale
    Xw = np.hstack([np.sqrt(lam[0]) * X1, np.sqrt(lam[1]) * X2])
    Hw = np.hstack([np.sqrt(w) * H for w, H in zip(lam, res.extras["H_blocks"], strict=True)])
    assert kkt_residual(Xw, res.W, Hw) < 1e-6
    np.testing.assert_allclose(res.H[:, res.extras["blocks"][1]], res.extras["H_blocks"][1])


def test_mixed_losses_counts_and_continuous():
    W, H1, H2 = planted_blocks(seed=2)
    rng = np.random.default_rng(2)
    counts = rng.poisson(30 * W @ H1).astype(float)
    cont = W @ H2 + 0.01 * rng.random((60, 25))
    res = joint_nmf([counts, cont], 3, beta_loss=["kullback-leibler", "frobenius"], tol=1e-9, max_iter=3000,
                    random_state=0)
    assert monotone(res, rel=1e-10)
    assert res.extras["beta_loss"] == [1.0, 2.0]
    assert match_components(W, res.W)["cosine_W"].min() > 0.98
    assert len(res.extras["block_losses"]) == 2


def test_joint_errors():
    X = np.random.default_rng(0).random((10, 5))
    with pytest.raises(ValueError, match="list of blocks"):
        joint_nmf(X, 2)
    with pytest.raises(ValueError, match="same samples"):
        joint_nmf([X, X[:8]], 2)
    with pytest.raises(ValueError, match="2 losses for 3 blocks"):
        joint_nmf([X, X, X], 2, beta_loss=["kl", "frobenius"])
    with pytest.raises(ValueError, match="solver='mu'"):
        joint_nmf([X, X], 2, beta_loss="kullback-leibler", solver="hals")
    with pytest.raises(ValueError, match="weights"):
        joint_nmf([X, X], 2, weights=[1.0])


def _inmf_data(batch_effect):
    rng = np.random.default_rng(3)
    k, m = 3, 40
    H = rng.random((k, m)) * (rng.random((k, m)) < 0.5) + np.eye(k, m)
    H[:, 30:] = 0.0
    V1 = np.zeros((k, m))
    V1[0, 30:] = batch_effect  # data set 1 alone expresses features 30-39, with component 0
    W1, W2 = rng.random((50, k)), rng.random((70, k))
    return W1 @ (H + V1), W2 @ H, H


def _specific_share(res, Xs):
    return [np.linalg.norm(W @ V) / np.linalg.norm(X)
            for X, W, V in zip(Xs, res.extras["W_blocks"], res.extras["V_blocks"], strict=True)]


def test_integrative_nmf_recovers_shared_components():
    X1, X2, H = _inmf_data(0.0)
    X1, X2, H = X1[:, :30], X2[:, :30], H[:, :30]
    res = integrative_nmf([X1, X2], 3, lam=5.0, tol=1e-10, max_iter=1500, random_state=1)
    assert monotone(res, rel=1e-10)
    fit = [np.linalg.norm(X - W @ (res.H + V)) / np.linalg.norm(X)
           for X, W, V in zip([X1, X2], res.extras["W_blocks"], res.extras["V_blocks"], strict=True)]
    assert max(fit) < 1e-3
    assert max(_specific_share(res, [X1, X2])) < 1e-3  # nothing data-set specific to find
    assert match_components(H.T, res.H.T)["cosine_W"].min() > 0.999
    assert res.W.shape == (120, 3)


def test_integrative_nmf_lam_controls_the_specific_parts():
    X1, X2, _ = _inmf_data(1.0)
    shares = []
    for lam in (0.1, 1.0, 5.0):
        res = integrative_nmf([X1, X2], 3, lam=lam, tol=1e-6, max_iter=1000, random_state=0)
        assert monotone(res, rel=1e-10)
        shares.append(sum(_specific_share(res, [X1, X2])))
    assert shares[0] > shares[1] > shares[2]
    with pytest.raises(ValueError, match="same features"):
        integrative_nmf([X1, X2[:, :10]], 2)


def test_integrative_nmf_kkt_at_convergence():
    X1, X2, _ = _inmf_data(1.0)
    lam = 2.0
    res = integrative_nmf([X1, X2], 3, lam=lam, tol=1e-12, max_iter=3000, random_state=0)
    H = res.H
    grad_H = np.zeros_like(H)
    worst = 0.0
    for X, W, V in zip([X1, X2], res.extras["W_blocks"], res.extras["V_blocks"], strict=True):
        M = H + V
        grads = {"W": (W, W @ (M @ M.T + lam * V @ V.T) - X @ M.T),
                 "V": (V, (1 + lam) * W.T @ W @ V - W.T @ (X - W @ H))}
        grad_H += W.T @ W @ H - W.T @ (X - W @ V)
        for F, G in grads.values():
            scale = max(np.abs(G).max(), 1e-300)
            worst = max(worst, np.abs(np.minimum(F, G)).max() / scale)
    worst = max(worst, np.abs(np.minimum(H, grad_H)).max() / np.abs(grad_H).max())
    assert worst < 1e-3
