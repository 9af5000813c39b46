"""What a flush is writing, read from the ORM's attribute history (during flush events).

In ``before_flush`` and ``after_flush`` each row still carries its pre-flush history, so a
listener can tell which inputs changed and which keys a row had before and after.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import inspect


def changed(row: object, names: tuple[str, ...]) -> bool:
    """Whether this flush changes any of the row's attributes ``names``."""
    state = inspect(row)
    return any(state.attrs[name].history.has_changes() for name in names)


def values(row: object, name: str) -> set[Any]:
    """The attribute's value now and, if this flush changes it, before (never ``None``)."""
    history = inspect(row).attrs[name].history
    found = chain(history.unchanged, history.added, history.deleted)
    return {value for value in found if value is not None}


__all__ = ["changed", "values"]
