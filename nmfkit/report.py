"""A self-contained HTML report: one file, images embedded as data URIs, no network fetches.

Methods add their own sections through :class:`Report`; the CLI builds the
standard report of a fit with :func:`fit_report`.
"""

from __future__ import annotations

import base64
import html
import io
import json
import platform
from datetime import datetime, timezone
from typing import Any

import numpy as np

from nmfkit import __version__

__all__ = ["Report", "figure_to_data_uri"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:70rem;
padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;
margin-top:2rem}table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}th{background:#f5f5f5}
img{max-width:100%;height:auto;border:1px solid #eee}.muted{color:#666;font-size:.85rem}
code{background:#f5f5f5;padding:0 .2rem}
"""


def figure_to_data_uri(fig: Any, *, dpi: int = 110) -> str:
    """PNG bytes of a matplotlib figure as a ``data:`` URI (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class Report:
    """Sections of escaped text, tables and embedded figures, rendered to one HTML page.

    Parameters
    ----------
    title : str
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []

    def section(self, heading: str, text: str | None = None) -> Report:
        """Start a section, with an optional paragraph."""
        self._parts.append(f"<h2>{html.escape(heading)}</h2>")
        if text:
            self._parts.append(f"<p>{html.escape(text)}</p>")
        return self

    def paragraph(self, text: str, *, muted: bool = False) -> Report:
        cls = ' class="muted"' if muted else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")
        return self

    def table(self, rows: list[list[Any]], header: list[str] | None = None) -> Report:
        """A table of escaped cells."""
        out = ["<table>"]
        if header:
            out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
        for row in rows:
            out.append("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>")
        out.append("</table>")
        self._parts.append("".join(out))
        return self

    def mapping(self, items: dict) -> Report:
        """A two-column table of keys and values."""
        return self.table([[k, v] for k, v in items.items()], ["", "value"])

    def figure(self, fig: Any, caption: str | None = None, *, alt: str = "figure") -> Report:
        """Embed a matplotlib figure as a PNG data URI."""
        uri = figure_to_data_uri(fig)
        cap = f"<figcaption class=\"muted\">{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f"<figure><img src=\"{uri}\" alt=\"{html.escape(alt)}\">{cap}</figure>")
        return self

    def render(self) -> str:
        """The whole page."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        footer = (f"nmfkit {__version__}, Python {platform.python_version()}, NumPy {np.__version__}; "
                  f"generated {stamp}.")
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1>" + "\n".join(self._parts)
                + f"<p class=\"muted\">{html.escape(footer)}</p></body></html>\n")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)
