"""The ``nmfkit`` command line (``python -m nmfkit`` too): ``nmfkit --help`` lists every subcommand.

One module per command: :mod:`~nmfkit.cli.fit` (``fit``, ``demo``),
:mod:`~nmfkit.cli.datasets`, :mod:`~nmfkit.cli.deep`, :mod:`~nmfkit.cli.merge`,
:mod:`~nmfkit.cli.persistent`, :mod:`~nmfkit.cli.programs` and :mod:`~nmfkit.cli.rank` (``rank``,
``consensus``). Each registers itself with :func:`command` and takes its shared
options from :mod:`nmfkit.cli.shared`; the fit pipeline they share (progress,
factors, summary, plots, report) is :func:`fit_to_folder`. Nothing outside
this package imports it: the methods know nothing of the command line.

Every failure the user can cause ends with exit code 2 and one line on
stderr, and outputs appear only when complete.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from nmfkit import __version__, _interrupt
from nmfkit._validation import InvalidInputError
from nmfkit.cli._pipeline import Progress, component_usage, fit_to_folder, relative_error
from nmfkit.cli.shared import UsageError, command, commands, image_layout, image_options

__all__ = ["main", "build_parser", "command", "UsageError", "Progress", "fit_to_folder", "relative_error",
           "component_usage", "image_options", "image_layout"]

#: the command modules, in the order ``nmfkit --help`` lists their commands
COMMAND_MODULES = ("fit", "datasets", "deep", "merge", "persistent", "programs", "rank")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"nmfkit.cli.{name}")  # each registers its commands once
    parser = argparse.ArgumentParser(prog="nmfkit", description="Non-negative matrix factorization.")
    parser.add_argument("--version", action="version", version=f"nmfkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in commands().values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nmfkit`` console script; returns the exit code.

    Exit codes: 0 done; 2 a problem with the input or the options (one line on
    stderr); 1 a bug in nmfkit (the traceback, then one line asking for a
    report); 130 interrupted (Ctrl-C); 141 the reader of the output went away
    (``nmfkit datasets | head``).
    """
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "_run", None) is None:
            parser.print_help(sys.stderr)
            return 2
        return args._run(args)
    except InvalidInputError as exc:  # every check nmfkit makes (InputError and UsageError are ones)
        return _one_line(str(exc) or type(exc).__name__)
    except ImportError as exc:
        if _interrupt.requested():
            return _interrupt.report()  # Ctrl-C while an extension module loaded
        if (exc.name or "").split(".")[0] == "nmfkit":
            return _bug()  # a module of nmfkit's own that does not import is a bug, not a missing extra
        return _one_line(str(exc))  # an optional dependency that is not installed (with how to install it)
    except MemoryError:
        return _one_line("out of memory; try a smaller rank, float32 data or a sparse input file.")
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            return _broken_pipe()
        # the system refused (no space, no permission, read-only file system): the path and the reason
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return _one_line(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        return _interrupt.report()
    except Exception:  # anything else is a bug in nmfkit, not a problem with the input
        return _bug()


def _bug() -> int:
    """The exception being handled, as a bug report: its traceback, then one line; exit code 1."""
    traceback.print_exc(file=sys.stderr)
    kind = type(sys.exc_info()[1]).__name__
    print(f"nmfkit: internal error ({kind}); this is a bug in nmfkit, not a problem with your "
          "input. Please report it with the traceback above and the command you ran.", file=sys.stderr)
    return 1


def _one_line(message: str) -> int:
    print(f"nmfkit: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def _broken_pipe() -> int:
    """The reader of stdout closed it: stop quietly (the shell's 128 + SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not fail again
    except (OSError, ValueError):
        pass
    return 141
