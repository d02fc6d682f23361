"""The failures a hostile tester found at the edges (one test each), and the CLI under faults.

Numbers in the test names follow the list in the issue that reported them:
1 a finished fit thrown away, 2 silent NaN, 3 a survey reason that contradicts
its table, 4 a usage table that depends on the scaling of W and H, 5 MATLAB
images drawn rotated, 6 masked arrays ignored, 7 leftovers, modes, Ctrl-C and
broken pipes, 8 the smaller ones.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from nmfkit import InvalidInputError, consensus, deep_nmf, nmf
from nmfkit.cli import component_usage, main

pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning",
                                        "ignore::nmfkit._validation.DataWarning")


def cli(args, capsys):
    rc = main([str(a) for a in args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def strict_json(path):
    def reject(constant):
        raise AssertionError(f"{path} is not strict JSON: {constant}")

    return json.loads(path.read_text(), parse_constant=reject)


def counts(n=40, m=25, seed=0, dtype=np.int64):
    rng = np.random.default_rng(seed)
    return rng.poisson(rng.gamma(1.0, 2.0, (n, 1)) * rng.gamma(1.0, 1.0, (1, m))).astype(dtype)


# -- 1. a finished fit is never thrown away -------------------------------------------------------
@pytest.mark.parametrize("fmt", ["npy", "mtx", "csv"])
def test_1_integer_data_with_kl_are_fitted_and_written(tmp_path, capsys, fmt):
    X = counts()
    path = tmp_path / f"x.{fmt}"
    if fmt == "npy":
        np.save(path, X)
    elif fmt == "mtx":
        scipy.io.mmwrite(str(path), sp.coo_matrix(X))
    else:
        np.savetxt(path, X, delimiter=",", fmt="%d")
    rc, _, err = cli(["fit", path, "--rank", 3, "--loss", "kl", "--out", tmp_path / "o", "--quiet"], capsys)
    assert rc == 0, err
    summary = strict_json(tmp_path / "o" / "summary.json")
    W = np.loadtxt(tmp_path / "o" / "W.tsv", skiprows=1, usecols=(1, 2, 3))
    H = np.loadtxt(tmp_path / "o" / "H.tsv", skiprows=1, usecols=range(1, X.shape[1] + 1))
    expected = np.linalg.norm(X - W @ H) / np.linalg.norm(X)
    assert summary["relative_error"] == pytest.approx(expected, rel=1e-6)


def test_1_10x_h5_with_kl(tmp_path, capsys, data_dir):
    pytest.importorskip("h5py", reason="h5py is missing: pip install '.[formats]'")
    path = data_dir / "scrna" / "scanpy_10x_v3_filtered_feature_bc_matrix_1107x507.h5"
    rc, _, err = cli(["fit", path, "--rank", 4, "--loss", "kl", "--max-iter", 50, "--out", tmp_path / "o",
                      "--quiet"], capsys)
    assert rc == 0, err
    assert 0 < strict_json(tmp_path / "o" / "summary.json")["relative_error"] < 1


def test_1_an_internal_error_is_a_bug_report_not_a_user_error(tmp_path, capsys, monkeypatch):
    import nmfkit.cli
    import nmfkit.cli.fit

    def broken(*args, **kwargs):
        raise TypeError("data type <class 'numpy.int32'> not inexact")  # what the old bug raised

    monkeypatch.setattr(nmfkit.cli._pipeline, "relative_error", broken)
    path = tmp_path / "x.npy"
    np.save(path, counts())
    rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "o", "--quiet"], capsys)
    assert rc == 1
    assert "Traceback" in err and "internal error (TypeError)" in err and "bug in nmfkit" in err
    assert "nmfkit: error:" not in err
    assert not (tmp_path / "o").exists()


def test_1_a_missing_extra_is_one_line_but_a_broken_nmfkit_module_is_a_bug(tmp_path, capsys, monkeypatch):
    import nmfkit.cli
    import nmfkit.cli.fit

    path = tmp_path / "x.npy"
    np.save(path, counts())

    def missing(*args, **kwargs):
        raise ModuleNotFoundError("the report needs matplotlib; pip install 'nmfkit[cli]'", name="matplotlib")

    monkeypatch.setattr(nmfkit.cli.fit, "fit_to_folder", missing)
    rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "o"], capsys)
    assert rc == 2 and err == "nmfkit: error: the report needs matplotlib; pip install 'nmfkit[cli]'\n"

    def broken(*args, **kwargs):
        raise ImportError("cannot import name 'helper' from 'nmfkit.io'", name="nmfkit.io")

    monkeypatch.setattr(nmfkit.cli.fit, "fit_to_folder", broken)
    rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "o"], capsys)
    assert rc == 1 and "Traceback" in err and "internal error (ImportError)" in err


def test_1_input_errors_stay_one_line(tmp_path, capsys):
    path = tmp_path / "x.csv"
    np.savetxt(path, -np.ones((3, 3)), delimiter=",")
    rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "o"], capsys)
    assert rc == 2 and err.startswith("nmfkit: error:") and err.count("\n") == 1 and "Negative" in err


# -- 2. no silent NaN -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e300, 1e200, 1e154, 1e-310])
@pytest.mark.parametrize("solver", ["auto", "anls-bpp", "mu", "gcd", "anls-pg"])
def test_2_extreme_scales_give_finite_factors(scale, solver):
    X = np.random.default_rng(0).random((30, 20)) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = nmf(X, 3, solver=solver, max_iter=100)
    assert np.all(np.isfinite(result.W)) and np.all(np.isfinite(result.H))
    WH = (result.W / scale) @ result.H
    assert np.linalg.norm(X / scale - WH) / np.linalg.norm(X / scale) < 0.6


def test_2_one_huge_cell_on_the_cli_gives_finite_factors_and_strict_json(tmp_path, capsys):
    X = np.random.default_rng(0).random((40, 30))
    X[3, 4] = 1e300
    path = tmp_path / "big.csv"
    np.savetxt(path, X, delimiter=",")
    rc, _, err = cli(["fit", path, "--rank", 3, "--out", tmp_path / "o", "--quiet"], capsys)
    assert rc == 0, err
    summary = strict_json(tmp_path / "o" / "summary.json")
    assert summary["objective"] is None or summary["objective"] >= 0
    assert 0 <= summary["relative_error"] < 1e-6  # the one cell is everything
    for name in ("W.tsv", "H.tsv"):
        assert "nan" not in (tmp_path / "o" / name).read_text().lower()


@pytest.mark.parametrize("call", [
    lambda X: consensus(X, 2, 3, max_iter=20),
    lambda X: deep_nmf(X, [3, 2], 1.0, max_iter=5, init_iter=5),
])
def test_2_methods_that_do_not_rescale_refuse_extreme_data(call):
    X = np.random.default_rng(0).random((20, 10)) * 1e300
    with pytest.raises(InvalidInputError, match=r"largest entry is 9\.97e\+299.*Divide X by a constant"):
        call(X)
    result = call((X / 1e300).astype(np.float32) * np.float32(1e12))  # float32 beyond its range: in float64
    assert np.all(np.isfinite(result.W)) and np.all(np.isfinite(result.H))


# -- 3: see tests/test_selection.py::test_stability_reason_cites_every_rank_that_fails -------------------

# -- 4. the usage table does not depend on how W and H share the scale ---------------------------------
def test_4_usage_is_invariant_to_the_scaling_of_w_and_h():
    rng = np.random.default_rng(0)
    W, H = rng.random((50, 4)), rng.random((4, 30))
    D = np.diag([1.0, 20.0, 0.05, 939.0])
    np.testing.assert_allclose(component_usage(W @ D, np.linalg.inv(D) @ H), component_usage(W, H))
    # the old table read W alone: rescaling a component changed which samples it "dominates"
    assert not np.array_equal(np.argmax(W @ D, axis=1), np.argmax(W, axis=1))
    np.testing.assert_array_equal(np.argmax(component_usage(W @ D, np.linalg.inv(D) @ H), axis=1),
                                  np.argmax(component_usage(W, H), axis=1))


def test_4_the_usage_caption_says_how_many_samples_it_shows(tmp_path, capsys):
    rc, _, err = cli(["demo", "--out", tmp_path / "d", "--rank", 4, "--max-iter", 30, "--quiet"], capsys)
    assert rc == 0, err
    html = (tmp_path / "d" / "report.html").read_text()
    assert "200 of 1797 samples, evenly spaced" in html
    assert (tmp_path / "d" / "usage.png").is_file()


# -- 5. MATLAB images are column-major ------------------------------------------------------------------
def test_5_matlab_images_are_drawn_upright(tmp_path, capsys):
    from nmfkit import plotting
    from nmfkit.cli import image_layout
    from nmfkit.io import read_matrix

    image = np.zeros((6, 4))
    image[:, 0] = 1.0  # a vertical bar on the left: sideways it would be a horizontal bar
    image[0, :] = 0.5
    columns = np.stack([image.ravel(order="F") * (1 + i) for i in range(5)], axis=1)  # pixels x images
    path = tmp_path / "faces.mat"
    scipy.io.savemat(path, {"V": columns})
    matrix = read_matrix(path, transpose=True)

    class Args:
        image_shape = "6x4"
        image_order = "auto"

    shape, order = image_layout(Args, matrix)
    assert (shape, order) == ((6, 4), "F")
    fig = plotting.plot_component_images(matrix.X[:1], shape, order=order)
    np.testing.assert_array_equal(np.asarray(fig.axes[0].images[0].get_array()), image)
    Args.image_order = "C"
    assert image_layout(Args, matrix)[1] == "C"
    rc, _, err = cli(["fit", path, "--transpose", "--image-shape", "6x4", "--rank", 2, "--out", tmp_path / "o",
                      "--quiet"], capsys)
    assert rc == 0, err
    assert "column by column" in (tmp_path / "o" / "report.html").read_text()


# -- 6. masked arrays -------------------------------------------------------------------------------------
def test_6_masked_entries_are_missing_whatever_they_hold():
    rng = np.random.default_rng(0)
    X = rng.random((30, 12))
    hidden = rng.random(X.shape) < 0.1
    Xm = np.ma.masked_array(np.where(hidden, -7.0, X), mask=hidden)  # negatives under the mask
    before = Xm.copy()
    a = nmf(Xm, 3, random_state=0)
    b = nmf(np.where(hidden, 0.0, X), 3, mask=~hidden, random_state=0)
    np.testing.assert_array_equal(a.W, b.W)
    unmasked = nmf(np.where(hidden, 0.0, X), 3, random_state=0)
    assert not np.allclose(a.W, unmasked.W)  # the mask changed the fit
    np.testing.assert_array_equal(np.ma.getdata(Xm), np.ma.getdata(before))
    with pytest.raises(InvalidInputError, match="masked array with .* masked entries.*cannot leave"):
        consensus(Xm, 2, 3)
    assert nmf(np.ma.masked_array(X, mask=False), 3, random_state=0).W.shape == (30, 3)


# -- 7. leftovers, modes, interrupts, pipes ---------------------------------------------------------------
def test_7_a_rerun_removes_what_a_killed_run_left(tmp_path, capsys):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".res.{dead}.x1y2z3.tmp"
    stale.mkdir()
    (stale / "W.tsv").write_text("half")
    old = tmp_path / f".res.old-{dead}"
    old.mkdir()
    live = tmp_path / f".res.{os.getppid()}.abc.tmp"  # a running process's folder is never touched
    live.mkdir()
    path = tmp_path / "x.npy"
    np.save(path, counts())
    rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "res", "--quiet"], capsys)
    assert rc == 0, err
    assert not stale.exists() and not old.exists() and live.exists()


def test_7_kill_during_the_fit_then_a_rerun_leaves_no_temporary_folder(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).random((400, 300)))
    out = tmp_path / "res"
    args = [sys.executable, "-m", "nmfkit", "fit", str(path), "--rank", "20", "--solver", "mu", "--tol", "0",
            "--max-iter", "100000", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".res.*.tmp")) and time.time() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".res.*.tmp")), "the run never created its temporary folder"
    proc.kill()
    proc.wait()
    assert list(tmp_path.glob(".res.*.tmp")) and not out.exists()  # what kill -9 leaves
    done = subprocess.run([*args[:-5], "--max-iter", "20", "--out", str(out), "--quiet"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob(".res.*")) and out.is_dir()


def test_7_kill_while_writing_keeps_the_old_output_and_is_cleaned_up(tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, counts())
    out = tmp_path / "res"
    assert cli(["fit", path, "--rank", 2, "--out", out, "--quiet"], capsys)[0] == 0
    before = (out / "W.tsv").read_text()

    # the process dies while writing the report (os._exit: no cleanup runs, as with kill -9)
    code = ("import sys, nmfkit.cli, nmfkit.report, os\n"
            "nmfkit.report.Report.render = lambda self: os._exit(9)\n"
            f"sys.exit(nmfkit.cli.main(['fit', {str(path)!r}, '--rank', '3', '--out', {str(out)!r}, '--force', "
            "'--quiet']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 9
    assert (out / "W.tsv").read_text() == before  # the old output is intact
    assert list(tmp_path.glob(".res.*.tmp"))  # and the half-written folder is left...
    assert cli(["fit", path, "--rank", 3, "--out", out, "--force", "--quiet"], capsys)[0] == 0
    assert not list(tmp_path.glob(".res.*"))  # ...until the next run removes it
    assert (out / "W.tsv").read_text() != before


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_7_output_folders_follow_the_umask(tmp_path, capsys, umask):
    path = tmp_path / "x.npy"
    np.save(path, counts())
    old = os.umask(umask)
    try:
        rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "o", "--quiet"], capsys)
    finally:
        os.umask(old)
    assert rc == 0, err
    assert (tmp_path / "o").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (tmp_path / "o" / "W.tsv").stat().st_mode & 0o777 == 0o666 & ~umask


def _loading_numpy(pid):
    try:
        with open(f"/proc/{pid}/maps") as fh:
            return "numpy" in fh.read()
    except OSError:
        return False


@pytest.mark.parametrize("launcher", ["module", "script"])
@pytest.mark.parametrize("phase", ["loading", "fitting"])
def test_7_ctrl_c_at_any_point_exits_130_with_one_line(tmp_path, phase, launcher):
    import shutil

    script = shutil.which("nmfkit", path=os.path.dirname(sys.executable))
    if launcher == "script" and script is None:
        pytest.skip("the nmfkit console script is not installed beside this Python")
    if phase == "loading" and not os.path.exists("/proc/self/maps"):
        pytest.skip("needs /proc to see when numpy starts loading")
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).random((300, 200)))
    command = [sys.executable, "-m", "nmfkit"] if launcher == "module" else [script]
    proc = subprocess.Popen([*command, "fit", str(path), "--rank", "10", "--solver", "mu",
                             "--tol", "0", "--max-iter", "1000000", "--out", str(tmp_path / "o")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # while numpy and scipy load (nmfkit's own import loads neither), or once the fit writes its folder
    started = time.time()
    while time.time() - started < 60 and proc.poll() is None:
        if _loading_numpy(proc.pid) if phase == "loading" else list(tmp_path.glob(".o.*.tmp")):
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    lines = [line for line in err.splitlines() if not line.startswith("nmfkit: sweep")]
    assert proc.returncode == 130, err
    assert lines == ["nmfkit: interrupted; no output was written."], err
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".o.*"))


def test_7_once_nmfkit_says_interrupted_the_exit_status_is_130(tmp_path):
    """Under ``python -m``, an interrupt during some imports used to end as death by SIGINT (-2) after our line."""
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).random((300, 200)))
    said = 0
    for delay in (0.08, 0.1, 0.12, 0.15, 0.2, 0.3):
        proc = subprocess.Popen([sys.executable, "-m", "nmfkit", "fit", str(path), "--rank", "10", "--tol", "0",
                                 "--max-iter", "1000000", "--out", str(tmp_path / "o")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if "nmfkit: interrupted" in err:  # (an interrupt before nmfkit's code runs is Python's own)
            said += 1
            assert proc.returncode == 130, (delay, proc.returncode, err)
    assert said, "no interrupt reached nmfkit's code"


def test_7_a_swallowed_ctrl_c_still_stops_the_command(tmp_path, capsys, monkeypatch):
    """Ctrl-C while numpy loads comes out as an ImportError, which fallbacks swallow; the signal is remembered."""
    import nmfkit.cli
    import nmfkit.cli.fit
    from nmfkit import _interrupt

    monkeypatch.setattr(_interrupt, "_received", [signal.SIGINT])
    with pytest.raises(KeyboardInterrupt):
        nmfkit.cli.Progress(10, quiet=True)(None)  # the fit's callback stops a fit that kept running

    def import_interrupted(*args, **kwargs):
        raise ImportError("numpy._core.multiarray failed to import (PyCapsule_Import could not import module)")

    monkeypatch.setattr(nmfkit.cli.fit, "fit_to_folder", import_interrupted)
    path = tmp_path / "x.npy"
    np.save(path, counts())
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # (report() would ignore SIGINT in pytest)
    rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "o"], capsys)
    assert rc == 130 and err == "nmfkit: interrupted; no output was written.\n"


def test_7_a_closed_pipe_ends_quietly(capsys, monkeypatch):
    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise OSError("no file descriptor")

    monkeypatch.setattr(sys, "stdout", Closed())
    rc = main(["datasets"])
    monkeypatch.undo()
    assert rc == 141
    assert capsys.readouterr().err == ""


def test_7_datasets_into_head_prints_no_error():
    proc = subprocess.run(f"{sys.executable} -m nmfkit datasets | head -1", shell=True, capture_output=True,
                          text=True)
    assert proc.stdout.count("\n") == 1 and proc.stderr == ""


# -- 8. the smaller ones ------------------------------------------------------------------------------------
def test_8_rank_and_consensus_write_log_lines_not_bars_into_a_pipe(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, counts(30, 12))
    for command in (["rank", "--ranks", "2,3", "--runs", "3"], ["consensus", "--rank", "2", "--runs", "3"]):
        proc = subprocess.run([sys.executable, "-m", "nmfkit", command[0], str(path), *command[1:], "--out",
                               str(tmp_path / command[0])], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        for bar in ("\r", "/s]", "%|"):  # tqdm redraws, its rate and its bar
            assert bar not in proc.stderr, (command[0], bar, proc.stderr[-400:])
    assert "nmfkit: rank 2: 3/3 replicates" in subprocess.run(
        [sys.executable, "-m", "nmfkit", "rank", str(path), "--ranks", "2", "--runs", "3", "--out",
         str(tmp_path / "r2")], capture_output=True, text=True).stderr


def test_8_semicolon_csv_with_decimal_commas(tmp_path):
    from nmfkit.io import read_matrix

    path = tmp_path / "x.csv"
    path.write_text("gene;a;b\ng1;1,5;2\ng2;0;3,25\n")
    m = read_matrix(path)
    np.testing.assert_array_equal(m.X, [[1.5, 2.0], [0.0, 3.25]])
    assert m.row_names == ["g1", "g2"] and m.col_names == ["a", "b"]
    path.write_text("1;2;3\n4;5;6\n")
    np.testing.assert_array_equal(read_matrix(path).X, [[1, 2, 3], [4, 5, 6]])


def test_8_text_named_npy_and_dataframe_with_strings(tmp_path):
    from nmfkit.io import InputError, read_matrix

    path = tmp_path / "x.npy"
    path.write_text("1,2\n3,4\n")
    with pytest.raises(InputError, match="not a NumPy .npy file") as info:
        read_matrix(path)
    assert "allow_pickle" not in str(info.value)
    pd = pytest.importorskip("pandas", reason="pandas is missing: pip install '.[anndata]'")
    frame = pd.DataFrame({"a": [1.0, 2.0], "kind": ["x", "y"], "b": [3.0, 4.0]})
    with pytest.raises(InvalidInputError, match=r"X must hold numbers \(non-numeric columns: kind\)"):
        nmf(frame, 1)


def test_8_sparse_parts_in_an_npz_with_labels(tmp_path, capsys):
    from nmfkit.io import read_matrix

    X = sp.random(30, 12, density=0.3, format="csr", random_state=0, dtype=np.float64)
    X.data = np.ceil(X.data * 10).astype(np.float64)
    path = tmp_path / "cells.npz"
    np.savez(path, data=X.data.astype(np.int32), indices=X.indices, indptr=X.indptr, shape=np.array(X.shape),
             barcodes=np.array([f"cell{i}" for i in range(30)]), gene_symbols=np.array([f"g{j}" for j in range(12)]))
    m = read_matrix(path)
    assert sp.issparse(m.X) and m.shape == (30, 12) and (m.X != X).nnz == 0
    assert m.row_names[2] == "cell2" and m.col_names[5] == "g5"
    rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "o", "--quiet"], capsys)
    assert rc == 0, err


def test_8_mouse_10k_npz_reads_on_the_cli(data_dir):
    from nmfkit.io import read_matrix

    m = read_matrix(data_dir / "scrna" / "scanpy_10x_mouse_10k_subset_counts.npz")
    assert sp.issparse(m.X) and m.shape == (10000, 1000) and m.row_names[0] != "0" and m.col_names[0] != "0"


def test_8_a_mat_file_with_several_arrays_says_which_it_read(tmp_path, capsys):
    path = tmp_path / "two.mat"
    rng = np.random.default_rng(0)
    scipy.io.savemat(path, {"small": rng.random((5, 4)), "big": rng.random((20, 10))})
    rc, _, err = cli(["fit", path, "--rank", 2, "--out", tmp_path / "o"], capsys)
    assert rc == 0, err
    assert "read 'big' (20x10, the largest), not small 5x4; --var chooses another" in err
    summary = strict_json(tmp_path / "o" / "summary.json")
    assert summary["input"]["variable"] == "big" and "read 'big'" in summary["notes"][0]


def test_8_consensus_keeps_float32_and_says_how_many_replicates_converged():
    X = np.random.default_rng(0).random((30, 10)).astype(np.float32)
    result = consensus(X, 2, 4, max_iter=3, tol=1e-12)
    assert result.W.dtype == np.float32 and result.H.dtype == np.float32
    assert not result.converged and "0 of 4 replicates converged" in result.stop_reason
    result = consensus(X, 2, 4)
    assert result.converged and "4 of 4 replicates converged" in result.stop_reason


def test_8_deep_with_a_fixed_budget_is_not_converged(tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).random((30, 20)) + 0.1)
    rc, _, err = cli(["deep", path, "--ranks", "4,2", "--max-iter", 20, "--init-iter", 10, "--out", tmp_path / "o",
                      "--quiet"], capsys)
    assert rc == 0, err
    summary = strict_json(tmp_path / "o" / "summary.json")
    assert summary["converged"] is False and "completed the requested 20 sweeps" in summary["stop_reason"]


def test_8_a_resumed_run_says_it_resumed(tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(1).random((12, 8)))
    ckpt = tmp_path / "fit.npz"
    args = ["fit", path, "--rank", 3, "--solver", "mu", "--max-iter", 60, "--tol", 0, "--checkpoint", ckpt,
            "--checkpoint-every", 20]
    rc, _, err = cli([*args, "--out", tmp_path / "a"], capsys)
    assert rc == 0 and "resumed" not in err
    assert strict_json(tmp_path / "a" / "summary.json")["resumed_from_sweep"] is None
    rc, _, err = cli([*args, "--out", tmp_path / "b"], capsys)
    assert rc == 0 and f"resumed from the checkpoint {ckpt} at sweep 40" in err
    assert strict_json(tmp_path / "b" / "summary.json")["resumed_from_sweep"] == 40


def test_a_flat_convergence_curve_is_drawn(tmp_path):
    """Found by the property suite: an objective flat to the last bit gave matplotlib a zero-height axis."""
    from nmfkit import plotting

    X = np.array([[1, 0, 0, 1, 0, 1], [0, 1, 1, 0, 1, 0], [1, 0, 0, 1, 0, 1], [1, 1, 1, 0, 1, 1],
                  [1, 1, 1, 0, 1, 0], [1, 0, 1, 1, 0, 0]], dtype=float)
    result = nmf(X, 1, max_iter=30)
    values = [h.objective for h in result.history]
    assert max(values) - min(values) <= 1e-12 * max(values)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        plotting.plot_convergence(result).savefig(tmp_path / "c.png")


@pytest.mark.parametrize("solver", ["hals", "anls-bpp", "gcd", "anls-pg", "mu"])
@pytest.mark.parametrize("extrapolate", ["auto", False])
def test_a_start_far_above_tiny_data_gives_finite_factors_and_objective(solver, extrapolate):
    """Data at 1e-155 from a unit start: Gram entries underflow to subnormals (found by the property suite).

    HALS inverted a subnormal diagonal (inf), extrapolation divided by a
    subnormal norm, and ANLS-BPP's ridge from a subnormal Gram was itself
    subnormal; each gave NaN factors or a NaN objective.
    """
    X = np.array([[7.25130002e-155, 0.0], [0.0, 0.0]])
    rng = np.random.default_rng(0)
    W0, H0 = rng.random((2, 2)) + 0.01, rng.random((2, 2)) + 0.01
    before = 0.5 * np.sum((X - W0 @ H0) ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nmf(X, 2, solver=solver, W=W0, H=H0, max_iter=1,
                     extrapolate=extrapolate if solver != "mu" else False)
    assert np.all(np.isfinite(result.W)) and np.all(np.isfinite(result.H))
    assert math.isfinite(result.objective) and result.objective <= before


def test_7_ctrl_c_between_mkdtemp_and_its_return_leaves_no_folder(tmp_path, monkeypatch):
    """The interrupt can land after mkdtemp's mkdir and before its result is assigned (a race the CLI test hit)."""
    import tempfile

    from nmfkit.io import atomic_directory

    real = tempfile.mkdtemp

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)  # the folder exists ...
        raise KeyboardInterrupt  # ... but its name never reaches the caller

    monkeypatch.setattr(tempfile, "mkdtemp", interrupted)
    with pytest.raises(KeyboardInterrupt), atomic_directory(tmp_path / "o"):
        pass
    assert list(tmp_path.iterdir()) == []
