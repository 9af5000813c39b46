"""The overview of the hand-built history (conftest.py): every figure is known."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlalchemy import select

from scheduler.models import Session
from scheduler.outcomes import SessionOutcome, consistency_score
from scheduler.reports import ReportScope, manager_trends, organisation_overview
from tests.scheduler.reports.conftest import FIRST_WEEK, LAST_WEEK, TODAY, WEEKS


def scope(history, manager_id=None) -> ReportScope:
    return ReportScope(history.org_id, FIRST_WEEK, LAST_WEEK, manager_id)


def test_managers_ranked_by_score_with_every_count(database, history):
    with database.session() as db:
        overview = organisation_overview(db, scope(history), today=TODAY)

    assert [row.name for row in overview.managers] == ["Patrick", "Matt", "Nina"]
    patrick, matt, nina = overview.managers
    assert asdict(patrick.sessions) == {
        "expected": 9, "held": 6, "undocumented": 0, "moved": 1, "rescheduled": 0,
        "cancelled_by_manager": 1, "cancelled_by_rep": 1, "cancelled_by_unknown": 0,
        "declined": 0, "excused": 1, "stopped": 0, "upcoming": 2,
    }  # fmt: skip
    assert asdict(matt.sessions) == {
        "expected": 8, "held": 1, "undocumented": 3, "moved": 0, "rescheduled": 1,
        "cancelled_by_manager": 0, "cancelled_by_rep": 0, "cancelled_by_unknown": 1,
        "declined": 1, "excused": 1, "stopped": 1, "upcoming": 1,
    }  # fmt: skip
    assert nina.sessions.upcoming == 1 and nina.sessions.expected == 0
    assert patrick.score == pytest.approx(6 / 9)
    assert matt.score == pytest.approx(1 / 8)
    assert nina.score is None  # no expected week: "no data", never 0%


def test_action_items_created_completed_on_time_and_overdue(database, history):
    with database.session() as db:
        overview = organisation_overview(db, scope(history), today=TODAY)
    patrick, matt, nina = overview.managers
    # George's item done at 23:30 UTC on its due day is on time; the one from 8 September
    # was created before the range and is not counted.
    assert asdict(patrick.items) == {
        "created": 6, "completed": 3, "completed_on_time": 2, "overdue": 1,
    }  # fmt: skip
    assert asdict(matt.items) == {
        "created": 3, "completed": 0, "completed_on_time": 0, "overdue": 3,
    }  # fmt: skip
    assert asdict(nina.items) == {
        "created": 0, "completed": 0, "completed_on_time": 0, "overdue": 0,
    }  # fmt: skip
    assert asdict(overview.item_totals) == {
        "created": 9, "completed": 3, "completed_on_time": 2, "overdue": 4,
    }  # fmt: skip


def test_organisation_totals_median_and_weekly_trend(database, history):
    with database.session() as db:
        overview = organisation_overview(db, scope(history), today=TODAY)
    assert overview.totals.expected == 17
    assert overview.totals.held == 7
    assert overview.totals.cancelled == 3
    assert overview.score == pytest.approx(7 / 17)
    assert overview.median_score == pytest.approx((6 / 9 + 1 / 8) / 2)
    assert [(p.week_start, p.expected, p.held) for p in overview.trend] == [
        (WEEKS[0], 3, 3),
        (WEEKS[1], 3, 1),
        (WEEKS[2], 3, 1),
        (WEEKS[3], 4, 1),
        (WEEKS[4], 3, 1),
        (WEEKS[5], 1, 0),
    ]


def test_score_in_sql_equals_the_domain_rule(database, history):
    """The SQL aggregation and scheduler.outcomes.consistency_score agree, manager by manager."""
    with database.session() as db:
        overview = organisation_overview(db, scope(history), today=TODAY)
        for row in overview.managers:
            outcomes = db.scalars(
                select(Session.outcome).where(
                    Session.manager_id == row.manager_id, scope(history).sessions()
                )
            ).all()
            assert row.score == consistency_score(SessionOutcome(o) for o in outcomes)


def test_manager_view_is_their_own_row_and_trend(database, history):
    with database.session() as db:
        overview = organisation_overview(db, scope(history, history.matt), today=TODAY)
        trends = manager_trends(db, scope(history))
    assert [row.name for row in overview.managers] == ["Matt"]
    assert overview.median_score == pytest.approx(1 / 8)
    expected = [(1, 1), (1, 0), (2, 0), (2, 0), (1, 0), (1, 0)]
    assert [(p.expected, p.held) for p in overview.trend] == expected
    assert [(p.expected, p.held) for p in trends[history.matt]] == expected
    assert set(trends) == {history.patrick, history.matt, history.nina}


def test_another_organisation_never_shows(database, history):
    with database.session() as db:
        ours = organisation_overview(db, scope(history), today=TODAY)
        theirs = organisation_overview(
            db, ReportScope(history.other_org_id, FIRST_WEEK, LAST_WEEK), today=TODAY
        )
    assert "Boss" not in [row.name for row in ours.managers]
    assert [(row.name, row.sessions.held, row.items.created) for row in theirs.managers] == [
        ("Boss", 1, 1)
    ]


def test_a_range_of_one_week(database, history):
    one = ReportScope(history.org_id, WEEKS[1], WEEKS[1])
    with database.session() as db:
        overview = organisation_overview(db, one, today=TODAY)
    assert [(row.name, row.sessions.expected, row.sessions.held) for row in overview.managers] == [
        ("Patrick", 2, 1),
        ("Matt", 1, 0),
        ("Nina", 0, 0),
    ]
