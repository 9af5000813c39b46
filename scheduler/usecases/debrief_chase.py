"""Chasing the debrief by email: find the 1:1s that ended, compose the nudge or the reminder
(``scheduler.chase`` decides which), and keep one ``DebriefNudge`` row per session and kind.

Sending is idempotent twice over: the outbox keeps one message per key
(``debrief-nudge/<session>``, ``debrief-reminder/<session>``), so two jobs racing on one
session queue one email, and the row recorded after it stops every later run; a job that died
between the two is repeated by the next run, whose email is the one already queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from scheduler.chase import ChaseFacts, NudgeKind, due_nudge, grace_ends_at
from scheduler.debrief import Owner
from scheduler.links import link_url, sign_link, unsubscribe_url
from scheduler.mail.compose import Action, Block, Bullets, Para, compose
from scheduler.mail.dates import day, when
from scheduler.mail.kinds import MailKind
from scheduler.mail.message import Mail
from scheduler.models import (
    Debrief,
    DebriefNudge,
    MailOptOut,
    Organization,
    Person,
    Series,
    Session,
)
from scheduler.settings import Settings
from scheduler.usecases.agendas import AgendaLink, session_agenda
from scheduler.usecases.scope import get_in_org
from scheduler.usecases.sessions import session_facts

# The signed link to a session's debrief page: it leads there (signing in still required).
DEBRIEF_LINK = "debrief"
DEBRIEF_LINK_PATH = "/debrief"
DEBRIEF_LINK_VALID = timedelta(days=30)


def nudge_key(kind: NudgeKind, session_id: str) -> str:
    """The outbox key of a session's nudge or reminder."""
    return f"debrief-{kind.value}/{session_id}"


@dataclass(frozen=True)
class DueNudge:
    """A nudge or reminder to send, and what its ``DebriefNudge`` row records."""

    org_id: str
    session_id: str
    manager_id: str
    kind: NudgeKind
    grace_ends_at: datetime
    mail: Mail


def sessions_to_chase(db: DbSession, *, now: datetime) -> list[tuple[str, str]]:
    """(organisation id, session id) of every 1:1 a nudge or reminder is due about.

    Reads only the 1:1s that ended within each organisation's grace period (indexed on the
    session's end, moved or not), without a debrief or a reminder, of managers who did not
    turn these emails off; ``scheduler.chase.due_nudge`` decides among them.
    """
    due: list[tuple[str, str]] = []
    for org in db.scalars(select(Organization).where(Organization.grace_hours > 0)):
        grace = timedelta(hours=org.grace_hours)
        for row, series in _ended_lately(db, org.id, since=now - grace, until=now):
            sent = _sent(db, row.id)
            facts = ChaseFacts(session_facts(row, series, org, 0), has_debrief=False, sent=sent)
            if due_nudge(facts, now=now, grace=grace) is not None:
                due.append((org.id, row.id))
    return due


def _ended_lately(
    db: DbSession, org_id: str, *, since: datetime, until: datetime
) -> Sequence[tuple[Session, Series]]:
    ended = or_(
        and_(
            Session.current_end.is_(None),
            Session.scheduled_end > since,
            Session.scheduled_end <= until,
        ),
        and_(Session.current_end > since, Session.current_end <= until),
    )
    rows = db.execute(
        select(Session, Series)
        .join(Series, Series.id == Session.series_id)
        .where(
            Session.organization_id == org_id,
            ended,
            Session.cancelled.is_(False),
            Session.series_stopped.is_(False),
            Session.excused.is_(False),
            ~exists().where(Debrief.session_id == Session.id),
            ~exists().where(
                DebriefNudge.session_id == Session.id,
                DebriefNudge.kind == NudgeKind.REMINDER.value,
            ),
            ~exists().where(
                MailOptOut.person_id == Session.manager_id,
                MailOptOut.kind == MailKind.DEBRIEF_NUDGE.value,
            ),
        )
        .order_by(Session.scheduled_end)
    ).all()
    return [(row, series) for row, series in rows]


def _sent(db: DbSession, session_id: str) -> frozenset[NudgeKind]:
    return frozenset(
        NudgeKind(kind)
        for kind in db.scalars(
            select(DebriefNudge.kind).where(DebriefNudge.session_id == session_id)
        )
    )


def due_nudge_mail(
    db: DbSession,
    settings: Settings,
    link: AgendaLink,
    *,
    org_id: str,
    session_id: str,
    now: datetime,
) -> DueNudge | None:
    """The nudge or reminder due about one session as of ``now``, composed; ``None`` when
    none is (decided again here: the session may have changed since it was found)."""
    row = get_in_org(db, Session, org_id, session_id)
    series = get_in_org(db, Series, org_id, row.series_id)
    org = db.get(Organization, org_id)
    assert org is not None
    grace = timedelta(hours=org.grace_hours)
    has_debrief = db.scalar(select(exists().where(Debrief.session_id == row.id))) or False
    facts = ChaseFacts(session_facts(row, series, org, 0), has_debrief, _sent(db, row.id))
    kind = due_nudge(facts, now=now, grace=grace)
    if kind is None:
        return None
    ends = grace_ends_at(facts.session, grace)
    mail = _nudge_mail(db, settings, link, row=row, kind=kind, grace_ends=ends, now=now)
    return DueNudge(org_id, row.id, row.manager_id, kind, ends, mail)


def record_nudge(db: DbSession, nudge: DueNudge, *, now: datetime) -> bool:
    """Keep that ``nudge`` went (False when a concurrent job already kept it)."""
    try:
        with db.begin_nested():
            db.add(
                DebriefNudge(
                    organization_id=nudge.org_id,
                    session_id=nudge.session_id,
                    manager_id=nudge.manager_id,
                    kind=nudge.kind.value,
                    queued_at=now,
                    grace_ends_at=nudge.grace_ends_at,
                    outbox_key=nudge.mail.key,
                )
            )
    except IntegrityError:
        return False
    return True


def debrief_link(
    settings: Settings, *, org_id: str, session_id: str, manager_id: str, now: datetime
) -> str:
    """The signed link in a nudge: it opens the session's debrief page (after signing in)."""
    token = sign_link(
        settings.secret_key,
        purpose=DEBRIEF_LINK,
        org_id=org_id,
        subject={"session": session_id, "person": manager_id},
        expires_at=now + DEBRIEF_LINK_VALID,
    )
    return link_url(settings.base_url, DEBRIEF_LINK_PATH, token)


def _nudge_mail(
    db: DbSession,
    settings: Settings,
    link: AgendaLink,
    *,
    row: Session,
    kind: NudgeKind,
    grace_ends: datetime,
    now: datetime,
) -> Mail:
    manager = db.get(Person, row.manager_id)
    assert manager is not None
    zone, locale = manager.zone, manager.date_locale
    agenda = session_agenda(db, row, link, today=now.astimezone(ZoneInfo(zone)).date())
    rep, held = agenda.rep_name, when(agenda.start, zone, locale)
    if kind is NudgeKind.NUDGE:
        subject = f"Debrief your 1:1 with {rep}"
        opening = (
            f"Your 1:1 with {rep} on {held} has ended. Record a note per topic and the "
            "action items you agreed while they are fresh."
        )
    else:
        subject = f"Reminder: debrief your 1:1 with {rep}"
        opening = f"Nothing is recorded yet for your 1:1 with {rep} on {held}."
    url = debrief_link(
        settings, org_id=row.organization_id, session_id=row.id, manager_id=manager.id, now=now
    )
    blocks: list[Block] = [Para(opening), Action("Debrief this 1:1", url)]
    if agenda.topics:
        blocks += [Para("Agenda topics:"), Bullets([topic.title for topic in agenda.topics])]
    if agenda.talking_points:
        blocks += [Para(f"{rep} wanted to raise:"), Bullets(list(agenda.talking_points))]
    if agenda.open_items:
        lines = [
            f"{item.text} ({'you' if item.owner is Owner.MANAGER else rep}, due "
            f"{day(item.due_date, locale)}{', overdue' if item.overdue else ''})"
            for item in agenda.open_items
        ]
        blocks += [Para("Open action items from earlier 1:1s:"), Bullets(lines)]
    blocks.append(
        Para(
            f"Without a debrief by {when(grace_ends, zone, locale)} the week counts as "
            "undocumented. Saving it asks you to sign in."
        )
    )
    return compose(
        org_id=row.organization_id,
        key=nudge_key(kind, row.id),
        kind=MailKind.DEBRIEF_NUDGE,
        person=manager,
        subject=subject,
        blocks=blocks,
        unsubscribe_url=unsubscribe_url(
            settings,
            org_id=row.organization_id,
            person_id=manager.id,
            kind=MailKind.DEBRIEF_NUDGE,
            now=now,
        ),
    )
