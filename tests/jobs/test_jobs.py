"""Jobs on real RQ queues: thin, idempotent, retried only when retrying can help."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from integrations.base import (
    CalendarChange,
    ChangeKind,
    RateLimited,
    ReconnectRequired,
    Transient,
)
from scheduler.intervals import BusyKind
from scheduler.jobs import tasks
from scheduler.jobs.mailbox import MailboxBusy, mailbox_slot
from scheduler.models import (
    AuditEntry,
    CalendarConnection,
    ConnectionStatus,
    PushMessageClaim,
    Series,
    SeriesStatus,
)
from scheduler.usecases.job_failures import recent_job_failures
from scheduler.usecases.push_messages import claim_message
from tests.jobs.conftest import NOW, SLOT, drain, queued, rep_declines_week1
from tests.sessions import series_sessions


def _enqueue_booking(runtime, team):
    runtime.dispatcher.enqueue(
        tasks.book_series,
        team.org_id,
        team.manager_id,
        team.rep_id,
        team.connection_id,
        SLOT.weekday,
        "10:00",
        30,
        SLOT.zone,
        "2026-10-20",
    )


def test_booking_twice_on_the_queue_books_one_series(runtime, team, calendar, database):
    _enqueue_booking(runtime, team)
    _enqueue_booking(runtime, team)

    drain(runtime)
    with database.session() as db:
        series = db.scalars(select(Series)).all()
    assert [s.status for s in series] == [SeriesStatus.ACTIVE]
    assert calendar.calls["create_series"] == 1 and len(calendar.events) == 1


def test_a_sync_job_turns_a_decline_into_a_declined_session(runtime, booked, calendar, database):
    rep_declines_week1(database, calendar, booked)
    runtime.dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)
    drain(runtime)

    week1 = series_sessions(database, booked.series_ids[0])[0]
    assert (week1.rep_response, week1.outcome) == ("declined", "upcoming")  # not yet its time


def test_rate_limits_are_retried_and_succeed_without_a_failure_record(
    runtime, booked, calendar, database
):
    calendar.fail_next(RateLimited(retry_after=1))
    calendar.fail_next(Transient("503"))
    runtime.dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)

    drain(runtime)

    assert calendar.calls["changes"] == 3  # two failures, then the sync
    with database.session() as db:
        assert recent_job_failures(db, booked.org_id) == []
        assert db.get(CalendarConnection, booked.connection_id).last_synced_at == NOW


def test_a_lost_grant_is_not_retried_and_is_shown_to_admins(runtime, booked, calendar, database):
    calendar.fail_next(ReconnectRequired("invalid_grant"))
    runtime.dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)

    drain(runtime)

    assert calendar.calls["changes"] == 1
    with database.session() as db:
        failures = recent_job_failures(db, booked.org_id)
        connection = db.get(CalendarConnection, booked.connection_id)
    assert [(f.job, f.subject_id) for f in failures] == [("sync_connection", booked.connection_id)]
    assert "invalid_grant" in failures[0].error
    assert connection.status == ConnectionStatus.RECONNECT_REQUIRED


def test_transient_failures_give_up_after_the_retries_and_are_recorded(
    runtime, booked, calendar, database
):
    for _ in range(4):
        calendar.fail_next(Transient("still down"))
    runtime.dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)

    drain(runtime)

    assert calendar.calls["changes"] == 4  # the first try and three retries
    with database.session() as db:
        assert len(recent_job_failures(db, booked.org_id)) == 1


def test_a_hundred_sync_requests_while_one_is_queued_run_one_sync(runtime, booked, calendar):
    enqueued = [
        tasks.request_sync(runtime, booked.org_id, booked.connection_id) for _ in range(100)
    ]

    assert enqueued.count(True) == 1 and queued(runtime) == 1
    drain(runtime)
    assert calendar.calls["changes"] == 1
    # Once it has started, the next request queues a fresh sync.
    assert tasks.request_sync(runtime, booked.org_id, booked.connection_id)


def test_a_sync_asked_for_while_one_runs_makes_the_runner_sync_again(runtime, booked, calendar):
    from scheduler.jobs import coalesce

    dispatcher = runtime.dispatcher
    rounds = coalesce.exclusive_rounds(dispatcher, "sync:x", lease=30)
    assert next(rounds) == 1
    # A second job meanwhile: it cannot take the lock, so it does no round of its own...
    assert list(coalesce.exclusive_rounds(dispatcher, "sync:x", lease=30)) == []
    # ...and the runner does one more for it, then stops.
    assert list(rounds) == [2]


def test_at_most_four_jobs_hold_one_mailbox(runtime):
    dispatcher = runtime.dispatcher
    held = [mailbox_slot(dispatcher, "Pat@Contoso.test", limit=4, lease=30, wait=0) for _ in "1234"]
    for slot in held:
        slot.__enter__()
    with (
        pytest.raises(MailboxBusy),
        mailbox_slot(dispatcher, "pat@contoso.test", limit=4, lease=30, wait=0.1),
    ):
        pass
    with mailbox_slot(dispatcher, "other@contoso.test", limit=4, lease=30, wait=0):
        pass  # another mailbox is not affected
    held[0].__exit__(None, None, None)
    with mailbox_slot(dispatcher, "pat@contoso.test", limit=4, lease=30, wait=0):
        pass
    for slot in held[1:]:
        slot.__exit__(None, None, None)


def test_a_slot_held_by_a_dead_worker_frees_itself_when_its_lease_ends(runtime):
    dispatcher = runtime.dispatcher
    for _ in range(4):  # entered and never left, as if the worker was killed
        mailbox_slot(dispatcher, "pat@contoso.test", limit=4, lease=0.2, wait=0).__enter__()
    with mailbox_slot(dispatcher, "pat@contoso.test", limit=4, lease=30, wait=2):
        pass


def test_agendas_are_refreshed_once_inside_the_lead_time(runtime, booked, calendar, clock):
    tasks.refresh_due_agendas.job.perform(runtime)  # Tuesday 10:00 is 25 hours away
    drain(runtime)
    assert calendar.calls["update_occurrence_agenda"] == 0

    clock.advance(hours=2)
    tasks.refresh_due_agendas.job.perform(runtime)
    drain(runtime)
    tasks.refresh_due_agendas.job.perform(runtime)
    drain(runtime)
    assert calendar.calls["update_occurrence_agenda"] == 1


def test_past_weeks_are_reclassified_after_the_grace_period(runtime, booked, database, clock):
    clock.advance(days=4)  # Tuesday's 1:1 ended, the 48 h grace has passed, no debrief
    assert tasks.reclassify_sessions.job.perform(runtime) >= 1
    assert series_sessions(database, booked.series_ids[0])[0].outcome == "undocumented"


def test_the_horizon_rolls_forward_a_week_at_a_time(runtime, booked, database, clock):
    before = len(series_sessions(database, booked.series_ids[0]))
    clock.advance(weeks=2)
    tasks.extend_horizons.job.perform(runtime)
    drain(runtime)
    tasks.extend_horizons.job.perform(runtime)
    drain(runtime)
    assert len(series_sessions(database, booked.series_ids[0])) == before + 2


def _notices(database, action):
    with database.session() as db:
        return db.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_conflicts_in_the_next_four_weeks_are_told_to_the_manager_once(
    runtime, booked, calendar, database
):
    second = series_sessions(database, booked.series_ids[0])[1]
    # A customer call from 9:45 to 10:30: not the series' own occurrence, which is ignored.
    calendar.add_busy(
        "george@acme.test", second.scheduled_start - timedelta(minutes=15), second.scheduled_end
    )
    for _ in range(2):
        tasks.scan_conflicts.job.perform(runtime)
        drain(runtime)

    [notice] = _notices(database, "notice.conflict")
    assert notice.subject_id == second.id
    assert notice.detail["recipients"] == [booked.manager_id]
    assert notice.detail["clashes"] == ["george@acme.test"]


def test_a_series_deleted_in_the_calendar_is_told_to_manager_and_admins_once(
    runtime, booked, calendar, database
):
    calendar.feed.append(CalendarChange(ChangeKind.SERIES_DELETED, booked.series_ids[0], "mem"))
    runtime.dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)
    drain(runtime)
    for _ in range(2):
        tasks.detect_stopped.job.perform(runtime)
        drain(runtime)

    [notice] = _notices(database, "notice.series_stopped")
    assert notice.subject_id == booked.series_ids[0]
    # Patrick is both the manager and the organisation's admin: told once.
    assert notice.detail["recipients"] == [booked.manager_id]


def test_a_live_series_is_not_reported_stopped(runtime, booked, database):
    tasks.detect_stopped.job.perform(runtime)
    drain(runtime)
    assert _notices(database, "notice.series_stopped") == []


def test_a_booking_a_worker_abandoned_is_finished_by_the_periodic_job(
    runtime, team, calendar, database, clock
):
    calendar.fail_next(ReconnectRequired("the worker died here"), after=True)
    _enqueue_booking(runtime, team)
    drain(runtime)  # the event exists in the calendar, the row still says "booking"
    with database.session() as db:
        assert db.scalar(select(Series.status)) == SeriesStatus.BOOKING

    tasks.finish_interrupted_bookings.job.perform(runtime)
    assert queued(runtime) == 0  # too recent: its worker may still be on it
    clock.advance(minutes=6)
    tasks.finish_interrupted_bookings.job.perform(runtime)
    drain(runtime)

    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(Series)) == 1
        assert db.scalar(select(Series.status)) == SeriesStatus.ACTIVE
    assert len(calendar.events) == 1


def test_push_channels_are_opened_then_renewed_only_near_expiry(
    runtime, booked, calendar, database, clock
):
    for _ in range(2):
        tasks.renew_channels.job.perform(runtime)
        drain(runtime)
    assert calendar.calls["open_channel"] == 1
    clock.advance(days=6, hours=1)
    tasks.renew_channels.job.perform(runtime)
    drain(runtime)
    assert calendar.calls["renew_channel"] == 1
    with database.session() as db:
        row = db.get(CalendarConnection, booked.connection_id)
    assert row.channel_id == calendar.opened[-1].channel_id
    assert runtime.cipher.decrypt(row.channel_secret).decode() == calendar.opened[-1].secret
    assert row.channel_expires_at - clock.now > timedelta(days=6)


def test_a_renewed_channel_drops_the_message_claims_of_the_one_it_replaces(
    runtime, booked, calendar, database, clock
):
    tasks.renew_channels.job.perform(runtime)
    drain(runtime)
    with database.session() as db:
        first = db.get(CalendarConnection, booked.connection_id).channel_id
    ids = {"org_id": booked.org_id, "connection_id": booked.connection_id}
    assert claim_message(database, **ids, channel_id=first, number=5)
    clock.advance(days=6, hours=1)
    tasks.renew_channels.job.perform(runtime)
    drain(runtime)
    with database.session() as db:
        current = db.get(CalendarConnection, booked.connection_id).channel_id
        assert current != first
        assert db.scalars(select(PushMessageClaim.channel_id)).all() == []


def test_connections_without_a_push_channel_are_polled(runtime, booked, calendar, database):
    tasks.poll_unwatched.job.perform(runtime)
    drain(runtime)
    assert calendar.calls["changes"] == 1
    with database.session() as db:
        db.get(CalendarConnection, booked.connection_id).channel_id = "watched"
    tasks.poll_unwatched.job.perform(runtime)
    drain(runtime)
    assert calendar.calls["changes"] == 1


def test_a_grant_lost_while_refreshing_an_agenda_marks_the_connection(
    runtime, booked, calendar, database, clock
):
    clock.advance(hours=2)
    calendar.fail_next(ReconnectRequired("invalid_grant"))
    tasks.refresh_due_agendas.job.perform(runtime)
    drain(runtime)
    with database.session() as db:
        assert db.get(CalendarConnection, booked.connection_id).status == (
            ConnectionStatus.RECONNECT_REQUIRED
        )
        assert [f.job for f in recent_job_failures(db, booked.org_id)] == ["refresh_agenda"]


def test_jobs_on_an_outlook_mailbox_wait_for_one_of_its_four_slots(
    runtime, booked, calendar, database
):
    from scheduler.models import Provider

    with database.session() as db:
        db.get(CalendarConnection, booked.connection_id).provider = Provider.MICROSOFT
    busy = [
        mailbox_slot(runtime.dispatcher, "pat@acme.test", limit=4, lease=30, wait=0)
        for _ in range(4)
    ]
    for slot in busy:
        slot.__enter__()
    runtime.dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)
    drain(runtime)  # four other jobs hold the mailbox: busy, retried, given up
    assert calendar.calls["changes"] == 0
    with database.session() as db:
        assert "MailboxBusy" in recent_job_failures(db, booked.org_id)[0].error

    busy[0].__exit__(None, None, None)
    runtime.dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)
    drain(runtime)
    assert calendar.calls["changes"] == 1


def test_a_database_blip_is_retried_like_a_transient_provider_failure(
    runtime, booked, calendar, database
):
    from sqlalchemy.exc import OperationalError

    calendar.fail_next(OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    runtime.dispatcher.enqueue(tasks.sync_connection, booked.org_id, booked.connection_id)
    drain(runtime)
    assert calendar.calls["changes"] == 2
    with database.session() as db:
        assert recent_job_failures(db, booked.org_id) == []


def test_absences_in_the_calendar_excuse_their_weeks_through_the_periodic_job(
    runtime, booked, calendar, database, clock
):
    tuesday = datetime(2026, 10, 27, 14, tzinfo=UTC)  # the second week's 10:00 New York
    calendar.add_busy(
        "george@acme.test",
        tuesday - timedelta(days=1),
        tuesday + timedelta(days=2),
        kind=BusyKind.OUT_OF_OFFICE,
    )
    assert tasks.excuse_all.job.perform(runtime) == 1
    drain(runtime)
    weeks = series_sessions(database, booked.series_ids[0])
    assert [(w.excused, w.excused_reason) for w in weeks[:3]] == [
        (False, ""),
        (True, "George out of office"),
        (False, ""),
    ]
    assert weeks[1].outcome == "upcoming"  # excused, but nothing counts before its time
