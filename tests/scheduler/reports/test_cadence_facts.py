"""The facts kept on each rep's row follow every change to the pair, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from scheduler.models import Person, Series, SeriesStatus, Session
from scheduler.reports.cadence_facts import OPEN_ENDED
from scheduler.reports.cadences import stopped_cadences
from tests.scheduler.reports.conftest import NOW

FACTS = (Person.cadence_first_start, Person.cadence_booked_through, Person.cadence_last_held_at)


def facts(database, rep_id):
    with database.session() as db:
        return tuple(db.execute(select(*FACTS).where(Person.id == rep_id)).one())


def at(day: int, month: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_facts_of_the_hand_built_history(database, history):
    # George: a held 1:1 before the range (8 Sep), an open-ended series, last held 6 Oct.
    assert facts(database, history.george) == (at(8, 9, 15), OPEN_ENDED, at(6, 10, 15))
    # Ryan: his series was deleted in the calendar (none live, so no first 1:1 to judge by);
    # held once, 17 Sep.
    assert facts(database, history.ryan) == (None, None, at(17, 9, 9))
    # Kai: booked from 28 Sep, never held. Ann: never booked.
    assert facts(database, history.kai) == (at(28, 9, 14), OPEN_ENDED, None)
    assert facts(database, history.ann) == (None, None, None)


def test_an_outcome_change_moves_the_last_held_and_a_rollback_keeps_it(database, history):
    week6 = history.sessions[("George", 6)]
    with pytest.raises(RuntimeError), database.session() as db:
        db.get(Session, week6).outcome = "held"
        db.flush()
        raise RuntimeError("the use case failed after flushing")
    assert facts(database, history.george)[2] == at(6, 10, 15)
    with database.session() as db:
        db.get(Session, week6).outcome = "held"
    assert facts(database, history.george)[2] == at(20, 10, 15)
    with database.session() as db:
        db.get(Session, week6).outcome = "undocumented"
    assert facts(database, history.george)[2] == at(6, 10, 15)


def test_ending_or_shortening_the_series_changes_what_is_booked(database, history):
    with database.session() as db:
        series = db.scalars(select(Series).where(Series.rep_id == history.kai)).one()
        series.until = date(2026, 11, 30)
    assert facts(database, history.kai)[1] == date(2026, 11, 30)
    with database.session() as db:
        series = db.scalars(select(Series).where(Series.rep_id == history.kai)).one()
        series.status = SeriesStatus.ENDED
    assert facts(database, history.kai)[1] is None
    with database.session() as db:
        names = [row.rep_name for row in stopped_cadences(db, history.org_id, now=NOW)]
    assert names == ["Ann", "Kai", "Ryan"]  # Kai now for want of a booking


def test_a_new_manager_is_a_new_pair(database, history):
    with database.session() as db:
        db.get(Person, history.george).manager_id = history.matt
    assert facts(database, history.george) == (None, None, None)
    with database.session() as db:
        db.get(Person, history.george).manager_id = history.patrick
    assert facts(database, history.george) == (at(8, 9, 15), OPEN_ENDED, at(6, 10, 15))


def test_new_and_deleted_sessions_count(database, history):
    with database.session() as db:
        series = db.scalars(select(Series).where(Series.rep_id == history.ann)).one_or_none()
        assert series is None
        db.delete(db.get(Session, history.sessions[("Ryan", 1)]))
    assert facts(database, history.ryan) == (None, None, None)


def test_a_pair_booked_again_after_its_series_was_deleted_is_judged_by_the_new_one(
    database, history
):
    """Ryan's series was deleted in the calendar; Matt books him again from next week. The
    pair is not stopped: its live series has not started. Four weeks on with nothing held,
    it is (for want of a held 1:1, not of a booking)."""
    with database.session() as db:
        names = [row.rep_name for row in stopped_cadences(db, history.org_id, now=NOW)]
        assert "Ryan" in names
        old = db.scalars(select(Series).where(Series.rep_id == history.ryan)).one()
        again = Series(
            organization_id=history.org_id,
            manager_id=old.manager_id,
            rep_id=history.ryan,
            weekday=1,
            local_time="09:00",
            duration_minutes=30,
            zone="UTC",
            first_day=date(2026, 10, 27),
            status=SeriesStatus.ACTIVE,
            template_topics=[],
            template_locked_on=date(2026, 10, 27),
            created_at=NOW,
        )
        db.add(again)
        db.flush()
        db.add(
            Session(
                organization_id=history.org_id,
                series_id=again.id,
                manager_id=again.manager_id,
                rep_id=history.ryan,
                week_start=date(2026, 10, 26),
                scheduled_start=at(27, 10, 9),
                scheduled_end=at(27, 10, 10),
            )
        )
    assert facts(database, history.ryan) == (at(27, 10, 9), OPEN_ENDED, at(17, 9, 9))
    with database.session() as db:
        assert "Ryan" not in [r.rep_name for r in stopped_cadences(db, history.org_id, now=NOW)]
        later = stopped_cadences(db, history.org_id, now=at(25, 11, 12))
    (ryan,) = [row for row in later if row.rep_name == "Ryan"]
    assert ryan.reason == "not_held"
