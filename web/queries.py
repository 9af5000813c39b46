"""Read-only queries behind the pages, each scoped to one organisation and one viewer.

Writes go through ``scheduler.usecases``; here are only the reads a page needs to draw
itself. Anything outside the viewer's organisation or role is ``NotInOrganization`` (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session as DbSession

from scheduler.models import (
    LIVE_SERIES,
    ActionItem,
    ApiToken,
    CalendarConnection,
    ConnectionStatus,
    Debrief,
    Organization,
    Person,
    Series,
    Session,
    TalkingPoint,
)
from scheduler.outcomes import week_state
from scheduler.usecases.directory import normalise_email
from scheduler.usecases.scope import NotInOrganization, get_in_org
from scheduler.usecases.sessions import session_facts
from web.services import cadence
from web.week_status import week_status


@dataclass(frozen=True)
class TeamMember:
    rep: Person
    series: Series | None


@dataclass(frozen=True)
class SessionView:
    """One session with everything its manager's page shows."""

    session: Session
    series: Series
    manager: Person
    rep: Person
    debrief: Debrief | None
    items: list[ActionItem]
    talking_points: list[TalkingPoint]


def organization(org_id: str) -> Organization:
    with cadence().database.session() as db:
        org = db.get(Organization, org_id)
    if org is None:
        raise NotInOrganization(org_id)
    return org


def person_connections(person: Person) -> list[CalendarConnection]:
    with cadence().database.session() as db:
        return list(
            db.scalars(
                select(CalendarConnection)
                .where(
                    CalendarConnection.organization_id == person.organization_id,
                    CalendarConnection.person_id == person.id,
                )
                .order_by(CalendarConnection.created_at)
            )
        )


def team(manager: Person) -> list[TeamMember]:
    """The manager's reps, by name, each with their live series if one is booked."""
    with cadence().database.session() as db:
        reps = db.scalars(
            select(Person)
            .where(
                Person.organization_id == manager.organization_id,
                Person.manager_id == manager.id,
                Person.is_rep.is_(True),
                Person.active.is_(True),
            )
            .order_by(Person.name, Person.email)
        ).all()
        live = {
            series.rep_id: series
            for series in db.scalars(
                select(Series).where(
                    Series.organization_id == manager.organization_id,
                    Series.manager_id == manager.id,
                    Series.status.in_(LIVE_SERIES),
                )
            )
        }
    return [TeamMember(rep, live.get(rep.id)) for rep in reps]


def my_rep(manager: Person, rep_id: str) -> Person:
    """One of the manager's reps; anyone else's rep (or a stranger) is not found."""
    with cadence().database.session() as db:
        rep = get_in_org(db, Person, manager.organization_id, rep_id)
    if rep.manager_id != manager.id:
        raise NotInOrganization(rep_id)
    return rep


def team_member(manager: Person, rep_id: str) -> TeamMember:
    """``my_rep`` with the pair's live series, as ``team`` pairs them (only its active reps
    have one), without loading the whole team."""
    rep = my_rep(manager, rep_id)
    if not (rep.is_rep and rep.active):
        return TeamMember(rep, None)
    with cadence().database.session() as db:
        series = db.scalar(
            select(Series).where(
                Series.organization_id == manager.organization_id,
                Series.manager_id == manager.id,
                Series.rep_id == rep.id,
                Series.status.in_(LIVE_SERIES),
            )
        )
    return TeamMember(rep, series)


def managed_series(db: DbSession, manager: Person, series_id: str) -> Series:
    series = get_in_org(db, Series, manager.organization_id, series_id)
    if series.manager_id != manager.id:
        raise NotInOrganization(series_id)
    return series


def series_page(
    manager: Person, series_id: str, now: datetime
) -> tuple[Series, Person, list[Session]]:
    """The series, its rep, and its sessions from ``now`` on (by start)."""
    with cadence().database.session() as db:
        series = managed_series(db, manager, series_id)
        rep = db.get(Person, series.rep_id)
        sessions = db.scalars(
            select(Session)
            .where(Session.series_id == series.id, Session.scheduled_end >= now)
            .order_by(Session.scheduled_start)
        ).all()
    assert rep is not None
    return series, rep, list(sessions)


def week_statuses(series: Series, sessions: list[Session], now: datetime) -> dict[str, str | None]:
    """Each session's state in the reports' words as of ``now`` (``web.week_status``)."""
    with cadence().database.session() as db:
        org = db.get(Organization, series.organization_id)
        assert org is not None
        counts = dict(
            db.execute(
                select(ActionItem.session_id, func.count())
                .where(ActionItem.session_id.in_([row.id for row in sessions]))
                .group_by(ActionItem.session_id)
            ).all()
        )
    grace = timedelta(hours=org.grace_hours)
    return {
        row.id: week_status(
            week_state(
                session_facts(row, series, org, counts.get(row.id, 0)), now=now, grace=grace
            ),
            row.cancelled_by,
        )
        for row in sessions
    }


def managed_session(db: DbSession, manager: Person, session_id: str) -> Session:
    row = get_in_org(db, Session, manager.organization_id, session_id)
    if row.manager_id != manager.id:
        raise NotInOrganization(session_id)
    return row


def session_view(viewer: Person, session_id: str) -> SessionView:
    """The session as its manager sees it (debrief notes included); nobody else sees this."""
    with cadence().database.session() as db:
        return _view(db, managed_session(db, viewer, session_id))


def _view(db: DbSession, row: Session) -> SessionView:
    series, manager, rep = (
        db.get(Series, row.series_id),
        db.get(Person, row.manager_id),
        db.get(Person, row.rep_id),
    )
    assert series is not None and manager is not None and rep is not None
    return SessionView(
        session=row,
        series=series,
        manager=manager,
        rep=rep,
        debrief=db.scalar(select(Debrief).where(Debrief.session_id == row.id)),
        items=list(
            db.scalars(
                select(ActionItem)
                .where(ActionItem.session_id == row.id)
                .order_by(ActionItem.created_at, ActionItem.id)
            )
        ),
        talking_points=list(
            db.scalars(
                select(TalkingPoint)
                .where(TalkingPoint.session_id == row.id)
                .order_by(TalkingPoint.created_at)
            )
        ),
    )


def team_open_items(manager: Person) -> list[tuple[ActionItem, Person]]:
    """Open action items across the manager's series, soonest due first, with the rep."""
    return _team_items(
        manager,
        select(ActionItem, Person)
        .where(ActionItem.done_at.is_(None))
        .order_by(ActionItem.due_date, Person.name),
    )


def own_done_items(manager: Person, limit: int = 20) -> list[tuple[ActionItem, Person]]:
    """The manager's own items done most recently (to reopen one ticked by mistake)."""
    return _team_items(
        manager,
        select(ActionItem, Person)
        .where(ActionItem.owner_id == manager.id, ActionItem.done_at.is_not(None))
        .order_by(ActionItem.done_at.desc())
        .limit(limit),
    )


def _team_items(
    manager: Person, query: Select[ActionItem, Person]
) -> list[tuple[ActionItem, Person]]:
    """``query``'s items among the manager's series, each with the series' rep."""
    with cadence().database.session() as db:
        rows = db.execute(
            query.join(Series, Series.id == ActionItem.series_id)
            .join(Person, Person.id == Series.rep_id)
            .where(
                ActionItem.organization_id == manager.organization_id,
                Series.manager_id == manager.id,
            )
        ).all()
    return [(item, rep) for item, rep in rows]


def own_action_item(person: Person, item_id: str) -> ActionItem:
    """An action item the person owns; anyone else's is not found."""
    with cadence().database.session() as db:
        item = get_in_org(db, ActionItem, person.organization_id, item_id)
    if item.owner_id != person.id:
        raise NotInOrganization(item_id)
    return item


def rep_sessions(rep: Person) -> list[tuple[Session, Series, Person]]:
    """The rep's sessions (all of them), newest first, each with its series and manager."""
    with cadence().database.session() as db:
        rows = db.execute(
            select(Session, Series, Person)
            .join(Series, Series.id == Session.series_id)
            .join(Person, Person.id == Session.manager_id)
            .where(Session.organization_id == rep.organization_id, Session.rep_id == rep.id)
            .order_by(Session.scheduled_start.desc())
        ).all()
    return [(session, series, manager) for session, series, manager in rows]


def rep_items(rep: Person) -> list[ActionItem]:
    """Action items the rep owns: open ones first, then by due date."""
    with cadence().database.session() as db:
        return list(
            db.scalars(
                select(ActionItem)
                .where(
                    ActionItem.organization_id == rep.organization_id,
                    ActionItem.owner_id == rep.id,
                )
                .order_by(ActionItem.done_at.is_not(None), ActionItem.due_date)
            )
        )


def person_by_email(org_id: str, email: str) -> Person | None:
    """The active person with this address in the organisation, if any."""
    with cadence().database.session() as db:
        return db.scalar(
            select(Person).where(
                Person.organization_id == org_id,
                func.lower(Person.email) == normalise_email(email),
                Person.active.is_(True),
            )
        )


def people(org_id: str) -> list[Person]:
    with cadence().database.session() as db:
        return list(
            db.scalars(
                select(Person)
                .where(Person.organization_id == org_id)
                .order_by(Person.active.desc(), Person.name, Person.email)
            )
        )


def connection_health(org_id: str) -> list[tuple[CalendarConnection, Person]]:
    """Every calendar connection with its owner: those needing a reconnect first."""
    order = case(
        (CalendarConnection.status == ConnectionStatus.RECONNECT_REQUIRED, 0),
        (CalendarConnection.status == ConnectionStatus.ACTIVE, 1),
        else_=2,
    )
    with cadence().database.session() as db:
        rows = db.execute(
            select(CalendarConnection, Person)
            .join(Person, Person.id == CalendarConnection.person_id)
            .where(CalendarConnection.organization_id == org_id)
            .order_by(order, Person.name)
        ).all()
    return [(connection, person) for connection, person in rows]


def api_tokens(org_id: str) -> list[tuple[ApiToken, Person]]:
    """The organisation's API tokens (live first, newest first) with the admin each acts as."""
    with cadence().database.session() as db:
        rows = db.execute(
            select(ApiToken, Person)
            .join(Person, Person.id == ApiToken.person_id)
            .where(ApiToken.organization_id == org_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        ).all()
    return [(token, person) for token, person in rows]
