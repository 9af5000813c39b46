from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.models import Session
from scheduler.outcomes import SessionOutcome
from scheduler.usecases.debriefing import record_debrief
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.stored_availability import live_reader
from scheduler.usecases.upkeep import reclassify_past_sessions
from scheduler.usecases.weeks import (
    cancel_session,
    move_session,
    refresh_agenda,
    upcoming_conflicts,
)
from tests.scheduler.usecases.conftest import NOW, link
from tests.scheduler.usecases.test_booking import book
from tests.sessions import series_sessions


def test_moving_one_week_moves_it_in_the_calendar_and_in_cadence(database, calendar, team):
    series_id = book(database, calendar, team)
    second = series_sessions(database, series_id)[1]
    wednesday = second.scheduled_start + timedelta(days=1, hours=2)

    kwargs = dict(org_id=team.org_id, session_id=second.id, actor_id=team.manager_id, link=link)
    move_session(database, calendar, new_start=wednesday, now=NOW, **kwargs)

    assert calendar.events[series_id].moved == {second.scheduled_start: wednesday}
    moved = series_sessions(database, series_id)[1]
    assert (moved.current_start, moved.current_end) == (
        wednesday,
        wednesday + timedelta(minutes=30),
    )


def test_a_move_into_the_past_is_refused_by_field(database, calendar, team):
    series_id = book(database, calendar, team)
    second = series_sessions(database, series_id)[1]
    with pytest.raises(InvalidInput) as refused:
        move_session(
            database,
            calendar,
            org_id=team.org_id,
            session_id=second.id,
            new_start=NOW - timedelta(hours=1),
            actor_id=team.manager_id,
            link=link,
            now=NOW,
        )
    assert [error.field for error in refused.value.errors] == ["new_start"]
    assert calendar.calls["move_occurrence"] == 0


def test_cancelling_one_week_twice_cancels_it_once(database, calendar, team):
    series_id = book(database, calendar, team)
    second = series_sessions(database, series_id)[1]
    for _ in range(2):
        cancel_session(
            database,
            calendar,
            org_id=team.org_id,
            session_id=second.id,
            actor_id=team.manager_id,
            link=link,
            now=NOW,
        )
    assert calendar.calls["cancel_occurrence"] == 1
    cancelled = series_sessions(database, series_id)[1]
    # Known cancelled, but nothing counts before its time: upcoming until next week's 1:1 ends.
    assert (cancelled.cancelled, cancelled.cancelled_by, cancelled.outcome) == (
        True,
        "manager",
        SessionOutcome.UPCOMING,
    )
    reclassify_past_sessions(database, now=cancelled.scheduled_end - timedelta(seconds=1))
    assert series_sessions(database, series_id)[1].outcome == SessionOutcome.UPCOMING
    reclassify_past_sessions(database, now=cancelled.scheduled_end)
    assert series_sessions(database, series_id)[1].outcome == SessionOutcome.CANCELLED


def test_the_hourly_reclassification_is_not_held_back_by_weeks_in_their_grace(
    database, calendar, team
):
    """Weeks still inside their grace period stay upcoming; they must not fill every batch
    and keep the weeks behind them from ever being counted."""
    series_id = book(database, calendar, team)
    sessions = series_sessions(database, series_id)
    for row in sessions[1:4]:
        cancel_session(
            database,
            calendar,
            org_id=team.org_id,
            session_id=row.id,
            actor_id=team.manager_id,
            link=link,
            now=NOW,
        )
    # After the fourth week: weeks 1 and 5 are in their grace (48 h), 2-4 cancelled and over.
    now = sessions[3].scheduled_end + timedelta(hours=1)
    first_week = sessions[0]
    first_week_grace_ends = first_week.scheduled_end + timedelta(hours=48)
    assert now > first_week_grace_ends
    assert reclassify_past_sessions(database, now=now, batch=1) == 4
    outcomes = [row.outcome for row in series_sessions(database, series_id)[:5]]
    assert outcomes == ["undocumented", "cancelled", "cancelled", "cancelled", "upcoming"]


def test_the_refreshed_agenda_carries_last_weeks_open_items(database, calendar, team):
    series_id = book(database, calendar, team)
    first, second = series_sessions(database, series_id)[:2]
    record_debrief(
        database,
        org_id=team.org_id,
        session_id=first.id,
        manager_id=team.manager_id,
        draft=DebriefDraft(
            {},
            (
                ActionItemDraft("Send the pricing sheet", "manager", date(2026, 10, 22)),
                ActionItemDraft("Call Initech", "rep", date(2026, 10, 23)),
                ActionItemDraft("Log the lost deal", "rep", date(2026, 10, 23)),
            ),
        ),
        now=datetime(2026, 10, 20, 14, tzinfo=UTC),
    )
    day_before = second.scheduled_start - timedelta(days=1)

    assert refresh_agenda(
        database, calendar, org_id=team.org_id, session_id=second.id, link=link, now=day_before
    )

    document = calendar.events[series_id].agendas[second.scheduled_start]
    assert "Send the pricing sheet" in document.text
    assert "Call Initech" in document.text


def test_a_hand_edited_agenda_is_not_overwritten(database, calendar, team):
    series_id = book(database, calendar, team)
    second = series_sessions(database, series_id)[1]
    with database.session() as db:
        db.get(Session, second.id).agenda_edited = True
    assert not refresh_agenda(
        database, calendar, org_id=team.org_id, session_id=second.id, link=link, now=NOW
    )
    assert calendar.calls["update_occurrence_agenda"] == 0


def test_conflicts_of_the_coming_weeks_come_with_same_week_alternatives(database, calendar, team):
    series_id = book(database, calendar, team)
    second = series_sessions(database, series_id)[1]
    # The rep has a customer call over the second Tuesday's 1:1.
    calendar.add_busy(
        "george@acme.test",
        second.scheduled_start - timedelta(minutes=15),
        second.scheduled_start + timedelta(hours=1),
        label="Initech call",
    )

    found = upcoming_conflicts(
        database, live_reader(calendar), org_id=team.org_id, series_id=series_id, today=NOW.date()
    )

    assert calendar.calls["free_busy"] == 1
    assert [c.session_id for c in found] == [second.id]
    conflict = found[0].conflict
    assert [clash.busy.label for clash in conflict.clashes] == ["Initech call"]
    assert 1 <= len(conflict.alternatives) <= 3
    new_york = ZoneInfo("America/New_York")
    for alternative in conflict.alternatives:
        local = alternative.start.astimezone(new_york)
        assert (
            local.isocalendar()[1] == second.scheduled_start.astimezone(new_york).isocalendar()[1]
        )
        assert time(9) <= local.time() and alternative.end.astimezone(new_york).time() <= time(17)
    assert conflict.alternatives[0].start.astimezone(new_york).date() == date(2026, 10, 27)
