from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from integrations.base import Transient
from scheduler.models import Series, SeriesStatus, Session
from scheduler.recurrence import WeeklySlot
from scheduler.usecases.booking import (
    AlreadyBooked,
    book_series,
    change_series_time,
    end_series,
)
from tests.scheduler.usecases.conftest import MONDAY, NOW, link

TUESDAY_NINE = WeeklySlot(1, time(9), timedelta(minutes=30), "America/New_York")


def book(database, calendar, team, rep=0, slot=TUESDAY_NINE, now=NOW):
    return book_series(
        database,
        calendar,
        org_id=team.org_id,
        manager_id=team.manager_id,
        rep_id=team.rep_ids[rep],
        connection_id=None,
        slot=slot,
        first_day=MONDAY,
        link=link,
        now=now,
    )


def test_booking_writes_the_series_its_sessions_and_one_event(database, calendar, team):
    series_id = book(database, calendar, team)

    with database.session() as db:
        series = db.get(Series, series_id)
        assert series.status == SeriesStatus.ACTIVE
        assert series.provider_event_id == f"mem-{series_id}"
        starts = list(
            db.scalars(
                select(Session.scheduled_start)
                .where(Session.series_id == series_id)
                .order_by(Session.scheduled_start)
            )
        )
    assert len(calendar.events) == 1
    assert len(starts) == 13  # the 13-week horizon
    # 9:00 in New York on both sides of the clocks going back on 1 November.
    assert starts[0] == datetime(2026, 10, 20, 13, tzinfo=UTC)
    assert starts[2] == datetime(2026, 11, 3, 14, tzinfo=UTC)
    event = calendar.events[series_id]
    assert event.spec.attendee_email == "george@acme.test"
    assert "Status update" in event.spec.agenda.text
    assert event.spec.agenda.pdf.startswith(b"%PDF")


def test_a_double_submit_books_once(database, calendar, team):
    first = book(database, calendar, team)
    second = book(database, calendar, team)
    assert first == second
    assert len(calendar.events) == 1
    assert calendar.calls["create_series"] == 1


def test_another_slot_for_a_booked_pair_is_refused(database, calendar, team):
    series_id = book(database, calendar, team)
    other = WeeklySlot(3, time(15), timedelta(minutes=30), "America/New_York")
    with pytest.raises(AlreadyBooked) as refused:
        book(database, calendar, team, slot=other)
    assert refused.value.series_id == series_id


def test_a_lost_answer_is_retried_into_the_same_single_series(database, calendar, team):
    # The provider books the event, then the answer is lost on the way back.
    calendar.fail_next(Transient("connection reset"), after=True)
    with pytest.raises(Transient):
        book(database, calendar, team)
    with database.session() as db:
        assert db.scalar(select(Series.status)) == SeriesStatus.BOOKING

    series_id = book(database, calendar, team)

    assert list(calendar.events) == [series_id]
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(Series)) == 1
        assert db.get(Series, series_id).status == SeriesStatus.ACTIVE


def test_a_provider_failure_before_booking_leaves_a_retryable_row(database, calendar, team):
    calendar.fail_next(Transient("503"))
    with pytest.raises(Transient):
        book(database, calendar, team)
    assert calendar.events == {}
    series_id = book(database, calendar, team)
    assert list(calendar.events) == [series_id]


def test_ending_a_series_removes_the_weeks_that_will_not_happen(database, calendar, team):
    series_id = book(database, calendar, team)
    end_series(
        database,
        calendar,
        org_id=team.org_id,
        series_id=series_id,
        from_day=date(2026, 11, 2),
        actor_id=team.manager_id,
        link=link,
        now=NOW,
    )
    assert calendar.events[series_id].until == date(2026, 11, 1)
    with database.session() as db:
        assert db.get(Series, series_id).status == SeriesStatus.ENDED
        kept = db.scalars(select(Session.scheduled_start).where(Session.series_id == series_id))
        assert sorted(kept) == [
            datetime(2026, 10, 20, 13, tzinfo=UTC),
            datetime(2026, 10, 27, 13, tzinfo=UTC),
        ]


def test_a_new_weekly_time_ends_the_old_series_and_books_its_continuation(database, calendar, team):
    series_id = book(database, calendar, team)
    thursday = WeeklySlot(3, time(16), timedelta(minutes=30), "America/New_York")
    kwargs = dict(
        org_id=team.org_id,
        series_id=series_id,
        slot=thursday,
        from_day=date(2026, 11, 2),
        actor_id=team.manager_id,
        link=link,
        now=NOW,
    )

    continuation = change_series_time(database, calendar, **kwargs)
    again = change_series_time(database, calendar, **kwargs)  # a retry changes nothing

    assert again == continuation
    assert set(calendar.events) == {series_id, continuation}
    with database.session() as db:
        new = db.get(Series, continuation)
        assert new.previous_series_id == series_id
        assert new.status == SeriesStatus.ACTIVE
        assert new.first_day == date(2026, 11, 5)
        assert db.get(Series, series_id).status == SeriesStatus.ENDED
