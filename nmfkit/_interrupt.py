"""Ctrl-C for the command line: remembered, so that no library can swallow it.

Python turns SIGINT into KeyboardInterrupt wherever the main thread happens to
be. While a C extension loads (numpy, scipy), the interrupt comes out as an
ImportError, and code that falls back on ``except ImportError`` then goes on
as if nothing had happened. The handler installed by :func:`install` also
records the signal, so the command line can tell such an ImportError from a
missing package, and its progress callbacks stop a fit that kept running.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

__all__ = ["install", "requested", "check", "report"]

_received: list[int] = []


def _handler(signum: int, frame: Any) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def install() -> None:
    """Record every SIGINT (and raise KeyboardInterrupt, as Python's own handler does)."""
    signal.signal(signal.SIGINT, _handler)


def requested() -> bool:
    """Whether Ctrl-C was pressed since :func:`install`."""
    return bool(_received)


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed and something swallowed it."""
    if _received:
        raise KeyboardInterrupt


def report() -> int:
    """Say so in one line and return 130; a second Ctrl-C while exiting is ignored (no traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("nmfkit: interrupted; no output was written.", file=sys.stderr)
    return 130
