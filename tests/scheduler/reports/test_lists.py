"""The skipped-meeting list, stopped cadences and the per-rep page of the hand-built history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.models import Organization
from scheduler.outcomes import SessionOutcome
from scheduler.reports import (
    BadCursor,
    ReportScope,
    SkippedFilter,
    StopReason,
    rep_report,
    skipped_sessions,
    stopped_cadences,
)
from scheduler.reports.cadences import stopped_page
from scheduler.reports.cursor import encode_cursor
from scheduler.usecases.scope import NotInOrganization
from tests.scheduler.reports.conftest import FIRST_WEEK, LAST_WEEK, NOW, TODAY, WEEKS

NEWEST_FIRST = [
    ("Ryan", 6, "stopped"),
    ("Ryan", 5, "cancelled"),
    ("George", 5, "cancelled"),
    ("Ryan", 4, "rescheduled"),
    ("Kai", 4, "undocumented"),
    ("Ryan", 3, "declined"),
    ("Kai", 3, "undocumented"),
    ("Ryan", 2, "undocumented"),
    ("Lena", 2, "cancelled"),
]


def scope(history, manager_id=None) -> ReportScope:
    return ReportScope(history.org_id, FIRST_WEEK, LAST_WEEK, manager_id)


def listed(history, rows):
    names = {v: k for k, v in history.sessions.items()}
    return [(*names[row.session_id], row.outcome.value) for row in rows]


def test_skipped_list_pages_newest_first_without_gaps_or_repeats(database, history):
    pages = []
    cursor = None
    with database.session() as db:
        while True:
            page = skipped_sessions(db, scope(history), cursor=cursor, limit=4)
            pages.append(listed(history, page.rows))
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert [len(page) for page in pages] == [4, 4, 1]
    assert [row for page in pages for row in page] == NEWEST_FIRST  # moved, excused: not skipped


def test_skipped_row_links_to_its_session(database, history):
    with database.session() as db:
        row = skipped_sessions(db, scope(history), limit=1).rows[0]
    assert row.as_dict() == {
        "session_id": history.sessions[("Ryan", 6)],
        "series_id": row.series_id,
        "week_start": "2026-10-19",
        "scheduled_start": "2026-10-22T09:00:00+00:00",
        "outcome": "stopped",
        "cancelled_by": None,
        "manager_id": history.matt,
        "manager_name": "Matt",
        "rep_id": history.ryan,
        "rep_name": "Ryan",
        "cancel_reason": "",
    }


@pytest.mark.parametrize(
    ("narrowing", "manager", "expected"),
    [
        (lambda h: SkippedFilter(rep_id=h.lena), None, [("Lena", 2, "cancelled")]),
        (
            lambda h: SkippedFilter(team_of=h.patrick),
            None,
            [("George", 5, "cancelled"), ("Lena", 2, "cancelled")],
        ),
        (
            lambda h: SkippedFilter(outcomes=frozenset({SessionOutcome.CANCELLED})),
            None,
            [("Ryan", 5, "cancelled"), ("George", 5, "cancelled"), ("Lena", 2, "cancelled")],
        ),
        (lambda h: SkippedFilter(), "matt", [r for r in NEWEST_FIRST if r[0] in ("Ryan", "Kai")]),
        (lambda h: SkippedFilter(rep_id=h.ryan), "patrick", []),
    ],
    ids=["rep", "team", "outcome", "manager-view", "not-their-rep"],
)
def test_skipped_filters(database, history, narrowing, manager, expected):
    manager_id = getattr(history, manager) if manager else None
    with database.session() as db:
        page = skipped_sessions(db, scope(history, manager_id), narrowing(history))
    assert listed(history, page.rows) == expected


def test_skipped_range_is_by_week(database, history):
    with database.session() as db:
        page = skipped_sessions(db, ReportScope(history.org_id, WEEKS[3], WEEKS[4]))
    assert listed(history, page.rows) == NEWEST_FIRST[1:5]


def test_skipped_filters_refuse_held_outcomes_and_bad_cursors(database, history):
    with pytest.raises(ValueError):
        SkippedFilter(outcomes=frozenset({SessionOutcome.HELD}))
    with database.session() as db, pytest.raises(BadCursor):
        skipped_sessions(db, scope(history), cursor="not-a-cursor")


def test_stopped_cadences(database, history):
    with database.session() as db:
        stopped = stopped_cadences(db, history.org_id, now=NOW)
    assert [(s.rep_name, s.manager_name, s.reason, s.days_since_last_held) for s in stopped] == [
        ("Ann", "Matt", StopReason.NOT_BOOKED, None),  # never booked
        ("Kai", "Matt", StopReason.NOT_HELD, None),  # booked 3 weeks ago, never held
        ("Ryan", "Matt", StopReason.NOT_BOOKED, 34),  # series deleted; held 17 September
    ]
    assert stopped[2].last_held_at == datetime(2026, 9, 17, 9, 0, tzinfo=UTC)


def test_stopped_cadences_follow_the_setting_and_the_team(database, history):
    # Three days earlier Kai's first 1:1 (28 September) is under three weeks old.
    with database.session() as db:
        earlier = stopped_cadences(db, history.org_id, now=NOW - timedelta(days=3))
        patricks = stopped_cadences(db, history.org_id, now=NOW, manager_id=history.patrick)
        theirs = stopped_cadences(db, history.other_org_id, now=NOW)
    assert [s.rep_name for s in earlier] == ["Ann", "Ryan"]
    assert patricks == []
    assert [(s.rep_name, s.reason) for s in theirs] == [("Worker", StopReason.NOT_HELD)]
    with database.session() as db:
        db.get(Organization, history.org_id).stopped_after_weeks = 6
    with database.session() as db:
        patient = stopped_cadences(db, history.org_id, now=NOW)
    assert [s.rep_name for s in patient] == ["Ann", "Ryan"]  # Kai's 4 weeks are not 6


def test_stopped_cadences_page_through_never_held_then_held_rows(database, history):
    # Ann and Kai were never held (null, first), Ryan was: pages of one cross that boundary.
    pages, cursor = [], None
    with database.session() as db:
        while True:
            page = stopped_page(db, history.org_id, now=NOW, cursor=cursor, limit=1)
            pages.append([row.rep_name for row in page.rows])
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        two = stopped_page(db, history.org_id, now=NOW, limit=2)
        rest = stopped_page(db, history.org_id, now=NOW, cursor=two.next_cursor)
    assert pages == [["Ann"], ["Kai"], ["Ryan"]]
    assert ([r.rep_name for r in two.rows], [r.rep_name for r in rest.rows]) == (
        ["Ann", "Kai"],
        ["Ryan"],
    )
    assert rest.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        encode_cursor(None, "Ann"),  # too short
        encode_cursor(None, None, "id"),  # no name
        encode_cursor("17 September", "Ryan", "id"),  # not an instant
        encode_cursor("2026-09-17T09:00:00", "Ryan", "id"),  # no zone
    ],
)
def test_stopped_cadences_refuse_cursors_they_did_not_make(database, history, cursor):
    with database.session() as db, pytest.raises(BadCursor):
        stopped_page(db, history.org_id, now=NOW, cursor=cursor)


def test_rep_page(database, history):
    with database.session() as db:
        report = rep_report(db, scope(history), history.george, today=TODAY)
    assert [(w.week_start, w.outcome) for w in report.strip] == list(
        zip(WEEKS, ["held", "held", "excused", "held", "cancelled", "upcoming"], strict=True)
    )
    assert report.strip[0].session_id == history.sessions[("George", 1)]
    assert (report.counts.expected, report.counts.held) == (4, 3)
    assert [(i.due_date.isoformat(), i.overdue) for i in report.open_items] == [
        ("2026-09-22", True)
    ]
    assert len(report.overdue_items) == 1


def test_rep_page_shows_empty_weeks_and_refuses_other_teams(database, history):
    with database.session() as db:
        kai = rep_report(db, scope(history, history.matt), history.kai, today=TODAY)
        with pytest.raises(NotInOrganization):
            rep_report(db, scope(history, history.patrick), history.kai, today=TODAY)
        with pytest.raises(NotInOrganization):
            rep_report(
                db, ReportScope(history.other_org_id, FIRST_WEEK, LAST_WEEK), history.kai,
                today=TODAY,
            )  # fmt: skip
    assert [w.outcome for w in kai.strip] == [
        None, None, "undocumented", "undocumented", "excused", "upcoming",
    ]  # fmt: skip
    assert kai.open_items == []
