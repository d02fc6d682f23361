"""``python -m nmfkit`` and the ``nmfkit`` console script.

:func:`entry` records Ctrl-C from its first line (:mod:`nmfkit._interrupt`)
and imports the command line inside its own guard, so that Ctrl-C while
numpy and scipy load ends with one line and exit code 130, as it does later.
"""

import sys

from nmfkit import _interrupt


def entry() -> None:
    """Run the command line and exit with its code."""
    _interrupt.install()
    try:
        from nmfkit.cli import main

        code = main()
    except KeyboardInterrupt:
        code = _interrupt.report()
    except ImportError:
        if not _interrupt.requested():
            raise
        code = _interrupt.report()  # Ctrl-C while an extension module loaded comes out as an ImportError
    if code == 130:
        # exit now with 130: CPython may otherwise turn an interrupt that arrived while an extension module
        # was loading into death by SIGINT at shutdown (exit status -2 under ``python -m``), whatever we return
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    entry()
