"""The debrief nudge and the rep's Monday email end to end: the jobs send them through a real
SMTP server (aiosmtpd on 127.0.0.1) and their links are followed through the Flask test
client — the nudge's to the debrief form (after signing in), the mark-done links once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler import jobs
from scheduler.jobs import tasks
from scheduler.jobs.registry import declared
from scheduler.models import ActionItem, OutboxMessage
from tests.conftest import with_smtp
from tests.web.conftest import post
from tests.web.test_manager import first_session
from web.agenda_links import agenda_link_builder


@pytest.fixture
def pipeline(settings, database, calendar, clock, smtp):  # type: ignore[no-untyped-def]
    """The embedded job pipeline on the app's database and clock, sending to the SMTP server
    (the app's own sign-up mail stays in the outbox, where the sign-up helpers read it)."""
    return jobs.build(
        with_smtp(settings, smtp.url()),
        link=agenda_link_builder(settings.secret_key, settings.base_url),
        database=database,
        calendars=lambda row: calendar,
        clock=clock,
    )


@pytest.fixture
def org(client, make_org):  # type: ignore[no-untyped-def]
    return make_org(client)


def link_in(smtp, message) -> str:  # type: ignore[no-untyped-def]
    """The path of the first Cadence link in a received message's plain text."""
    found = re.search(
        r"http://127\.0\.0\.1:\d+(/(?:debrief|items/done)/\S+)", smtp.inbox.text(message)
    )
    assert found, smtp.inbox.text(message)
    return found.group(1)


def links_in(smtp, message) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r"http://127\.0\.0\.1:\d+(/items/done/\S+)", smtp.inbox.text(message))


def chase(pipeline) -> int:  # type: ignore[no-untyped-def]
    return declared(tasks.chase_debriefs).perform(pipeline)


def test_the_nudge_leads_to_the_debrief_form_after_sign_in_and_stops_once_saved(
    app, client, org, database, clock, smtp, pipeline
):
    row = first_session(client, org, database)
    client.get("/signout")  # the manager reads the email signed out
    clock.now = row.scheduled_end + timedelta(minutes=5)
    assert chase(pipeline) == 1

    (nudge,) = smtp.inbox.wait_for(1)
    assert nudge["To"] == "pat@acme.test"
    assert nudge["Subject"] == "Debrief your 1:1 with George"
    assert nudge["List-Unsubscribe"]
    assert nudge.get_body(("html",)) is not None

    reader = app.test_client()
    followed = reader.get(link_in(smtp, nudge))
    assert followed.status_code == 302
    assert followed.location == f"/manager/sessions/{row.id}"
    to_sign_in = reader.get(followed.location)
    assert to_sign_in.status_code == 302 and to_sign_in.location.startswith("/signin")
    signed = post(
        reader, to_sign_in.location, {"email": "pat@acme.test", "password": "correct horse battery"}
    )
    assert signed.location == f"/manager/sessions/{row.id}"
    form = reader.get(signed.location).get_data(as_text=True)
    assert f'action="/manager/sessions/{row.id}/debrief"' in form

    due = (row.scheduled_end + timedelta(days=10)).date().isoformat()
    saved = post(
        reader,
        f"/manager/sessions/{row.id}/debrief",
        {
            "note-0": "Pipeline reviewed",
            **{f"items-{i}-text": f"Action {i}" for i in range(3)},
            "items-0-owner": "manager",
            "items-1-owner": "rep",
            "items-2-owner": "rep",
            **{f"items-{i}-due_date": due for i in range(3)},
        },
        page=signed.location,
    )
    assert saved.status_code == 302

    clock.now = row.scheduled_end + timedelta(hours=24)  # half the 48-hour grace period
    assert chase(pipeline) == 0
    assert len(smtp.inbox.messages) == 1


def test_a_forged_or_expired_debrief_link_is_refused_with_a_page(
    app, client, org, database, clock, smtp, pipeline
):
    row = first_session(client, org, database)
    clock.now = row.scheduled_end + timedelta(minutes=5)
    chase(pipeline)
    path = link_in(smtp, smtp.inbox.wait_for(1)[0])

    forged = app.test_client().get(path[:-3] + "xyz")
    assert forged.status_code == 404
    clock.now += timedelta(days=31)
    expired = app.test_client().get(path)
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)


def test_an_smtp_refusal_is_retried_and_the_nudge_sent_once(
    client, org, database, clock, smtp, pipeline
):
    row = first_session(client, org, database)
    smtp.inbox.refuse(1)
    clock.now = row.scheduled_end + timedelta(minutes=5)
    assert chase(pipeline) == 1  # queued; its delivery refused
    assert smtp.inbox.messages == []
    clock.now += timedelta(minutes=15)
    assert chase(pipeline) == 0  # kept as sent: the retry is the outbox's, not the chase's
    assert declared(tasks.retry_mail).perform(pipeline) == 1
    assert declared(tasks.retry_mail).perform(pipeline) == 0
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Debrief your 1:1 with George"]
    with database.session() as db:
        (row_sent,) = db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "debrief-nudge")
        ).all()
    assert row_sent.attempts == 2 and row_sent.sent_at is not None


def test_a_mark_done_link_works_once_then_says_it_was_used(
    app, client, org, database, clock, smtp, pipeline
):
    row = first_session(client, org, database)
    with database.session() as db:
        for text, due in (
            ("Call Initech", date(2026, 10, 28)),
            ("Update the CRM", date(2026, 10, 30)),
        ):
            db.add(
                ActionItem(
                    organization_id=org.org_id,
                    session_id=row.id,
                    series_id=row.series_id,
                    text=text,
                    owner="rep",
                    owner_id=org.rep_ids[0],
                    due_date=due,
                    created_at=row.scheduled_end,
                )
            )
    clock.now = datetime(2026, 10, 26, 12, 5, tzinfo=UTC)  # Monday 08:05 in New York
    assert declared(tasks.send_rep_items).perform(pipeline) == 1
    (email,) = smtp.inbox.wait_for(1)
    assert email["To"] == "george@acme.test"
    first, second = links_in(smtp, email)

    george = app.test_client()  # signed out: the link is the credential
    shown = george.get(first)
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert "Mark this action item done?" in page and "Call Initech" in page
    with database.session() as db:  # a GET (a mail scanner's) changes nothing
        assert (
            db.scalar(select(ActionItem.done_at).where(ActionItem.text == "Call Initech")) is None
        )

    done = post(george, first, {"done": "1"}, page=first)
    assert done.status_code == 200
    assert "is marked done" in done.get_data(as_text=True)
    with database.session() as db:
        assert (
            db.scalar(select(ActionItem.done_at).where(ActionItem.text == "Call Initech"))
            is not None
        )

    again = george.get(first)
    assert again.status_code == 410
    assert "already used" in again.get_data(as_text=True)
    assert "Call Initech" in again.get_data(as_text=True)
    csrf_page = second  # a page of the app with a form, for the token
    twice = post(george, first, {"done": "1"}, page=csrf_page)
    assert twice.status_code == 410

    # The other item's link is its own.
    assert george.get(second).status_code == 200
