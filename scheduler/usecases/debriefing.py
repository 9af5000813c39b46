"""After the 1:1: the debrief and its action items; before it: the rep's talking points."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler import text_limits
from scheduler.db import Database
from scheduler.debrief import DebriefDraft, Owner, validate_debrief
from scheduler.field_errors import FieldError
from scheduler.models import (
    ActionItem,
    Debrief,
    Organization,
    Person,
    Series,
    Session,
    TalkingPoint,
)
from scheduler.outcomes import debrief_refusal
from scheduler.usecases.agendas import locked_topics
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import NotInOrganization, audit, get_in_org
from scheduler.usecases.sessions import reclassify, session_facts

MAX_TALKING_POINT_CHARS = text_limits.TALKING_POINT


class DebriefRefused(Exception):
    """The week cannot be debriefed (not started, cancelled, declined or stopped): the
    message says why; nothing was saved."""


def record_debrief(
    database: Database,
    *,
    org_id: str,
    session_id: str,
    manager_id: str,
    draft: DebriefDraft,
    now: datetime,
) -> str:
    """Record the debrief of a session and its action items; returns the debrief's id.

    Recording again edits the earlier notes and items in place (a manager correcting a
    typo): an item keeps its identity, done mark and completion date when its row names it
    (``item_id``) or, for a row that names none, has the same text and owner; items no row
    keeps are deleted and the others added.

    Raises ``DebriefRefused`` for a week that did not take place (or has not yet), and
    ``InvalidInput`` with every problem at once; nothing is stored then.
    """
    with database.session() as db:
        row = get_in_org(db, Session, org_id, session_id)
        if row.manager_id != manager_id:
            raise NotInOrganization("only the session's manager records its debrief")
        series = get_in_org(db, Series, org_id, row.series_id)
        org = db.get(Organization, org_id)
        assert org is not None
        refusal = debrief_refusal(session_facts(row, series, org, 0), now=now)
        if refusal is not None:
            raise DebriefRefused(refusal)
        day = (row.current_start or row.scheduled_start).astimezone(ZoneInfo(series.zone)).date()
        errors = validate_debrief(
            draft,
            session_day=day,
            topics=locked_topics(db, series, day).titles,
            minimum=org.min_action_items,
        )
        if errors:
            raise InvalidInput(errors)
        debrief = db.scalar(select(Debrief).where(Debrief.session_id == row.id))
        if debrief is None:
            debrief = Debrief(organization_id=org_id, session_id=row.id, recorded_by_id=manager_id)
            db.add(debrief)
        debrief.notes = {title: note.strip() for title, note in draft.notes.items() if note.strip()}
        debrief.recorded_at = now
        _keep_items(db, row, series, draft, now)
        db.flush()
        reclassify(db, [row], now=now)
        audit(
            db, org_id=org_id, actor_id=manager_id, action="debrief.recorded", subject=row, now=now
        )
        return debrief.id


def _keep_items(
    db: DbSession, row: Session, series: Series, draft: DebriefDraft, now: datetime
) -> None:
    """The session's items become the draft's: matched ones edited, the rest added or deleted."""
    recorded = {
        item.id: item
        for item in db.scalars(select(ActionItem).where(ActionItem.session_id == row.id))
    }
    matched: list[ActionItem | None] = []
    for item in draft.action_items:
        matched.append(recorded.pop(item.item_id, None) if item.item_id else None)
    for index, item in enumerate(draft.action_items):
        if matched[index] is None and not item.item_id:
            # An API client that does not send ids: the same text and owner is the same item.
            same = next(
                (
                    old
                    for old in recorded.values()
                    if old.text == item.text.strip() and old.owner.value == item.owner
                ),
                None,
            )
            if same is not None:
                matched[index] = recorded.pop(same.id)
    for gone in recorded.values():
        db.delete(gone)
    for item, kept in zip(draft.action_items, matched, strict=True):
        assert item.due_date is not None  # validated before
        owner = Owner(item.owner)
        if kept is None:
            kept = ActionItem(
                organization_id=row.organization_id,
                session_id=row.id,
                series_id=series.id,
                created_at=now,
            )
            db.add(kept)
        kept.text = item.text.strip()
        kept.owner = owner
        kept.owner_id = row.manager_id if owner == Owner.MANAGER else row.rep_id
        kept.due_date = item.due_date


def complete_action_item(
    database: Database, *, org_id: str, item_id: str, person_id: str, done: bool, now: datetime
) -> None:
    """Mark an item done (or not) — by its owner, or by the manager of its series."""
    with database.session() as db:
        mark_action_item(
            db, org_id=org_id, item_id=item_id, person_id=person_id, done=done, now=now
        )


def mark_action_item(
    db: DbSession, *, org_id: str, item_id: str, person_id: str, done: bool, now: datetime
) -> ActionItem:
    """``complete_action_item`` inside the caller's transaction (a mailed link spends itself
    in the same one)."""
    item = get_in_org(db, ActionItem, org_id, item_id)
    series = get_in_org(db, Series, org_id, item.series_id)
    if person_id not in (item.owner_id, series.manager_id):
        raise NotInOrganization("only the owner or the manager completes an action item")
    item.done_at = now if done else None
    audit(
        db,
        org_id=org_id,
        actor_id=person_id,
        action="action_item.done" if done else "action_item.reopened",
        subject=item,
        now=now,
    )
    return item


def add_talking_point(
    database: Database,
    *,
    org_id: str,
    session_id: str,
    author_id: str | None,
    text: str,
    now: datetime,
) -> str:
    """The rep's point for the agenda of one session (from the signed link or signed in)."""
    text = text.strip()
    if not text or len(text) > MAX_TALKING_POINT_CHARS:
        raise InvalidInput(
            [FieldError("text", f"Write 1 to {MAX_TALKING_POINT_CHARS} characters.")]
        )
    with database.session() as db:
        row = get_in_org(db, Session, org_id, session_id)
        if author_id is not None and author_id not in (row.rep_id, row.manager_id):
            raise NotInOrganization("only the session's rep or manager adds talking points")
        if author_id is not None:
            get_in_org(db, Person, org_id, author_id)
        point = TalkingPoint(
            organization_id=org_id,
            session_id=row.id,
            author_id=author_id,
            text=text,
            created_at=now,
        )
        db.add(point)
        db.flush()
        return point.id
