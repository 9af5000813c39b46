"""The debrief chase as the reports count it: emails, 1:1s nudged, debriefed after a nudge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler.chase import NudgeKind
from scheduler.models import Debrief, DebriefNudge, Session
from scheduler.reports import ReportScope
from scheduler.reports.nudges import NudgeCounts, debrief_nudge_counts
from tests.scheduler.reports.conftest import FIRST_WEEK, LAST_WEEK, WEEKS

GRACE = timedelta(hours=48)


def chase(db, session_id, *kinds, debriefed_after=None):
    """Nudge (and remind) about one session; record its debrief ``debriefed_after`` the
    nudge (None: no debrief)."""
    row = db.get(Session, session_id)
    end = row.scheduled_end
    for kind in kinds:
        queued = end + (timedelta(minutes=5) if kind is NudgeKind.NUDGE else GRACE / 2)
        db.add(
            DebriefNudge(
                organization_id=row.organization_id,
                session_id=row.id,
                manager_id=row.manager_id,
                kind=kind.value,
                queued_at=queued,
                grace_ends_at=end + GRACE,
                outbox_key=f"debrief-{kind.value}/{row.id}",
            )
        )
    if debriefed_after is not None:
        db.query(Debrief).filter(Debrief.session_id == row.id).delete()
        db.add(
            Debrief(
                organization_id=row.organization_id,
                session_id=row.id,
                recorded_by_id=row.manager_id,
                notes={},
                recorded_at=end + timedelta(minutes=5) + debriefed_after,
            )
        )


def test_counts_emails_nudged_sessions_and_debriefs_within_grace(database, history):
    with database.session() as db:
        chase(db, history.sessions[("Kai", 3)], NudgeKind.NUDGE)  # never debriefed
        chase(
            db, history.sessions[("Kai", 4)], NudgeKind.NUDGE, NudgeKind.REMINDER
        )  # never debriefed
        # Debriefed an hour after the nudge: counts.
        chase(
            db, history.sessions[("Ryan", 2)], NudgeKind.NUDGE, debriefed_after=timedelta(hours=1)
        )
        # Debriefed after the reminder, still within grace: counts.
        chase(
            db,
            history.sessions[("Lena", 4)],
            NudgeKind.NUDGE,
            NudgeKind.REMINDER,
            debriefed_after=timedelta(hours=30),
        )
        # Debriefed after the grace period ended: does not count.
        chase(
            db,
            history.sessions[("George", 2)],
            NudgeKind.NUDGE,
            debriefed_after=timedelta(hours=60),
        )
        # Another organisation's chase never shows.
        theirs = db.scalars(
            select(Session.id).where(Session.organization_id == history.other_org_id)
        ).first()
        chase(db, theirs, NudgeKind.NUDGE, debriefed_after=timedelta(hours=1))

    with database.session() as db:
        everyone = debrief_nudge_counts(db, ReportScope(history.org_id, FIRST_WEEK, LAST_WEEK))
        matt = debrief_nudge_counts(
            db, ReportScope(history.org_id, FIRST_WEEK, LAST_WEEK, history.matt)
        )
        week3_on = debrief_nudge_counts(db, ReportScope(history.org_id, WEEKS[2], LAST_WEEK))

    assert everyone == NudgeCounts(emails=7, nudged=5, reminded=2, debriefed_after_nudge=2)
    assert matt == NudgeCounts(emails=4, nudged=3, reminded=1, debriefed_after_nudge=1)
    assert week3_on == NudgeCounts(emails=5, nudged=3, reminded=2, debriefed_after_nudge=1)


def test_nothing_chased_counts_zero(database, history):
    with database.session() as db:
        counts = debrief_nudge_counts(db, ReportScope(history.org_id, FIRST_WEEK, LAST_WEEK))
    assert counts == NudgeCounts()
