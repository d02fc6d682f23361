"""``python -m nmfkit`` and the ``nmfkit`` console script.

:func:`entry` imports the command line inside its own guard, so that Ctrl-C
while numpy and scipy load ends with one line and exit code 130, as it does
later on.
"""

import sys


def entry() -> None:
    """Run the command line and exit with its code."""
    try:
        from nmfkit.cli import main

        code = main()
    except KeyboardInterrupt:
        code = interrupted()
    if code == 130:
        # exit now with 130: CPython may otherwise turn an interrupt that arrived while an extension module
        # was loading into death by SIGINT at shutdown (exit status -2 under ``python -m``), whatever we return
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


def interrupted() -> int:
    """Say so in one line and return 130; a second Ctrl-C while exiting is ignored (no traceback)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("nmfkit: interrupted; no output was written.", file=sys.stderr)
    return 130


if __name__ == "__main__":
    entry()
