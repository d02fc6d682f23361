"""The command line: outputs, exit codes, one-line errors, nothing half-written."""

import json
import subprocess
import sys

import numpy as np
import pytest

from nmfkit.cli import main

pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")


def good_csv(tmp_path, negative=False):
    values = np.random.default_rng(1).random((12, 8))
    if negative:
        values[0, 0] = -1.0
    path = tmp_path / "x.csv"
    np.savetxt(path, values, delimiter=",")
    return path


def run(args, capsys):
    rc = main([str(a) for a in args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_fit_writes_everything(tmp_path, capsys):
    out = tmp_path / "res"
    rc, stdout, err = run(["fit", good_csv(tmp_path), "--rank", 3, "--out", out, "--seed", 3], capsys)
    assert rc == 0 and "report:" in stdout
    summary = json.loads((out / "summary.json").read_text())
    for key in ("nmfkit_version", "method", "input", "n_components", "beta_loss", "solver", "init", "random_state",
                "n_iter", "converged", "stop_reason", "objective", "relative_error", "seconds"):
        assert key in summary
    assert summary["input"]["shape"] == [12, 8] and summary["input"]["nnz"] == 96
    assert summary["n_components"] == 3 and summary["random_state"] == 3
    assert 0 < summary["relative_error"] < 1
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3 and "http://" not in html and "https://" not in html
    assert sorted(p.name for p in out.iterdir()) == ["H.tsv", "W.tsv", "components.png", "convergence.png",
                                                     "report.html", "summary.json", "usage.png"]


def assert_failed_cleanly(rc, err, tmp_path, out, fragment):
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nmfkit: error: ") and fragment in lines[0], err
    assert "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{out.name}.")]  # no temporary leftovers


@pytest.mark.parametrize(("case", "fragment"), [
    ("missing", "no such file"),
    ("directory", "is a directory"),
    ("unknown", "unknown format 'xyz'"),
    ("negative", "Negative values in data passed to nmf (X): 1 negative entry"),
    ("rank", "The 'n_components' parameter of nmf must be an int in the range [1, min(n_samples, n_features)]"),
    ("truncated", "line 3 has 2 fields, expected 8 (truncated or ragged file)"),
    ("truncated_npy", "cannot read as NumPy array"),
    ("empty", "the file is empty"),
    ("garbage_mat", "cannot read as MATLAB"),
])
def test_failures_exit_2_with_one_line_and_no_output(tmp_path, capsys, case, fragment):
    out = tmp_path / "out"
    rank = 2
    if case == "missing":
        path = tmp_path / "nope.csv"
    elif case == "directory":
        path = tmp_path / "adir.csv"
        path.mkdir()
    elif case == "unknown":
        path = tmp_path / "data.xyz"
        path.write_text("1,2\n")
    elif case == "negative":
        path = good_csv(tmp_path, negative=True)
    elif case == "rank":
        path, rank = good_csv(tmp_path), 99
    elif case == "truncated":
        text = good_csv(tmp_path).read_text().splitlines()
        path = tmp_path / "cut.csv"
        path.write_text("\n".join(text[:2] + [",".join(text[2].split(",")[:2])]) + "\n")
    elif case == "truncated_npy":
        np.save(tmp_path / "full.npy", np.ones((50, 40)))
        path = tmp_path / "cut.npy"
        path.write_bytes((tmp_path / "full.npy").read_bytes()[:500])
    elif case == "garbage_mat":
        path = tmp_path / "noise.mat"
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    else:
        path = tmp_path / "empty.csv"
        path.write_text("")
    rc, _, err = run(["fit", path, "--rank", rank, "--out", out, "--quiet"], capsys)
    assert_failed_cleanly(rc, err, tmp_path, out, fragment)


def test_existing_output_needs_force(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    data = good_csv(tmp_path)
    rc, _, err = run(["fit", data, "--rank", 2, "--out", out, "--quiet"], capsys)
    assert rc == 2 and "output folder exists and is not empty; pass --force" in err
    assert (out / "keep.txt").read_text() == "precious"
    rc, _, _ = run(["fit", data, "--rank", 2, "--out", out, "--quiet", "--force"], capsys)
    assert rc == 0 and not (out / "keep.txt").exists() and (out / "W.tsv").exists()


def test_failure_during_the_fit_leaves_the_old_output(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    data = good_csv(tmp_path)
    assert run(["fit", data, "--rank", 2, "--out", out, "--quiet"], capsys)[0] == 0
    before = (out / "W.tsv").read_text()
    import nmfkit.report

    def broken(self):
        raise OSError("disk full")

    monkeypatch.setattr(nmfkit.report.Report, "render", broken)
    rc, _, err = run(["fit", data, "--rank", 3, "--out", out, "--quiet", "--force"], capsys)
    assert rc == 2 and "disk full" in err
    assert (out / "W.tsv").read_text() == before


def test_progress_lines_without_a_tty(tmp_path):
    path = good_csv(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "nmfkit", "fit", str(path), "--rank", "2", "--out",
                           str(tmp_path / "o"), "--max-iter", "50", "--tol", "0"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_progress_object_logs_periodically():
    import io

    from nmfkit.cli import Progress
    from nmfkit.fit import CallbackInfo

    stream = io.StringIO()
    p = Progress(10, every=0.0, stream=stream)
    p(CallbackInfo(1, {}, 0.1, 2.5))
    p(CallbackInfo(2, {}, 0.2, None))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("nmfkit: sweep 1, objective 2.5,") and len(lines) == 2
    quiet = io.StringIO()
    Progress(10, quiet=True, stream=quiet)(CallbackInfo(1, {}, 0.1, 2.5))
    assert quiet.getvalue() == ""


def test_demo_and_datasets_commands(tmp_path, capsys):
    out = tmp_path / "demo"
    rc, stdout, err = run(["demo", "--out", out, "--quiet", "--max-iter", "100"], capsys)
    assert rc == 0, err
    assert (out / "report.html").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"]["shape"] == [1797, 64]
    rc, stdout, _ = run(["datasets"], capsys)
    assert rc == 0 and "digits" in stdout and "builtin" in stdout


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2


def test_a_method_registers_its_own_subcommand(capsys):
    from nmfkit import cli

    def configure(p):
        p.add_argument("--times", type=int, default=1)

    @cli.command("hello-test", "say hello", configure)
    def hello(args):
        print("hello " * args.times)
        return 0

    try:
        assert main(["hello-test", "--times", "2"]) == 0
        assert capsys.readouterr().out.strip() == "hello hello"
        with pytest.raises(KeyError, match="already registered"):
            cli.command("hello-test", "again")(hello)
    finally:
        cli.shared.unregister("hello-test")


def test_fit_checkpoint_resumes_and_refuses_another_problem(tmp_path, capsys):
    data = good_csv(tmp_path)
    ckpt = tmp_path / "fit.npz"
    args = ["fit", data, "--rank", 3, "--seed", 3, "--solver", "mu", "--max-iter", 60, "--tol", 0, "--quiet",
            "--checkpoint", ckpt, "--checkpoint-every", 20]
    assert run([*args, "--out", tmp_path / "a"], capsys)[0] == 0
    assert ckpt.is_file()
    # the same command resumes from sweep 40 and writes the same factors
    assert run([*args, "--out", tmp_path / "b"], capsys)[0] == 0
    a = np.loadtxt(tmp_path / "a" / "W.tsv", skiprows=1, usecols=(1, 2, 3))
    b = np.loadtxt(tmp_path / "b" / "W.tsv", skiprows=1, usecols=(1, 2, 3))
    np.testing.assert_array_equal(a, b)
    args[3] = 2  # another rank: one line, non-zero exit, nothing written
    rc, _, err = run([*args, "--out", tmp_path / "c"], capsys)
    assert rc != 0 and "another problem" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()
