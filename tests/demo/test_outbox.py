"""The demo's outbox page: the mail Cadence sent with no SMTP server, on loopback only."""

from __future__ import annotations

from flask import Flask

from scheduler.jobs import tasks
from scheduler.mail.message import Mail
from tests.demo.test_signin import app, demo_settings, org  # noqa: F401 (fixtures)


def send(flask_app: Flask, org_id: str, key: str, subject: str, text: str) -> None:
    with flask_app.app_context():
        runtime = flask_app.extensions["cadence.jobs"]
        tasks.send_mail(
            runtime, Mail(org_id, key, "test", "jordan@northwind.example", subject, text, "<p/>")
        )


def test_the_outbox_shows_each_message_with_its_links_newest_first(app: Flask, org):  # noqa: F811
    send(
        app,
        org[0],
        "a",
        "Confirm your email",
        "Open http://127.0.0.1:5000/verify-email/abc to go on.",
    )
    send(app, org[0], "b", "Weekly digest", "Nothing skipped.")
    client = app.test_client()

    assert 'href="/demo/outbox"' in client.get("/demo/").get_data(as_text=True)
    page = client.get("/demo/outbox").get_data(as_text=True)

    assert page.index("Weekly digest") < page.index("Confirm your email")
    assert '<a href="http://127.0.0.1:5000/verify-email/abc">' in page
    assert "jordan@northwind.example" in page and "sent" in page


def test_the_outbox_is_not_answered_to_another_machine(app: Flask):  # noqa: F811
    client = app.test_client()
    answer = client.get("/demo/outbox", environ_base={"REMOTE_ADDR": "192.168.1.20"})
    assert answer.status_code == 404
