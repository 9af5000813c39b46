"""Weekly digests of the hand-built history: content, rendering, and sending once."""

from __future__ import annotations

import smtplib
import socket
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from functools import partial

import pytest
from aiosmtpd.controller import Controller

from scheduler.models import DigestDelivery, Organization, Person, Session
from scheduler.reports.digest import (
    digest_week,
    digest_weeks_due,
    render_html,
    render_text,
    weekly_digest,
)
from scheduler.reports.mail import SmtpServer, send_all_weekly_digests, send_weekly_digests
from tests.scheduler.reports.conftest import NOW, WEEKS


def test_digest_week_is_the_last_complete_week():
    assert digest_week(NOW) == WEEKS[4]


def test_admin_digest_covers_the_organisation(database, history):
    with database.session() as db:
        digest = weekly_digest(db, history.org_id, history.admin, now=NOW)
    assert digest is not None and digest.week_start == WEEKS[4]
    assert (digest.counts.expected, digest.counts.held, digest.skipped_total) == (3, 1, 2)
    assert [(r.rep_name, r.outcome.value) for r in digest.skipped] == [
        ("Ryan", "cancelled"),
        ("George", "cancelled"),
    ]
    assert [r.rep_name for r in digest.stopped] == ["Ann", "Kai", "Ryan"]
    assert digest.subject == "1:1s, week of 12 Oct 2026: 1 held, 2 skipped, 3 stopped"


def test_a_long_digest_lists_the_first_rows_and_says_how_many_more(database, history, monkeypatch):
    monkeypatch.setattr("scheduler.reports.digest.DIGEST_ROWS", 2)
    with database.session() as db:
        digest = weekly_digest(db, history.org_id, history.admin, now=NOW)
    assert digest is not None
    assert ([r.rep_name for r in digest.stopped], digest.stopped_total) == (["Ann", "Kai"], 3)
    assert digest.as_dict()["stopped_total"] == 3
    assert digest.subject.endswith("2 skipped, 3 stopped")
    text = render_text(digest, "https://cadence.test")
    assert "Ryan: last held" not in text and "  ... and 1 more." in text
    assert "… and 1 more." in render_html(digest, "https://cadence.test")


def test_manager_digest_covers_their_team_and_reps_get_none(database, history):
    with database.session() as db:
        patrick = weekly_digest(db, history.org_id, history.patrick, now=NOW)
        george = weekly_digest(db, history.org_id, history.george, now=NOW)
    assert patrick is not None
    assert [(r.rep_name, r.cancelled_by) for r in patrick.skipped] == [("George", "rep")]
    assert patrick.stopped == []
    assert george is None


def test_renderings_say_the_same_and_escape_names(database, history):
    with database.session() as db:
        digest = weekly_digest(db, history.org_id, history.admin, now=NOW)
    assert digest is not None
    text = render_text(digest, "https://cadence.test")
    assert "1 of 3 expected 1:1s held (33%); 2 skipped, 1 excused, 0 moved." in text
    assert "Matt with Ryan: cancelled" in text
    assert "Matt with Ryan: last held 34 days ago, nothing booked" in text
    assert "Matt with Kai: never held\n" in text
    html = render_html(digest, "https://cadence.test")
    assert "<strong>1 of 3</strong>" in html
    assert f'href="https://cadence.test/reports/reps/{history.ryan}?to=2026-10-12"' in html
    evil = digest.__class__(**{**digest.__dict__, "skipped": [
        digest.skipped[0].__class__(**{**digest.skipped[0].__dict__, "rep_name": "<b>x</b>"})
    ]})  # fmt: skip
    assert "&lt;b&gt;x&lt;/b&gt;" in render_html(evil, "https://cadence.test")


def test_the_email_gives_each_time_on_the_recipients_clock(database, history):
    """Ryan's cancelled week, Thursday 15 October 09:00 UTC, for an admin in New York."""
    with database.session() as db:
        db.get(Person, history.admin).zone = "America/New_York"
    with database.session() as db:
        digest = weekly_digest(db, history.org_id, history.admin, now=NOW)
    assert digest is not None
    text = render_text(digest, "https://cadence.test")
    assert "Skipped (times in America/New_York):" in text
    assert "  Thu 15 Oct 05:00 EDT  Matt with Ryan: cancelled" in text
    assert " UTC " not in text
    html = render_html(digest, "https://cadence.test")
    assert "<th>When (America/New_York)</th>" in html and "Thu 15 Oct 05:00 EDT" in html


class Inbox:
    def __init__(self):
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:  # a free port: aiosmtpd checks readiness by connecting
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


def test_digests_are_emailed_once_per_person_per_week(database, history, settings, smtp_server):
    inbox, url = smtp_server
    settings = settings.__class__(**{**settings.__dict__, "smtp_url": url + "?from=r@acme.test"})
    assert send_weekly_digests(database, settings, org_id=history.org_id, now=NOW) == 4
    assert send_weekly_digests(database, settings, org_id=history.org_id, now=NOW) == 0
    received = sorted(message["To"] for message in inbox.messages)
    assert len(received) == 4 and len(set(received)) == 4  # Ada, Patrick, Matt, Nina
    first = inbox.messages[0]
    assert first["From"] == "r@acme.test"
    assert first["Message-ID"].startswith("<digest-")
    assert {part.get_content_type() for part in first.walk()} >= {"text/plain", "text/html"}
    with database.session() as db:
        assert db.query(DigestDelivery).count() == 4


def test_a_failed_send_is_retried_next_time(database, history, settings):
    calls = []

    def flaky(message: EmailMessage) -> None:
        calls.append(message["To"])
        if len(calls) == 1:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no")})

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_weekly_digests(database, settings, org_id=history.org_id, now=NOW, send=flaky)
    assert len(calls) == 4  # the failure did not stop the others
    assert send_weekly_digests(database, settings, org_id=history.org_id, now=NOW, send=flaky) == 1
    assert calls[4] == calls[0]


def test_every_organisation_gets_its_digests_once(database, history, settings):
    sent: list[str] = []
    settings = settings.__class__(**{**settings.__dict__, "smtp_url": "smtp://127.0.0.1:9"})
    for _ in range(2):  # hourly runs: the second sends nothing
        for org_id in (history.org_id, history.other_org_id):
            send_weekly_digests(
                database, settings, org_id=org_id, now=NOW, send=lambda m: sent.append(m["To"])
            )
    assert len(sent) == 5  # Ada, Patrick, Matt, Nina; Boss in the other organisation
    assert send_all_weekly_digests(database, settings, now=NOW) == 0


def test_without_smtp_nothing_is_sent(database, history, settings):
    assert settings.smtp_url is None
    assert send_weekly_digests(database, settings, org_id=history.org_id, now=NOW) == 0


def test_smtp_url_parsing():
    server = SmtpServer.from_url("smtps://me%40x.test:p%2Fw@mail.x.test?from=c@x.test")
    assert (server.host, server.port, server.implicit_tls) == ("mail.x.test", 465, True)
    assert (server.username, server.password, server.sender) == ("me@x.test", "p/w", "c@x.test")
    with pytest.raises(ValueError):
        SmtpServer.from_url("http://mail.x.test")


# Monday 2 November 2026, 01:00 UTC: still Sunday evening in New York and Los Angeles.
MONDAY_NIGHT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
GRACE = timedelta(hours=48)


def test_each_recipient_gets_the_last_complete_week_of_their_own_zone():
    assert digest_week(MONDAY_NIGHT, "Europe/London") == date(2026, 10, 26)
    # In Los Angeles the week of 26 October is not over: the last complete one is before it.
    assert digest_week(MONDAY_NIGHT, "America/Los_Angeles") == date(2026, 10, 19)


def test_a_week_is_due_once_every_session_in_it_is_past_its_grace():
    sunday_evening_end = datetime(2026, 11, 2, 2, 30, tzinfo=UTC)  # 18:30 Sunday in LA
    ends = {date(2026, 10, 26): sunday_evening_end}
    due = partial(digest_weeks_due, zone="Europe/London", last_sent=None, latest_ends=ends)
    assert due(now=MONDAY_NIGHT, grace=GRACE) == []
    assert due(now=sunday_evening_end + GRACE - timedelta(seconds=1), grace=GRACE) == []
    assert due(now=sunday_evening_end + GRACE, grace=GRACE) == [date(2026, 10, 26)]


def test_no_week_is_left_out_and_none_is_sent_after_a_later_one():
    ends = {date(2026, 10, 19): datetime(2026, 10, 30, 12, tzinfo=UTC)}  # moved to Friday 30th
    due = partial(digest_weeks_due, zone="UTC", last_sent=date(2026, 10, 12), latest_ends=ends)
    # A week held back by its last session: nothing later goes before it ...
    assert due(now=datetime(2026, 10, 31, 12, tzinfo=UTC), grace=GRACE) == []
    # ... and once it has settled, it goes with the weeks that followed it.
    assert due(now=MONDAY_NIGHT + timedelta(days=1), grace=GRACE) == [
        date(2026, 10, 19),
        date(2026, 10, 26),
    ]


def test_a_digest_waits_for_its_weeks_last_session_and_is_then_sent(database, history, settings):
    """Kai's 1:1 of the week of 12 October was moved to Sunday 18th, 22:00; with a 72 h
    grace it settles on Wednesday 21st at 22:00, after NOW: Ada (admin) and Matt wait for it,
    and get it at the next run after; a week later each gets the next week, once."""
    with database.session() as db:
        db.get(Organization, history.org_id).grace_hours = 72
        kai5 = db.get(Session, history.sessions[("Kai", 5)])
        kai5.current_start = datetime(2026, 10, 18, 21, 30, tzinfo=UTC)
        kai5.current_end = datetime(2026, 10, 18, 22, 0, tzinfo=UTC)
    sent: list[tuple[str, str]] = []

    def run(now: datetime) -> int:
        return send_weekly_digests(
            database,
            settings,
            org_id=history.org_id,
            now=now,
            send=lambda m: sent.append((m["To"].split("@")[0], m["Subject"][14:25])),
        )

    assert run(NOW) == 2  # Patrick and Nina: nothing of theirs still to settle
    assert {to for to, _ in sent} == {"patrick", "nina"}
    assert run(NOW + timedelta(hours=10)) == 2  # 22:00: Kai's week has settled
    assert sorted(sent[2:]) == [("ada", "12 Oct 2026"), ("matt", "12 Oct 2026")]
    assert run(NOW + timedelta(hours=11)) == 0
    assert run(NOW + timedelta(days=7)) == 4  # the week of 19 October, to each, once
    assert {week for _, week in sent[4:]} == {"19 Oct 2026"}
