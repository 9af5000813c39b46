"""How fast the skipped-meeting reports answer for a large sales force, on PostgreSQL.

Seeds a private schema (created, migrated, dropped afterwards) with one organisation:
``2000 * scale`` managers with eight reps each, two years of weekly sessions plus four
booked weeks ahead (≈1.7 million at scale 1), and three action items from every held
1:1. Each manager has a discipline drawn from Beta(4, 2): the share of weeks held; the
rest is a mix of undocumented, cancelled (by manager, rep or unknown), moved, rescheduled
and declined weeks, 4% excused, and 8% of pairs whose series was deleted at some point.
Rows go in with COPY, foreign-key triggers off (``session_replication_role = replica``);
then the derived rows the reports read are computed (cadence facts, weekly rollups: the ORM
keeps them in production), then VACUUM ANALYZE, as a restored production database would be.

It then times, ``--runs`` times each (median and p95): the overview (13 weeks, and 52),
a manager's own overview, the skipped list's first page (organisation, one manager,
a deep page), a rep's page, the stopped cadences (first page, page 11, the whole list,
one team), one full CSV export of two years of skipped sessions (rows/s and tracemalloc's
peak), and what keeping the derived rows adds to a flush of 1, 3 and 500 outcome changes.

    python -m bench.reports [--database-url URL] [--scale 1.0] [--runs 15] [--keep]
    python -m bench.reports --reuse bench_reports_1234abcd   # re-measure a kept schema
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time as clock
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg
from sqlalchemy import event, func, make_url, select, text

from scheduler.db import Database
from scheduler.models import Organization, Person, Session
from scheduler.outcomes import SessionOutcome
from scheduler.recurrence import week_start
from scheduler.reports import (
    ReportScope,
    SkippedFilter,
    derived,
    organisation_overview,
    rep_report,
    skipped_sessions,
    stopped_cadences,
)
from scheduler.reports.cadences import stopped_page
from scheduler.reports.export import skipped_csv

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PAST_WEEKS = 104
AHEAD_WEEKS = 4
REPS_PER_MANAGER = 8
NOT_HELD_MIX = (  # how a week that was not held (nor excused) went, by weight
    ("undocumented", 35),
    ("cancelled", 25),
    ("declined", 15),
    ("moved", 15),
    ("rescheduled", 10),
)
CANCELLED_BY = (("manager", 50), ("rep", 30), (None, 20))


def ident(kind: int, n: int) -> str:
    """A UUID-shaped id that is cheap to make and unique per table kind."""
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


def pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


class Copy:
    """Rows as COPY text, sent to PostgreSQL in large chunks on a connection of its own
    (one COPY at a time per connection, and the four tables are written interleaved)."""

    def __init__(self, url: str, schema: str, table: str, columns: str):
        self.connection = psycopg.connect(url, options=f"-csearch_path={schema}")
        # Foreign keys are checked by row triggers; a bulk load of known-good rows skips them.
        self.connection.execute("SET session_replication_role = replica")
        self.context = self.connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN")
        self.copy = self.context.__enter__()
        self.buffer = io.StringIO()
        self.rows = 0

    def row(self, *values: Any) -> None:
        self.buffer.write("\t".join(_copy_value(v) for v in values))
        self.buffer.write("\n")
        self.rows += 1
        if self.rows % 20000 == 0:
            self.flush()

    def flush(self) -> None:
        self.copy.write(self.buffer.getvalue())
        self.buffer = io.StringIO()

    def close(self) -> int:
        self.flush()
        self.context.__exit__(None, None, None)
        self.connection.commit()
        self.connection.close()
        return self.rows


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def seed(url: str, schema: str, scale: float, rng: random.Random) -> dict[str, Any]:
    """Load the organisation; returns its id and a few ids to look at."""
    managers = max(2, round(2000 * scale))
    first_week = week_start(TODAY) - timedelta(weeks=PAST_WEEKS - 1)
    this_week = week_start(TODAY)
    org_id = str(uuid.uuid4())
    with psycopg.connect(url, options=f"-csearch_path={schema}") as connection:
        connection.execute(
            "INSERT INTO organizations (id, name, zone, horizon_weeks, agenda_period_weeks,"
            " grace_hours, min_action_items, meeting_minutes, stopped_after_weeks,"
            " video_meetings, join_domain, working_hours, holidays, created_at)"
            " VALUES (%s, 'Bench Sales', 'UTC', 13, 13, 48, 3, 30, 3, false, '', '{}', '[]',"
            " %s)",
            (org_id, NOW),
        )
        connection.commit()
        people = Copy(
            url,
            schema,
            "people",
            "id, organization_id, email, name, zone, is_admin, is_manager, is_rep, manager_id,"
            " active, created_at",
        )
        series = Copy(
            url,
            schema,
            "series",
            "id, organization_id, manager_id, rep_id, weekday, local_time, duration_minutes,"
            " zone, first_day, until, status, template_topics, template_locked_on,"
            " ended_reason, created_at",
        )
        sessions = Copy(
            url,
            schema,
            "sessions",
            "id, organization_id, series_id, manager_id, rep_id, week_start, scheduled_start,"
            " scheduled_end, current_start, current_end, cancelled, cancelled_by,"
            " rep_response, series_stopped, excused, excused_reason, agenda_edited, outcome,"
            " outcome_at",
        )
        items = Copy(
            url,
            schema,
            "action_items",
            "id, organization_id, session_id, series_id, text, owner, owner_id, due_date,"
            " done_at, created_at",
        )
        people.row(ident(1, 0), org_id, "admin@bench.test", "Admin", "UTC", True, False,
                   False, None, True, NOW)  # fmt: skip
        rep_n = session_n = item_n = 0
        for m in range(managers):
            manager_id = ident(2, m)
            discipline = rng.betavariate(4, 2)
            people.row(manager_id, org_id, f"m{m}@bench.test", f"Manager {m:04d}", "UTC",
                       False, True, False, None, True, NOW)  # fmt: skip
            for _ in range(REPS_PER_MANAGER):
                rep_n += 1
                rep_id, series_id = ident(3, rep_n), ident(4, rep_n)
                people.row(rep_id, org_id, f"r{rep_n}@bench.test", f"Rep {rep_n:05d}", "UTC",
                           False, False, True, manager_id, True, NOW)  # fmt: skip
                weekday, hour = rng.randrange(5), rng.randrange(8, 17)
                stop_at = rng.randrange(PAST_WEEKS) if rng.random() < 0.08 else None
                series.row(series_id, org_id, manager_id, rep_id, weekday, f"{hour:02d}:00",
                           30, "UTC", first_week, None, "stopped" if stop_at else "active",
                           "[]", first_week, "", NOW)  # fmt: skip
                last = PAST_WEEKS + AHEAD_WEEKS if stop_at is None else stop_at + 2
                for w in range(last):
                    session_n += 1
                    week = first_week + timedelta(weeks=w)
                    start = datetime.combine(week + timedelta(days=weekday), time(hour), UTC)
                    facts = _week(rng, discipline, w, stop_at, week >= this_week)
                    session_id = ident(5, session_n)
                    moved = facts["outcome"] in ("moved", "rescheduled")
                    shift = timedelta(days=7 if facts["outcome"] == "rescheduled" else 1)
                    sessions.row(
                        session_id, org_id, series_id, manager_id, rep_id, week, start,
                        start + timedelta(minutes=30),
                        start + shift if moved else None,
                        start + shift + timedelta(minutes=30) if moved else None,
                        facts["outcome"] == "cancelled", facts.get("by"),
                        "declined" if facts["outcome"] == "declined" else None,
                        facts["outcome"] == "stopped", facts["outcome"] == "excused", "",
                        False, facts["outcome"], NOW,
                    )  # fmt: skip
                    if facts["outcome"] != "held":
                        continue
                    for k in range(3):
                        item_n += 1
                        due = week + timedelta(days=weekday + 7)
                        done = _done(rng, discipline, start, due)
                        owner, owner_id = ("manager", manager_id) if k == 0 else ("rep", rep_id)
                        items.row(ident(6, item_n), org_id, session_id, series_id,
                                  f"Action {k + 1}", owner, owner_id, due, done,
                                  start + timedelta(hours=1))  # fmt: skip
        counts = {
            "people": people.close(),
            "series": series.close(),
            "sessions": sessions.close(),
            "action_items": items.close(),
        }
    return {
        "org_id": org_id,
        "manager_id": ident(2, managers // 2),
        "rep_id": ident(3, rep_n // 2),
        "counts": counts,
    }


def _week(
    rng: random.Random, discipline: float, w: int, stop_at: int | None, ahead: bool
) -> dict[str, Any]:
    if stop_at is not None and w >= stop_at:
        return {"outcome": "stopped"}
    if ahead:
        return {"outcome": "upcoming"}
    draw = rng.random()
    if draw < 0.04:
        return {"outcome": "excused"}
    if draw < 0.04 + 0.96 * discipline:
        return {"outcome": "held"}
    outcome = pick(rng, NOT_HELD_MIX)
    return {"outcome": outcome, "by": pick(rng, CANCELLED_BY) if outcome == "cancelled" else None}


def _done(rng: random.Random, discipline: float, start: datetime, due: date) -> datetime | None:
    draw = rng.random()
    if draw < 0.4 + 0.4 * discipline:  # on time
        return start + timedelta(days=rng.randrange(1, 7))
    if draw < 0.9 and due + timedelta(days=3) < TODAY:  # late
        return datetime.combine(due + timedelta(days=rng.randrange(1, 4)), time(10), UTC)
    return None  # still open: overdue once its day has passed


def timed(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """Median and p95 wall-clock milliseconds of ``runs`` calls after one warm-up."""
    action()
    samples = []
    for _ in range(runs):
        started = clock.perf_counter()
        action()
        samples.append((clock.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def measure(database: Database, ids: dict[str, Any], runs: int) -> None:
    org_id, manager_id, rep_id = ids["org_id"], ids["manager_id"], ids["rep_id"]
    quarter = ReportScope.last_weeks(org_id, today=TODAY, weeks=13)
    year = ReportScope.last_weeks(org_id, today=TODAY, weeks=52)
    two_years = ReportScope.last_weeks(org_id, today=TODAY, weeks=PAST_WEEKS + AHEAD_WEEKS)
    mine = ReportScope.last_weeks(org_id, today=TODAY, weeks=13, manager_id=manager_id)
    team_two_years = ReportScope(
        org_id, two_years.first_week, two_years.last_week, manager_id=manager_id
    )
    cancelled = SkippedFilter(outcomes=frozenset({SessionOutcome.CANCELLED}))

    def deep_cursor() -> str | None:
        cursor = None
        with database.session() as db:
            for _ in range(100):
                cursor = skipped_sessions(db, two_years, cursor=cursor).next_cursor
        return cursor

    deep = deep_cursor()
    with database.session() as db:
        deep_stop = None
        for _ in range(10):
            deep_stop = stopped_page(db, org_id, now=NOW, cursor=deep_stop).next_cursor

    def run(query: Callable[[Any], object]) -> Callable[[], object]:
        def action() -> object:
            with database.session() as db:
                return query(db)

        return action

    cases: list[tuple[str, Callable[[], object]]] = [
        ("overview, 13 weeks", run(lambda db: organisation_overview(db, quarter, today=TODAY))),
        ("overview, 52 weeks", run(lambda db: organisation_overview(db, year, today=TODAY))),
        ("manager's own overview", run(lambda db: organisation_overview(db, mine, today=TODAY))),
        ("skipped, first page", run(lambda db: skipped_sessions(db, two_years))),
        ("skipped, page 101", run(lambda db: skipped_sessions(db, two_years, cursor=deep))),
        ("skipped, one manager", run(lambda db: skipped_sessions(db, team_two_years))),
        ("skipped, cancelled only", run(lambda db: skipped_sessions(db, two_years, cancelled))),
        ("rep page, 13 weeks", run(lambda db: rep_report(db, quarter, rep_id, today=TODAY))),
        ("stopped, first page", run(lambda db: stopped_page(db, org_id, now=NOW))),
        ("stopped, page 11", run(lambda db: stopped_page(db, org_id, now=NOW, cursor=deep_stop))),
        ("stopped, whole list", run(lambda db: stopped_cadences(db, org_id, now=NOW))),
        (
            "stopped, one team",
            run(lambda db: stopped_cadences(db, org_id, now=NOW, manager_id=manager_id)),
        ),
    ]
    print(f"{'query':<28}{'median ms':>10}{'p95 ms':>10}   ({runs} runs)")
    for name, action in cases:
        median, p95 = timed(runs, action)
        print(f"{name:<28}{median:>10.1f}{p95:>10.1f}")

    tracemalloc.start()
    started = clock.perf_counter()
    lines = sum(1 for _ in skipped_csv(database, two_years))
    seconds = clock.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"CSV export, skipped, 2 years: {lines - 1:,} rows in {seconds:.1f} s "
        f"= {(lines - 1) / seconds:,.0f} rows/s; tracemalloc peak {peak / 1e6:.1f} MB"
    )


def write_cost(database: Database, runs: int) -> None:
    """What keeping the derived rows adds to a write: one ORM flush changing N sessions'
    outcomes, with the listeners removed and then in place (each rolled back)."""

    def flush(n: int) -> float:
        db = database.sessions()
        db.begin()
        try:
            rows = db.scalars(select(Session).where(Session.outcome == "undocumented").limit(n))
            for row in rows.all():
                row.outcome = SessionOutcome.HELD.value
            started = clock.perf_counter()
            db.flush()
            return (clock.perf_counter() - started) * 1000
        finally:
            db.rollback()
            db.close()

    listeners = (("before_flush", derived._before_flush), ("after_flush", derived._after_flush))
    for n in (1, 3, 500):
        kept = statistics.median(flush(n) for _ in range(runs))
        for name, listener in listeners:
            event.remove(database.sessions, name, listener)
        plain = statistics.median(flush(n) for _ in range(runs))
        derived.keep_derived_rows(database.sessions)
        print(f"flush of {n:>3} outcome changes: {plain:6.1f} ms alone, {kept:6.1f} ms "
              "with the derived rows")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 2,000 managers")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the schema for a look")
    parser.add_argument("--reuse", metavar="SCHEMA", help="measure a schema left by --keep")
    args = parser.parse_args(argv)
    if args.reuse:
        database = Database(
            args.database_url, connect_args={"options": f"-csearch_path={args.reuse}"}
        )
        with database.session() as db:
            org_id = db.scalars(select(Organization.id)).one()
            managers = db.scalar(select(func.count()).where(Person.is_manager.is_(True)))
        assert managers is not None
        ids = {"org_id": org_id, "manager_id": ident(2, managers // 2),
               "rep_id": ident(3, managers * REPS_PER_MANAGER // 2)}  # fmt: skip
        measure(database, ids, args.runs)
        write_cost(database, args.runs)
        database.engine.dispose()
        return

    url = make_url(args.database_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"bench_reports_{uuid.uuid4().hex[:8]}"
    admin = Database(args.database_url)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(args.database_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        database.create_schema()
        started = clock.perf_counter()
        ids = seed(plain, schema, args.scale, random.Random(args.seed))
        print(f"schema {schema}: seeded {ids['counts']} in {clock.perf_counter() - started:.0f} s")
        # COPY bypassed the ORM, so the rows its flushes keep are computed once here.
        started = clock.perf_counter()
        with database.engine.begin() as connection:
            derived.rebuild_derived_rows(connection, ids["org_id"])
        print(f"derived rows (cadence facts, rollups) in {clock.perf_counter() - started:.1f} s")
        with psycopg.connect(plain, options=f"-csearch_path={schema}", autocommit=True) as c:
            c.execute("VACUUM ANALYZE")
        with database.session() as db:
            assert db.get(Organization, ids["org_id"]) is not None
        measure(database, ids, args.runs)
        write_cost(database, args.runs)
    finally:
        database.engine.dispose()
        if not args.keep:
            with admin.engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.engine.dispose()


if __name__ == "__main__":
    main()
