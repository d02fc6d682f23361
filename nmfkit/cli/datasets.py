"""``nmfkit datasets``: the data sets :mod:`nmfkit.datasets` knows, where each is, and ``--fetch``."""

from __future__ import annotations

import argparse
import sys

from nmfkit._progress import on_terminal
from nmfkit.cli import shared


def _datasets_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fetch", metavar="NAME", default=None,
                   help="download a data set (or 'all') into the user cache, each file checked against its SHA-256")
    p.add_argument("--data-dir", default=None, help="a data folder searched first")


_WHERE_LABEL = {"here": "at", "cached": "at", "download": "from", "builtin": "ships with"}


def _size(n: int) -> str:
    return "-" if not n else f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


@shared.command("datasets", "the data sets nmfkit.datasets knows: where each is, its size and licence; --fetch "
                "gets them", _datasets_options)
def datasets_command(args: argparse.Namespace) -> int:
    """Run ``nmfkit datasets``."""
    # (loaded when the command runs: `nmfkit --help` stays light)
    from nmfkit import _fetch
    from nmfkit.datasets import available, fetch

    if args.fetch is not None:
        paths = fetch(args.fetch, data_dir=args.data_dir, progress=on_terminal(sys.stderr), verbose=True)
        folders = sorted({str(p.parent) for p in paths})
        print(f"nmfkit: {args.fetch}: {len(paths)} file{'s' if len(paths) != 1 else ''} ready "
              f"({', '.join(folders[:3])}{', ...' if len(folders) > 3 else ''})")
        return 0
    rows = available(args.data_dir)
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['state']:<8}  {_size(r['size']):>8}  {r['description']}")
        print(f"{'':<{width}}  {'':<8}  {'':>8}  {'licence: ' + r['licence'] + '; ' if r['licence'] else ''}"
              f"{_WHERE_LABEL.get(r['state'], 'how')}: "
              f"{r['where']}")
    missing = [r for r in rows if not r["available"]]
    if missing:
        mirror = _fetch.mirror()
        print(f"\n{len(missing)} of {len(rows)} data sets are not here. Searched, in order: the --data-dir "
              f"folder, $NMFKIT_DATA, ../shared/data beside a source checkout, and the cache "
              f"{_fetch.cache_dir()}. 'nmfkit datasets --fetch NAME' (or 'all') downloads those marked "
              f"'download'{' from the mirror ' + mirror if mirror else ''}; NMFKIT_DATA_URL names a mirror that "
              "serves all of them; NMFKIT_OFFLINE=1 forbids downloads.")
    return 0
