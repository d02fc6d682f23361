"""Property-based robustness of the public API and the CLI (hypothesis).

Whatever the scale (1e-300 ... 1e300), dtype (bool, int, float16/32/64),
layout (C, F, strided, CSR/CSC/COO, masked arrays, DataFrames), shape
(1 x n, n x 1, rank = min dimension), loss and solver: every call returns
finite, non-negative factors or raises :class:`nmfkit.InvalidInputError` with
a message; the input is never modified; the command line never exits 0 with
non-finite output and writes strict JSON.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmfkit import InvalidInputError, nmf

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning",
                                        "ignore::nmfkit._validation.DataWarning")

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = ["bool", "int8", "int32", "int64", "uint16", "float16", "float32", "float64"]
try:  # DataFrames when pandas is there (the anndata extra); the light test extra goes without
    import pandas as pd
except ImportError:  # pragma: no cover
    pd = None
LAYOUTS = ["C", "F", "strided", "csr", "csc", "coo", "masked", "list"] + (["dataframe"] if pd is not None else [])
CASES = [("frobenius", "auto"), ("frobenius", "hals"), ("frobenius", "mu"), ("frobenius", "anls-bpp"),
         ("frobenius", "gcd"), ("frobenius", "anls-pg"), ("kullback-leibler", "auto"), ("itakura-saito", "mu"),
         (0.5, "mu"), (1.5, "mu"), (3.0, "mu")]


@st.composite
def data(draw, *, max_side: int = 6):
    """A non-negative matrix at some scale, dtype and layout, and the plain float64 array it stands for."""
    n = draw(st.integers(1, max_side))
    m = draw(st.integers(1, max_side))
    dtype = draw(st.sampled_from(DTYPES))
    # half the examples near 1, the rest anywhere in float64's range, with its edges and the safe range's
    edges = st.sampled_from([-310, -80, -77, -39, -38, 38, 39, 77, 80, 300])
    exponent = draw(st.one_of(st.integers(-3, 3), st.integers(-300, 300), edges)) if dtype.startswith("float") else 0
    seed = draw(st.integers(0, 2**16))
    density = draw(st.sampled_from([1.0, 0.5]))
    rng = np.random.default_rng(seed)
    base = rng.random((n, m)) * (rng.random((n, m)) < density)
    if not base.any():
        base[0, 0] = 1.0
    if dtype == "bool":
        values = base > 0
    elif dtype.startswith(("int", "uint")):
        values = np.round(base * 100).astype(dtype)
        values[np.unravel_index(np.argmax(base), base.shape)] = 1 if not values.any() else values.max()
    else:
        scale = 10.0 ** exponent
        with np.errstate(over="ignore", under="ignore"):
            values = (base * scale).astype(dtype)
        if not np.all(np.isfinite(values)) or not values.any():
            values = base.astype(dtype)  # float16 cannot hold the scale: use the plain data
    layout = draw(st.sampled_from(LAYOUTS))
    return _lay_out(values, layout, rng), values, layout


def _lay_out(values, layout, rng):
    if layout == "C":
        return np.ascontiguousarray(values)
    if layout == "F":
        return np.asfortranarray(values)
    if layout == "strided":
        big = np.zeros((values.shape[0] * 2, values.shape[1] * 3), dtype=values.dtype)
        big[::2, ::3] = values
        return big[::2, ::3]
    if layout in ("csr", "csc", "coo"):  # (scipy.sparse has no float16)
        return getattr(sp, f"{layout}_matrix")(values.astype(np.float32) if values.dtype == np.float16 else values)
    if layout == "masked":
        hidden = np.zeros(values.shape, dtype=bool)
        if values.size > 2:
            hidden.flat[rng.integers(values.size)] = True
        return np.ma.masked_array(values, mask=hidden)
    if layout == "dataframe":
        return pd.DataFrame(values, columns=[f"f{j}" for j in range(values.shape[1])])
    return values.tolist()


def _snapshot(X):
    if sp.issparse(X):
        return ("sparse", X.format, X.toarray().copy())
    if isinstance(X, np.ma.MaskedArray):
        return ("masked", np.ma.getdata(X).copy(), np.ma.getmaskarray(X).copy())
    if hasattr(X, "to_numpy"):
        return ("frame", X.to_numpy().copy())
    if isinstance(X, list):
        return ("list", json.dumps(X))
    return ("array", np.array(X, copy=True), X.flags["C_CONTIGUOUS"], X.strides)


def _same(a, b):
    return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(a, b, strict=True))


def _check_factors(W, H, shape, k):
    W, H = np.asarray(W), np.asarray(H)
    assert W.shape == (shape[0], k) and H.shape == (k, shape[1])
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(H)), "non-finite factors"
    assert W.min() >= 0 and H.min() >= 0


@SETTINGS
@given(case=data(), loss_solver=st.sampled_from(CASES), k_choice=st.sampled_from(["one", "min", "two"]),
       seed=st.integers(0, 100))
def test_nmf_returns_finite_factors_or_a_clear_error(case, loss_solver, k_choice, seed):
    X, values, layout = case
    loss, solver = loss_solver
    k = {"one": 1, "min": min(values.shape), "two": min(2, *values.shape)}[k_choice]
    before = _snapshot(X)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # an overflow along the way is a failure too
            result = nmf(X, k, beta_loss=loss, solver=solver, max_iter=30, random_state=seed)
    except InvalidInputError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip()
        # the refusals this suite expects: zeros with beta <= 0, sparse with a mask, solvers for other losses
        assert any(word in message for word in ("zero", "sparse", "solver", "masked", "Itakura", "beta", "mask")), \
            message
    else:
        _check_factors(result.W, result.H, values.shape, k)
        assert math.isfinite(result.objective) or result.extras["data_scale"] != 1.0
        # float16 computes in float32; float32 and float64 stay; integers and bools in float64
        if layout != "list" and not (layout in ("csr", "csc", "coo") and values.dtype == np.float16):
            expected = np.float32 if values.dtype in (np.float16, np.float32) else np.float64
            assert np.asarray(result.W).dtype == expected and np.asarray(result.H).dtype == expected
    assert _same(_snapshot(X), before), "the input was modified"


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=data(max_side=8), seed=st.integers(0, 100))
def test_other_public_functions_return_finite_factors_or_a_clear_error(case, seed):
    from nmfkit import NMF, consensus, deep_nmf, nmf_merge, online_nmf
    from nmfkit.methods import graph_nmf, joint_nmf, nmf_sc, separable_nmf, symmetric_nmf

    X, values, _ = case
    n, m = values.shape
    before = _snapshot(X)
    calls = {
        "NMF": lambda: (lambda e: (e.fit_transform(X), e.components_))(NMF(min(2, n, m), random_state=seed,
                                                                           max_iter=30)),
        "consensus": lambda: (lambda r: (r.W, r.H))(consensus(X, min(2, n, m), 3, random_state=seed, max_iter=30,
                                                                 density_threshold=2.0)),
        "deep_nmf": lambda: (lambda r: (r.W, r.H))(deep_nmf(X, [min(3, n, m), 1], 1.0, max_iter=5, init_iter=5,
                                                            random_state=seed)),
        "nmf_merge": lambda: (lambda r: (r.W, r.H))(nmf_merge(X, 1, n_extra=1, max_iter=30, random_state=seed)),
        "separable_nmf": lambda: (lambda r: (r.W, r.H))(separable_nmf(X, min(2, n, m))),
        "online_nmf": lambda: (lambda r: (r.W, r.H))(online_nmf(X, min(2, n, m), random_state=seed, n_epochs=3)),
        "joint_nmf": lambda: (lambda r: (r.W, r.H))(joint_nmf([X, X], min(2, n, m), random_state=seed,
                                                              max_iter=30)),
        "graph_nmf": lambda: (lambda r: (r.W, r.H))(graph_nmf(X, min(2, n, m), random_state=seed, max_iter=30)),
        "nmf_sc": lambda: (lambda r: (r.W, r.H))(nmf_sc(X, min(2, n, m), random_state=seed, max_iter=30)),
    }
    if n == m:
        sym = (values.astype(np.float64) + values.astype(np.float64).T)
        calls["symmetric_nmf"] = lambda: (lambda r: (r.W, r.H))(symmetric_nmf(sym, min(2, n), random_state=seed,
                                                                             max_iter=30))
    for name, call in calls.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                warnings.simplefilter("error", RuntimeWarning)
                W, H = call()
        except InvalidInputError as exc:
            assert str(exc).strip(), name
            continue
        W, H = np.asarray(W), np.asarray(H)
        assert np.all(np.isfinite(W)) and np.all(np.isfinite(H)), f"{name}: non-finite factors"
        assert W.min() >= 0 and H.min() >= 0, name
    assert _same(_snapshot(X), before), "the input was modified"


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=data(max_side=7), fmt=st.sampled_from(["csv", "npy", "mtx"]),
       loss=st.sampled_from(["frobenius", "kl"]))
def test_cli_never_exits_0_with_non_finite_output(tmp_path_factory, capsys, case, fmt, loss):
    import scipy.io

    from nmfkit.cli import main

    _, values, _ = case
    folder = tmp_path_factory.mktemp("cli")
    path = folder / f"x.{fmt}"
    if fmt == "csv":
        np.savetxt(path, values.astype(np.float64), delimiter=",", fmt="%.17g")
    elif fmt == "npy":
        np.save(path, values)
    else:
        scipy.io.mmwrite(str(path), sp.coo_matrix(values.astype(np.float64)))
    out = folder / "out"
    rc = main(["fit", str(path), "--rank", "1", "--loss", loss, "--max-iter", "30", "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert rc in (0, 2), captured.err
    if rc == 2:
        assert captured.err.startswith("nmfkit: error: ") and captured.err.count("\n") == 1, captured.err
        assert not out.exists()
        return
    for name in ("W.tsv", "H.tsv"):
        table = np.loadtxt(out / name, delimiter="\t", skiprows=1, usecols=range(1, 2 if name == "W.tsv"
                                                                                   else values.shape[1] + 1), ndmin=2)
        assert np.all(np.isfinite(table)), name
    text = (out / "summary.json").read_text()

    def reject(constant):
        raise AssertionError(f"summary.json is not strict JSON: {constant}")

    summary = json.loads(text, parse_constant=reject)
    assert summary["relative_error"] is not None and 0 <= summary["relative_error"] <= 1 + 1e-9
