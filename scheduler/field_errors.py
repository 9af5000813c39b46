"""A validation problem tied to the form field that caused it.

Rules validate a whole value and return every problem at once, so a page can show each
message next to its field instead of making the user fix one error per submit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """``field`` is a path into the validated value, e.g. ``action_items[2].due_date``."""

    field: str
    message: str
