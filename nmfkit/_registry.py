"""One registry mechanism for solvers, initializations and stopping rules.

Names (with aliases) map to factories; every lookup also accepts an instance
of the registry's base class, and an unknown name raises an error that lists
every valid name.
"""

from __future__ import annotations

from typing import Any, Callable

from nmfkit._validation import InvalidInputError


class Registry:
    """Names -> factories, with aliases and instance pass-through.

    Parameters
    ----------
    label : str
        What one entry is called in messages (``"solver"``).
    plural : str
        The plural used in messages (``"solvers"``).
    base : type
        Instances of this class are returned unchanged by :meth:`get`.
    reserved : tuple of str, default=()
        Names handled by the caller (listed as valid, never registrable).
    note : str, default=""
        Text appended to the list of valid names in the unknown-name message.
    """

    def __init__(self, label: str, plural: str, base: type, *, reserved: tuple[str, ...] = (),
                 note: str = "") -> None:
        self.label = label
        self.plural = plural
        self.base = base
        self.reserved = reserved
        self.note = note
        self._factories: dict[str, Callable[..., Any]] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, factory: Callable[..., Any], *, aliases: tuple[str, ...] = ()) -> None:
        """Add ``factory`` under ``name`` and its aliases; ``KeyError`` if a name is taken."""
        for key in (name, *aliases):
            if key in self._factories or key in self._aliases or key in self.reserved:
                msg = f"A {self.label} named {key!r} is already registered."
                raise KeyError(msg)
        self._factories[name] = factory
        for alias in aliases:
            self._aliases[alias] = name

    def names(self) -> list[str]:
        """Canonical names, sorted."""
        return sorted(self._factories)

    def get(self, value: Any, **options: Any) -> Any:
        """An instance: ``value`` itself if it is one, else the factory of its name called with ``options``."""
        if isinstance(value, self.base):
            return value
        if isinstance(value, str):
            key = self._aliases.get(value, value)
            if key in self._factories:
                return self._factories[key](**options)
        valid = ", ".join(repr(n) for n in sorted([*self._factories, *self._aliases, *self.reserved]))
        msg = (f"Unknown {self.label} {value!r}. Valid {self.plural}: {valid}{self.note}, "
               f"or a{'n' if self.base.__name__[0] in 'AEIOU' else ''} {self.base.__name__} instance.")
        raise InvalidInputError(msg)
