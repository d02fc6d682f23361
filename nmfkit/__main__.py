"""``python -m nmfkit``: the same command line as the ``nmfkit`` console script."""

import sys

from nmfkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
