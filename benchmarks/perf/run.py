"""Performance: nmfkit against scikit-learn, nmf-torch and torchnmf, side by side, one process per problem.

Problems (``--problems``):

- ``cbcl``: CBCL faces (361 x 2429), Frobenius, r = 49, to a fitting error
  FE = 100 ||X - WH||^2 / ||X||^2 of 0.650 %;
- ``orl``: ORL faces (10304 x 400), Frobenius, r = 25, to FE 3.025 %;
- ``dense``: synthetic dense 3000 x 2000 (rank-20 signal, 95 % of the variance),
  Frobenius, r = 20, to the FE that nmf-torch's HALS stops at;
- ``mouse_kl``: 10x mouse counts (10 000 x 1000 CSR, 6.9 % dense), KL, r = 20, to
  the divergence scikit-learn's MU reaches with its defaults;
- ``mouse_log``: the same counts library-size normalized (to the median total) and
  log1p'd, sparse, Frobenius, r = 20, to the fitting error RcppML reaches at its
  ``tol = 1e-5``;
- ``gpu_dense`` (GPU): synthetic dense 50 000 x 10 000, r = 50, to nmf-torch HALS's FE;
- ``gpu_sparse_kl`` (GPU): synthetic counts 200 000 x 20 000 (5 % dense), KL,
  r = 20, to the divergence torchnmf reaches.

Every problem also times nmfkit's *default call* (``nmf(X, k[, beta_loss])``, nothing
else but ``random_state``) to the target. RcppML (R, Debian's ``r-cran-rcppml``: ALS
with coordinate-descent NNLS and diagonal scaling) runs where ``Rscript`` with RcppML is
installed (``apt-get install r-cran-rcppml``), one thread, at ``tol = 1e-5``, on ``cbcl``
and ``mouse_log``; nmfkit's default call is then timed to RcppML's fitting error too.
RcppML's time is measured inside R around its ``nmf`` call (reading the matrix excluded).

For every contender the runner reports whether it reached the target, the time
to it (initialization included), sweeps, the per-sweep time, the per-sweep time
divided by the matrix-product floor measured in the same process (the two
products ``X H^T`` and ``X^T W`` one sweep must do), and the peak memory of the
fit beyond the input (``tracemalloc`` for NumPy code, the CUDA allocator on the
GPU; PyTorch's CPU allocator is not traced).

Protocols:

- nmfkit stops itself through a callback when its objective (inside the clock:
  every sweep with extrapolation, where it comes free with the step; every 10
  sweeps for MU) crosses the target;
- scikit-learn has no callback: it runs in chunks of ``--chunk`` sweeps, each
  warm-started from the previous factors with ``tol=0`` (its solvers keep no
  state between sweeps, so the trajectory is that of one run); the clock sums
  the chunks;
- nmf-torch and torchnmf run once with their own stopping rules (their defaults);
  they reach the target only if their final error is below it, and their time
  is then the whole run (an upper bound on their time to target).

GPU problems and GPU contenders run only where ``torch.cuda.is_available()``;
otherwise they are recorded as not measured, with the reason.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/perf/run.py                    # CPU problems, about 15 minutes
    python benchmarks/perf/run.py --device cuda --problems cbcl orl mouse_kl gpu_dense gpu_sparse_kl

Writes ``perf_<device>.json`` and ``perf_<device>.md`` in ``benchmarks/perf/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import write_results  # noqa: E402  (benchmarks/_common.py)

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[2] / "shared" / "data"

PROBLEMS = {
    "cbcl": {"rank": 49, "loss": "fro", "target": 0.650, "gpu_only": False},
    "orl": {"rank": 25, "loss": "fro", "target": 3.025, "gpu_only": False},
    "dense": {"rank": 20, "loss": "fro", "target": "nmf-torch hals", "gpu_only": False},
    "mouse_kl": {"rank": 20, "loss": "kl", "target": "scikit-learn mu", "gpu_only": False},
    "mouse_log": {"rank": 20, "loss": "fro", "target": "rcppml", "gpu_only": False},
    "gpu_dense": {"rank": 50, "loss": "fro", "target": "nmf-torch hals", "gpu_only": True},
    "gpu_sparse_kl": {"rank": 20, "loss": "kl", "target": "torchnmf", "gpu_only": True},
}


# -- data ------------------------------------------------------------------------------------------

def load(name: str, data_dir: Path) -> np.ndarray | sp.csr_matrix:
    if name == "cbcl":
        import scipy.io

        return np.asarray(scipy.io.loadmat(data_dir / "faces/cbcl_faces_361x2429.mat")["X"], dtype=np.float64)
    if name == "orl":
        return np.load(data_dir / "faces/orl_faces_10304x400.npz")["X"].astype(np.float64)
    if name == "dense":
        from nmfkit.testing import planted_noisy

        return planted_noisy(3000, 2000, 20, signal_share=0.95, rng=0)[0]
    if name in ("mouse_kl", "mouse_log"):
        d = np.load(data_dir / "scrna/scanpy_10x_mouse_10k_subset_counts.npz", allow_pickle=True)
        X = sp.csr_matrix((d["data"].astype(np.float64), d["indices"], d["indptr"]), shape=tuple(d["shape"]))
        if name == "mouse_log":
            totals = np.asarray(X.sum(axis=1)).ravel()
            X = sp.csr_matrix(sp.diags(np.median(totals) / np.maximum(totals, 1.0)) @ X)
            X.data = np.log1p(X.data)
        return X
    raise KeyError(name)


def gpu_data(name: str, device: str, scale: float = 1.0):
    """Synthetic GPU problems, generated on the device in float32 (seeded); ``scale`` shrinks both sides."""
    import torch

    g = torch.Generator(device=device).manual_seed(0)
    if name == "gpu_dense":
        n, m, k = int(50_000 * scale), int(10_000 * scale), 50
        W = torch.rand(n, k, generator=g, device=device)
        H = torch.rand(k, m, generator=g, device=device)
        X = W @ H
        X += 0.05 * X.mean() * torch.rand(n, m, generator=g, device=device)
        return X
    n, m, k, density = int(200_000 * scale), int(20_000 * scale), 20, 0.05
    W = torch.rand(n, k, generator=g, device=device)
    H = torch.rand(k, m, generator=g, device=device)
    crow, cols, vals = [torch.zeros(1, dtype=torch.int64, device=device)], [], []
    step = 5_000
    for s in range(0, n, step):
        keep = torch.rand(min(step, n - s), m, generator=g, device=device) < density
        r, c = keep.nonzero(as_tuple=True)
        rate = (W[s + r] * H[:, c].T).sum(dim=1) / k
        vals.append(torch.poisson(4.0 * rate, generator=g) + 1.0)
        cols.append(c)
        crow.append(crow[-1][-1] + torch.cumsum(keep.sum(dim=1), 0))
    return torch.sparse_csr_tensor(torch.cat(crow), torch.cat(cols), torch.cat(vals), size=(n, m))


# -- error measures --------------------------------------------------------------------------------

def _float64(a, like):
    """``a`` (NumPy or torch, any device) as a float64 array of ``like``'s backend and device."""
    if hasattr(like, "detach"):
        import torch

        return torch.as_tensor(a).detach().to(device=like.device, dtype=torch.float64)
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def error(X, W, H, loss: str) -> float:
    """FE in percent (Frobenius) or the generalized KL divergence, in float64 on X's device."""
    from nmfkit.backend import get_backend
    from nmfkit.losses import BetaDivergence

    be = get_backend(X)
    if hasattr(X, "detach"):
        X64 = X.double()
    else:
        X64 = X.astype(np.float64)
    W64, H64 = _float64(W, X64), _float64(H, X64)
    if loss == "fro":
        half = BetaDivergence(2.0).value(X64, W64, H64, backend=be)
        return 200.0 * be.to_float(half) / be.to_float(be.sq_norm(X64))
    return be.to_float(BetaDivergence(1.0).value(X64, W64, H64, backend=be))


# -- the product floor -----------------------------------------------------------------------------

def floor_ms(X, k: int, device: str, backend_name: str) -> float:
    """Median time of ``X @ H.T`` plus ``X.T @ W`` (the two products every sweep needs), in ms."""
    from nmfkit.backend import get_backend

    rng = np.random.default_rng(0)
    n, m = X.shape
    if backend_name == "torch":
        import torch

        be = get_backend(X)
        W = torch.as_tensor(rng.random((n, k)), dtype=X.dtype, device=X.device)
        H = torch.as_tensor(rng.random((k, m)), dtype=X.dtype, device=X.device)
    else:
        be = get_backend(X)
        W, H = rng.random((n, k)).astype(X.dtype), rng.random((k, m)).astype(X.dtype)
    XT = be.transpose(X)
    Ht = H.T

    def sync():
        if device == "cuda":
            import torch

            torch.cuda.synchronize()

    times = []
    for _ in range(7):
        sync()
        t0 = time.perf_counter()
        be.matmul(X, Ht)
        be.matmul(XT, W)
        sync()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times[2:]))


# -- contenders ------------------------------------------------------------------------------------

def _result(library, solver, device, reached, t_target, sweeps_target, final, total_s, sweeps, note="", **extra):
    return {"library": library, "solver": solver, "device": device, "reached": bool(reached),
            "seconds_to_target": t_target if reached else None, "sweeps_to_target": sweeps_target if reached else None,
            "final_error": final, "seconds_total": total_s, "sweeps": sweeps,
            "per_sweep_ms": 1e3 * total_s / sweeps if sweeps else None, "note": note, **extra}


RSCRIPT = r"""
suppressMessages({library(Matrix); library(RcppML)})
options(RcppML.threads = 1)
args <- commandArgs(trailingOnly = TRUE)
A <- readMM(args[1])
A <- if (args[3] == "sparse") as(A, "CsparseMatrix") else as.matrix(A)
t0 <- proc.time()[["elapsed"]]
m <- RcppML::nmf(A, as.integer(args[2]), tol = 1e-5, maxit = 10000, seed = 0, verbose = FALSE)
t1 <- proc.time()[["elapsed"]]
out <- args[4]
writeBin(as.double(m$w %*% diag(m$d, nrow = length(m$d))), file.path(out, "w.bin"))
writeBin(as.double(m$h), file.path(out, "h.bin"))
writeLines(c(as.character(t1 - t0), as.character(m$iter), as.character(packageVersion("RcppML"))),
           file.path(out, "info.txt"))
"""


def rcppml_available() -> bool:
    import shutil

    if shutil.which("Rscript") is None:
        return False
    proc = subprocess.run(["Rscript", "-e", "suppressMessages(library(RcppML))"], capture_output=True)
    return proc.returncode == 0


def run_rcppml(X, spec):
    """RcppML's nmf at tol = 1e-5 on one thread; its time measured inside R, reading excluded."""
    import scipy.io

    n, m = X.shape
    k = spec["rank"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.mtx"
        scipy.io.mmwrite(str(path), sp.coo_matrix(X))
        script = Path(tmp) / "run.R"
        script.write_text(RSCRIPT)
        env = dict(os.environ, OMP_NUM_THREADS="1")
        subprocess.run(["Rscript", str(script), str(path), str(k), "sparse" if sp.issparse(X) else "dense", tmp],
                       check=True, env=env)
        W = np.fromfile(Path(tmp) / "w.bin").reshape((k, n)).T
        H = np.fromfile(Path(tmp) / "h.bin").reshape((m, k)).T
        seconds, iters, version = (Path(tmp) / "info.txt").read_text().split()
    final = error(X, W, H, spec["loss"])
    return _result("RcppML", "ALS (CD NNLS), tol=1e-5", "cpu", True, float(seconds), int(float(iters)), final,
                   float(seconds), int(float(iters)), note=f"RcppML {version}, one thread; defines the target",
                   version=version)


def run_default(X, spec, target, budget, label="default call"):
    """nmfkit's default call (rank and loss only, plus random_state), stopped by a callback at the target."""
    import warnings as _w

    from nmfkit import nmf
    from nmfkit.backend import get_backend

    backend = get_backend(X)
    beta = 2.0 if spec["loss"] == "fro" else 1.0
    sq = backend.to_float(backend.sq_norm(X)) if spec["loss"] == "fro" else None
    hit = {}

    def callback(info):
        if info.objective is not None:
            value = 200.0 * info.objective / sq if sq is not None else info.objective
            if value <= target:
                hit.update(seconds=time.perf_counter() - t0, sweeps=info.n_iter)
                return True
        return False

    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        nmf(X, spec["rank"], beta_loss=beta, random_state=0, max_iter=2)  # first-call costs (imports) out
        t0 = time.perf_counter()
        r = nmf(X, spec["rank"], beta_loss=beta, random_state=0, callback=callback, max_time=budget)
    total = time.perf_counter() - t0
    # the same call without the callback: does the default converge by itself, and where?
    with _w.catch_warnings(record=True) as caught_alone:
        _w.simplefilter("always")
        t1 = time.perf_counter()
        alone = nmf(X, spec["rank"], beta_loss=beta, random_state=0, max_time=budget)
        alone_s = time.perf_counter() - t1
    warned = [str(w.message).split(":")[0] for w in caught_alone if "Warning" in type(w.message).__name__
              and "all-zero" not in str(w.message)]
    note = (f"alone: {alone.stop_reason} after {alone.n_iter} sweeps, {alone_s:.2f} s, error "
            f"{error(X, alone.W, alone.H, spec['loss']):.6g}" + (f"; warned: {warned}" if warned else ""))
    del caught
    return _result("nmfkit", label, "cpu", "seconds" in hit, hit.get("seconds"), hit.get("sweeps"),
                   error(X, r.W, r.H, spec["loss"]), total, r.n_iter, note=note,
                   nmfkit_solver=repr(r.extras["solver"]), extrapolation=repr(r.extras["extrapolation"]),
                   default_converged=bool(alone.converged), default_seconds=alone_s)


def run_nmfkit(X, spec, target, budget, device, solver, extrapolate, label):
    from sklearn.exceptions import ConvergenceWarning

    from nmfkit import nmf
    from nmfkit.backend import get_backend

    backend = get_backend(X)
    beta = 2.0 if spec["loss"] == "fro" else 1.0
    sq = backend.to_float(backend.sq_norm(X)) if spec["loss"] == "fro" else None
    hit = {}
    t0 = time.perf_counter()

    def to_error(obj):
        return 200.0 * obj / sq if spec["loss"] == "fro" else obj

    def callback(info):
        if info.objective is not None and to_error(info.objective) <= target:
            hit.update(seconds=time.perf_counter() - t0, sweeps=info.n_iter)
            return True
        return False

    def sync():
        if device == "cuda":
            import torch

            torch.cuda.synchronize()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sync()
        t0 = time.perf_counter()
        r = nmf(X, spec["rank"], beta_loss=beta, solver=solver, extrapolate=extrapolate, init="nndsvda",
                random_state=0, stop="fixed", max_iter=10**7, max_time=budget, callback=callback,
                record_every=1 if extrapolate else None)  # extrapolation's objective is free
        sync()
    total = time.perf_counter() - t0
    final = error(X, r.W, r.H, spec["loss"])
    return _result("nmfkit", label, device, "seconds" in hit, hit.get("seconds"), hit.get("sweeps"), final,
                   total, r.n_iter, dtype=str(r.W.dtype).replace("torch.", ""), loop_seconds=r.elapsed,
                   per_sweep_ms=1e3 * r.elapsed / r.n_iter)


def run_sklearn(X, spec, target, budget, solver, chunk, defaults_only=False):
    from sklearn.decomposition import NMF as SkNMF
    from sklearn.exceptions import ConvergenceWarning

    beta = "frobenius" if spec["loss"] == "fro" else "kullback-leibler"
    W = H = None
    clock, sweeps, value = 0.0, 0, float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if defaults_only:
            model = SkNMF(spec["rank"], solver=solver, beta_loss=beta, random_state=0)
            t0 = time.perf_counter()
            W = model.fit_transform(X)
            clock = time.perf_counter() - t0
            value = error(X, W, model.components_, spec["loss"])
            return _result("scikit-learn", solver, "cpu", True, clock, model.n_iter_, value, clock, model.n_iter_,
                           note="its defaults (max_iter=200, tol=1e-4); defines the target")
        while clock < budget:
            model = SkNMF(spec["rank"], solver=solver, beta_loss=beta, init="custom" if W is not None else None,
                          tol=0.0, max_iter=chunk, random_state=0)
            t0 = time.perf_counter()
            W = model.fit_transform(X, W=W, H=H)
            clock += time.perf_counter() - t0
            H = model.components_
            sweeps += model.n_iter_
            value = error(X, W, H, spec["loss"])
            if value <= target:
                break
    reached = value <= target
    return _result("scikit-learn", solver, "cpu", reached, clock, sweeps, value, clock, sweeps,
                   note="" if reached else f"budget of {budget:.0f} s spent")


def run_nmf_torch(X, spec, target, device, algo):
    import torch
    from nmf.nmf_models import NMFBatchHALS, NMFBatchMU, NMFBatchNnlsBpp

    beta = 2.0 if spec["loss"] == "fro" else 1.0
    dtype = torch.float64 if device == "cpu" else torch.float32
    Xt = torch.as_tensor(X.toarray() if sp.issparse(X) else X) if not hasattr(X, "detach") else X
    if Xt.layout != torch.strided:
        Xt = Xt.to_dense()
    Xt = Xt.to(device=device, dtype=dtype)
    cls = {"hals": NMFBatchHALS, "mu": NMFBatchMU, "bpp": NMFBatchNnlsBpp}[algo]
    kw = dict(n_components=spec["rank"], init="nndsvdar", beta_loss=beta, tol=1e-4, n_jobs=-1, random_state=0,
              alpha_W=0.0, l1_ratio_W=0.0, alpha_H=0.0, l1_ratio_H=0.0, fp_precision=dtype,
              device_type=device, max_iter=500)
    if algo == "hals":
        kw.update(hals_tol=0.05, hals_max_iter=200)
    model = cls(**kw)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    import contextlib
    import io

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        Hs = model.fit_transform(Xt)
    if device == "cuda":
        torch.cuda.synchronize()
    total = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 1e6 if device == "cuda" else None
    sweeps = getattr(model, "num_iters", None)
    final = error(X, Hs, model.W, spec["loss"])
    ok = bool(np.isfinite(final)) and (target is None or final <= target)
    return _result("nmf-torch", algo, device, ok, total, sweeps, final, total, sweeps or 0,
                   note="own stopping rule (tol=1e-4, max_iter=500)" + ("" if np.isfinite(final) else "; ended in NaN"),
                   peak_mb=peak, dtype=str(dtype).replace("torch.", ""))


def run_torchnmf(X, spec, target, device):
    import torch
    from torchnmf.nmf import NMF as TNMF

    beta = 2.0 if spec["loss"] == "fro" else 1.0
    Xt = X if hasattr(X, "detach") else torch.as_tensor(X.toarray() if sp.issparse(X) else X)
    if Xt.layout == torch.sparse_csr:
        Xt = Xt.to_sparse_coo()
    Xt = Xt.to(device=device, dtype=torch.float32 if device == "cuda" else torch.float64)
    torch.manual_seed(0)
    model = TNMF(Xt.shape, rank=spec["rank"]).to(device=device, dtype=Xt.dtype)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    sweeps = model.fit(Xt, beta=beta, tol=1e-4, max_iter=200)  # its updates use autograd
    if device == "cuda":
        torch.cuda.synchronize()
    total = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 1e6 if device == "cuda" else None
    final = error(X, model.H.detach(), model.W.detach().T, spec["loss"])
    ok = bool(np.isfinite(final)) and (target is None or final <= target)
    return _result("torchnmf", "mu", device, ok, total, sweeps, final, total, sweeps,
                   note="own stopping rule (tol=1e-4, max_iter=200)", peak_mb=peak)


def traced_peak_mb(fn) -> float:
    """Peak bytes allocated through NumPy while ``fn`` runs (tracemalloc), in MB."""
    from nmfkit.testing import peak_traced_bytes

    return peak_traced_bytes(fn) / 1e6


def input_mb(X) -> float:
    if sp.issparse(X):
        return (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 1e6
    if hasattr(X, "detach"):
        if X.layout != __import__("torch").strided:
            return sum(t.element_size() * t.numel() for t in (X.values(), X.crow_indices(), X.col_indices())) / 1e6
        return X.element_size() * X.numel() / 1e6
    return X.nbytes / 1e6


def sweep_costs(X, spec, floor: float, sweeps: int = 10) -> list[dict]:
    """ms per sweep of every nmfkit solver (NumPy) over ``sweeps`` sweeps, and its ratio to the product floor."""
    from sklearn.exceptions import ConvergenceWarning

    from nmfkit import nmf
    from nmfkit.solvers import HALS

    fro = spec["loss"] == "fro"
    solvers = ([("hals (plain, alpha=0)", HALS(alpha=0.0)), ("hals (accelerated)", HALS()), ("gcd", "gcd"),
                ("anls-bpp", "anls-bpp"), ("anls-pg", "anls-pg"), ("mu", "mu")] if fro else [("mu", "mu")])
    rows = []
    for label, solver in solvers:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            r = nmf(X, spec["rank"], beta_loss=2.0 if fro else 1.0, solver=solver, init="nndsvda", random_state=0,
                    stop="fixed", max_iter=sweeps, record_every=sweeps)
        # the loop clock includes one objective evaluation at the start and one at the end
        ms = 1e3 * r.elapsed / r.n_iter
        rows.append({"solver": label, "ms_per_sweep": ms, "ratio_to_floor": ms / floor})
    return rows


# -- one problem -----------------------------------------------------------------------------------

def available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run_problem(name: str, args) -> dict:
    import torch  # noqa: F401  (the torch backend and the peers)

    from nmfkit.solvers import HALS

    spec = PROBLEMS[name]
    cuda = args.device == "cuda"
    out = {"problem": name, "rank": spec["rank"], "loss": spec["loss"], "contenders": [], "floor_ms": {}}
    if spec["gpu_only"]:
        if not cuda:
            out["measured"] = False
            out["reason"] = "GPU problem; run with --device cuda on a machine with a CUDA GPU"
            return out
        X = gpu_data(name, "cuda")
    else:
        X = load(name, args.data)
    out["shape"] = list(X.shape)
    out["input_mb"] = input_mb(X)
    fro = spec["loss"] == "fro"
    nmfkit_solver = HALS() if fro else "mu"
    extrap = fro
    label = "hals + extrapolation" if fro else "mu"
    print(f"[{name}] {tuple(X.shape)}, rank {spec['rank']}", flush=True)

    # the target: a number, or the error where a named peer stops
    target = spec["target"]
    rows = out["contenders"]
    rcppml = (name in ("cbcl", "mouse_log")) and not cuda and rcppml_available()
    if isinstance(target, str):
        if target == "rcppml":
            if not rcppml:
                out["measured"] = False
                out["reason"] = "the target comes from RcppML, and Rscript with RcppML is not installed"
                return out
            ref = run_rcppml(X, spec)
        elif target == "scikit-learn mu":
            ref = run_sklearn(X, spec, None, args.budget, "mu", args.chunk, defaults_only=True)
        elif target == "nmf-torch hals" and available("nmf"):
            ref = run_nmf_torch(X if not cuda else X, spec, None, "cuda" if cuda else "cpu", "hals")
        elif target == "torchnmf" and available("torchnmf"):
            ref = run_torchnmf(X, spec, None, "cuda")
        else:
            out["measured"] = False
            out["reason"] = f"the target comes from {target}, which is not installed"
            return out
        rows.append(ref)
        out["target"] = ref["final_error"]
        out["target_from"] = target
        print(f"[{name}]   target from {target}: {ref['final_error']:.6g} in {ref['seconds_total']:.2f} s", flush=True)
    else:
        out["target"] = target
    target = out["target"]

    # nmfkit on the device asked for
    if cuda:
        import torch

        Xc = X if hasattr(X, "detach") else torch.as_tensor(X.toarray() if sp.issparse(X) else X)
        if not hasattr(X, "detach") and sp.issparse(X):
            Xc = torch.sparse_csr_tensor(torch.as_tensor(X.indptr, dtype=torch.int64),
                                         torch.as_tensor(X.indices, dtype=torch.int64),
                                         torch.as_tensor(X.data), size=X.shape)
        Xc = Xc.to(device="cuda", dtype=torch.float32)
        out["floor_ms"]["torch-cuda"] = floor_ms(Xc, spec["rank"], "cuda", "torch")
        torch.cuda.reset_peak_memory_stats()
        res = run_nmfkit(Xc, spec, target, args.budget, "cuda", nmfkit_solver, extrap, label)
        res["peak_mb"] = torch.cuda.max_memory_allocated() / 1e6
        res["floor_ms"] = out["floor_ms"]["torch-cuda"]
        rows.append(res)
        if fro:  # extrapolation does not win everywhere: accelerated HALS alone too
            res = run_nmfkit(Xc, spec, target, args.budget, "cuda", HALS(), False, "hals (accelerated)")
            res["floor_ms"] = out["floor_ms"]["torch-cuda"]
            rows.append(res)
    if not spec["gpu_only"]:
        out["floor_ms"]["numpy"] = floor_ms(X, spec["rank"], "cpu", "numpy")
        res = run_default(X, spec, target, args.budget)
        res["floor_ms"] = out["floor_ms"]["numpy"]
        rows.append(res)
        print(f"[{name}]   nmfkit default call: reached={res['reached']} in {res['seconds_to_target']} s; "
              f"{res['note']}", flush=True)
        if rcppml and spec["target"] != "rcppml":  # a second target: RcppML's error
            ref = run_rcppml(X, spec)
            mine = run_default(X, spec, ref["final_error"], args.budget, label="default call to RcppML's error")
            out["rcppml"] = {"rcppml": ref, "nmfkit": mine}
            print(f"[{name}]   RcppML: {ref['final_error']:.6g} in {ref['seconds_total']:.2f} s; nmfkit default "
                  f"call: {mine['seconds_to_target']} s", flush=True)
        if name == "mouse_log":
            return out  # RcppML against the default call only
        res = run_nmfkit(X, spec, target, args.budget, "cpu", nmfkit_solver, extrap, label)
        res["floor_ms"] = out["floor_ms"]["numpy"]

        def short():
            from nmfkit import nmf

            nmf(X, spec["rank"], beta_loss=2.0 if fro else 1.0, solver=nmfkit_solver, extrapolate=extrap,
                init="nndsvda", random_state=0, stop="fixed", max_iter=5)

        res["peak_mb"] = traced_peak_mb(short)
        rows.append(res)
        print(f"[{name}]   nmfkit {label}: reached={res['reached']} in {res['seconds_to_target']} s", flush=True)
        if fro:  # extrapolation does not win everywhere: accelerated HALS alone too
            res = run_nmfkit(X, spec, target, args.budget, "cpu", HALS(), False, "hals (accelerated)")
            res["floor_ms"] = out["floor_ms"]["numpy"]
            rows.append(res)
            print(f"[{name}]   nmfkit hals (accelerated): reached={res['reached']}", flush=True)
        out["sweep_costs"] = sweep_costs(X, spec, out["floor_ms"]["numpy"])
        # nmfkit's torch backend on the CPU, for information
        if not cuda and not args.skip_torch_cpu:
            import torch

            if sp.issparse(X):
                Xt = torch.sparse_csr_tensor(torch.as_tensor(X.indptr, dtype=torch.int64),
                                             torch.as_tensor(X.indices, dtype=torch.int64),
                                             torch.as_tensor(X.data), size=X.shape)
            else:
                Xt = torch.as_tensor(X)
            out["floor_ms"]["torch-cpu"] = floor_ms(Xt, spec["rank"], "cpu", "torch")
            res = run_nmfkit(Xt, spec, target, args.budget, "cpu", nmfkit_solver, extrap, label + " (torch)")
            res["floor_ms"] = out["floor_ms"]["torch-cpu"]
            rows.append(res)
            print(f"[{name}]   nmfkit torch-cpu: reached={res['reached']} in {res['seconds_to_target']} s", flush=True)
        # scikit-learn
        sk_solvers = ["cd", "mu"] if fro else []
        if not fro and not any(r["library"] == "scikit-learn" for r in rows):
            sk_solvers = ["mu"]
        for s in sk_solvers:
            res = run_sklearn(X, spec, target, args.budget, s, args.chunk)
            res["floor_ms"] = out["floor_ms"]["numpy"]
            rows.append(res)
            print(f"[{name}]   scikit-learn {s}: reached={res['reached']} in {res['seconds_total']:.1f} s", flush=True)
        for r in rows:
            if r["library"] == "scikit-learn" and "peak_mb" not in r:
                solver = r["solver"]

                def short_sk(solver=solver):
                    from sklearn.decomposition import NMF as SkNMF
                    from sklearn.exceptions import ConvergenceWarning

                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        SkNMF(spec["rank"], solver=solver, beta_loss="frobenius" if fro else "kullback-leibler",
                              max_iter=5, random_state=0).fit(X)

                r["peak_mb"] = traced_peak_mb(short_sk)
                r["floor_ms"] = out["floor_ms"]["numpy"]
    # nmf-torch and torchnmf
    device = "cuda" if cuda else "cpu"
    if available("nmf"):
        algos = ["hals", "bpp", "mu"] if fro else ["mu"]
        for algo in algos:
            if any(r["library"] == "nmf-torch" and r["solver"] == algo and r["device"] == device for r in rows):
                continue
            if not fro and device == "cpu" and not args.slow_peers:
                rows.append(_result("nmf-torch", algo, device, False, None, None, None, None, 0,
                                    note="not run: dense-only KL on the CPU takes minutes (--slow-peers runs it)"))
                continue
            res = run_nmf_torch(X, spec, target, device, algo)
            rows.append(res)
            print(f"[{name}]   nmf-torch {algo} ({device}): final {res['final_error']:.6g} in "
                  f"{res['seconds_total']:.1f} s", flush=True)
    if available("torchnmf") and cuda and not any(r["library"] == "torchnmf" for r in rows):
        rows.append(run_torchnmf(X, spec, target, "cuda"))
    return out


# -- report ----------------------------------------------------------------------------------------

def fmt(v, spec="{:.2f}"):
    return "n/a" if v is None else spec.format(v)


def markdown(report: dict) -> str:
    lines = [f"# Performance: nmfkit and its peers ({report['device']})", "",
             f"Machine: {report['machine']}. GPU: {report['gpu']}.", "",
             f"Command: `{report['command']}`", "",
             f"Versions: {', '.join(f'{k} {v}' for k, v in report['versions'].items())}.", ""]
    for prob in report["problems"]:
        lines.append(f"## {prob['problem']}")
        lines.append("")
        if prob.get("measured") is False:
            lines += [f"Not measured: {prob['reason']}.", ""]
            continue
        unit = "FE (%)" if prob["loss"] == "fro" else "KL divergence"
        src = f" (where {prob['target_from']} stops)" if prob.get("target_from") else ""
        lines += [f"Shape {tuple(prob['shape'])}, rank {prob['rank']}, input {prob['input_mb']:.1f} MB; "
                  f"target {unit} {prob['target']:.6g}{src}. Product floor per sweep (ms): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in prob["floor_ms"].items()) + ".", "",
                  "| library | solver | device | reached | time to target (s) | sweeps | final error | "
                  "per sweep (ms) | / floor | peak (MB) | nmfkit's default call is faster by | note |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        reached = [r for r in prob["contenders"] if r["library"] == "nmfkit" and r["reached"]]
        default = [r for r in reached if r["solver"] == "default call"]
        ours = default[0] if default else (min(reached, key=lambda r: r["seconds_to_target"]) if reached else None)
        for r in prob["contenders"]:
            floor = r.get("floor_ms")
            ratio = r["per_sweep_ms"] / floor if floor and r.get("per_sweep_ms") else None
            speed = None
            if ours is not None and r["library"] != "nmfkit" and r["seconds_total"]:
                t = r["seconds_to_target"] if r["reached"] else r["seconds_total"]
                speed = ("" if r["reached"] else "> ") + f"{t / ours['seconds_to_target']:.1f}x"
            lines.append(
                f"| {r['library']} | {r['solver']} | {r['device']} | {'yes' if r['reached'] else 'no'} | "
                f"{fmt(r['seconds_to_target'])} | {fmt(r['sweeps_to_target'] or r['sweeps'], '{}')} | "
                f"{fmt(r['final_error'], '{:.6g}')} | {fmt(r.get('per_sweep_ms'))} | {fmt(ratio)} | "
                f"{fmt(r.get('peak_mb'), '{:.1f}')} | {speed or ''} | {r.get('note', '')} |")
        lines.append("")
        if prob.get("rcppml"):
            a, b = prob["rcppml"]["rcppml"], prob["rcppml"]["nmfkit"]
            ratio = (f"{a['seconds_total'] / b['seconds_to_target']:.1f}x" if b["reached"] else "not reached")
            lines += [f"Against RcppML ({a['note']}): RcppML reaches {a['final_error']:.6g} in "
                      f"{a['seconds_total']:.2f} s ({a['sweeps']} iterations); nmfkit's default call reaches it in "
                      f"{fmt(b['seconds_to_target'])} s ({b['sweeps_to_target']} sweeps): {ratio}.", ""]
        if prob.get("sweep_costs"):
            lines += ["One sweep of each nmfkit solver (NumPy, 10 sweeps from NNDSVDa, two objective "
                      "evaluations included) against the product floor:", "",
                      "| solver | ms per sweep | / floor |", "|---|---|---|"]
            lines += [f"| {c['solver']} | {c['ms_per_sweep']:.2f} | {c['ratio_to_floor']:.2f} |"
                      for c in prob["sweep_costs"]]
            lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="*", default=["cbcl", "orl", "dense", "mouse_kl", "mouse_log",
                                                          "gpu_dense", "gpu_sparse_kl"])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per contender and problem")
    parser.add_argument("--chunk", type=int, default=10, help="scikit-learn sweeps per warm-started chunk")
    parser.add_argument("--skip-torch-cpu", action="store_true", help="skip nmfkit's torch backend on the CPU")
    parser.add_argument("--slow-peers", action="store_true", help="also run nmf-torch's dense KL on the CPU")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        res = run_problem(args.one, args)
        args.result.write_text(json.dumps(res, default=float))
        return 0
    if not args.data.is_dir():
        print(f"perf: data folder {args.data} not found; nothing to do.", file=sys.stderr)
        return 0
    import sklearn
    import torch

    import nmfkit

    versions = {"nmfkit": nmfkit.__version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__,
                "torch": torch.__version__}
    for mod, dist in (("nmf", "nmf-torch"), ("torchnmf", "torchnmf")):
        if available(mod):
            from importlib.metadata import version

            versions[dist] = version(dist)
    if rcppml_available():
        proc = subprocess.run(["Rscript", "-e", "cat(as.character(packageVersion('RcppML')))"], capture_output=True,
                              text=True)
        versions["RcppML"] = proc.stdout.strip()
    cuda = torch.cuda.is_available()
    if args.device == "cuda" and not cuda:
        print("perf: --device cuda but torch.cuda.is_available() is False.", file=sys.stderr)
        return 2
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    report = {"device": args.device, "machine": f"{platform.machine()}, {os.cpu_count()} cores, BLAS threads: {threads}, "
              f"load average at start {os.getloadavg()[0]:.2f}",
              "gpu": torch.cuda.get_device_name(0) if cuda and args.device == "cuda"
              else "not measured (no CUDA GPU at hand)" if not cuda else "not used",
              "versions": versions, "command": f"OMP_NUM_THREADS={threads} python benchmarks/perf/run.py "
              + " ".join(sys.argv[1:]), "problems": []}
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.problems:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "result.json"
            cmd = [sys.executable, __file__, "--one", name, "--result", str(path), "--device", args.device,
                   "--data", str(args.data), "--budget", str(args.budget), "--chunk", str(args.chunk)]
            cmd += ["--skip-torch-cpu"] if args.skip_torch_cpu else []
            cmd += ["--slow-peers"] if args.slow_peers else []
            proc = subprocess.run(cmd)
            if proc.returncode != 0 or not path.exists():
                report["problems"].append({"problem": name, "measured": False,
                                           "reason": f"the problem's process failed (exit {proc.returncode})"})
                continue
            report["problems"].append(json.loads(path.read_text()))
        stem = args.out / f"perf_{args.device}"
        write_results(stem, report, markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
