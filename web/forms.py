"""Reading form input and turning use-case errors into messages beside their fields."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from flask import Flask, request

from scheduler.agenda import AgendaTemplate, AgendaTopic
from scheduler.field_errors import FieldError

FieldErrors = dict[str, str]


def by_field(errors: list[FieldError]) -> FieldErrors:
    """Field name -> its first message (a field shows one message at a time)."""
    shown: FieldErrors = {}
    for error in errors:
        shown.setdefault(error.field, error.message)
    return shown


def dom_id(name: str) -> str:
    """An HTML id for a field name: ``action_items[2].due_date`` -> ``action_items-2-due_date``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def flag(form: dict[str, str] | object, name: str) -> bool:
    """A checkbox's value: present means ticked."""
    return name in form  # type: ignore[operator]


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: ``next`` must never send someone to another host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    return target if not urlsplit(target).netloc else None


def parse_day(text: str) -> date | None:
    """An ISO day from a date input, or ``None`` for empty or malformed input."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_int(text: str, field: str, low: int, high: int, errors: FieldErrors) -> int:
    """An integer within [low, high]; records a message under ``field`` otherwise."""
    try:
        value = int(text.strip())
    except ValueError:
        errors[field] = "Enter a whole number."
        return low
    if not low <= value <= high:
        errors[field] = f"Enter a number from {low} to {high}."
    return value


def register(app: Flask) -> None:
    app.add_template_filter(dom_id, "dom_id")


def submitted_topics() -> list[AgendaTopic]:
    """The agenda topics an editor form posted (``topic-N-title`` / ``topic-N-prompt``)."""
    topics = []
    for index in range(40):
        if f"topic-{index}-title" not in request.form:
            break
        topics.append(
            AgendaTopic(
                request.form.get(f"topic-{index}-title", "").strip(),
                request.form.get(f"topic-{index}-prompt", "").strip(),
            )
        )
    return topics


def submitted_template() -> AgendaTemplate:
    """The posted topics as a template; rows left blank (the editor's spare rows) are dropped."""
    return AgendaTemplate(
        tuple(t for t in submitted_topics() if t.title.strip() or t.prompt.strip())
    )


def topic_field_names(errors: FieldErrors) -> FieldErrors:
    """``topics[2].title`` (the rule's path) -> ``topic-2-title`` (the form's field)."""
    return {
        re.sub(r"^topics\[(\d+)\]\.(\w+)$", r"topic-\1-\2", name): message
        for name, message in errors.items()
    }


# Empty rows under the template's topics, so a topic can be added without any script.
BLANK_TOPIC_ROWS = 2


def topic_rows(template: AgendaTemplate) -> list[AgendaTopic]:
    """The editor's rows: the template's topics, then blank ones to add to it."""
    return list(template.topics) + [AgendaTopic("")] * BLANK_TOPIC_ROWS
