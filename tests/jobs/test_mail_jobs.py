"""Mail through RQ: the delivery job on the ``mail`` queue, retried after a refusal, sent once."""

from __future__ import annotations

import dataclasses

from redis import Redis
from sqlalchemy import select

from scheduler import jobs
from scheduler.jobs import tasks
from scheduler.jobs.registry import declared
from scheduler.mail.message import Mail
from scheduler.models import OutboxMessage
from tests.jobs.conftest import drain, link, queued


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


def test_with_redis_down_the_message_waits_in_the_outbox_for_the_retry(
    settings, database, team, smtp, clock
):
    settings = dataclasses.replace(settings, smtp_url=smtp.url())
    unreachable = jobs.build(
        settings,
        link=link,
        database=database,
        calendars=lambda row: None,
        clock=clock,
        redis=Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2),
    )
    message = Mail(team.org_id, "test/down", "test", "pat@acme.test", "Hi", "Hi.", "<p>Hi.</p>")

    tasks.send_mail(unreachable, message)  # no exception for the caller (a sign-up, say)

    assert smtp.inbox.messages == []
    inline = jobs.build(
        settings, link=link, database=database, calendars=lambda row: None, clock=clock
    )
    assert declared(tasks.retry_mail).perform(inline) == 1
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Hi"]
