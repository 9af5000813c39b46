"""The debrief after a 1:1: a note per agenda topic and the action items agreed.

The article's third rule: "Create three actions from every one on one ... Typically you own
at least one action item and your rep is then responsible for the others. Don't ever leave a
meeting without action items and due dates." ``validate_debrief`` enforces exactly that, and
``carry_over`` decides which agreed items the next session's agenda shows again.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from scheduler import text_limits
from scheduler.field_errors import FieldError

DEFAULT_MINIMUM_ACTION_ITEMS = 3
MAX_ACTION_ITEM_CHARS = text_limits.ACTION_ITEM


class Owner(enum.StrEnum):
    MANAGER = "manager"
    REP = "rep"


@dataclass(frozen=True)
class ActionItemDraft:
    """An action item as typed into the debrief form, before validation.

    ``owner`` is the raw form value ("manager" or "rep"); ``due_date`` is ``None`` when the
    field was left empty. ``item_id`` names the recorded item this row edits (``None``: a new
    item), so an edit keeps the item, and the rep's done mark on it.
    """

    text: str
    owner: str
    due_date: date | None
    item_id: str | None = None


@dataclass(frozen=True)
class DebriefDraft:
    """A debrief as submitted: ``notes`` maps an agenda topic's title to its note."""

    notes: Mapping[str, str] = field(default_factory=dict)
    action_items: tuple[ActionItemDraft, ...] = ()


@dataclass(frozen=True)
class ActionItem:
    """A recorded action item; ``done`` once its owner has completed it."""

    id: str
    text: str
    owner: Owner
    due_date: date
    done: bool = False


@dataclass(frozen=True)
class OpenActionItem:
    """An action item still open when a later session's agenda is prepared."""

    id: str
    text: str
    owner: Owner
    due_date: date
    overdue: bool


def validate_debrief(
    draft: DebriefDraft,
    *,
    session_day: date,
    topics: Collection[str],
    minimum: int = DEFAULT_MINIMUM_ACTION_ITEMS,
) -> list[FieldError]:
    """Every problem with ``draft`` at once, each naming its field; empty when it is valid.

    ``session_day`` is the (organiser-local) day the 1:1 took place: nothing agreed in it can
    be due before it. ``topics`` are the titles of that session's agenda; ``minimum`` is the
    organisation's minimum number of action items.
    """
    errors = [
        FieldError(f"notes[{title}]", "This topic is not on the session's agenda.")
        for title in draft.notes
        if title not in topics
    ]
    errors += [
        FieldError(f"notes[{title}]", f"Keep it to {text_limits.NOTE} characters.")
        for title, note in draft.notes.items()
        if title in topics and len(note) > text_limits.NOTE
    ]
    for index, item in enumerate(draft.action_items):
        errors.extend(_item_errors(item, f"action_items[{index}]", session_day))
    if len(draft.action_items) < minimum:
        errors.append(
            FieldError(
                "action_items",
                f"Agree at least {minimum} action items; {len(draft.action_items)} given.",
            )
        )
    if not any(item.owner == Owner.MANAGER for item in draft.action_items):
        errors.append(FieldError("action_items", "The manager must own at least one item."))
    return errors


def _item_errors(item: ActionItemDraft, path: str, session_day: date) -> list[FieldError]:
    errors = []
    text = item.text.strip()
    if not text:
        errors.append(FieldError(f"{path}.text", "Say what will be done."))
    elif len(text) > MAX_ACTION_ITEM_CHARS:
        errors.append(FieldError(f"{path}.text", f"Keep it to {MAX_ACTION_ITEM_CHARS} characters."))
    if item.owner not in tuple(Owner):
        errors.append(FieldError(f"{path}.owner", "The owner is the manager or the rep."))
    if item.due_date is None:
        errors.append(FieldError(f"{path}.due_date", "Give a due date."))
    elif item.due_date < session_day:
        errors.append(FieldError(f"{path}.due_date", "The due date cannot be before the session."))
    return errors


def carry_over(items: Iterable[ActionItem], today: date) -> tuple[OpenActionItem, ...]:
    """The items the next session's agenda shows again: every one not done, soonest due first.

    An item is overdue when its due date is before ``today``; due today is not overdue yet.
    """
    open_items = (item for item in items if not item.done)
    return tuple(
        OpenActionItem(item.id, item.text, item.owner, item.due_date, item.due_date < today)
        for item in sorted(open_items, key=lambda item: (item.due_date, item.id))
    )
