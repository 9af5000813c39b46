"""The demo's outbox pages: the mail Cadence sent with no SMTP server, on loopback only.

The list pages through every message, newest first, 50 a page, and narrows to one recipient;
each message shows its headers, its HTML part in a sandboxed frame (served under a policy of
its own) and its text part. Secrets sent to an SMTP server stay blanked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.db import Database
from scheduler.jobs import tasks
from scheduler.mail import outbox
from scheduler.mail.compose import Action, Para, compose
from scheduler.mail.message import Mail
from tests.conftest import with_smtp
from tests.demo.test_signin import app, demo_settings, org  # noqa: F401 (fixtures)
from web.app import create_app
from web.demo.signin import enable_demo_signin

SANDBOX = "allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def send(flask_app: Flask, mail: Mail) -> str:
    """Send ``mail`` through the app's job pipeline; the id of its outbox row."""
    with flask_app.app_context():
        message_id = tasks.send_mail(flask_app.extensions["cadence.jobs"], mail)
    assert message_id is not None
    return message_id


def plain(
    org_id: str, key: str, subject: str, text: str, to: str = "jordan@northwind.example"
) -> Mail:
    """A message whose HTML part says nothing: the list shows the text."""
    return Mail(org_id, key, "test", to, subject, text, "<p/>")


def nudge(org_id: str, *, secret: bool = False) -> Mail:
    """A message as ``compose`` writes them: a button, a footer with its unsubscribe link."""
    return compose(
        org_id=org_id,
        key="debrief-nudge/1",
        kind="debrief-nudge",
        person=("jordan@northwind.example", "Jordan Reyes", "p1"),
        subject="Debrief your 1:1 with Alice Nguyen",
        blocks=[
            Para("Your 1:1 with Alice Nguyen has ended."),
            Action("Debrief this 1:1", "http://127.0.0.1:5000/debrief/abc"),
        ],
        unsubscribe_url="http://127.0.0.1:5000/unsubscribe/xyz",
        secret=secret,
    )


def queue_many(database: Database, org_id: str, count: int, to: str, *, start: int = 0) -> None:
    """``count`` messages to ``to``, three to a minute (pages must break ties by id)."""
    with database.session() as db:
        for number in range(start, start + count):
            mail = plain(org_id, f"many/{number}", f"Message {number:03}", "Words.", to)
            outbox.queue(
                db, mail, domain="northwind.example", now=START + timedelta(minutes=number // 3)
            )


def text(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def subjects(page: str) -> list[str]:
    return re.findall(r'<article class="card" aria-label="([^"]+)"', page)


def link(page: str, name: str) -> str | None:
    """The href of the link named ``name`` on ``page``, if there is one."""
    found = re.search(rf'<a href="([^"]+)"[^>]*>{name}</a>', page)
    return unescape(found.group(1)) if found else None


def test_the_outbox_shows_each_message_with_its_links_newest_first(app: Flask, org):  # noqa: F811
    send(
        app,
        plain(
            org[0],
            "a",
            "Confirm your email",
            "Open http://127.0.0.1:5000/verify-email/abc to go on.",
        ),
    )
    send(app, plain(org[0], "b", "Weekly digest", "Nothing skipped."))
    client = app.test_client()

    assert 'href="/demo/outbox"' in client.get("/demo/").get_data(as_text=True)
    page = text(client, "/demo/outbox")

    assert page.index("Weekly digest") < page.index("Confirm your email")
    assert '<a href="http://127.0.0.1:5000/verify-email/abc">' in page
    assert "jordan@northwind.example" in page and "sent" in page


def test_a_message_shows_its_headers_its_html_part_in_a_sandboxed_frame_and_its_text(
    app: Flask,  # noqa: F811
    org,  # noqa: F811
):
    message_id = send(app, nudge(org[0]))
    client = app.test_client()
    listed = text(client, "/demo/outbox")
    assert f'<a href="/demo/outbox/{message_id}">Debrief your 1:1 with Alice Nguyen</a>' in listed

    page = text(client, f"/demo/outbox/{message_id}")
    headers = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", page))
    assert headers.keys() == {"From", "To", "Subject", "Date", "List-Unsubscribe"}
    assert headers["To"] == "jordan@northwind.example"
    assert unescape(headers["Subject"]) == "Debrief your 1:1 with Alice Nguyen"
    assert unescape(headers["List-Unsubscribe"]) == "<http://127.0.0.1:5000/unsubscribe/xyz>"
    (frame,) = re.findall(r"<iframe[^>]*>", page)
    assert f'src="/demo/outbox/{message_id}/html"' in frame
    assert f'sandbox="{SANDBOX}"' in frame  # no allow-scripts, no allow-same-origin
    assert 'title="The email as HTML: Debrief your 1:1 with Alice Nguyen"' in frame
    assert "Debrief this 1:1: http://127.0.0.1:5000/debrief/abc" in page  # the text part

    part = client.get(f"/demo/outbox/{message_id}/html")
    assert part.status_code == 200 and part.mimetype == "text/html"
    policy = part.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and f"sandbox {SANDBOX}" in policy
    assert "frame-ancestors 'self'" in policy and part.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = part.get_data(as_text=True)
    assert '<a href="http://127.0.0.1:5000/debrief/abc" style="' in html  # the button
    assert '<base target="_top">' in html
    assert client.get("/demo/outbox/no-such-message").status_code == 404


def test_a_message_not_sent_yet_has_no_date_and_an_account_mail_no_unsubscribe_header(
    app: Flask,  # noqa: F811
    org,  # noqa: F811
    database,
):
    with database.session() as db:
        message_id = outbox.queue(
            db,
            plain(org[0], "verify/1", "Confirm your email", "Open it."),
            domain="northwind.example",
            now=START,
        )
    page = text(app.test_client(), f"/demo/outbox/{message_id}")
    assert re.findall(r"<dt>([^<]+)</dt>", page) == ["From", "To", "Subject"]
    assert "Waiting to be sent (tried 0 times)" in page


def test_messages_beyond_the_newest_50_are_reached_by_the_older_link_and_back(
    app: Flask,  # noqa: F811
    org,  # noqa: F811
    database,
):
    queue_many(database, org[0], 120, "jordan@northwind.example")
    client = app.test_client()
    pages, path = [], "/demo/outbox"
    while path:
        page = text(client, path)
        pages.append(subjects(page))
        path = link(page, "Older messages")
    assert [len(page) for page in pages] == [50, 50, 20]
    seen = [subject for page in pages for subject in page]
    assert sorted(seen) == [f"Message {n:03}" for n in range(120)]  # each once
    minutes = [int(subject.removeprefix("Message ")) // 3 for subject in seen]
    assert minutes == sorted(minutes, reverse=True)  # newest first, across pages
    assert link(text(client, "/demo/outbox"), "Newer messages") is None

    # Back from the oldest page, "newer" gives the same pages again.
    back, path = [], link(text(client, "/demo/outbox"), "Older messages")
    path = link(text(client, path or ""), "Older messages")
    while path:
        page = text(client, path)
        back.append(subjects(page))
        path = link(page, "Newer messages")
    assert back == pages[::-1]


def test_the_recipient_filter_shows_only_their_messages_on_every_page(
    app: Flask,  # noqa: F811
    org,  # noqa: F811
    database,
):
    queue_many(database, org[0], 55, "alice@northwind.example")
    queue_many(database, org[0], 5, "jordan@northwind.example", start=55)
    client = app.test_client()
    assert '<input id="outbox-to" name="to" type="email"' in text(client, "/demo/outbox")

    first = text(client, "/demo/outbox?to=Alice@Northwind.example")
    older = link(first, "Older messages")
    assert older is not None and "to=alice@northwind.example" in older.lower()
    second = text(client, older)
    for page in (first, second):
        addressed = re.findall(r"To <strong>([^<]+)</strong>", page)
        assert set(addressed) == {"alice@northwind.example"}
    assert len(subjects(first)) + len(subjects(second)) == 55
    assert link(second, "Older messages") is None
    assert "No messages to bob@northwind.example." in text(
        client, "/demo/outbox?to=bob@northwind.example"
    )


def test_a_secret_sent_to_an_smtp_server_stays_blanked_in_every_view(
    demo_settings,  # noqa: F811
    database,
    org,  # noqa: F811
    smtp,
):
    served = create_app(with_smtp(demo_settings, smtp.url()), database=database)
    enable_demo_signin(served, host="127.0.0.1")
    message_id = send(served, nudge(org[0], secret=True))
    assert "/debrief/abc" in smtp.inbox.text(smtp.inbox.messages[0])  # the recipient got it
    client = served.test_client()
    for path in ("/demo/outbox", f"/demo/outbox/{message_id}", f"/demo/outbox/{message_id}/html"):
        page = text(client, path)
        assert "/debrief/abc" not in page, path
        assert outbox.BLANKED in unescape(page), path


@pytest.mark.parametrize(
    "path", ["", "?to=jordan@northwind.example", "?before=x", "?after=x", "/{id}", "/{id}/html"]
)
def test_the_outbox_is_not_answered_to_another_machine(app: Flask, org, path: str):  # noqa: F811
    message_id = send(app, nudge(org[0]))
    client = app.test_client()
    url = "/demo/outbox" + path.format(id=message_id)
    assert client.get(url).status_code == 200
    answer = client.get(url, environ_base={"REMOTE_ADDR": "192.168.1.20"})
    assert answer.status_code == 404
