"""Defending the slot: conflicts in booked weeks recorded once, then mailed or moved.

Detection (``record_conflicts``) runs when a person's stored busy time gains busy or
unreadable time, and daily for every live series; it records each new clash as a
``pending`` ``SlotConflict``. The notice run checks each pending conflict again: gone, it
is ``resolved`` and nothing is ever sent; still there, the manager's policy mails it or
moves the week. Every state change is a conditional UPDATE from the state it expects, so a
retried or duplicated job changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from scheduler.db import Database
from scheduler.defend import (
    OPEN_CONFLICT_STATES,
    BusySpan,
    ConflictCounts,
    ConflictPolicy,
    ConflictState,
    fingerprint,
)
from scheduler.field_errors import FieldError
from scheduler.intervals import Interval
from scheduler.models import LIVE_SERIES, Organization, Person, Series, Session, SlotConflict
from scheduler.reports.defended import conflict_counts as reports_conflict_counts
from scheduler.reports.scope import ReportScope
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import audit, get_in_org
from scheduler.usecases.stored_availability import AvailabilityReader
from scheduler.usecases.weeks import upcoming_conflicts


@dataclass(frozen=True)
class WeekClash:
    """A booked week's time that other busy time overlaps now, and where it could go."""

    session_id: str
    occurrence: Interval
    spans: tuple[BusySpan, ...]
    alternatives: tuple[Interval, ...]


def week_clashes(
    database: Database,
    read: AvailabilityReader,
    *,
    org_id: str,
    series_id: str,
    now: datetime,
    days: int,
) -> dict[str, WeekClash]:
    """The series' booked weeks (not cancelled, not moved) starting after ``now`` and within
    ``days`` that collide with either person's other busy time, by session id."""
    with database.session() as db:
        series = get_in_org(db, Series, org_id, series_id)
        roles = {
            get_in_org(db, Person, org_id, series.manager_id).email: "manager",
            get_in_org(db, Person, org_id, series.rep_id).email: "rep",
        }
    found = upcoming_conflicts(
        database, read, org_id=org_id, series_id=series_id, today=now.date(), weeks=days // 7 + 2
    )
    until = now + timedelta(days=days)
    return {
        item.session_id: WeekClash(
            item.session_id,
            item.conflict.occurrence,
            tuple(
                BusySpan(clash.email, roles.get(clash.email, "rep"), clash.busy.interval)
                for clash in item.conflict.clashes
            ),
            item.conflict.alternatives,
        )
        for item in found
        if item.conflict.clashes and now < item.conflict.occurrence.start <= until
    }


def series_to_defend(
    db: DbSession, *, org_id: str, person_ids: Iterable[str], now: datetime, days: int
) -> list[str]:
    """The live series (ids) of which any of ``person_ids`` is the manager or the rep and
    that have a booked week starting within ``days``."""
    ids = list(person_ids)
    if not ids or days <= 0:
        return []
    return list(
        db.scalars(
            select(Series.id)
            .where(
                Series.organization_id == org_id,
                Series.status.in_(LIVE_SERIES),
                or_(Series.manager_id.in_(ids), Series.rep_id.in_(ids)),
                select(Session.id)
                .where(
                    Session.series_id == Series.id,
                    Session.cancelled.is_(False),
                    Session.scheduled_start > now,
                    Session.scheduled_start <= now + timedelta(days=days),
                )
                .exists(),
            )
            .order_by(Series.id)
        )
    )


def record_conflicts(
    database: Database,
    read: AvailabilityReader,
    *,
    org_id: str,
    series_id: str,
    now: datetime,
    days: int,
) -> list[str]:
    """Record each new clash in the series' coming ``days`` as a pending conflict; returns
    the new conflicts' ids.

    A clash already recorded (same week, same busy intervals of the same people) is not
    recorded again, whatever became of it; nor is a new one while the week has a conflict
    still open (pending or mailed): its email's links are checked against the calendars
    when used.
    """
    if days <= 0:
        return []
    found = week_clashes(database, read, org_id=org_id, series_id=series_id, now=now, days=days)
    created: list[str] = []
    with database.session() as db:
        series = get_in_org(db, Series, org_id, series_id)
        for session_id, clash in found.items():
            if open_conflict(db, org_id=org_id, session_id=session_id) is not None:
                continue
            session = get_in_org(db, Session, org_id, session_id)
            row = SlotConflict(
                organization_id=org_id,
                session_id=session_id,
                series_id=series.id,
                manager_id=series.manager_id,
                rep_id=series.rep_id,
                week_start=session.week_start,
                occurrence_start=clash.occurrence.start,
                detected_at=now,
                fingerprint=fingerprint(clash.occurrence.start, clash.spans),
                busy=[span.as_json() for span in clash.spans],
                alternatives=[a.start.isoformat() for a in clash.alternatives],
                state=ConflictState.PENDING,
            )
            try:
                with db.begin_nested():  # the same clash recorded concurrently: once
                    db.add(row)
                    db.flush()
            except IntegrityError:
                continue
            created.append(row.id)
    return created


def open_conflict(db: DbSession, *, org_id: str, session_id: str) -> SlotConflict | None:
    """The week's conflict still waiting (pending or mailed), if any."""
    return db.scalar(
        select(SlotConflict).where(
            SlotConflict.organization_id == org_id,
            SlotConflict.session_id == session_id,
            SlotConflict.state.in_(OPEN_CONFLICT_STATES),
        )
    )


def transition(
    db: DbSession,
    *,
    org_id: str,
    conflict_id: str,
    expected: Iterable[ConflictState],
    to: ConflictState,
    **values: object,
) -> bool:
    """Move the conflict to ``to`` only from one of ``expected`` (a conditional UPDATE: of
    two concurrent jobs or clicks, one wins); whether this call did."""
    result = db.execute(
        update(SlotConflict)
        .where(
            SlotConflict.organization_id == org_id,
            SlotConflict.id == conflict_id,
            SlotConflict.state.in_(list(expected)),
        )
        .values(state=to, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def pending_conflicts(db: DbSession, now: datetime) -> list[tuple[str, str]]:
    """(organisation, conflict) of each conflict the notice run acts on: pending ones whose
    week has not started, and automatic moves claimed but not finished."""
    unfinished = (
        select(SlotConflict.organization_id, SlotConflict.id, SlotConflict.detected_at)
        .join(Session, Session.id == SlotConflict.session_id)
        .where(
            SlotConflict.state == ConflictState.MOVED_AUTOMATICALLY,
            SlotConflict.occurrence_start > now,
            Session.current_start.is_(None),
        )
    )
    pending = select(SlotConflict.organization_id, SlotConflict.id, SlotConflict.detected_at).where(
        SlotConflict.state == ConflictState.PENDING, SlotConflict.occurrence_start > now
    )
    rows = [*db.execute(pending), *db.execute(unfinished)]
    return [(org_id, conflict_id) for org_id, conflict_id, _ in sorted(rows, key=lambda r: r[2])]


def conflict_counts(
    db: DbSession,
    *,
    org_id: str,
    from_week: date,
    to_week: date,
    manager_id: str | None = None,
) -> ConflictCounts:
    """Conflicts detected, defended (moved by the manager, moved automatically) and lost in
    the weeks from ``from_week`` to ``to_week`` (Mondays, inclusive), for the organisation
    or one manager (see ``scheduler.defend.count_conflicts``; the reports count the same,
    per manager too: ``scheduler.reports.defended``)."""
    return reports_conflict_counts(db, ReportScope(org_id, from_week, to_week, manager_id))


# ---------------------------------------------------------------------------- policy


def conflict_policy(db: DbSession, *, org_id: str, manager_id: str) -> tuple[str | None, str]:
    """The manager's own choice (None: the organisation's) and the organisation's default."""
    manager = get_in_org(db, Person, org_id, manager_id)
    org = db.get(Organization, org_id)
    assert org is not None
    return manager.conflict_policy, org.conflict_policy_default


def set_conflict_policy(
    database: Database, *, org_id: str, person_id: str, policy: str | None, now: datetime
) -> None:
    """The manager's own policy ("ask" or "auto"), or None to follow the organisation's."""
    if policy is not None and policy not in set(ConflictPolicy):
        raise InvalidInput([FieldError("conflict_policy", "Choose one of the options.")])
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        person.conflict_policy = policy
        audit(
            db,
            org_id=org_id,
            actor_id=person_id,
            action="person.conflict_policy",
            subject=person,
            now=now,
            policy=policy or "organisation default",
        )


def moved_to_avoid_conflicts(
    db: DbSession, *, org_id: str, session_ids: Iterable[str]
) -> dict[str, ConflictState]:
    """Of these sessions, those moved to avoid a conflict: by the manager through the email,
    or automatically (the series page says which)."""
    ids = list(session_ids)
    if not ids:
        return {}
    return {
        session_id: ConflictState(state)
        for session_id, state in db.execute(
            select(SlotConflict.session_id, SlotConflict.state).where(
                SlotConflict.organization_id == org_id,
                SlotConflict.session_id.in_(ids),
                SlotConflict.state.in_([ConflictState.MOVED, ConflictState.MOVED_AUTOMATICALLY]),
            )
        )
    }
