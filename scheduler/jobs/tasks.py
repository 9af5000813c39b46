"""The jobs. Each takes ids, opens what it needs from the ``Runtime``, calls one use case.

All are idempotent: running one twice (a retry, a duplicate, a restarted worker) leaves the
same state as running it once. Periodic jobs fan out: they find the objects needing work and
enqueue one small job per object, so one bad calendar never holds up the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import date, time, timedelta
from functools import partial

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from integrations.base import CalendarProvider
from integrations.factory import push_channels
from scheduler.availability import BusyChange
from scheduler.jobs import coalesce
from scheduler.jobs.dispatch import InlineDispatcher, RQDispatcher
from scheduler.jobs.mailbox import mailbox_slot
from scheduler.jobs.registry import job
from scheduler.jobs.runtime import Runtime
from scheduler.mail import outbox
from scheduler.mail.message import Mail
from scheduler.mail.transport import transport_for
from scheduler.models import (
    CalendarConnection,
    Organization,
    Person,
    Provider,
    Series,
    Session,
    SlotConflict,
)
from scheduler.recurrence import WeeklySlot
from scheduler.reports import mail as digest_mail
from scheduler.usecases import (
    booking,
    calendar_sync,
    debrief_chase,
    defending,
    excusals,
    pending_bookings,
    rep_items,
    slot_conflicts,
    stored_availability,
    unconfirmed,
    upkeep,
    weeks,
)
from scheduler.usecases.connections import reporting_lost_grants
from scheduler.usecases.mail_preferences import opted_out
from scheduler.usecases.push_channels import keep_channel_open as keep_open
from scheduler.usecases.scope import get_in_org

log = logging.getLogger(__name__)

# A vacation entered late still excuses the weeks it covered, for the reports.
EXCUSE_LOOKBACK = timedelta(weeks=2)

# ---------------------------------------------------------------------------- booking


@job("booking", timeout=120, subject="Person")
def book_series(
    rt: Runtime,
    org_id: str,
    manager_id: str,
    rep_id: str,
    connection_id: str,
    weekday: int,
    local_time: str,
    duration_minutes: int,
    zone: str,
    first_day: str,
) -> str:
    """Book the pair's weekly series (``book_series`` is idempotent end to end)."""
    slot = WeeklySlot(
        weekday=weekday,
        local_time=time.fromisoformat(local_time),
        duration=timedelta(minutes=duration_minutes),
        zone=zone,
    )
    with _calendar(rt, org_id, connection_id) as calendar:
        return booking.book_series(
            rt.database,
            calendar,
            org_id=org_id,
            manager_id=manager_id,
            rep_id=rep_id,
            connection_id=connection_id,
            slot=slot,
            first_day=date.fromisoformat(first_day),
            link=rt.link,
            now=rt.clock(),
        )


@job("booking", timeout=120, subject="Series")
def finish_booking(rt: Runtime, org_id: str, series_id: str) -> bool:
    """Complete a booking a crashed worker left in ``booking``."""
    connection_id = _series_connection(rt, org_id, series_id)
    with _calendar(rt, org_id, connection_id) as calendar:
        return pending_bookings.finish_booking(
            rt.database, calendar, org_id=org_id, series_id=series_id, link=rt.link, now=rt.clock()
        )


@job("booking", timeout=60, subject="Session")
def refresh_agenda(rt: Runtime, org_id: str, session_id: str) -> bool:
    """Put the week's current agenda (open items carried over) on its invite."""
    with rt.database.session() as db:
        series_id = get_in_org(db, Session, org_id, session_id).series_id
    connection_id = _series_connection(rt, org_id, series_id)
    with _calendar(rt, org_id, connection_id) as calendar:
        return weeks.refresh_agenda(
            rt.database,
            calendar,
            org_id=org_id,
            session_id=session_id,
            link=rt.link,
            now=rt.clock(),
        )


# ---------------------------------------------------------------------------- sync


@job("sync", timeout=300, subject="CalendarConnection")
def sync_connection(rt: Runtime, org_id: str, connection_id: str, *, full: bool = False) -> int:
    """Bring the connection's sessions up to date with its calendar; returns changes applied.

    With Redis, concurrent requests for one connection collapse (see ``coalesce``).
    """
    applied = 0
    for _ in _sync_rounds(rt, connection_id, full=full):
        with _calendar(rt, org_id, connection_id) as calendar:
            applied += calendar_sync.sync_connection(
                rt.database,
                calendar,
                org_id=org_id,
                connection_id=connection_id,
                now=rt.clock(),
                full=full,
            )
    # A notified calendar changed: its owner's stored busy time is read again, as a job of
    # its own so the sync (and its lock) ends as soon as the sessions are up to date.
    with rt.database.session() as db:
        notified = stored_availability.watched(
            get_in_org(db, CalendarConnection, org_id, connection_id), rt.clock()
        )
    if notified:
        rt.dispatcher.enqueue(refresh_owner_availability, org_id, connection_id)
    return applied


@job("sync", timeout=120, subject="CalendarConnection")
def refresh_owner_availability(rt: Runtime, org_id: str, connection_id: str) -> int:
    """Read a notified connection's owner's busy time again; returns 1 if it changed."""
    with _calendar(rt, org_id, connection_id) as calendar:
        changes = stored_availability.refresh_watched_owner(
            rt.database,
            calendar,
            org_id=org_id,
            connection_id=connection_id,
            weeks=_horizon_weeks(rt, org_id),
            now=rt.clock(),
        )
    defend_after_refresh(rt, org_id, changes)
    return len(changes)


def request_sync(
    rt: Runtime, org_id: str, connection_id: str, *, full: bool = False, answer_first: bool = False
) -> bool:
    """Ask for a sync of the connection; a burst of asks while one is queued adds nothing.

    With Redis the sync always runs on a worker. Embedded, it runs now (the page or job that
    asked sees its result), unless the caller must ``answer_first`` (a webhook): then it
    runs on the process's background thread. Returns whether a job was queued (or run).
    """
    dispatcher = rt.dispatcher
    if isinstance(dispatcher, InlineDispatcher) and not answer_first:
        dispatcher.enqueue(sync_connection, org_id, connection_id, full=full)
        return True
    return dispatcher.enqueue_later(
        sync_connection, org_id, connection_id, name=_sync_name(connection_id, full), full=full
    )


@job("sync", timeout=60, subject="CalendarConnection")
def keep_channel_open(rt: Runtime, org_id: str, connection_id: str, *, force: bool = False) -> bool:
    """Open or renew the connection's push channel (CalDAV has none: it is polled), then
    ask for a sync."""
    with _calendar(rt, org_id, connection_id) as calendar:
        push = push_channels(calendar)
        if push is None:
            return False
        with rt.database.session() as db:
            provider = get_in_org(db, CalendarConnection, org_id, connection_id).provider
        changed = keep_open(
            rt.database,
            push,
            rt.cipher,
            org_id=org_id,
            connection_id=connection_id,
            callback_url=rt.callback_url(str(provider)),
            now=rt.clock(),
            renew_within=rt.tuning.renew_channels_within,
            force=force,
        )
    if changed:
        # A new channel only reports what happens from now on: sync once, so the cursor is
        # set and nothing that happened between two channels goes unread.
        request_sync(rt, org_id, connection_id)
    return changed


# ---------------------------------------------------------------------------- per object upkeep


@job("periodic", timeout=60, subject="Series")
def extend_horizon(rt: Runtime, org_id: str, series_id: str) -> int:
    return upkeep.extend_horizon(rt.database, org_id=org_id, series_id=series_id, now=rt.clock())


@job("periodic", timeout=120, subject="Series")
def report_conflicts(rt: Runtime, org_id: str, series_id: str) -> int:
    """Tell the manager about coming weeks that collide, from the stored busy time (read
    again first only where it is stale)."""
    now = rt.clock()
    with rt.database.session() as db:
        manager_id = get_in_org(db, Series, org_id, series_id).manager_id
    read = _stored(rt, org_id, manager_id)
    # The daily scan also catches a clash no refresh reported (one way of recording).
    slot_conflicts.record_conflicts(
        rt.database,
        read,
        org_id=org_id,
        series_id=series_id,
        now=now,
        days=rt.settings.defend_days,
    )
    return upkeep.report_conflicts(
        rt.database,
        read,
        org_id=org_id,
        series_id=series_id,
        today=now.date(),
        weeks=rt.tuning.conflict_weeks,
        now=now,
    )


# ---------------------------------------------------------------------------- defending the slot


def defend_after_refresh(rt: Runtime, org_id: str, changes: Sequence[BusyChange]) -> int:
    """After a refresh of stored busy time: check the booked weeks of each person who gained
    busy or unreadable time for new conflicts (one job per person); returns how many."""
    emails = sorted({c.email for c in changes if c.added or c.newly_unknown})
    if not emails or rt.settings.defend_days <= 0:
        return 0
    with rt.database.session() as db:
        people = list(
            db.scalars(
                select(Person.id)
                .where(Person.organization_id == org_id, Person.email.in_(emails))
                .order_by(Person.id)
            )
        )
    for person_id in people:
        rt.dispatcher.enqueue(record_person_conflicts, org_id, person_id)
    return len(people)


@job("periodic", timeout=180, subject="Person")
def record_person_conflicts(rt: Runtime, org_id: str, person_id: str) -> int:
    """Record the new conflicts in the booked weeks (the next ``defend_days``) of every live
    series the person is in, against the stored busy time; returns how many were new."""
    now, days = rt.clock(), rt.settings.defend_days
    with rt.database.session() as db:
        series = [
            (series_id, get_in_org(db, Series, org_id, series_id).manager_id)
            for series_id in slot_conflicts.series_to_defend(
                db, org_id=org_id, person_ids=[person_id], now=now, days=days
            )
        ]
    return sum(
        len(
            slot_conflicts.record_conflicts(
                rt.database,
                _stored(rt, org_id, manager_id),
                org_id=org_id,
                series_id=series_id,
                now=now,
                days=days,
            )
        )
        for series_id, manager_id in series
    )


@job("periodic", timeout=120, subject="CalendarConnection")
def refresh_availability(rt: Runtime, org_id: str, connection_id: str) -> int:
    """Read again the busy time of the people only a periodic read keeps current through
    this connection (one free/busy read); returns how many people's time changed."""
    now = rt.clock()
    with rt.database.session() as db:
        reader = stored_availability.periodically_read(db, now).get(connection_id)
    if reader is None or reader.connection.organization_id != org_id:
        return 0
    with _calendar(rt, org_id, connection_id) as calendar:
        changes = stored_availability.refresh_busy_time(
            rt.database,
            calendar,
            org_id=org_id,
            connection_id=connection_id,
            people=reader.people,
            weeks=_horizon_weeks(rt, org_id),
            now=now,
        )
    defend_after_refresh(rt, org_id, changes)
    return len(changes)


@job("periodic", timeout=180, subject="Person")
def excuse_weeks(rt: Runtime, org_id: str, manager_id: str, connection_id: str) -> int:
    """Mark the manager's recent and coming weeks excused, or not, from the calendars' absences
    and the organisation's holidays; returns how many weeks changed."""
    now = rt.clock()
    with rt.database.session() as db:
        own = upkeep.reps_own_connections(db, org_id, manager_id)
    with ExitStack() as opened:
        calendar = opened.enter_context(_calendar(rt, org_id, connection_id))
        own_calendars = {
            email: opened.enter_context(_calendar(rt, org_id, rep_connection))
            for email, rep_connection in own
        }
        return excusals.mark_excused_weeks(
            rt.database,
            calendar,
            org_id=org_id,
            manager_id=manager_id,
            from_day=now.date() - EXCUSE_LOOKBACK,
            weeks=EXCUSE_LOOKBACK.days // 7 + rt.tuning.conflict_weeks,
            now=now,
            own_calendars=own_calendars,
        )


@job("periodic", timeout=60, subject="Person")
def report_stopped_cadence(rt: Runtime, org_id: str, rep_id: str) -> bool:
    return upkeep.report_stopped_cadence(rt.database, org_id=org_id, rep_id=rep_id, now=rt.clock())


@job("mail", timeout=120, subject="Session")
def chase_debrief(rt: Runtime, org_id: str, session_id: str) -> bool:
    """Send the nudge or reminder due about one 1:1, once (``debrief_chase``); True if sent."""
    now = rt.clock()
    with rt.database.session() as db:
        due = debrief_chase.due_nudge_mail(
            db, rt.settings, rt.link, org_id=org_id, session_id=session_id, now=now
        )
    if due is None or send_mail(rt, due.mail) is None:
        return False
    with rt.database.session() as db:
        return debrief_chase.record_nudge(db, due, now=now)


@job("periodic", timeout=60, subject="Person")
def withdraw_sign_up(rt: Runtime, org_id: str, person_id: str) -> bool:
    """An invitation accepted by a sign-up nobody confirmed is unanswered again."""
    return unconfirmed.withdraw_sign_up(
        rt.database,
        org_id=org_id,
        person_id=person_id,
        now=rt.clock(),
        grace=rt.settings.unconfirmed_grace,
    )


@job("periodic", timeout=60, subject="Person")
def remove_unconfirmed_organization(rt: Runtime, org_id: str, founder_id: str) -> bool:
    """An organisation founded by an address nobody confirmed, holding nothing else, goes."""
    return unconfirmed.remove_unconfirmed_organization(
        rt.database,
        org_id=org_id,
        founder_id=founder_id,
        now=rt.clock(),
        grace=rt.settings.unconfirmed_grace,
    )


# ---------------------------------------------------------------------------- periodic fan-outs


@job("periodic", timeout=300, retries=0)
def reconcile_all(rt: Runtime) -> int:
    """Daily: a full sync of every connection catches notifications that never arrived."""
    return _fan_out(rt, upkeep.active_connections, partial(request_sync, rt, full=True))


@job("periodic", timeout=300, retries=0)
def poll_unwatched(rt: Runtime) -> int:
    """Every few minutes: an incremental sync of each connection without push (CalDAV)."""
    return _fan_out(rt, upkeep.unwatched_connections, partial(request_sync, rt))


@job("periodic", timeout=300, retries=0)
def refresh_stale_availability(rt: Runtime) -> int:
    """Every few minutes: each connection whose periodically read people's stored busy time
    is older than the refresh interval reads it again."""
    now, every = rt.clock(), rt.settings.availability_refresh
    return _fan_out(
        rt,
        lambda db: stored_availability.due_for_refresh(db, now, every),
        _enqueue(rt, refresh_availability),
    )


@job("periodic", timeout=300, retries=0)
def renew_channels(rt: Runtime) -> int:
    return _fan_out(rt, upkeep.active_connections, _enqueue(rt, keep_channel_open))


@job("periodic", timeout=300, retries=0)
def refresh_due_agendas(rt: Runtime) -> int:
    now, lead = rt.clock(), rt.tuning.agenda_lead
    return _fan_out(
        rt,
        lambda db: upkeep.sessions_needing_agenda(db, now=now, lead=lead),
        _enqueue(rt, refresh_agenda),
    )


@job("periodic", timeout=300, retries=0)
def excuse_all(rt: Runtime) -> int:
    return _fan_out(rt, upkeep.managers_to_excuse, _enqueue(rt, excuse_weeks))


@job("periodic", timeout=600, retries=0)
def send_digests(rt: Runtime) -> int:
    """Each admin's and manager's due weekly digests into the outbox (safe to run hourly)."""
    with rt.database.session() as db:
        mails = list(digest_mail.weekly_digest_mails(db, settings=rt.settings, now=rt.clock()))
    for each in mails:
        send_mail(rt, each)
    return len(mails)


@job("periodic", timeout=300, retries=0)
def chase_debriefs(rt: Runtime) -> int:
    """Every 15 minutes: one job per 1:1 whose manager is due a nudge or a reminder."""
    now = rt.clock()
    return _fan_out(
        rt,
        lambda db: debrief_chase.sessions_to_chase(db, now=now),
        _enqueue(rt, chase_debrief),
    )


@job("periodic", timeout=600, retries=0)
def send_rep_items(rt: Runtime) -> int:
    """Hourly: each rep's Monday email of action items, once their Monday morning came."""
    with rt.database.session() as db:
        mails = list(rep_items.rep_items_mails(db, rt.settings, now=rt.clock()))
    for each in mails:
        send_mail(rt, each)
    return len(mails)


@job("periodic", timeout=300, retries=0)
def retry_mail(rt: Runtime) -> int:
    """Every few minutes: deliver what a refused or interrupted send left in the outbox."""
    now = rt.clock()
    return _fan_out(rt, lambda db: outbox.unsent(db, now=now), _enqueue(rt, deliver_mail))


@job("periodic", timeout=300, retries=0)
def undo_unconfirmed_sign_ups(rt: Runtime) -> int:
    """Hourly: each password sign-up whose address was not confirmed within
    ``CADENCE_UNCONFIRMED_DAYS`` is undone, one job per invitation or organisation."""
    now, grace = rt.clock(), rt.settings.unconfirmed_grace
    return _fan_out(
        rt,
        lambda db: unconfirmed.expired_sign_ups(db, now=now, grace=grace),
        _enqueue(rt, withdraw_sign_up),
    ) + _fan_out(
        rt,
        lambda db: unconfirmed.unconfirmed_foundings(db, now=now, grace=grace),
        _enqueue(rt, remove_unconfirmed_organization),
    )


@job("periodic", timeout=300, retries=0)
def reclassify_sessions(rt: Runtime) -> int:
    return upkeep.reclassify_past_sessions(rt.database, now=rt.clock())


@job("periodic", timeout=300, retries=0)
def extend_horizons(rt: Runtime) -> int:
    return _fan_out(rt, upkeep.live_series, _enqueue(rt, extend_horizon))


@job("periodic", timeout=300, retries=0)
def scan_conflicts(rt: Runtime) -> int:
    return _fan_out(rt, upkeep.live_series, _enqueue(rt, report_conflicts))


@job("periodic", timeout=300, retries=0)
def detect_stopped(rt: Runtime) -> int:
    return _fan_out(rt, upkeep.reps_to_check, _enqueue(rt, report_stopped_cadence))


@job("periodic", timeout=300, retries=0)
def finish_interrupted_bookings(rt: Runtime) -> int:
    now, older_than = rt.clock(), rt.tuning.booking_stale_after
    return _fan_out(
        rt,
        lambda db: pending_bookings.stale_bookings(db, now=now, older_than=older_than),
        _enqueue(rt, finish_booking),
    )


@job("periodic", timeout=300, retries=0)
def notify_conflicts(rt: Runtime) -> int:
    """Every 15 minutes: act on each pending conflict (resolved, moved, or mailed)."""
    now = rt.clock()
    return _fan_out(
        rt,
        lambda db: slot_conflicts.pending_conflicts(db, now),
        _enqueue(rt, notify_conflict),
    )


@job("periodic", timeout=180, retries=4, subject="SlotConflict")
def notify_conflict(rt: Runtime, org_id: str, conflict_id: str) -> str:
    """Check one conflict again and act on it by the manager's policy; its state after.
    Safe to retry: see ``scheduler.usecases.defending``."""
    with rt.database.session() as db:
        row = get_in_org(db, SlotConflict, org_id, conflict_id)
        series_id, manager_id = row.series_id, row.manager_id
    with ExitStack() as opened:

        def calendar() -> CalendarProvider:
            connection_id = _series_connection(rt, org_id, series_id)
            return opened.enter_context(_calendar(rt, org_id, connection_id))

        return str(
            defending.notify_conflict(
                rt.database,
                _stored(rt, org_id, manager_id),
                calendar,
                defending.Mailer(rt.settings, partial(send_mail, rt)),
                org_id=org_id,
                conflict_id=conflict_id,
                link=rt.link,
                now=rt.clock(),
                days=rt.settings.defend_days,
            )
        )


# ---------------------------------------------------------------------------- mail


def send_mail(rt: Runtime, mail: Mail) -> str | None:
    """Put ``mail`` in the outbox (once per key) and enqueue its delivery; its outbox id.

    Committed before the job is enqueued, so a worker always finds the row, and a Redis
    outage loses nothing (the caller, a sign-up say, goes on). ``None``, and nothing queued,
    when the recipient (``mail.person_id``) stopped this kind of email: the one place that
    decides, for every kind.
    """
    with rt.database.session() as db:
        if mail.person_id is not None and opted_out(
            db, org_id=mail.org_id, person_id=mail.person_id, kind=mail.kind
        ):
            log.info("mail %s not queued: the recipient stopped %s emails", mail.key, mail.kind)
            return None
        message_id = outbox.queue(db, mail, domain=outbox.mail_domain(rt.settings), now=rt.clock())
    try:
        rt.dispatcher.enqueue(deliver_mail, mail.org_id, message_id)
    except RedisError as error:
        # The message is safe in the outbox: the periodic retry delivers it once Redis is back.
        log.warning("mail %s queued, its delivery not enqueued: %s", message_id, error)
    return message_id


@job("mail", timeout=120, retries=4, subject="OutboxMessage")
def deliver_mail(rt: Runtime, org_id: str, message_id: str) -> bool:
    """Send one outbox message (never twice: see ``scheduler.mail.outbox``)."""
    return outbox.deliver(
        rt.database,
        transport_for(rt.settings),
        org_id=org_id,
        message_id=message_id,
        sender=rt.settings.mail_from,
        now=rt.clock(),
    )


# ---------------------------------------------------------------------------- helpers


def _fan_out(
    rt: Runtime,
    find: Callable[[DbSession], Sequence[tuple[str, ...]]],
    start: Callable[..., object],
) -> int:
    """``start(*ids)`` for each row of ids ``find`` returns (read first, then the database is
    let go, so no transaction stays open while work is handed out); returns how many."""
    with rt.database.session() as db:
        rows = find(db)
    for ids in rows:
        start(*ids)
    return len(rows)


def _enqueue(rt: Runtime, each: Callable[..., object]) -> Callable[..., object]:
    """Start ``each`` as its own job for one row of ids."""
    return partial(rt.dispatcher.enqueue, each)


def _horizon_weeks(rt: Runtime, org_id: str) -> int:
    with rt.database.session() as db:
        org = db.get(Organization, org_id)
    return org.horizon_weeks if org is not None else 13


def _stored(rt: Runtime, org_id: str, manager_id: str) -> stored_availability.StoredAvailability:
    """The manager's team's stored busy time, read again where stale."""
    return stored_availability.StoredAvailability(
        rt.database,
        rt.calendar,
        org_id=org_id,
        manager_id=manager_id,
        now=rt.clock(),
        max_age=rt.settings.availability_max_age,
        weeks=_horizon_weeks(rt, org_id),
    )


def _series_connection(rt: Runtime, org_id: str, series_id: str) -> str:
    with rt.database.session() as db:
        connection_id = get_in_org(db, Series, org_id, series_id).connection_id
    if connection_id is None:
        raise LookupError(f"series {series_id} has no calendar connection")
    return connection_id


@contextmanager
def _calendar(rt: Runtime, org_id: str, connection_id: str) -> Iterator[CalendarProvider]:
    """The connection's calendar, holding one of its Outlook mailbox's slots meanwhile; a
    ``ReconnectRequired`` marks the connection for the manager and admins, then propagates."""
    with rt.database.session() as db:
        row = get_in_org(db, CalendarConnection, org_id, connection_id)
    dispatcher = rt.jobs
    slot = (
        mailbox_slot(
            dispatcher,
            row.account_email,
            limit=rt.tuning.mailbox_limit,
            lease=300,
            wait=rt.tuning.mailbox_wait.total_seconds(),
        )
        if isinstance(dispatcher, RQDispatcher) and row.provider == Provider.MICROSOFT
        else nullcontext()
    )
    # Whatever the job asks of the calendar, a dead grant is never silent.
    with (
        slot,
        reporting_lost_grants(
            rt.database, org_id=org_id, connection_id=connection_id, now=rt.clock()
        ),
    ):
        yield rt.calendar(row)


def _sync_name(connection_id: str, full: bool) -> str:
    return f"sync-full:{connection_id}" if full else f"sync:{connection_id}"


def _sync_rounds(rt: Runtime, connection_id: str, *, full: bool) -> Iterator[int]:
    dispatcher = rt.jobs
    if not isinstance(dispatcher, RQDispatcher):
        yield 1
        return
    name = _sync_name(connection_id, full)
    coalesce.started(dispatcher, name)
    yield from coalesce.exclusive_rounds(
        dispatcher,
        name,
        lease=rt.tuning.lock_lease,
        renew_every=rt.tuning.job_heartbeat.total_seconds(),
    )
