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
        print("nmfkit: interrupted; no output was written.", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    entry()
