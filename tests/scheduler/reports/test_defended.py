"""Defending the slot and chasing the debrief in the reports, on the hand-built history
(conftest.py) with real conflict, nudge and debrief rows: the overview's totals and rows,
a manager's own view, the range, and the weekly digest.

Conflicts recorded (today is Wednesday 21 October; the week of 19 October is upcoming):
    Patrick: George week 2 moved by the manager; Lena week 4 moved automatically; Lena week 2
             (cancelled by the manager) with its conflict still mailed: lost; George week 4
             resolved by itself (held): detected only; George week 6 cancelled from the
             email, but the week has not happened: not lost.
    Matt:    Ryan week 2 (undocumented) pending: lost; Ryan week 5 cancelled from the email:
             lost; Kai week 6 mailed, upcoming: not lost.
    Elsewhere: one moved conflict that must never show.
Chase: Ryan week 2 nudged and debriefed an hour later; Kai week 3 nudged and reminded, never
debriefed; Lena week 4 nudged, debriefed after the grace period; elsewhere one nudge.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.chase import NudgeKind
from scheduler.defend import ConflictCounts, ConflictState
from scheduler.models import Session, SlotConflict
from scheduler.reports import ReportScope, organisation_overview
from scheduler.reports.digest import render_html, render_text, weekly_digest
from scheduler.reports.export import overview_csv
from scheduler.reports.nudges import NudgeCounts
from tests.scheduler.reports.conftest import FIRST_WEEK, LAST_WEEK, NOW, TODAY, WEEKS
from tests.scheduler.reports.test_nudges import chase

CONFLICTS = {
    ("George", 2): ConflictState.MOVED,
    ("Lena", 4): ConflictState.MOVED_AUTOMATICALLY,
    ("Lena", 2): ConflictState.MAILED,
    ("George", 4): ConflictState.RESOLVED,
    ("George", 6): ConflictState.CANCELLED,
    ("Ryan", 2): ConflictState.PENDING,
    ("Ryan", 5): ConflictState.CANCELLED,
    ("Kai", 6): ConflictState.MAILED,
}


def conflict(db, session_id: str, state: ConflictState) -> None:
    """A conflict recorded a day before the week's 1:1, and what became of it."""
    week = db.get(Session, session_id)
    db.add(
        SlotConflict(
            organization_id=week.organization_id,
            session_id=week.id,
            series_id=week.series_id,
            manager_id=week.manager_id,
            rep_id=week.rep_id,
            week_start=week.week_start,
            occurrence_start=week.scheduled_start,
            detected_at=week.scheduled_start - timedelta(days=1),
            fingerprint=f"clash-{week.id}",
            busy=[],
            alternatives=[],
            state=state,
        )
    )


def record_defence_and_chase(database, history):
    """The conflicts and the chase above, as real rows."""
    with database.session() as db:
        for (rep, number), state in CONFLICTS.items():
            conflict(db, history.sessions[(rep, number)], state)
        chase(
            db, history.sessions[("Ryan", 2)], NudgeKind.NUDGE, debriefed_after=timedelta(hours=1)
        )
        chase(db, history.sessions[("Kai", 3)], NudgeKind.NUDGE, NudgeKind.REMINDER)
        chase(
            db, history.sessions[("Lena", 4)], NudgeKind.NUDGE, debriefed_after=timedelta(hours=60)
        )
        theirs = db.scalars(
            select(Session.id).where(Session.organization_id == history.other_org_id)
        ).first()
        conflict(db, theirs, ConflictState.MOVED)
        chase(db, theirs, NudgeKind.NUDGE, debriefed_after=timedelta(hours=1))


@pytest.fixture
def defended(database, history):
    record_defence_and_chase(database, history)
    return history


def overview(database, history, manager_id=None, first=FIRST_WEEK, last=LAST_WEEK):
    with database.session() as db:
        return organisation_overview(
            db, ReportScope(history.org_id, first, last, manager_id), today=TODAY
        )


def test_overview_counts_defended_lost_and_detected_only(database, defended):
    report = overview(database, defended)
    # Moved by the manager and moved automatically are defended; the cancelled week whose
    # conflict was open, the undocumented one and the one cancelled from the email are lost;
    # the resolved conflict and the two in the upcoming week are detected only.
    assert report.conflicts == ConflictCounts(
        detected=8, moved_by_manager=1, moved_automatically=1, lost=3, resolved=1
    )
    assert report.conflicts.defended == 2
    assert report.chase == NudgeCounts(emails=4, nudged=3, reminded=1, debriefed_after_nudge=1)
    rows = {row.name: row for row in report.managers}
    assert rows["Patrick"].conflicts == ConflictCounts(5, 1, 1, 1, 1)
    assert rows["Matt"].conflicts == ConflictCounts(3, 0, 0, 2, 0)
    assert rows["Nina"].conflicts == ConflictCounts()
    assert rows["Patrick"].chase == NudgeCounts(1, 1, 0, 0)  # debriefed after the grace period
    assert rows["Matt"].chase == NudgeCounts(3, 2, 1, 1)
    assert rows["Nina"].chase == NudgeCounts()
    as_json = report.as_dict()
    assert as_json["conflicts"] == {
        "detected": 8, "moved_by_manager": 1, "moved_automatically": 1, "defended": 2,
        "lost": 3, "resolved": 1,
    }  # fmt: skip
    assert as_json["debrief_chase"] == asdict(report.chase)
    assert as_json["managers"][1]["conflicts"]["lost"] == 2


def test_a_week_in_the_future_is_never_lost(database, defended):
    this_week = overview(database, defended, first=WEEKS[5], last=WEEKS[5])
    # George's week was cancelled from the conflict email and Kai's conflict is still open,
    # but neither week has happened: detected, not lost.
    assert this_week.conflicts == ConflictCounts(detected=2)


def test_the_range_and_the_manager_narrow_both_blocks(database, defended):
    first_weeks = overview(database, defended, last=WEEKS[2])
    assert first_weeks.conflicts == ConflictCounts(detected=3, moved_by_manager=1, lost=2)
    assert first_weeks.chase == NudgeCounts(emails=3, nudged=2, reminded=1, debriefed_after_nudge=1)
    matt = overview(database, defended, manager_id=defended.matt)
    assert [row.name for row in matt.managers] == ["Matt"]
    assert matt.conflicts == ConflictCounts(detected=3, lost=2)
    assert matt.chase == NudgeCounts(emails=3, nudged=2, reminded=1, debriefed_after_nudge=1)
    with database.session() as db:
        elsewhere = organisation_overview(
            db, ReportScope(defended.other_org_id, FIRST_WEEK, LAST_WEEK), today=TODAY
        )
    # Each organisation sees its own conflict and nudge, never the other's.
    assert elsewhere.conflicts == ConflictCounts(detected=1, moved_by_manager=1)
    assert elsewhere.chase == NudgeCounts(emails=1, nudged=1, reminded=0, debriefed_after_nudge=1)


def test_csv_rows_add_up_to_the_totals(database, defended):
    scope = ReportScope(defended.org_id, FIRST_WEEK, LAST_WEEK)
    lines = list(overview_csv(database, scope, today=TODAY))
    header = lines[0].strip().split(",")
    rows = [dict(zip(header, line.strip().split(","), strict=True)) for line in lines[1:]]
    report = overview(database, defended)
    assert sum(int(row["conflicts_detected"]) for row in rows) == report.conflicts.detected
    assert sum(int(row["conflicts_lost"]) for row in rows) == report.conflicts.lost
    assert sum(int(row["debriefed_after_nudge"]) for row in rows) == 1
    patrick = next(row for row in rows if row["name"] == "Patrick")
    assert {k: patrick[k] for k in header if k.startswith(("conflicts_", "debrief"))} == {
        "conflicts_detected": "5", "conflicts_moved_by_manager": "1",
        "conflicts_moved_automatically": "1", "conflicts_defended": "2", "conflicts_lost": "1",
        "conflicts_resolved": "1", "debrief_emails": "1", "debrief_nudged": "1",
        "debrief_reminded": "0", "debriefed_after_nudge": "0",
    }  # fmt: skip


def test_the_digest_counts_its_own_week(database, defended):
    with database.session() as db:
        admin = weekly_digest(db, defended.org_id, defended.admin, now=NOW, week=WEEKS[1])
        patrick = weekly_digest(db, defended.org_id, defended.patrick, now=NOW, week=WEEKS[1])
        quiet = weekly_digest(db, defended.org_id, defended.admin, now=NOW, week=WEEKS[0])
    assert admin is not None and patrick is not None and quiet is not None
    assert admin.conflicts == ConflictCounts(detected=3, moved_by_manager=1, lost=2)
    assert admin.chase == NudgeCounts(emails=1, nudged=1, reminded=0, debriefed_after_nudge=1)
    assert patrick.conflicts == ConflictCounts(detected=2, moved_by_manager=1, lost=1)
    assert patrick.chase == NudgeCounts()
    assert quiet.conflicts == ConflictCounts() and quiet.chase == NudgeCounts()
    text = render_text(admin, "https://cadence.test")
    assert (
        "  Defend the slot: 3 conflicts detected, 1 defended (1 moved by the manager, "
        "0 moved automatically), 2 lost to a conflict.\n" in text
    )
    assert (
        "  Debrief chase: 1 debrief email sent about 1 1:1 (0 reminded); 1 debriefed within "
        "the grace period after a nudge.\n" in text
    )
    html = render_html(admin, "https://cadence.test")
    assert "Defend the slot: 3 conflicts detected, 1 defended" in html
    assert admin.as_dict()["conflicts"]["lost"] == 2
    assert admin.as_dict()["debrief_chase"]["debriefed_after_nudge"] == 1
