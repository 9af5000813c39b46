"""Acting on a recorded conflict: the notice run (resolved, moved automatically, or mailed to
the manager) and the links of its email (move the week, or cancel it).

Every step is retry-safe: states change by conditional UPDATE (``slot_conflicts.transition``),
the emails go through the outbox once per key, and an automatic move claimed but not done
(a crash, a calendar that did not answer) is finished, or given back, by the next run.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from integrations.base import CalendarProvider, ProviderError
from scheduler.db import Database
from scheduler.defend import (
    OPEN_CONFLICT_STATES,
    BusySpan,
    ConflictPolicy,
    ConflictState,
    auto_move_target,
    effective_policy,
)
from scheduler.intervals import Interval, utc
from scheduler.links import LinkInvalid, SignedLink, link_url, sign_link, unsubscribe_url
from scheduler.mail import conflict_mail
from scheduler.mail.conflict_mail import Alternative, Recipient
from scheduler.mail.dates import when
from scheduler.mail.kinds import MailKind
from scheduler.mail.message import Mail
from scheduler.models import Organization, Person, Session, SlotConflict
from scheduler.settings import Settings
from scheduler.usecases.agendas import AgendaLink
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.proposals import working_hours
from scheduler.usecases.scope import audit, get_in_org
from scheduler.usecases.slot_conflicts import WeekClash, transition, week_clashes
from scheduler.usecases.spent_links import LinkSpent, spend, spent
from scheduler.usecases.stored_availability import AvailabilityReader
from scheduler.usecases.weeks import cancel_session, move_session

# The purpose of a conflict email's links (scheduler.links).
CONFLICT_LINK = "conflict"
# Puts a message in the outbox once per key (``scheduler.jobs.tasks.send_mail``).
Send = Callable[[Mail], str | None]


@dataclass(frozen=True)
class Mailer:
    """What composing and sending the emails needs: where links point, how links are signed,
    and how a message reaches the outbox."""

    settings: Settings
    send: Send

    def url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/{path.lstrip('/')}"


def series_path(series_id: str) -> str:
    return f"/manager/series/{series_id}"


def _change(
    database: Database,
    org_id: str,
    conflict_id: str,
    *,
    was: ConflictState | Sequence[ConflictState],
    to: ConflictState,
    **values: object,
) -> bool:
    """In a transaction of its own, the conflict goes from ``was`` (a state, or any of
    several) to ``to``, setting ``values``, unless something moved it first; whether this
    call did."""
    expected = [was] if isinstance(was, ConflictState) else was
    with database.session() as db:
        return transition(
            db, org_id=org_id, conflict_id=conflict_id, expected=expected, to=to, **values
        )


# ---------------------------------------------------------------------------- notice run


def _recheck(
    database: Database, read: AvailabilityReader, row: SlotConflict, now: datetime, days: int
) -> WeekClash | None:
    """The week's clash as the stored busy time shows it now (None: gone)."""
    reach = max(days, (row.occurrence_start - now).days + 1)
    found = week_clashes(
        database, read, org_id=row.organization_id, series_id=row.series_id, now=now, days=reach
    )
    return found.get(row.session_id)


def notify_conflict(
    database: Database,
    read: AvailabilityReader,
    calendar: Callable[[], CalendarProvider],
    mailer: Mailer,
    *,
    org_id: str,
    conflict_id: str,
    link: AgendaLink,
    now: datetime,
    days: int,
) -> ConflictState:
    """Act on one conflict: check it again; gone, it is resolved and nothing is sent; still
    there, the week moves automatically when the manager's policy and the rules allow it,
    else the manager gets one email. Returns the conflict's state after."""
    with database.session() as db:
        row = get_in_org(db, SlotConflict, org_id, conflict_id)
        manager = get_in_org(db, Person, org_id, row.manager_id)
        org = db.get(Organization, org_id)
        assert org is not None
        policy = effective_policy(manager.conflict_policy, org.conflict_policy_default)
    # A move claimed by an earlier run that did not finish is finished first.
    if row.state != ConflictState.MOVED_AUTOMATICALLY:
        if row.state != ConflictState.PENDING or row.occurrence_start <= now:
            return row.state
        clash = _recheck(database, read, row, now, days)
        if clash is None:
            _resolve(database, org_id, conflict_id, now)
        if clash is None or not _still_pending(database, org_id, conflict_id, clash):
            with database.session() as db:
                return _state(db, org_id, conflict_id)
        if policy is not ConflictPolicy.AUTO or not _claim_auto_move(
            database, org_id=org_id, conflict_id=conflict_id, clash=clash, now=now
        ):
            return mail_conflict(database, mailer, org_id=org_id, conflict_id=conflict_id, now=now)
    return finish_auto_move(
        database, calendar(), mailer, org_id=org_id, conflict_id=conflict_id, link=link, now=now
    )


def _resolve(database: Database, org_id: str, conflict_id: str, now: datetime) -> None:
    """The clash is gone: resolved, and nothing is ever sent."""
    _change(
        database,
        org_id,
        conflict_id,
        was=ConflictState.PENDING,
        to=ConflictState.RESOLVED,
        settled_at=now,
    )


def _still_pending(database: Database, org_id: str, conflict_id: str, clash: WeekClash) -> bool:
    """Keep the clash as it is now on the conflict (what the email or the move is about);
    whether it is still pending."""
    with database.session() as db:
        result = db.execute(
            update(SlotConflict)
            .where(
                SlotConflict.organization_id == org_id,
                SlotConflict.id == conflict_id,
                SlotConflict.state == ConflictState.PENDING,
            )
            .values(
                busy=[span.as_json() for span in clash.spans],
                alternatives=[a.start.isoformat() for a in clash.alternatives],
            )
        )
        return bool(getattr(result, "rowcount", 0))


def _state(db: DbSession, org_id: str, conflict_id: str) -> ConflictState:
    return get_in_org(db, SlotConflict, org_id, conflict_id).state


def _claim_auto_move(
    database: Database, *, org_id: str, conflict_id: str, clash: WeekClash, now: datetime
) -> bool:
    """Decide the automatic move by the rules and claim it (pending -> moved automatically,
    with its new time); whether it was claimed (not: the manager is asked instead)."""
    with database.session() as db:
        row = get_in_org(db, SlotConflict, org_id, conflict_id)
        org = db.get(Organization, org_id)
        assert org is not None
        manager = get_in_org(db, Person, org_id, row.manager_id)
        rep = get_in_org(db, Person, org_id, row.rep_id)
        moved_this_week = db.scalar(
            select(SlotConflict.id).where(
                SlotConflict.organization_id == org_id,
                SlotConflict.series_id == row.series_id,
                SlotConflict.week_start == row.week_start,
                SlotConflict.state == ConflictState.MOVED_AUTOMATICALLY,
            )
        )
        decided = auto_move_target(
            clash.occurrence,
            clash.alternatives,
            manager_hours=working_hours(manager, org),
            rep_hours=working_hours(rep, org),
            moved_this_week=moved_this_week is not None,
            now=now,
        )
        if decided.to is None:
            return False
        # Claimed in the transaction that read the rules (not by _change, which opens its own)
        return transition(
            db,
            org_id=org_id,
            conflict_id=conflict_id,
            expected=[ConflictState.PENDING],
            to=ConflictState.MOVED_AUTOMATICALLY,
            moved_to=decided.to.start,
            settled_at=now,
        )


def finish_auto_move(
    database: Database,
    calendar: CalendarProvider,
    mailer: Mailer,
    *,
    org_id: str,
    conflict_id: str,
    link: AgendaLink,
    now: datetime,
) -> ConflictState:
    """Do a claimed automatic move (once: a week already there is not moved again) and tell
    both people. A calendar that refuses gives the claim back (the next run asks or tries
    again) and the error propagates, so the job is retried."""
    with database.session() as db:
        row = get_in_org(db, SlotConflict, org_id, conflict_id)
        session = get_in_org(db, Session, org_id, row.session_id)
        target = row.moved_to
        done = session.current_start == target
    assert target is not None
    if not done:
        try:
            move_session(
                database,
                calendar,
                org_id=org_id,
                session_id=row.session_id,
                new_start=target,
                actor_id=None,
                link=link,
                now=now,
                action="session.moved_automatically",
            )
        except (ProviderError, InvalidInput):
            _change(
                database,
                org_id,
                conflict_id,
                was=ConflictState.MOVED_AUTOMATICALLY,
                to=ConflictState.PENDING,
                moved_to=None,
                settled_at=None,
            )
            raise
    _tell_both(database, mailer, org_id=org_id, conflict_id=conflict_id, now=now)
    return ConflictState.MOVED_AUTOMATICALLY


def _recipient(person: Person) -> Recipient:
    return Recipient(
        person.id, person.email, person.name or person.email, person.zone, person.date_locale
    )


def _tell_both(
    database: Database, mailer: Mailer, *, org_id: str, conflict_id: str, now: datetime
) -> None:
    with database.session() as db:
        row = get_in_org(db, SlotConflict, org_id, conflict_id)
        manager = get_in_org(db, Person, org_id, row.manager_id)
        rep = get_in_org(db, Person, org_id, row.rep_id)
    assert row.moved_to is not None
    roles = {span.role for span in map(BusySpan.from_json, row.busy)}
    for person, other, is_manager in ((manager, rep, True), (rep, manager, False)):
        names = [
            ("you" if (role == "manager") == is_manager else other.name or other.email)
            for role in ("manager", "rep")
            if role in roles
        ]
        mailer.send(
            conflict_mail.auto_move_mail(
                org_id=org_id,
                session_id=row.session_id,
                recipient=_recipient(person),
                other_name=other.name or other.email,
                is_manager=is_manager,
                busy_names=[f"{name} became busy" for name in names],
                old_start=row.occurrence_start,
                new_start=row.moved_to,
                link_url=mailer.url(series_path(row.series_id)),
                unsubscribe_url=unsubscribe_url(
                    mailer.settings,
                    org_id=org_id,
                    person_id=person.id,
                    kind=MailKind.AUTO_MOVE,
                    now=now,
                ),
            )
        )


def conflict_link_tokens(
    secret_key: str, row: SlotConflict, nonce: str
) -> tuple[list[tuple[datetime, str]], str]:
    """The signed tokens of a conflict's email: one per alternative, and the cancel one; all
    share ``nonce`` and expire when the week's 1:1 starts."""

    def sign(subject: dict[str, str]) -> str:
        return sign_link(
            secret_key,
            purpose=CONFLICT_LINK,
            org_id=row.organization_id,
            subject={"conflict": row.id, **subject},
            expires_at=row.occurrence_start,
            nonce=nonce,
        )

    moves = [
        (datetime.fromisoformat(start), sign({"action": "move", "to": start}))
        for start in row.alternatives
    ]
    return moves, sign({"action": "cancel"})


def mail_conflict(
    database: Database, mailer: Mailer, *, org_id: str, conflict_id: str, now: datetime
) -> ConflictState:
    """The manager's one email about the conflict (its key makes a retry send nothing more);
    the conflict is then mailed. Its links' nonce is set once, before the email is composed,
    so a retried job composes the same links."""
    with database.session() as db:
        db.execute(
            update(SlotConflict)
            .where(
                SlotConflict.organization_id == org_id,
                SlotConflict.id == conflict_id,
                SlotConflict.link_nonce.is_(None),
            )
            .values(link_nonce=secrets.token_urlsafe(16))
        )
    with database.session() as db:
        row = get_in_org(db, SlotConflict, org_id, conflict_id)
        manager = get_in_org(db, Person, org_id, row.manager_id)
        rep = get_in_org(db, Person, org_id, row.rep_id)
    assert row.link_nonce is not None
    moves, cancel = conflict_link_tokens(mailer.settings.secret_key, row, row.link_nonce)
    base = mailer.settings.base_url
    sent = mailer.send(
        conflict_mail.conflict_mail(
            org_id=org_id,
            conflict_id=conflict_id,
            manager=_recipient(manager),
            rep_name=rep.name or rep.email,
            occurrence_start=row.occurrence_start,
            week_start=row.week_start,
            spans=[BusySpan.from_json(span) for span in row.busy],
            alternatives=[Alternative(start, link_url(base, "/slot", t)) for start, t in moves],
            cancel_url=link_url(base, "/slot", cancel),
            series_url=mailer.url(series_path(row.series_id)),
            unsubscribe_url=unsubscribe_url(
                mailer.settings,
                org_id=org_id,
                person_id=manager.id,
                kind=MailKind.CONFLICT,
                now=now,
            ),
        )
    )
    # Mailed, or (the manager stopped conflict emails) left to the series page: either way
    # the notice run is done with it. mailed_at says whether an email went out.
    _change(
        database,
        org_id,
        conflict_id,
        was=ConflictState.PENDING,
        to=ConflictState.MAILED,
        mailed_at=now if sent is not None else None,
    )
    return ConflictState.MAILED


# ---------------------------------------------------------------------------- the email's links


class ConflictClosed(Exception):
    """The week was already dealt with some other way (moved, cancelled, settled)."""


class NoLongerFree(Exception):
    """The chosen time is no longer free for both; ``alternatives`` are the week's free
    times now (possibly none)."""

    def __init__(self, alternatives: Sequence[datetime]):
        super().__init__("that time is no longer free for both")
        self.alternatives = tuple(alternatives)


@dataclass(frozen=True)
class ConflictLink:
    """What a conflict email's link names, as its pages show it."""

    link: SignedLink
    conflict_id: str
    action: str  # "move" | "cancel"
    to: datetime | None
    series_id: str
    session_id: str
    manager_id: str
    manager_zone: str
    manager_locale: str
    rep_name: str
    occurrence: Interval
    week_start: date
    state: ConflictState
    closed: bool  # the week is cancelled or moved already


def open_conflict_link(database: Database, link: SignedLink) -> ConflictLink:
    """The conflict a genuine link names, inside the link's organisation. ``LinkInvalid``
    when it names none (or another email's nonce), ``LinkSpent`` once one of its email's
    links was used."""
    subject = link.subject
    action = subject.get("action", "")
    if action not in ("move", "cancel") or (action == "move" and not subject.get("to")):
        raise LinkInvalid("not a conflict link")
    with database.session() as db:
        row = db.scalar(
            select(SlotConflict).where(
                SlotConflict.organization_id == link.org_id,
                SlotConflict.id == subject.get("conflict", ""),
            )
        )
        if row is None or row.link_nonce != link.nonce:
            raise LinkInvalid("no such conflict")
        used = spent(db, org_id=link.org_id, nonce=link.nonce)
        if used is not None:
            raise LinkSpent(used.spent_at, used.outcome)
        session = get_in_org(db, Session, link.org_id, row.session_id)
        manager = get_in_org(db, Person, link.org_id, row.manager_id)
        rep = get_in_org(db, Person, link.org_id, row.rep_id)
    to = subject.get("to")
    return ConflictLink(
        link=link,
        conflict_id=row.id,
        action=action,
        to=utc(datetime.fromisoformat(to)) if to else None,
        series_id=row.series_id,
        session_id=row.session_id,
        manager_id=manager.id,
        manager_zone=manager.zone,
        manager_locale=manager.date_locale,
        rep_name=rep.name or rep.email,
        occurrence=Interval(session.scheduled_start, session.scheduled_end),
        week_start=row.week_start,
        state=row.state,
        closed=session.cancelled or session.current_start is not None,
    )


def free_for_both(
    read: AvailabilityReader, emails: Sequence[str], interval: Interval, own: Interval
) -> bool:
    """Whether ``interval`` is free (and readable) for everyone in ``emails`` in the stored
    busy time; ``own`` (the week's own 1:1, which the move leaves) is not busy time."""
    seen = read(list(emails), interval)
    for email in emails:
        availability = seen.get(email)
        if availability is None or any(u.overlaps(interval) for u in availability.unknown):
            return False
        if any(b.interval.overlaps(interval) and b.interval != own for b in availability.busy):
            return False
    return True


def week_alternatives(
    database: Database, read: AvailabilityReader, view: ConflictLink, now: datetime
) -> list[datetime]:
    """The week's times free for both now (best first), for a page offering others."""
    reach = max(1, (view.occurrence.start - now).days + 1)
    clash = week_clashes(
        database, read, org_id=view.link.org_id, series_id=view.series_id, now=now, days=reach
    ).get(view.session_id)
    return [a.start for a in clash.alternatives] if clash else []


def _emails(database: Database, view: ConflictLink) -> list[str]:
    with database.session() as db:
        row = get_in_org(db, SlotConflict, view.link.org_id, view.conflict_id)
        return [
            get_in_org(db, Person, view.link.org_id, row.manager_id).email,
            get_in_org(db, Person, view.link.org_id, row.rep_id).email,
        ]


def _settle(
    database: Database,
    view: ConflictLink,
    to: ConflictState,
    *,
    now: datetime,
    act: Callable[[], None],
    outcome: str,
    moved_to: datetime | None = None,
) -> None:
    """Claim the conflict (open -> ``to``: of two clicks one wins), ``act`` at the calendar,
    then spend the link, recording ``outcome``. A calendar that fails gives the claim back,
    the link unspent, and the error propagates."""
    org_id = view.link.org_id
    if view.closed:
        raise ConflictClosed(view.state)
    claimed = _change(
        database,
        org_id,
        view.conflict_id,
        was=OPEN_CONFLICT_STATES,
        to=to,
        settled_at=now,
        moved_to=moved_to,
    )
    if not claimed:
        raise ConflictClosed(view.state)
    try:
        act()
    except BaseException:
        _change(
            database,
            org_id,
            view.conflict_id,
            was=to,
            to=ConflictState.MAILED,
            settled_at=None,
            moved_to=None,
        )
        raise
    with database.session() as db:
        spend(db, view.link, now=now, outcome=outcome)
        row = get_in_org(db, SlotConflict, org_id, view.conflict_id)
        audit(
            db,
            org_id=org_id,
            actor_id=view.manager_id,
            action=f"conflict.{to.value}",
            subject=row,
            now=now,
            by="email link",
        )


def move_by_link(
    database: Database,
    calendar: CalendarProvider,
    read: AvailabilityReader,
    view: ConflictLink,
    *,
    link: AgendaLink,
    now: datetime,
    to: datetime | None = None,
) -> str:
    """Move just the conflict's week to the link's time (or ``to``, one of the week's free
    times now), once it is checked free for both; what was done, in words."""
    target = view.to if to is None else utc(to)
    assert target is not None
    if to is not None and target not in week_alternatives(database, read, view, now):
        raise NoLongerFree(week_alternatives(database, read, view, now))
    interval = Interval(target, target + (view.occurrence.end - view.occurrence.start))
    if target <= now or not free_for_both(read, _emails(database, view), interval, view.occurrence):
        raise NoLongerFree([t for t in week_alternatives(database, read, view, now) if t != target])
    outcome = f"moved the 1:1 to {when(target, view.manager_zone, view.manager_locale)}"
    _settle(
        database,
        view,
        ConflictState.MOVED,
        now=now,
        moved_to=target,
        outcome=outcome,
        act=lambda: move_session(
            database,
            calendar,
            org_id=view.link.org_id,
            session_id=view.session_id,
            new_start=target,
            actor_id=view.manager_id,
            link=link,
            now=now,
        ),
    )
    return outcome


def cancel_by_link(
    database: Database,
    calendar: CalendarProvider,
    view: ConflictLink,
    *,
    reason: str,
    link: AgendaLink,
    now: datetime,
) -> str:
    """Cancel just the conflict's week, keeping ``reason``; what was done, in words."""
    outcome = "cancelled the week's 1:1"
    _settle(
        database,
        view,
        ConflictState.CANCELLED,
        now=now,
        outcome=outcome,
        act=lambda: cancel_session(
            database,
            calendar,
            org_id=view.link.org_id,
            session_id=view.session_id,
            actor_id=view.manager_id,
            link=link,
            now=now,
            reason=reason,
        ),
    )
    return outcome
