"""Mail through RQ: the delivery job on the ``mail`` queue, retried after a refusal, sent once."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from scheduler.jobs import tasks
from scheduler.mail.message import Mail
from scheduler.models import OutboxMessage
from tests.jobs.conftest import drain, queued


def test_a_refused_message_is_retried_by_rq_and_delivered_once(runtime, team, database, smtp):
    runtime.settings = dataclasses.replace(runtime.settings, smtp_url=smtp.url())
    smtp.inbox.refuse(2)
    message = Mail(
        org_id=team.org_id,
        key=f"test/{team.manager_id}",
        kind="test",
        to="pat@acme.test",
        subject="Hello",
        text="Hello.",
        html="<p>Hello.</p>",
    )

    tasks.send_mail(runtime, message)
    tasks.send_mail(runtime, message)  # asked twice: queued once, enqueued twice
    assert runtime.dispatcher.queue("mail").count == 2
    drain(runtime)

    assert queued(runtime) == 0
    assert [m["To"] for m in smtp.inbox.messages] == ["pat@acme.test"]
    with database.session() as db:
        (row,) = db.scalars(select(OutboxMessage)).all()
    assert row.sent_at is not None and row.attempts == 3
