"""Parameter descriptions that many docstrings share, written once.

A docstring line that holds only ``{name}`` (indented like the parameter
entries around it) becomes the entry of :data:`FRAGMENTS` ``name``, its
default read from the signature, when the function or class is decorated
with :func:`shared_docs`.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, TypeVar

__all__ = ["FRAGMENTS", "shared_docs"]

T = TypeVar("T")

#: name -> (type, description)
FRAGMENTS: dict[str, tuple[str, str]] = {
    "random_state": ("int, Generator or None",
                     "The only source of randomness: an int seeds it (the same int gives the same result), a "
                     "Generator is used as it is, None draws fresh entropy."),
    "verbose": ("int", "Print a progress table: one row per objective evaluation, then why the loop stopped."),
}

_MARK = re.compile(r"^( *)\{(\w+)\}$", re.MULTILINE)


def shared_docs(obj: T) -> T:
    """Fill the ``{name}`` lines of ``obj``'s docstring from :data:`FRAGMENTS` (defaults from its signature)."""
    doc = obj.__doc__
    if not doc:  # (python -OO)
        return obj
    target: Any = obj.__init__ if inspect.isclass(obj) else obj
    params = inspect.signature(target).parameters

    def fill(match: re.Match) -> str:
        indent, name = match.groups()
        kind, text = FRAGMENTS[name]
        default = params[name].default if name in params else inspect.Parameter.empty
        head = f"{name} : {kind}" + ("" if default is inspect.Parameter.empty else f", default={default!r}")
        return f"{indent}{head}\n{indent}    {text}"

    obj.__doc__ = _MARK.sub(fill, doc)
    return obj
