"""Every penalty's edits against finite differences of its value.

A penalty ``P(F)`` reports its value, its gradient, and edits the statistics
solvers consume. Each edit must add exactly ``grad P`` to the gradient the
solver sees:

- MU: the gradient is ``den - num`` (positive minus negative part), so
  ``(den' - num') - (den - num) = grad P`` with both edits non-negative;
  ``edit_mu_den`` adds the positive part alone;
- quadratic solvers: the gradient of ``0.5 tr(F G F^T) - tr(A^T F)`` is
  ``F G - A``, so ``(F G' - A') - (F G - A) = grad P``;
- weighted HALS, one column: the gradient is ``den * f - num``, so
  ``(den' f - num') - (den f - num) = grad P`` for that column.

Edits a penalty does not declare (``edits``) must refuse; declared ones must not.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit import InvalidInputError, nmf
from nmfkit.initialization import RandomInit
from nmfkit.penalties import EDITS, L1, L2, GraphLaplacian, Proximity, elastic_net

XP = np  # NumPy as the array namespace
N, K = 7, 3


def _graph(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.random((N, N)) * (rng.random((N, N)) < 0.5)
    A = np.triu(A, 1)
    return A + A.T


PENALTIES = {
    "L1": lambda: L1(0.3),
    "L2": lambda: L2(0.7),
    "graph": lambda: GraphLaplacian(0.4, _graph()),
    "graph-sparse": lambda: GraphLaplacian(0.4, sp.csr_matrix(_graph(1))),
    "proximity": lambda: Proximity(0.9, np.random.default_rng(5).random((N, K))),
}


@pytest.fixture(params=list(PENALTIES), ids=list(PENALTIES))
def penalty(request):
    return PENALTIES[request.param]()


def _point(seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).random((N, K)) + 0.1


def test_gradient_is_the_derivative_of_the_value(penalty):
    F = _point()
    grad = penalty.gradient(F, XP)
    h = 1e-6
    fd = np.zeros_like(F)
    for idx in np.ndindex(F.shape):
        up, down = F.copy(), F.copy()
        up[idx] += h
        down[idx] -= h
        fd[idx] = (float(penalty.value(up, XP)) - float(penalty.value(down, XP))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_value_is_zero_at_zero_and_non_negative(penalty):
    F = _point()
    assert float(penalty.value(F, XP)) >= 0.0
    if not isinstance(penalty, Proximity):  # (Proximity is 0 at its target, not at 0)
        assert float(penalty.value(np.zeros((N, K)), XP)) == 0.0


def test_mu_edit_adds_the_gradient_split_into_non_negative_parts(penalty):
    F = _point()
    rng = np.random.default_rng(3)
    num, den = rng.random((N, K)), rng.random((N, K))
    num2, den2 = penalty.edit_mu(num, den, F)
    dnum, dden = num2 - num, den2 - den
    assert np.all(dnum >= -1e-15) and np.all(dden >= -1e-15)
    np.testing.assert_allclose(dden - dnum, penalty.gradient(F, XP), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(penalty.edit_mu_den(den, F) - den, dden, rtol=1e-12, atol=1e-12)


def test_quadratic_edit_adds_the_gradient(penalty):
    F = _point()
    rng = np.random.default_rng(4)
    H = rng.random((K, 9))
    A, G = rng.random((N, K)), H @ H.T
    if "quadratic" not in penalty.edits:
        with pytest.raises(InvalidInputError):
            penalty.edit_quadratic(A, G, F, XP)
        return
    A2, G2 = penalty.edit_quadratic(A, G, F, XP)
    np.testing.assert_allclose((F @ G2 - A2) - (F @ G - A), penalty.gradient(F, XP), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(G2, G2.T)  # still a Gram matrix
    assert np.linalg.eigvalsh(G2)[0] >= np.linalg.eigvalsh(G)[0] - 1e-12  # a convex penalty adds curvature


def test_weighted_edit_adds_the_gradient_of_one_column(penalty):
    F = _point()
    rng = np.random.default_rng(6)
    t = 1
    num, den = rng.random(N), rng.random(N) + 0.5
    if "weighted" not in penalty.edits:
        with pytest.raises(InvalidInputError):
            penalty.edit_weighted(num, den, F[:, t])
        return
    num2, den2 = penalty.edit_weighted(num, den, F[:, t])
    change = (den2 * F[:, t] - num2) - (den * F[:, t] - num)
    np.testing.assert_allclose(change, penalty.gradient(F, XP)[:, t], rtol=1e-12, atol=1e-12)


def test_declared_edits_are_names_of_edit_methods(penalty):
    assert penalty.edits <= EDITS
    for name in EDITS:
        assert callable(getattr(penalty, "edit_" + name))


def test_elastic_net_is_scikit_learns_scaling():
    pens = elastic_net(0.1, 0.25, 40)
    assert pens == (L1(40 * 0.1 * 0.25), L2(40 * 0.1 * 0.75))
    assert elastic_net(0.0, 0.5, 40) == ()
    assert elastic_net(0.1, 1.0, 40) == (L1(4.0),)


class _Spy(RandomInit):
    calls = 0

    def __call__(self, *args, **kwargs):
        type(self).calls += 1
        return super().__call__(*args, **kwargs)


@pytest.mark.parametrize("solver", ["hals", "anls-bpp", "gcd", "anls-pg"])
def test_a_penalty_the_solver_cannot_apply_is_refused_before_any_work(solver):
    X = np.random.default_rng(0).random((N, 5)) + 0.1
    _Spy.calls = 0
    with pytest.raises(InvalidInputError, match=rf"GraphLaplacian \(on W\) is not available with solver '{solver}'"
                                               r".*solvers that take it: mu, mu-lin"):
        nmf(X, 2, solver=solver, penalties_W=[GraphLaplacian(1.0, _graph())], init=_Spy())
    assert _Spy.calls == 0  # refused at the boundary, not in the first sweep


def test_proximity_with_a_mask_names_the_solvers_that_take_it():
    X = np.random.default_rng(0).random((N, 5)) + 0.1
    mask = np.ones_like(X)
    mask[0, 0] = 0
    with pytest.raises(InvalidInputError, match=r"Proximity \(on W\) is not available with solver 'hals' with a mask"
                                               r".*solvers that take it: mu\."):
        nmf(X, K, solver="hals", mask=mask, penalties_W=[Proximity(1.0, np.ones((N, K)))], init="random")


def test_graph_laplacian_memo_reuses_the_product_for_the_same_factor_only():
    A = _graph()
    F = np.random.default_rng(0).random((A.shape[0], 3))
    pen = GraphLaplacian(0.4, A, memo=True)
    first = pen.gradient(F, np)
    AF = pen._AF(F)
    assert pen._AF(F) is AF  # the same object: one product
    G = F * 2.0
    np.testing.assert_allclose(pen._AF(G), A @ G)  # a new factor: a new product
    np.testing.assert_allclose(first, 0.4 * (A.sum(axis=1)[:, None] * F - A @ F))
    plain = GraphLaplacian(0.4, A)
    assert plain._AF(F) is not plain._AF(F)
