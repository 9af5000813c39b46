"""The debrief chase and the rep's Monday email as jobs: due emails queued once in the outbox
(never twice, whatever runs twice or at once), nothing for weeks that did not take place or
once the debrief is saved."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from scheduler.chase import NudgeKind
from scheduler.debrief import ActionItemDraft, DebriefDraft, Owner
from scheduler.jobs import tasks
from scheduler.jobs.registry import declared
from scheduler.models import ActionItem, DebriefNudge, OutboxMessage, Session
from scheduler.reports import ReportScope
from scheduler.reports.nudges import NudgeCounts, debrief_nudge_counts
from scheduler.usecases.debrief_chase import nudge_key
from scheduler.usecases.debriefing import record_debrief
from scheduler.usecases.directory import add_rep
from scheduler.usecases.mail_preferences import set_opt_out
from scheduler.usecases.rep_items import rep_items_key
from tests.sessions import series_sessions

# The first 1:1: Tuesday 20 October 2026, 10:00-10:30 in New York (14:00-14:30 UTC).
# The organisation's grace period is 48 hours: the reminder is due from Wednesday 14:30 UTC.
ENDS = datetime(2026, 10, 20, 14, 30, tzinfo=UTC)
HALF_GRACE = timedelta(hours=24)


def chase(rt) -> int:  # type: ignore[no-untyped-def]
    return declared(tasks.chase_debriefs).perform(rt)


def first_week(database, team) -> Session:  # type: ignore[no-untyped-def]
    return series_sessions(database, team.series_ids[0])[0]


def outbox(database) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def nudges(database) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return sorted(
            tuple(row) for row in db.execute(select(DebriefNudge.session_id, DebriefNudge.kind))
        )


def debrief(database, team, row: Session, now: datetime) -> None:  # type: ignore[no-untyped-def]
    record_debrief(
        database,
        org_id=team.org_id,
        session_id=row.id,
        manager_id=team.manager_id,
        draft=DebriefDraft(
            notes={"Status update": "Pipeline reviewed"},
            action_items=(
                ActionItemDraft("Send the deck", "manager", date(2026, 10, 23)),
                ActionItemDraft("Call Initech", "rep", date(2026, 10, 23)),
                ActionItemDraft("Update the CRM", "rep", date(2026, 10, 30)),
            ),
        ),
        now=now,
    )


def test_one_nudge_when_the_1to1_ends_then_one_reminder_at_half_the_grace_period(
    inline, booked, database, clock
):
    row = first_week(database, booked)
    clock.now = ENDS - timedelta(minutes=1)
    assert chase(inline) == 0  # not over yet

    clock.now = ENDS + timedelta(minutes=7)
    assert chase(inline) == 1
    assert chase(inline) == 0  # the next run finds it sent
    clock.advance(hours=3)
    assert chase(inline) == 0
    (nudge,) = outbox(database)
    assert nudge.key == nudge_key(NudgeKind.NUDGE, row.id) == f"debrief-nudge/{row.id}"
    assert nudge.kind == "debrief-nudge" and nudge.to_email == "pat@acme.test"
    assert nudge.sent_at is not None  # delivered inline (the local outbox: no SMTP server)
    assert nudge.subject == "Debrief your 1:1 with George"
    assert "Tuesday, October 20" in nudge.text_body and "10:00" in nudge.text_body
    assert "/debrief/" in nudge.text_body and "Status update" in nudge.text_body
    assert nudge.unsubscribe_url

    clock.now = ENDS + HALF_GRACE
    assert chase(inline) == 1
    assert chase(inline) == 0
    reminder = outbox(database)[-1]
    assert reminder.key == f"debrief-reminder/{row.id}"
    assert reminder.subject == "Reminder: debrief your 1:1 with George"

    clock.now = ENDS + 2 * HALF_GRACE  # the grace period is over: never again
    assert chase(inline) == 0
    assert nudges(database) == [(row.id, "nudge"), (row.id, "reminder")]
    assert len(outbox(database)) == 2


def test_no_reminder_once_the_debrief_is_saved(inline, booked, database, clock):
    row = first_week(database, booked)
    clock.now = ENDS + timedelta(minutes=1)
    assert chase(inline) == 1
    debrief(database, booked, row, ENDS + timedelta(hours=2))

    clock.now = ENDS + HALF_GRACE
    assert chase(inline) == 0
    assert [m.key for m in outbox(database)] == [f"debrief-nudge/{row.id}"]
    with database.session() as db:
        counts = debrief_nudge_counts(
            db, ReportScope(booked.org_id, row.week_start, row.week_start)
        )
    assert counts == NudgeCounts(emails=1, nudged=1, reminded=0, debriefed_after_nudge=1)


def test_no_nudge_for_a_debrief_saved_before_the_job_ran(inline, booked, database, clock):
    row = first_week(database, booked)
    debrief(database, booked, row, ENDS)
    clock.now = ENDS + timedelta(minutes=10)
    assert chase(inline) == 0
    assert outbox(database) == []


def test_nothing_for_cancelled_declined_excused_or_stopped_weeks(inline, booked, database, clock):
    weeks = series_sessions(database, booked.series_ids[0])[:4]
    with database.session() as db:
        for row, change in zip(
            weeks,
            (
                {"cancelled": True},
                {"rep_response": "declined"},
                {"excused": True},
                {"series_stopped": True},
            ),
            strict=True,
        ):
            for name, value in change.items():
                setattr(db.get(Session, row.id), name, value)
    for row in weeks:
        clock.now = row.scheduled_end + timedelta(minutes=5)
        assert chase(inline) == 0
        clock.now = row.scheduled_end + HALF_GRACE
        assert chase(inline) == 0
    assert outbox(database) == [] and nudges(database) == []


def test_a_manager_who_turned_nudges_off_gets_none(inline, booked, database, clock):
    with database.session() as db:
        set_opt_out(
            db,
            org_id=booked.org_id,
            person_id=booked.manager_id,
            kind="debrief-nudge",
            off=True,
            now=clock.now,
        )
    clock.now = ENDS + timedelta(minutes=5)
    assert chase(inline) == 0
    clock.now = ENDS + HALF_GRACE
    assert chase(inline) == 0
    assert outbox(database) == [] and nudges(database) == []


def test_the_same_nudge_job_twice_or_at_once_sends_one_email(inline, booked, database, clock):
    row = first_week(database, booked)
    clock.now = ENDS + timedelta(minutes=5)
    job = declared(tasks.chase_debrief)
    start = threading.Barrier(4)
    results: list[bool] = []

    def run() -> None:
        start.wait()
        results.append(job.perform(inline, booked.org_id, row.id))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert job.perform(inline, booked.org_id, row.id) is False  # a retry after all that
    assert results.count(True) == 1
    assert [m.key for m in outbox(database)] == [f"debrief-nudge/{row.id}"]
    assert nudges(database) == [(row.id, "nudge")]


def test_a_job_that_died_after_queueing_is_repeated_without_a_second_email(
    inline, booked, database, clock
):
    """The email is in the outbox but its row was never kept: the next run keeps the row and
    the outbox gives back the message it already has."""
    row = first_week(database, booked)
    clock.now = ENDS + timedelta(minutes=5)
    assert chase(inline) == 1
    with database.session() as db:
        db.execute(DebriefNudge.__table__.delete())
    clock.advance(minutes=15)
    assert chase(inline) == 1
    assert [m.key for m in outbox(database)] == [f"debrief-nudge/{row.id}"]
    assert nudges(database) == [(row.id, "nudge")]


def test_the_nudge_through_rq_is_sent_once(runtime, booked, database, clock):
    from tests.jobs.conftest import drain

    row = first_week(database, booked)
    clock.now = ENDS + timedelta(minutes=5)
    assert chase(runtime) == 1
    assert chase(runtime) == 1  # found again before the first job ran: enqueued twice
    drain(runtime)
    assert [m.key for m in outbox(database)] == [f"debrief-nudge/{row.id}"]
    assert outbox(database)[0].sent_at is not None
    assert nudges(database) == [(row.id, "nudge")]


# ---------------------------------------------------------------- the rep's Monday email


def rep_items(rt) -> int:  # type: ignore[no-untyped-def]
    return declared(tasks.send_rep_items).perform(rt)


def item(database, team, owner_id: str, text: str, due: date, done=None) -> None:  # type: ignore[no-untyped-def]
    row = first_week(database, team)
    with database.session() as db:
        db.add(
            ActionItem(
                organization_id=team.org_id,
                session_id=row.id,
                series_id=team.series_ids[0],
                text=text,
                owner=Owner.REP,
                owner_id=owner_id,
                due_date=due,
                done_at=done,
                created_at=ENDS,
            )
        )


def test_each_rep_gets_the_monday_email_at_0800_in_their_own_zone(inline, booked, database, clock):
    lena = add_rep(
        database,
        org_id=booked.org_id,
        manager_id=booked.manager_id,
        email="lena@acme.test",
        name="Lena",
        zone="Europe/London",
        now=clock.now,
    )
    monday = date(2026, 10, 26)  # London is on GMT again; New York still on EDT
    for owner in (booked.rep_id, lena):
        item(database, booked, owner, "Overdue follow-up", date(2026, 10, 21))
        item(database, booked, owner, "Due Sunday", date(2026, 11, 1))
        item(database, booked, owner, "Next week", date(2026, 11, 2))
        item(database, booked, owner, "Done already", date(2026, 10, 28), done=ENDS)

    clock.now = datetime(2026, 10, 26, 7, 59, tzinfo=UTC)
    assert rep_items(inline) == 0
    clock.now = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 08:00 in London (GMT)
    assert rep_items(inline) == 1
    assert rep_items(inline) == 0
    clock.now = datetime(2026, 10, 26, 11, 59, tzinfo=UTC)
    assert rep_items(inline) == 0
    clock.now = datetime(2026, 10, 26, 12, 0, tzinfo=UTC)  # 08:00 in New York
    assert rep_items(inline) == 1
    clock.advance(hours=1)
    assert rep_items(inline) == 0

    london, new_york = outbox(database)
    assert london.key == rep_items_key(monday, lena) == f"rep-items/2026-10-26/{lena}"
    assert london.to_email == "lena@acme.test" and london.kind == "rep-items"
    assert new_york.key == f"rep-items/2026-10-26/{booked.rep_id}"
    for mail in (london, new_york):
        assert "Overdue follow-up" in mail.text_body and "Due Sunday" in mail.text_body
        assert "Next week" not in mail.text_body and "Done already" not in mail.text_body
        assert mail.text_body.count("/items/done/") == 2
        assert mail.unsubscribe_url


def test_no_monday_email_when_nothing_is_due(inline, booked, database, clock):
    item(database, booked, booked.rep_id, "Next week", date(2026, 11, 2))
    item(database, booked, booked.rep_id, "Done", date(2026, 10, 27), done=ENDS)
    clock.now = datetime(2026, 10, 26, 12, 30, tzinfo=UTC)
    assert rep_items(inline) == 0
    assert outbox(database) == []


def test_a_rep_who_turned_the_monday_email_off_gets_none(inline, booked, database, clock):
    item(database, booked, booked.rep_id, "Due", date(2026, 10, 27))
    with database.session() as db:
        set_opt_out(
            db,
            org_id=booked.org_id,
            person_id=booked.rep_id,
            kind="rep-items",
            off=True,
            now=clock.now,
        )
    clock.now = datetime(2026, 10, 26, 12, 30, tzinfo=UTC)
    assert rep_items(inline) == 0
    assert outbox(database) == []
