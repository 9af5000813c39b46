"""Detecting conflicts in booked weeks: a refresh that finds new busy time records each new
clash once, as does the daily scan; nothing is recorded twice, nor beyond the defended days."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from scheduler.defend import ConflictState
from scheduler.jobs import tasks
from scheduler.models import SlotConflict
from tests.sessions import series_sessions


def conflicts(database) -> list[SlotConflict]:
    with database.session() as db:
        return list(db.scalars(select(SlotConflict).order_by(SlotConflict.detected_at)))


def block(calendar, session, email="george@acme.test", shift=timedelta(0), label="Initech call"):
    """Busy time over ``session``'s 1:1 (shifted by ``shift``) in ``email``'s calendar."""
    start = session.scheduled_start - timedelta(minutes=15) + shift
    calendar.add_busy(email, start, start + timedelta(hours=1), label=label)


def test_a_refresh_finding_new_busy_time_records_the_clash_once(inline, booked, calendar):
    tasks.refresh_stale_availability.job.perform(inline)  # the first read: nothing clashes
    assert conflicts(inline.database) == []
    second = series_sessions(inline.database, booked.series_ids[0])[1]
    block(calendar, second)

    inline.clock.now += timedelta(minutes=31)  # type: ignore[attr-defined]
    tasks.refresh_stale_availability.job.perform(inline)

    (found,) = conflicts(inline.database)
    assert (found.session_id, found.state) == (second.id, ConflictState.PENDING)
    assert (found.manager_id, found.rep_id) == (booked.manager_id, booked.rep_id)
    assert found.week_start == second.week_start
    assert found.occurrence_start == second.scheduled_start
    assert [(b["email"], b["role"]) for b in found.busy] == [("george@acme.test", "rep")]
    assert "Initech" not in repr(found.busy)  # free/busy only, never a title
    assert 1 <= len(found.alternatives) <= 3

    # Read again, and by the daily scan: the same clash is not recorded twice.
    tasks.refresh_availability.job.perform(inline, booked.org_id, booked.connection_id)
    tasks.scan_conflicts.job.perform(inline)
    assert len(conflicts(inline.database)) == 1


def test_the_daily_scan_records_a_clash_no_refresh_reported(inline, booked, calendar):
    first = series_sessions(inline.database, booked.series_ids[0])[0]
    block(calendar, first, email="pat@acme.test")
    tasks.scan_conflicts.job.perform(inline)
    (found,) = conflicts(inline.database)
    assert found.session_id == first.id and found.busy[0]["role"] == "manager"


def test_weeks_beyond_the_defended_days_are_left_to_later(inline, booked, calendar):
    tasks.refresh_stale_availability.job.perform(inline)
    sessions = series_sessions(inline.database, booked.series_ids[0])
    for week in sessions[2:5]:  # 15, 22 and 29 days ahead
        block(calendar, week)
    inline.clock.now += timedelta(minutes=31)  # type: ignore[attr-defined]
    tasks.refresh_stale_availability.job.perform(inline)
    assert conflicts(inline.database) == []

    # A week later nothing changed in the calendars: the daily scan finds the week now near.
    inline.clock.now += timedelta(days=7)  # type: ignore[attr-defined]
    tasks.refresh_stale_availability.job.perform(inline)
    assert conflicts(inline.database) == []
    tasks.scan_conflicts.job.perform(inline)
    assert [c.session_id for c in conflicts(inline.database)] == [sessions[2].id]


def test_another_clash_in_a_week_with_an_open_conflict_adds_nothing(inline, booked, calendar):
    tasks.refresh_stale_availability.job.perform(inline)
    second = series_sessions(inline.database, booked.series_ids[0])[1]
    block(calendar, second)
    inline.clock.now += timedelta(minutes=31)  # type: ignore[attr-defined]
    tasks.refresh_stale_availability.job.perform(inline)
    block(calendar, second, email="pat@acme.test", label="Board")
    inline.clock.now += timedelta(minutes=31)  # type: ignore[attr-defined]
    tasks.refresh_stale_availability.job.perform(inline)
    assert len(conflicts(inline.database)) == 1


def test_defending_can_be_turned_off(inline, booked, calendar):
    off = dataclasses.replace(inline, settings=dataclasses.replace(inline.settings, defend_days=0))
    tasks.refresh_stale_availability.job.perform(inline)  # the first read: nothing clashes
    second = series_sessions(inline.database, booked.series_ids[0])[1]
    block(calendar, second)
    inline.clock.now += timedelta(minutes=31)  # type: ignore[attr-defined]
    tasks.refresh_availability.job.perform(off, booked.org_id, booked.connection_id)
    tasks.report_conflicts.job.perform(off, booked.org_id, booked.series_ids[0])
    assert tasks.defend_after_refresh(off, booked.org_id, []) == 0
    assert conflicts(inline.database) == []
