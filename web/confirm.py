"""A confirmation step before an action that is not undone by a click: a page of its own, so
it works without JavaScript (the page's form posts the action; a link goes back)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import render_template

from web.forms import FieldErrors


@dataclass(frozen=True)
class Confirmation:
    title: str
    details: tuple[str, ...]
    action: str  # where the confirming form posts
    button: str
    back: str  # where "keep it as it is" leads
    back_label: str
    fields: Mapping[str, str] = field(default_factory=dict)  # hidden fields the action needs
    reason_label: str = ""  # an optional free-text reason when set
    reason_max: int = 0  # its longest (scheduler/text_limits.py)
    danger: bool = False


def confirm_page(
    confirmation: Confirmation, *, errors: FieldErrors | None = None, reason: str = ""
) -> tuple[str, int]:
    return render_template(
        "confirm.html", confirm=confirmation, errors=errors or {}, reason=reason
    ), (400 if errors else 200)
