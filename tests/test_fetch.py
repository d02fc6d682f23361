"""Fetching data sets (pooch) from a local HTTP server on 127.0.0.1 started by the test; nothing leaves the machine.

The server stands in for a mirror (``NMFKIT_DATA_URL``) laid out like the data folder.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest

pytest.importorskip("pooch", reason="pooch is missing: pip install '.[data]'")

from nmfkit import _fetch, datasets  # noqa: E402
from nmfkit._fetch import FetchError, Source  # noqa: E402
from nmfkit.cli import main  # noqa: E402


class Handler(http.server.SimpleHTTPRequestHandler):
    delay = 0.0  # seconds between 64 kB chunks (a slow server, to kill a download half-way)

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        while chunk := source.read(65536):
            outputfile.write(chunk)
            outputfile.flush()
            if self.delay:
                time.sleep(self.delay)


@pytest.fixture
def server(tmp_path):
    """(root folder served, base URL, set_delay); stopped at the end."""
    root = tmp_path / "served"
    root.mkdir()
    handler = type("H", (Handler,), {})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", lambda d: setattr(handler, "delay", d)
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No data folder but an empty cache; no offline flag; no mirror yet."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("NMFKIT_OFFLINE", raising=False)
    monkeypatch.delenv("NMFKIT_DATA_URL", raising=False)
    monkeypatch.delenv("NMFKIT_DATA", raising=False)
    monkeypatch.setattr(datasets.registry, "data_dirs", lambda data_dir=None: ([Path(data_dir)] if data_dir else [])
                        + [_fetch.cache_dir()])
    return cache / "nmfkit"


def publish(root, relative, data, monkeypatch, *, url=None):
    """Serve ``data`` as ``relative`` and register it with its true size and hash."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    monkeypatch.setitem(_fetch.SOURCES, relative, Source(len(data), digest, url, by_hand="ask a colleague"))
    return digest


def leftovers(cache):
    return [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []


def test_a_file_is_downloaded_checked_and_cached(server, isolated, monkeypatch):
    root, base, _ = server
    publish(root, "test/a.bin", b"nmfkit" * 1000, monkeypatch)
    monkeypatch.setenv("NMFKIT_DATA_URL", base)
    path = _fetch.fetch_file("test/a.bin")
    assert path == isolated / "test" / "a.bin" and path.read_bytes() == b"nmfkit" * 1000
    assert leftovers(isolated) == [path]  # no staging files left
    (root / "test" / "a.bin").unlink()  # a second fetch does not need the server (the loader finds it first)
    assert datasets.registry.find("test/a.bin") == path


def test_the_public_origin_is_used_without_a_mirror(server, isolated, monkeypatch):
    root, base, _ = server
    publish(root, "origin/b.bin", b"b" * 100, monkeypatch, url=f"{base}/origin/b.bin")
    assert _fetch.fetch_file("origin/b.bin").read_bytes() == b"b" * 100


def test_a_hash_mismatch_is_a_clear_error_and_leaves_nothing(server, isolated, monkeypatch):
    root, base, _ = server
    publish(root, "test/c.bin", b"good", monkeypatch)
    (root / "test" / "c.bin").write_bytes(b"evil")  # the server now holds another version
    monkeypatch.setenv("NMFKIT_DATA_URL", base)
    with pytest.raises(FetchError, match="does not match its SHA-256.*discarded"):
        _fetch.fetch_file("test/c.bin")
    assert leftovers(isolated) == []


def test_a_server_that_is_down_is_a_clear_error(isolated, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setitem(_fetch.SOURCES, "test/d.bin", Source(4, "0" * 64, f"http://127.0.0.1:{port}/test/d.bin"))
    with pytest.raises(FetchError, match=r"could not download http://127\.0\.0\.1.*nothing was saved"):
        _fetch.fetch_file("test/d.bin")
    assert leftovers(isolated) == []


def test_offline_mode_and_download_false_never_touch_the_network(server, isolated, monkeypatch):
    root, base, _ = server
    publish(root, "network/karate.mat", b"x" * 10, monkeypatch)
    monkeypatch.setenv("NMFKIT_DATA_URL", base)
    monkeypatch.setenv("NMFKIT_OFFLINE", "1")
    with pytest.raises(FetchError, match="NMFKIT_OFFLINE is set"):
        _fetch.fetch_file("network/karate.mat")
    with pytest.raises(FileNotFoundError, match="NMFKIT_OFFLINE is set"):
        datasets.load_karate()
    monkeypatch.delenv("NMFKIT_OFFLINE")
    with pytest.raises(FileNotFoundError, match="download=True.*nmfkit datasets --fetch"):
        datasets.load_karate(download=False)
    assert leftovers(isolated) == []


def test_a_file_without_a_url_says_how_to_get_it(isolated, monkeypatch):
    monkeypatch.setitem(_fetch.SOURCES, "test/e.bin", Source(4, "0" * 64, None, by_hand="ask a colleague"))
    with pytest.raises(FetchError, match="no public URL serves this file; ask a colleague"):
        _fetch.fetch_file("test/e.bin")


def test_a_killed_download_leaves_no_file_and_the_next_fetch_succeeds(server, isolated, monkeypatch, tmp_path):
    root, base, set_delay = server
    data = os.urandom(4 << 20)
    digest = publish(root, "test/big.bin", data, monkeypatch)
    set_delay(0.05)  # 64 chunks of 64 kB: about 3 s
    code = ("import sys; from nmfkit import _fetch\n"
            f"_fetch.SOURCES['test/big.bin'] = _fetch.Source({len(data)}, {digest!r})\n"
            "_fetch.fetch_file('test/big.bin')\n")
    env = {**os.environ, "NMFKIT_DATA_URL": base, "XDG_CACHE_HOME": str(isolated.parent)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline and not any(p.stat().st_size > 0 for p in leftovers(isolated)):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial_files = leftovers(isolated)
    assert partial_files and all(".partial-" in str(p) for p in partial_files)  # half a file, in staging only
    assert not (isolated / "test" / "big.bin").exists()
    set_delay(0.0)
    monkeypatch.setenv("NMFKIT_DATA_URL", base)
    path = _fetch.fetch_file("test/big.bin")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert leftovers(isolated) == [path]  # the killed download's staging folder is gone


def test_the_cli_lists_states_and_fetches_a_set(server, isolated, monkeypatch, capsys):
    root, base, _ = server
    publish(root, "network/karate.mat", b"\x00" * 8, monkeypatch)
    monkeypatch.setenv("NMFKIT_DATA_URL", base)
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "karate" in out and "download" in out and "NMFKIT_DATA_URL" in out
    assert main(["datasets", "--fetch", "karate"]) == 0
    assert "karate: 1 file ready" in capsys.readouterr().out
    assert (isolated / "network" / "karate.mat").is_file()
    assert main(["datasets"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("karate"))
    assert "cached" in line
    monkeypatch.setenv("NMFKIT_OFFLINE", "1")
    assert main(["datasets", "--fetch", "cbcl"]) == 2
    assert "NMFKIT_OFFLINE is set" in capsys.readouterr().err


def test_every_real_file_is_served_and_loads_from_the_mirror(server, isolated, monkeypatch, data_dir):
    """The shared data folder as the mirror: fetch all, then load every set from the cache alone."""
    root, base, _ = server
    for relative in _fetch.SOURCES:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(data_dir / relative, target)
    monkeypatch.setenv("NMFKIT_DATA_URL", base)
    paths = datasets.fetch("all")
    assert len(paths) == len(_fetch.SOURCES) and all(str(p).startswith(str(isolated)) for p in paths)
    for relative, source in _fetch.SOURCES.items():
        assert (isolated / relative).stat().st_size == source.size
    cbcl = datasets.load_cbcl(download=False)
    assert cbcl.shape == (2429, 361)
    assert all(r["state"] in ("cached", "builtin") for r in datasets.available())
