"""What the periodic jobs look after: which objects need work, and the notices they leave.

Queries return ``(organisation id, object id)`` pairs so that each object becomes its own
small job. Notices are audit entries addressed to people (``detail.recipients``) and are
written once per fact, so running a check twice tells nobody twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session as DbSession

from scheduler.db import Database
from scheduler.models import (
    AuditEntry,
    CalendarConnection,
    ConnectionStatus,
    Organization,
    Person,
    Series,
    SeriesStatus,
    Session,
)
from scheduler.models.base import OrgScoped
from scheduler.outcomes import SessionOutcome
from scheduler.usecases.scope import audit
from scheduler.usecases.sessions import materialise_sessions, reclassify
from scheduler.usecases.stored_availability import AvailabilityReader
from scheduler.usecases.weeks import upcoming_conflicts

Pair = tuple[str, str]


def active_connections(db: DbSession) -> list[Pair]:
    rows = db.execute(
        select(CalendarConnection.organization_id, CalendarConnection.id).where(
            CalendarConnection.status == ConnectionStatus.ACTIVE
        )
    )
    return [(org_id, object_id) for org_id, object_id in rows]


def unwatched_connections(db: DbSession) -> list[Pair]:
    """Active connections no push channel reports for (CalDAV; or a channel that could not
    be opened): they are polled instead."""
    rows = db.execute(
        select(CalendarConnection.organization_id, CalendarConnection.id).where(
            CalendarConnection.status == ConnectionStatus.ACTIVE,
            CalendarConnection.channel_id.is_(None),
        )
    )
    return [(org_id, object_id) for org_id, object_id in rows]


def live_series(db: DbSession) -> list[Pair]:
    """Booked series whose calendar Cadence can still read."""
    rows = db.execute(
        select(Series.organization_id, Series.id)
        .join(CalendarConnection, CalendarConnection.id == Series.connection_id)
        .where(
            Series.status == SeriesStatus.ACTIVE,
            CalendarConnection.status == ConnectionStatus.ACTIVE,
        )
    )
    return [(org_id, object_id) for org_id, object_id in rows]


def managers_to_excuse(db: DbSession) -> list[tuple[str, str, str]]:
    """(organisation, manager, calendar connection) for each manager with a live series whose
    calendar Cadence can read: their weeks are checked for absences and holidays."""
    rows = db.execute(
        select(Series.organization_id, Series.manager_id, func.min(Series.connection_id))
        .join(CalendarConnection, CalendarConnection.id == Series.connection_id)
        .where(
            Series.status == SeriesStatus.ACTIVE,
            CalendarConnection.status == ConnectionStatus.ACTIVE,
        )
        .group_by(Series.organization_id, Series.manager_id)
    )
    # The inner join on the connection means the smallest connection id is never NULL.
    return [
        (org_id, manager_id, connection_id)
        for org_id, manager_id, connection_id in rows
        if connection_id is not None
    ]


def reps_own_connections(db: DbSession, org_id: str, manager_id: str) -> list[tuple[str, str]]:
    """(email, connection id) of the manager's reps who connected their own calendar."""
    rows = db.execute(
        select(Person.email, CalendarConnection.id)
        .join(CalendarConnection, CalendarConnection.person_id == Person.id)
        .where(
            Person.organization_id == org_id,
            Person.manager_id == manager_id,
            CalendarConnection.status == ConnectionStatus.ACTIVE,
        )
    )
    return [(email, connection_id) for email, connection_id in rows]


def sessions_needing_agenda(db: DbSession, *, now: datetime, lead: timedelta) -> list[Pair]:
    """Sessions starting within ``lead`` whose invite has not had its agenda refreshed since
    the lead window opened (hand-edited and cancelled weeks are left alone)."""
    opened = now - lead
    rows = db.execute(
        select(Session.organization_id, Session.id)
        .join(Series, Series.id == Session.series_id)
        .where(
            Series.status == SeriesStatus.ACTIVE,
            Session.scheduled_start > now,
            Session.scheduled_start <= now + lead,
            Session.cancelled.is_(False),
            Session.agenda_edited.is_(False),
            Session.series_stopped.is_(False),
            or_(Session.agenda_refreshed_at.is_(None), Session.agenda_refreshed_at < opened),
        )
    )
    return [(org_id, object_id) for org_id, object_id in rows]


def reclassify_past_sessions(database: Database, *, now: datetime, batch: int = 500) -> int:
    """Store the outcome of every still-``upcoming`` session whose time (scheduled or moved)
    has ended: a week known cancelled, declined, rescheduled or stopped since before its time
    counts from then, an intact one after the grace period (``scheduler.outcomes``). Returns
    how many were looked at.

    Batches go by id, each row once per run, so weeks still in their grace period (looked at
    again next run) never hold back the ones behind them.
    """
    looked_at, after = 0, ""
    while True:
        with database.session() as db:
            rows = list(
                db.scalars(
                    select(Session)
                    .where(
                        Session.outcome == str(SessionOutcome.UPCOMING),
                        or_(Session.scheduled_end <= now, Session.current_end <= now),
                        Session.id > after,
                    )
                    .order_by(Session.id)
                    .limit(batch)
                )
            )
            reclassify(db, rows, now=now)
            last = rows[-1].id if rows else after
        looked_at += len(rows)
        if len(rows) < batch:
            return looked_at
        after = last


def extend_horizon(database: Database, *, org_id: str, series_id: str, now: datetime) -> int:
    """Add the sessions of the rolling horizon's new weeks; returns how many were added."""
    with database.session() as db:
        series = db.scalar(
            select(Series).where(Series.organization_id == org_id, Series.id == series_id)
        )
        org = db.get(Organization, org_id)
        if series is None or org is None or series.status != SeriesStatus.ACTIVE:
            return 0
        through = now.date() + timedelta(weeks=org.horizon_weeks)
        return len(materialise_sessions(db, series, through=through))


def report_conflicts(
    database: Database,
    read: AvailabilityReader,
    *,
    org_id: str,
    series_id: str,
    today: date,
    weeks: int,
    now: datetime,
) -> int:
    """Tell the manager about each coming week that collides with other busy time, once per
    week; returns how many new notices were written."""
    found = upcoming_conflicts(
        database, read, org_id=org_id, series_id=series_id, today=today, weeks=weeks
    )
    written = 0
    with database.session() as db:
        series = db.get(Series, series_id)
        assert series is not None
        for item in found:
            if not item.conflict.clashes:
                continue  # only unreadable: nothing to move away from
            row = db.get(Session, item.session_id)
            assert row is not None
            written += _notify_once(
                db,
                row,
                action="notice.conflict",
                recipients=[series.manager_id],
                now=now,
                day=item.conflict.day.isoformat(),
                clashes=sorted({clash.email for clash in item.conflict.clashes}),
                alternatives=[a.start.isoformat() for a in item.conflict.alternatives],
            )
    return written


def reps_to_check(db: DbSession) -> list[Pair]:
    """Every active rep who has a manager."""
    rows = db.execute(
        select(Person.organization_id, Person.id).where(
            Person.is_rep.is_(True), Person.active.is_(True), Person.manager_id.is_not(None)
        )
    )
    return [(org_id, object_id) for org_id, object_id in rows]


def report_stopped_cadence(database: Database, *, org_id: str, rep_id: str, now: datetime) -> bool:
    """If a rep who had 1:1s with their manager has no future one booked any more (Matt's
    case), tell the manager and the organisation's admins, once per stopped series."""
    with database.session() as db:
        rep = db.scalar(select(Person).where(Person.organization_id == org_id, Person.id == rep_id))
        if rep is None or rep.manager_id is None:
            return False
        series = db.scalars(
            select(Series)
            .where(
                Series.organization_id == org_id,
                Series.rep_id == rep.id,
                Series.manager_id == rep.manager_id,
            )
            .order_by(Series.created_at.desc())
        ).all()
        if not series or any(s.status == SeriesStatus.BOOKING for s in series):
            return False  # never booked is a report row, not a stopped cadence
        upcoming = db.scalar(
            select(func.count())
            .select_from(Session)
            .join(Series, Series.id == Session.series_id)
            .where(
                Session.rep_id == rep.id,
                Session.manager_id == rep.manager_id,
                Session.scheduled_start > now,
                Session.series_stopped.is_(False),
                Series.status == SeriesStatus.ACTIVE,
            )
        )
        if upcoming:
            return False
        admins = db.scalars(
            select(Person.id).where(
                Person.organization_id == org_id, Person.is_admin.is_(True), Person.active.is_(True)
            )
        ).all()
        last = series[0]
        return bool(
            _notify_once(
                db,
                last,
                action="notice.series_stopped",
                recipients=list(dict.fromkeys([rep.manager_id, *admins])),
                now=now,
                rep_id=rep.id,
                status=str(last.status),
                reason=last.ended_reason,
            )
        )


def _notify_once(
    db: DbSession,
    subject: OrgScoped,
    *,
    action: str,
    recipients: list[str],
    now: datetime,
    **detail: Any,
) -> int:
    seen = db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.organization_id == subject.organization_id,
            AuditEntry.action == action,
            AuditEntry.subject_id == subject.id,
        )
    )
    if seen:
        return 0
    audit(
        db,
        org_id=subject.organization_id,
        actor_id=None,
        action=action,
        subject=subject,
        now=now,
        recipients=recipients,
        **detail,
    )
    return 1
