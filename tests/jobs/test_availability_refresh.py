"""Keeping the stored busy time current: the periodic pass, and the sync a notification
triggers. Calls are counted on the in-memory calendar the jobs open."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler.jobs import tasks
from scheduler.jobs.periodic import PERIODIC
from scheduler.models import CalendarConnection, StoredBusyTime
from scheduler.usecases.stored_availability import refresh_busy_time
from tests.jobs.conftest import NOW


def _stored(database) -> dict[str, StoredBusyTime]:
    with database.session() as db:
        return {row.person_id: row for row in db.scalars(select(StoredBusyTime))}


def _watch(database, connection_id: str) -> None:
    with database.session() as db:
        row = db.get(CalendarConnection, connection_id)
        row.channel_id, row.channel_expires_at = "channel", NOW + timedelta(days=7)


def test_the_refresh_is_a_declared_periodic_job():
    assert "availability.refresh_stale" in {job.name for job in PERIODIC}


def test_the_periodic_pass_reads_everyone_once_per_interval(inline, team, calendar, clock):
    tasks.refresh_stale_availability.job.perform(inline)
    assert calendar.calls["free_busy"] == 1  # the manager and the rep in one read
    assert set(_stored(inline.database)) == {team.manager_id, team.rep_id}

    clock.advance(minutes=25)
    tasks.refresh_stale_availability.job.perform(inline)
    assert calendar.calls["free_busy"] == 1  # younger than the 30-minute interval

    clock.advance(minutes=6)
    tasks.refresh_stale_availability.job.perform(inline)
    assert calendar.calls["free_busy"] == 2
    assert {row.read_at for row in _stored(inline.database).values()} == {clock.now}


def test_a_watched_calendar_is_left_to_its_notifications(inline, team, calendar, database):
    _watch(database, team.connection_id)
    tasks.refresh_stale_availability.job.perform(inline)
    assert set(_stored(database)) == {team.rep_id}  # the rep is read through free/busy

    tasks.sync_connection.job.perform(inline, team.org_id, team.connection_id)
    assert set(_stored(database)) == {team.manager_id, team.rep_id}
    assert calendar.calls["free_busy"] == 2


def test_an_unwatched_sync_reads_no_busy_time(inline, team, calendar):
    tasks.sync_connection.job.perform(inline, team.org_id, team.connection_id)
    assert calendar.calls["changes"] == 1 and calendar.calls["free_busy"] == 0


def test_a_refresh_returns_what_changed(inline, team, calendar):
    people = {team.rep_id: "george@acme.test"}
    first = refresh_busy_time(
        inline.database,
        calendar,
        org_id=team.org_id,
        connection_id=team.connection_id,
        people=people,
        weeks=13,
        now=NOW,
    )
    assert first == []  # nothing busy, nothing unknown: no change worth telling
    call = NOW + timedelta(days=3)
    calendar.add_busy("george@acme.test", call, call + timedelta(hours=1), label="Initech")
    calendar.unreadable.add("pat@acme.test")
    (change,) = refresh_busy_time(
        inline.database,
        calendar,
        org_id=team.org_id,
        connection_id=team.connection_id,
        people=people,
        weeks=13,
        now=NOW + timedelta(minutes=5),
    )
    assert change.email == "george@acme.test"
    assert [busy.label for busy in change.added] == ["Initech"] and not change.removed
