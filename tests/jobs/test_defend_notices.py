"""The notice run: a pending conflict that went away sends nothing; one still there is mailed
once (policy "ask") or moved once and told to both (policy "auto"); retries add nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from scheduler.defend import ConflictState
from scheduler.jobs import tasks
from scheduler.models import AuditEntry, OutboxMessage, Person
from tests.jobs.test_defend_detection import block, conflicts
from tests.sessions import series_sessions


def outbox(database) -> list[OutboxMessage]:
    with database.session() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.key)))


def detect(inline, booked, calendar, week: int = 0, email="george@acme.test"):
    """Read everyone, then a clash appears over ``week`` and the next refresh records it."""
    tasks.refresh_stale_availability.job.perform(inline)
    session = series_sessions(inline.database, booked.series_ids[0])[week]
    block(calendar, session, email=email)
    inline.clock.now += timedelta(minutes=31)
    tasks.refresh_stale_availability.job.perform(inline)
    (found,) = conflicts(inline.database)
    return found, session


def policy(database, person_id, value):
    with database.session() as db:
        db.get(Person, person_id).conflict_policy = value


def test_a_conflict_still_there_is_mailed_once(inline, booked, calendar):
    found, _ = detect(inline, booked, calendar)
    tasks.notify_conflicts.job.perform(inline)
    tasks.notify_conflicts.job.perform(inline)
    tasks.notify_conflict.job.perform(inline, booked.org_id, found.id)  # a retried job

    (mail,) = outbox(inline.database)
    assert mail.key == f"conflict/{found.id}" and mail.to_email == "pat@acme.test"
    assert mail.kind == "conflict"
    assert "George is busy" in mail.text_body and "Initech" not in mail.text_body
    links = re.findall(r"http\S+/slot/\S+", mail.text_body)
    assert 2 <= len(links) <= 4  # up to three moves and the cancel link
    (after,) = conflicts(inline.database)
    assert after.state == ConflictState.MAILED and after.mailed_at is not None
    assert calendar.calls["move_occurrence"] == 0


def test_a_conflict_gone_before_the_notice_run_sends_nothing(inline, booked, calendar):
    detect(inline, booked, calendar)
    calendar.busy.clear()  # the clash was moved away
    inline.clock.now += timedelta(minutes=31)
    tasks.refresh_stale_availability.job.perform(inline)
    tasks.notify_conflicts.job.perform(inline)
    (after,) = conflicts(inline.database)
    assert after.state == ConflictState.RESOLVED and after.mailed_at is None
    assert outbox(inline.database) == []


def test_the_auto_policy_moves_once_and_tells_both(inline, booked, calendar):
    policy(inline.database, booked.manager_id, "auto")
    found, session = detect(inline, booked, calendar, week=1)
    for _ in range(2):
        tasks.notify_conflicts.job.perform(inline)
        tasks.notify_conflict.job.perform(inline, booked.org_id, found.id)

    (after,) = conflicts(inline.database)
    assert after.state == ConflictState.MOVED_AUTOMATICALLY
    assert calendar.calls["move_occurrence"] == 1
    assert calendar.events[booked.series_ids[0]].moved == {session.scheduled_start: after.moved_to}
    assert after.moved_to.isoformat() == after.alternatives[0]
    mails = outbox(inline.database)
    assert sorted(m.key for m in mails) == sorted(
        f"auto-move/{session.id}/{person}" for person in (booked.manager_id, booked.rep_id)
    )
    assert {m.kind for m in mails} == {"auto-move"}
    with inline.database.session() as db:
        actions = list(db.scalars(select(AuditEntry.action)))
    assert actions.count("session.moved_automatically") == 1


def test_auto_never_moves_a_meeting_within_24_hours_and_asks_instead(inline, booked, calendar):
    policy(inline.database, booked.manager_id, "auto")
    found, session = detect(inline, booked, calendar, week=0)
    inline.clock.now = session.scheduled_start - timedelta(hours=23)
    tasks.notify_conflicts.job.perform(inline)
    assert calendar.calls["move_occurrence"] == 0
    (mail,) = outbox(inline.database)
    assert mail.key == f"conflict/{found.id}"


def test_a_refused_automatic_move_is_given_back_and_tried_again(inline, booked, calendar):
    from integrations.base import Transient

    policy(inline.database, booked.manager_id, "auto")
    detect(inline, booked, calendar, week=1)
    calendar.fail_next(Transient("calendar down"))
    tasks.notify_conflicts.job.perform(inline)  # inline: the failure is recorded, not raised
    (after,) = conflicts(inline.database)
    assert after.state == ConflictState.PENDING and outbox(inline.database) == []
    tasks.notify_conflicts.job.perform(inline)
    (after,) = conflicts(inline.database)
    assert after.state == ConflictState.MOVED_AUTOMATICALLY
    assert len(outbox(inline.database)) == 2
