"""Progress on stderr: a tqdm bar on a terminal, plain log lines anywhere else (pipes, files, CI logs).

A bar redrawn with carriage returns is unreadable once it is written into a
file or a pipe, so off a terminal progress is one line every few seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from nmfkit._interrupt import check

__all__ = ["track", "on_terminal"]


def on_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def track(items: Iterable, *, total: int, desc: str, unit: str = "runs", enabled: bool = True,
          stream: Any = None, every: float = 5.0) -> Iterator:
    """Yield ``items`` and report how many have come: a tqdm bar on a terminal, else a line every ``every`` s.

    Parameters
    ----------
    items : iterable
        Counted as they are yielded (wrap the results of the work, not its submission).
    total : int
    desc : str
        What is being counted, e.g. ``"rank 4"``.
    unit : str, default="runs"
    enabled : bool, default=True
        ``False`` yields ``items`` silently.
    stream : file-like, default=sys.stderr
    every : float, default=5.0
        Seconds between log lines off a terminal; the last item is always reported.
    """
    stream = stream or sys.stderr
    if not enabled:
        yield from items
        return
    if on_terminal(stream):
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is in the cli extra; fall back to log lines
            pass
        else:
            yield from tqdm(items, total=total, desc=desc, unit=unit[:-1] if unit.endswith("s") else unit,
                            leave=False, file=stream, dynamic_ncols=True)
            return
    started = last = time.perf_counter()
    done = 0
    for item in items:
        check()  # a Ctrl-C that some library swallowed still stops the work
        yield item
        done += 1
        now = time.perf_counter()
        if now - last >= every or done == total:
            last = now
            print(f"nmfkit: {desc}: {done}/{total} {unit}, {now - started:.1f} s", file=stream, flush=True)
