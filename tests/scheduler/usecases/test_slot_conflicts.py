"""Recording conflicts and counting what became of them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler.defend import ConflictState
from scheduler.models import Session, SlotConflict
from scheduler.usecases.slot_conflicts import (
    conflict_counts,
    record_conflicts,
    series_to_defend,
    transition,
)
from scheduler.usecases.stored_availability import live_reader
from tests.scheduler.usecases.conftest import MONDAY, NOW
from tests.scheduler.usecases.test_booking import book
from tests.sessions import series_sessions


def clash(calendar, session, email="george@acme.test"):
    start = session.scheduled_start - timedelta(minutes=15)
    calendar.add_busy(email, start, start + timedelta(hours=1), label="Initech call")


def test_each_clash_is_recorded_once(database, calendar, team):
    series_id = book(database, calendar, team)
    first, second = series_sessions(database, series_id)[:2]
    clash(calendar, second)
    kwargs = dict(org_id=team.org_id, series_id=series_id, now=NOW, days=14)

    (created,) = record_conflicts(database, live_reader(calendar), **kwargs)
    assert record_conflicts(database, live_reader(calendar), **kwargs) == []

    # Settled, the same clash stays settled; a new clash in another week is new.
    with database.session() as db:
        assert transition(
            db, org_id=team.org_id, conflict_id=created,
            expected=[ConflictState.PENDING], to=ConflictState.RESOLVED, settled_at=NOW,
        )  # fmt: skip
    assert record_conflicts(database, live_reader(calendar), **kwargs) == []
    clash(calendar, first, email="pat@acme.test")
    assert len(record_conflicts(database, live_reader(calendar), **kwargs)) == 1


def test_a_transition_happens_once_from_the_state_it_expects(database, calendar, team):
    series_id = book(database, calendar, team)
    clash(calendar, series_sessions(database, series_id)[1])
    (created,) = record_conflicts(
        database, live_reader(calendar), org_id=team.org_id, series_id=series_id, now=NOW, days=14
    )
    moves = []
    for _ in range(2):
        with database.session() as db:
            moves.append(
                transition(
                    db, org_id=team.org_id, conflict_id=created,
                    expected=[ConflictState.PENDING, ConflictState.MAILED],
                    to=ConflictState.MOVED, settled_at=NOW,
                )
            )  # fmt: skip
    assert moves == [True, False]
    with database.session() as db:  # another organisation's id changes nothing
        assert not transition(
            db, org_id="elsewhere", conflict_id=created,
            expected=list(ConflictState), to=ConflictState.CANCELLED,
        )  # fmt: skip


def test_only_series_with_a_booked_week_ahead_are_defended(database, calendar, team):
    series_id = book(database, calendar, team)
    with database.session() as db:
        found = series_to_defend(
            db, org_id=team.org_id, person_ids=[team.rep_ids[0]], now=NOW, days=14
        )
        assert found == [series_id]
        assert (
            series_to_defend(db, org_id=team.org_id, person_ids=[team.rep_ids[1]], now=NOW, days=14)
            == []
        )
        assert (
            series_to_defend(db, org_id=team.org_id, person_ids=[team.manager_id], now=NOW, days=0)
            == []
        )


def test_counts_of_detected_defended_and_lost(database, calendar, team):
    series_id = book(database, calendar, team)
    weeks = series_sessions(database, series_id)[:2]
    for week in weeks:
        clash(calendar, week)
    created = record_conflicts(
        database, live_reader(calendar), org_id=team.org_id, series_id=series_id, now=NOW, days=14
    )
    assert len(created) == 2
    with database.session() as db:
        transition(
            db, org_id=team.org_id, conflict_id=created[0],
            expected=[ConflictState.PENDING], to=ConflictState.MOVED_AUTOMATICALLY,
        )  # fmt: skip
        # The second week's conflict was left open and the week went undocumented.
        db.get(Session, weeks[1].id).outcome = "undocumented"  # derived report rows follow
        db.flush()
        week_starts = list(db.scalars(select(SlotConflict.week_start)))
        counts = conflict_counts(
            db, org_id=team.org_id, from_week=MONDAY, to_week=MONDAY + timedelta(weeks=4)
        )
        assert (counts.detected, counts.moved_automatically, counts.lost) == (2, 1, 1)
        assert conflict_counts(
            db, org_id=team.org_id, from_week=max(week_starts), to_week=max(week_starts),
            manager_id=team.manager_id,
        ).detected == 1  # fmt: skip
        assert (
            conflict_counts(
                db, org_id=team.org_id, from_week=MONDAY, to_week=MONDAY, manager_id=team.rep_ids[0]
            ).detected
            == 0
        )
