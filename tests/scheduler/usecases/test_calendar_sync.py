import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from integrations.base import CalendarChange, ChangeKind, ReconnectRequired, Response
from scheduler.models import (
    CalendarConnection,
    ConnectionStatus,
    Provider,
    Series,
    SeriesStatus,
    Session,
)
from scheduler.outcomes import SessionOutcome
from scheduler.usecases.calendar_sync import sync_connection
from scheduler.usecases.connections import save_connection
from scheduler.usecases.upkeep import reclassify_past_sessions
from tests.scheduler.usecases.conftest import NOW
from tests.scheduler.usecases.test_booking import book
from tests.sessions import series_sessions

FIRST = datetime(2026, 10, 20, 13, tzinfo=UTC)  # Tuesday 9:00 New York
SECOND = FIRST + timedelta(weeks=1)
AFTER_GRACE = SECOND + timedelta(days=4)


@pytest.fixture
def booked(database, calendar, team, token_key):
    from scheduler.crypto import TokenCipher

    connection_id = save_connection(
        database,
        TokenCipher([token_key]),
        org_id=team.org_id,
        person_id=team.manager_id,
        provider=Provider.GOOGLE,
        account_email="pat@acme.test",
        grant=b"{}",
        now=NOW,
    )
    return book(database, calendar, team), connection_id


def sync(database, calendar, team, connection_id, now):
    return sync_connection(
        database, calendar, org_id=team.org_id, connection_id=connection_id, now=now
    )


def outcomes(database, series_id):
    return [(row.scheduled_start, row.outcome) for row in series_sessions(database, series_id)]


def change(series_id, kind, **fields):
    return CalendarChange(kind=kind, series_id=series_id, provider_event_id="e", **fields)


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        (
            ChangeKind.OCCURRENCE_CANCELLED,
            {"original_start": SECOND, "changed_by": "lena@acme.test"},
            SessionOutcome.CANCELLED,
        ),
        (
            ChangeKind.ATTENDEE_RESPONDED,
            {"original_start": SECOND, "response": Response.DECLINED},
            SessionOutcome.DECLINED,
        ),
        (
            ChangeKind.OCCURRENCE_MOVED,
            {
                "original_start": SECOND,
                "new_start": SECOND + timedelta(days=1),
                "new_end": SECOND + timedelta(days=1, minutes=30),
            },
            SessionOutcome.MOVED,
        ),
        (
            ChangeKind.OCCURRENCE_MOVED,
            {
                "original_start": SECOND,
                # Into the week before: by AFTER_GRACE its moved time has passed.
                "new_start": SECOND - timedelta(days=6),
                "new_end": SECOND - timedelta(days=6, minutes=-30),
            },
            SessionOutcome.RESCHEDULED,
        ),
    ],
)
def test_a_change_in_the_calendar_reaches_its_session(
    database, calendar, team, booked, kind, fields, expected
):
    series_id, connection_id = booked
    calendar.feed.append(change(series_id, kind, **fields))

    assert sync(database, calendar, team, connection_id, AFTER_GRACE) == 1

    by_start = dict(outcomes(database, series_id))
    assert by_start[SECOND] == expected
    assert by_start[FIRST] == SessionOutcome.UPCOMING  # untouched rows keep their state


def test_cancelled_by_says_who_when_the_calendar_knows(database, calendar, team, booked):
    series_id, connection_id = booked
    calendar.feed.append(
        change(
            series_id,
            ChangeKind.OCCURRENCE_CANCELLED,
            original_start=SECOND,
            changed_by="George@acme.test",
        )
    )
    sync(database, calendar, team, connection_id, NOW)
    with database.session() as db:
        row = db.scalar(select(Session).where(Session.scheduled_start == SECOND))
        assert (row.cancelled, row.cancelled_by) == (True, "rep")


def test_a_cancellation_read_again_without_its_author_keeps_who_cancelled(
    database, calendar, team, booked
):
    series_id, connection_id = booked
    calendar.feed.append(
        change(
            series_id,
            ChangeKind.OCCURRENCE_CANCELLED,
            original_start=SECOND,
            changed_by="george@acme.test",
        )
    )
    sync(database, calendar, team, connection_id, NOW)
    # The same cancellation seen again by a calendar that does not say who (CalDAV, a resync).
    calendar.feed.append(change(series_id, ChangeKind.OCCURRENCE_CANCELLED, original_start=SECOND))
    sync(database, calendar, team, connection_id, NOW)
    with database.session() as db:
        row = db.scalar(select(Session).where(Session.scheduled_start == SECOND))
        assert (row.cancelled, row.cancelled_by) == (True, "rep")


def cancelled_by(database, start):
    with database.session() as db:
        row = db.scalar(select(Session).where(Session.scheduled_start == start))
        return row.cancelled, row.cancelled_by


def test_a_week_cancelled_in_the_organisers_calendar_was_cancelled_by_the_manager(
    database, calendar, team, booked
):
    series_id, connection_id = booked  # the manager's own calendar
    calendar.feed.append(change(series_id, ChangeKind.OCCURRENCE_CANCELLED, original_start=SECOND))
    sync(database, calendar, team, connection_id, NOW)
    assert cancelled_by(database, SECOND) == (True, "manager")


def test_a_cancellation_read_from_someone_elses_calendar_without_its_author_is_unknown(
    database, calendar, team, booked, token_key
):
    from scheduler.crypto import TokenCipher

    series_id, _ = booked
    reps_own = save_connection(
        database,
        TokenCipher([token_key]),
        org_id=team.org_id,
        person_id=team.rep_ids[0],
        provider=Provider.CALDAV,
        account_email="george@acme.test",
        grant=b"{}",
        now=NOW,
    )
    calendar.feed.append(change(series_id, ChangeKind.OCCURRENCE_CANCELLED, original_start=SECOND))
    sync(database, calendar, team, reps_own, NOW)
    assert cancelled_by(database, SECOND) == (True, "unknown")


REP = "george@acme.test"
THIRD = datetime(2026, 11, 3, 14, tzinfo=UTC)  # 9:00 New York, after the clocks went back
ANSWERS = (
    change("", ChangeKind.ATTENDEE_RESPONDED, response=Response.ACCEPTED, attendee_email=REP),
    change(
        "",
        ChangeKind.ATTENDEE_RESPONDED,
        original_start=SECOND,
        response=Response.DECLINED,
        attendee_email=REP,
    ),
    change(
        "",
        ChangeKind.ATTENDEE_RESPONDED,
        original_start=THIRD,
        response=Response.TENTATIVE,
        attendee_email=REP,
    ),
)


@pytest.mark.parametrize("one_sync", [True, False], ids=["one sync", "a sync each"])
@pytest.mark.parametrize("order", list(itertools.permutations(range(len(ANSWERS)))))
def test_a_weeks_own_answer_wins_over_the_series_answer_in_any_order(
    database, calendar, team, booked, order, one_sync
):
    series_id, connection_id = booked
    for index in order:
        calendar.feed.append(replace(ANSWERS[index], series_id=series_id))
        if not one_sync:
            sync(database, calendar, team, connection_id, NOW)
    sync(database, calendar, team, connection_id, NOW)

    rows = series_sessions(database, series_id)
    answers = {row.scheduled_start: row.rep_response for row in rows}
    assert (answers.pop(SECOND), answers.pop(THIRD)) == ("declined", "tentative")
    assert set(answers.values()) == {"accepted"}


def test_applying_the_same_changes_twice_changes_nothing(database, calendar, team, booked):
    series_id, connection_id = booked
    calendar.feed.append(change(series_id, ChangeKind.OCCURRENCE_CANCELLED, original_start=SECOND))
    sync(database, calendar, team, connection_id, AFTER_GRACE)
    first = outcomes(database, series_id)
    sync_connection(
        database,
        calendar,
        org_id=team.org_id,
        connection_id=connection_id,
        now=AFTER_GRACE,
        full=True,
    )
    assert outcomes(database, series_id) == first


def test_a_deleted_series_stops_every_future_week(database, calendar, team, booked):
    series_id, connection_id = booked
    calendar.feed.append(change(series_id, ChangeKind.SERIES_DELETED))
    sync(database, calendar, team, connection_id, SECOND + timedelta(hours=1))

    rows = series_sessions(database, series_id)
    assert not rows[0].series_stopped  # the week already past is not rewritten
    assert all(row.series_stopped for row in rows[2:])
    # Known stopped, counted only once each week's time has passed.
    assert {row.outcome for row in rows[2:]} == {SessionOutcome.UPCOMING}
    with database.session() as db:
        assert db.get(Series, series_id).status == SeriesStatus.STOPPED
    reclassify_past_sessions(database, now=rows[3].scheduled_end)
    assert [row.outcome for row in series_sessions(database, series_id)[2:5]] == [
        SessionOutcome.STOPPED,
        SessionOutcome.STOPPED,
        SessionOutcome.UPCOMING,
    ]


def test_a_shortened_series_stops_the_weeks_after_its_new_end(database, calendar, team, booked):
    series_id, connection_id = booked
    calendar.feed.append(change(series_id, ChangeKind.SERIES_SHORTENED, until=date(2026, 11, 8)))
    sync(database, calendar, team, connection_id, NOW)
    rows = series_sessions(database, series_id)
    stopped = [row.scheduled_start for row in rows if row.series_stopped]
    assert min(stopped) == datetime(2026, 11, 10, 14, tzinfo=UTC)
    assert len(stopped) == 13 - 3
    assert {row.outcome for row in rows} == {SessionOutcome.UPCOMING}  # none has happened


def test_changes_to_another_organisations_series_are_ignored(database, calendar, team, booked):
    _, connection_id = booked
    calendar.feed.append(change("not-a-series-of-ours", ChangeKind.SERIES_DELETED))
    assert sync(database, calendar, team, connection_id, NOW) == 0


def test_a_revoked_grant_marks_the_connection_and_loses_nothing(database, calendar, team, booked):
    series_id, connection_id = booked
    before = outcomes(database, series_id)
    calendar.fail_next(ReconnectRequired("invalid_grant"))

    with pytest.raises(ReconnectRequired):
        sync(database, calendar, team, connection_id, NOW)

    with database.session() as db:
        connection = db.get(CalendarConnection, connection_id)
        assert connection.status == ConnectionStatus.RECONNECT_REQUIRED
        assert "invalid_grant" in connection.status_reason
    assert outcomes(database, series_id) == before
