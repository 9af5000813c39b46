"""Derived rows kept by flushes equal a recount from scratch, and the migration's backfill."""

from __future__ import annotations

import importlib.util
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update

from scheduler.models import ActionItem, ManagerItemWeek, ManagerWeek, Person, Series, Session
from scheduler.reports.derived import rebuild_derived_rows
from tests.scheduler.reports.conftest import NOW, WEEKS

VERSIONS = Path(__file__).resolve().parents[3] / "migrations/versions"
# The backfills that define the derived rows: the rollups (0005), then the rules of 0008.
MIGRATIONS = ("0005_report_rollups.py", "0008_outcomes_in_time.py")
FACTS = (Person.cadence_first_start, Person.cadence_booked_through, Person.cadence_last_held_at)


def derived(database):
    """Every derived row, in a stable order."""
    with database.session() as db:
        return {
            "facts": db.execute(select(Person.id, *FACTS).order_by(Person.id)).all(),
            "weeks": db.execute(
                select(ManagerWeek).order_by(ManagerWeek.manager_id, ManagerWeek.week_start)
            )
            .scalars()
            .all(),
            "items": db.execute(
                select(ManagerItemWeek).order_by(
                    ManagerItemWeek.manager_id, ManagerItemWeek.week_start, ManagerItemWeek.due_date
                )
            )
            .scalars()
            .all(),
        }


def as_values(rows):
    def plain(row):
        return tuple(getattr(row, column.key) for column in row.__table__.columns)

    return {
        "facts": [tuple(row) for row in rows["facts"]],
        "weeks": [plain(row) for row in rows["weeks"]],
        "items": [plain(row) for row in rows["items"]],
    }


def blank(database) -> None:
    """Forget every derived row, behind the ORM's back (no flush recomputes them)."""
    with database.engine.begin() as connection:
        connection.execute(update(Person).values({column.key: None for column in FACTS}))
        connection.execute(delete(ManagerWeek))
        connection.execute(delete(ManagerItemWeek))


def recounted(database, history):
    """The derived rows counted again from scratch, for both organisations."""
    blank(database)
    with database.engine.begin() as connection:
        rebuild_derived_rows(connection, history.org_id)
        rebuild_derived_rows(connection, history.other_org_id)
    return as_values(derived(database))


def test_a_rebuild_and_the_migration_give_what_the_flushes_kept(database, history):
    kept = as_values(derived(database))
    # Not a comparison of empty tables: the history's weeks, items and facts are all there.
    assert len(kept["weeks"]) == 7 + 6 + 1 + 2  # Patrick (and a week before), Matt, Nina, Boss
    assert sum(row[-4] for row in kept["items"]) == 11  # created (column order of the model)
    assert any(row[3] is not None for row in kept["facts"])

    assert recounted(database, history) == kept

    rollups, in_time = (migration(name) for name in MIGRATIONS)
    blank(database)
    with database.engine.begin() as connection:
        rollups.backfill(connection)
        # The hand-built history states its outcomes literally, Ryan's stopped week 6 (on
        # Thursday, after NOW) among them: as of a day after its last week, nothing is ahead.
        in_time.backfill(connection, NOW + timedelta(weeks=1))
    assert as_values(derived(database)) == kept


def test_the_migration_puts_back_to_upcoming_what_is_known_ahead_of_its_time(database, history):
    """Revision 0008 on rows stored by the earlier rule: a week known stopped (cancelled,
    declined...) before its time counted at once; it is upcoming until then."""
    _, in_time = (migration(name) for name in MIGRATIONS)
    ryan6 = history.sessions[("Ryan", 6)]
    with database.session() as db:
        assert db.get(Session, ryan6).outcome == "stopped"
        before = sum(
            db.scalars(select(ManagerWeek.stopped).where(ManagerWeek.week_start == WEEKS[5]))
        )
    with database.engine.begin() as connection:
        in_time.backfill(connection, NOW)
    with database.session() as db:
        assert db.get(Session, ryan6).outcome == "upcoming"
        weeks = db.scalars(select(ManagerWeek).where(ManagerWeek.week_start == WEEKS[5])).all()
    assert before == 1 and sum(week.stopped for week in weeks) == 0
    assert recounted(database, history) == as_values(derived(database))


def migration(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(f"migration_{name[:4]}", VERSIONS / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_kind_of_change_leaves_what_a_recount_gives(database, history):
    with database.session() as db:
        george6 = db.get(Session, history.sessions[("George", 6)])
        george6.outcome = "held"  # reclassified
        lena2 = db.get(Session, history.sessions[("Lena", 2)])
        lena2.cancelled_by = "rep"  # the sync learnt who cancelled
        kai3 = db.get(Session, history.sessions[("Kai", 3)])
        kai3.week_start = WEEKS[1]  # moved to another week
        db.delete(db.get(Session, history.sessions[("Ryan", 2)]))
        items = db.scalars(select(ActionItem).where(ActionItem.organization_id == history.org_id))
        for n, item in enumerate(items.all()):
            if n == 0:
                item.done_at = NOW  # done today, late
            elif n == 1:
                item.due_date = date(2026, 12, 1)  # postponed
            elif n == 2:
                db.delete(item)
        db.get(Person, history.ann).manager_id = history.patrick  # a new pair
    kept = as_values(derived(database))
    assert recounted(database, history) == kept


def test_rows_the_database_deletes_in_cascade_are_counted_out(database, history):
    # Deleting Lena's series takes its sessions and items with it (ON DELETE CASCADE);
    # deleting Matt takes his series, sessions and items, and leaves his reps managerless.
    with database.session() as db:
        db.delete(db.scalars(select(Series).where(Series.rep_id == history.lena)).one())
        db.delete(db.get(Person, history.matt))
    kept = as_values(derived(database))
    with database.session() as db:
        patrick = db.scalars(
            select(ManagerWeek)
            .where(ManagerWeek.manager_id == history.patrick)
            .order_by(ManagerWeek.week_start)
        ).all()
        created = db.scalars(select(ManagerItemWeek.created)).all()
    assert [(week.week_start, week.held) for week in patrick][1:3] == [
        (WEEKS[0], 1),  # George alone now
        (WEEKS[1], 1),
    ]
    assert sum(created) == 4 + 1  # George's four, and the other organisation's one
    assert facts_of(kept, history.kai) == (None, None, None)
    assert recounted(database, history) == kept


def facts_of(values, person_id):
    return next(row[1:] for row in values["facts"] if row[0] == person_id)


def test_two_transactions_on_one_managers_week_both_count(database, history):
    # Lena's and George's week-6 1:1s are both Patrick's: each transaction recounts that
    # week. The second must wait for the first and count its change too.
    first = database.sessions()
    first.begin()
    first.get(Session, history.sessions[("George", 6)]).outcome = "held"
    first.flush()

    def second() -> None:
        with database.session() as db:
            db.get(Session, history.sessions[("Lena", 6)]).outcome = "held"

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(second)
        time.sleep(0.5)  # the second transaction reaches its recount and waits on the first
        assert not waiting.done()
        first.commit()
        first.close()
        waiting.result(timeout=30)
    with database.session() as db:
        week6 = db.get(ManagerWeek, (history.patrick, WEEKS[5]))
        assert (week6.held, week6.upcoming) == (2, 0)
