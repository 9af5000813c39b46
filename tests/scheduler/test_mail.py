"""The outbox and its delivery to a real SMTP server (aiosmtpd on 127.0.0.1): once per key,
retried after a refusal, never twice, STARTTLS / TLS and credentials from ``SMTP_URL``, and the
local outbox when no server is configured."""

from __future__ import annotations

import dataclasses
import ssl
from datetime import timedelta

import pytest
import trustme
from sqlalchemy import select

from scheduler import jobs
from scheduler.jobs import tasks
from scheduler.jobs.registry import declared
from scheduler.links import unsubscribe_url
from scheduler.mail import outbox
from scheduler.mail.compose import Para, compose
from scheduler.mail.kinds import MailKind
from scheduler.mail.message import Mail
from scheduler.mail.transport import SmtpServer as SmtpTransport
from scheduler.models import OutboxMessage, Person
from scheduler.settings import Settings, SettingsError
from scheduler.usecases.directory import create_organization
from scheduler.usecases.mail_preferences import set_opt_out
from tests.conftest import with_smtp
from tests.smtp import SmtpServer
from tests.web.conftest import NOW, Clock


@pytest.fixture
def org_id(database) -> str:
    org, _ = create_organization(
        database, name="Acme", admin_email="pat@acme.test", admin_name="Pat", zone="UTC", now=NOW
    )
    return org


def mail(org_id: str, key: str = "test/1/pat", *, secret: bool = False) -> Mail:
    return Mail(
        org_id=org_id,
        key=key,
        kind="test",
        to="pat@acme.test",
        subject="Hello",
        text="Plain words.\nhttps://cadence.test/x",
        html="<p>Plain <b>words</b>.</p>",
        secret=secret,
    )


def runtime(settings, database, clock=None):  # type: ignore[no-untyped-def]
    return jobs.build(
        settings,
        link=lambda org, session: "",
        database=database,
        calendars=lambda row: None,  # type: ignore[arg-type,return-value]
        clock=clock or Clock(NOW),
    )


def rows(database) -> list[OutboxMessage]:
    with database.session() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def test_a_message_goes_to_the_smtp_server_once_per_key(database, settings, smtp, org_id):
    settings = with_smtp(settings, smtp.url(), mail_from="Cadence <cadence@acme.test>")
    rt = runtime(settings, database)
    first = tasks.send_mail(rt, mail(org_id))
    again = tasks.send_mail(rt, mail(org_id))  # the same key: the same message

    assert first == again
    (received,) = smtp.inbox.messages
    assert received["To"] == "pat@acme.test" and received["Subject"] == "Hello"
    assert received["From"] == "Cadence <cadence@acme.test>"
    assert received["Message-ID"].endswith("@acme.test>")
    assert {part.get_content_type() for part in received.walk()} >= {"text/plain", "text/html"}
    assert "Plain words." in smtp.inbox.text(received)
    (row,) = rows(database)
    assert row.sent_at == NOW and row.attempts == 1 and row.message_id == received["Message-ID"]


def test_a_kind_of_mail_carries_its_unsubscribe_headers_and_both_bodies(
    database, settings, smtp, org_id
):
    rt = runtime(with_smtp(settings, smtp.url()), database)
    with database.session() as db:
        person = db.scalars(select(Person).where(Person.organization_id == org_id)).one()
        url = unsubscribe_url(
            settings, org_id=org_id, person_id=person.id, kind=MailKind.DIGEST, now=NOW
        )
        message = compose(
            org_id=org_id,
            key=f"digest/test/{person.id}",
            kind=MailKind.DIGEST,
            person=person,
            subject="Your week",
            blocks=[Para("Three of four 1:1s held.")],
            unsubscribe_url=url,
        )
    assert tasks.send_mail(rt, message) is not None

    (received,) = smtp.inbox.messages
    assert received["List-Unsubscribe"] == f"<{url}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Three of four 1:1s held." in smtp.inbox.text(received)
    assert f"Stop these emails (Weekly digest): {url}" in smtp.inbox.text(received)
    html = received.get_body(("html",))
    assert html is not None and f'<a href="{url}">Stop these emails</a>' in html.get_content()
    (row,) = rows(database)
    assert row.unsubscribe_url == url


def test_account_mail_has_no_unsubscribe_header(database, settings, smtp, org_id):
    tasks.send_mail(runtime(with_smtp(settings, smtp.url()), database), mail(org_id))
    (received,) = smtp.inbox.messages
    assert received["List-Unsubscribe"] is None and received["List-Unsubscribe-Post"] is None


def test_nothing_is_queued_of_a_kind_the_person_stopped(database, settings, smtp, org_id):
    rt = runtime(with_smtp(settings, smtp.url()), database)
    with database.session() as db:
        person_id = db.scalars(select(Person.id).where(Person.organization_id == org_id)).one()
        set_opt_out(db, org_id=org_id, person_id=person_id, kind="digest", off=True, now=NOW)
    digest = dataclasses.replace(mail(org_id), kind="digest", person_id=person_id)

    assert tasks.send_mail(rt, digest) is None
    assert rows(database) == [] and smtp.inbox.messages == []
    # Another kind, and mail with no person (an account's), still go out.
    assert tasks.send_mail(rt, dataclasses.replace(digest, key="c/1", kind="conflict"))
    assert tasks.send_mail(rt, dataclasses.replace(digest, key="t/1", person_id=None))
    assert len(smtp.inbox.messages) == 2


def test_a_refused_send_stays_queued_and_the_retry_sends_it_once(database, settings, smtp, org_id):
    settings = with_smtp(settings, smtp.url())
    clock = Clock(NOW)
    rt = runtime(settings, database, clock)
    smtp.inbox.refuse(1)

    tasks.send_mail(rt, mail(org_id))  # inline: the failure is logged, not raised

    (row,) = rows(database)
    assert row.sent_at is None and row.attempts == 1 and "451" in row.last_error
    assert smtp.inbox.messages == []
    clock.now += timedelta(minutes=5)
    assert declared(tasks.retry_mail).perform(rt) == 1
    assert declared(tasks.retry_mail).perform(rt) == 0  # sent: nothing left to retry
    assert len(smtp.inbox.messages) == 1
    (row,) = rows(database)
    assert row.sent_at == clock.now and row.attempts == 2 and row.last_error == ""


def test_a_claimed_message_is_not_sent_by_a_second_delivery(database, settings, smtp, org_id):
    settings = with_smtp(settings, smtp.url())
    with database.session() as db:
        message_id = outbox.queue(db, mail(org_id), domain="acme.test", now=NOW)
        db.get(OutboxMessage, message_id).claimed_until = NOW + outbox.CLAIM  # another job's
    transport = SmtpTransport.from_url(settings.smtp_url)

    def deliver(now):  # type: ignore[no-untyped-def]
        return outbox.deliver(
            database, transport, org_id=org_id, message_id=message_id, sender="c@a.test", now=now
        )

    assert deliver(NOW) is False and smtp.inbox.messages == []
    with database.session() as db:
        assert outbox.unsent(db, now=NOW) == []  # the retry leaves a live claim alone
    # The claim lapsed (its worker died): the message goes out, then never again.
    assert deliver(NOW + outbox.CLAIM + timedelta(seconds=1)) is True
    assert deliver(NOW + outbox.CLAIM * 3) is False
    assert len(smtp.inbox.messages) == 1


def test_the_retry_gives_up_on_old_messages(database, settings, org_id):
    with database.session() as db:
        outbox.queue(db, mail(org_id), domain="acme.test", now=NOW)
        assert len(outbox.unsent(db, now=NOW)) == 1
        assert outbox.unsent(db, now=NOW + outbox.GIVE_UP_AFTER) == []


def test_secret_bodies_are_blanked_once_the_server_took_them(database, settings, smtp, org_id):
    rt = runtime(with_smtp(settings, smtp.url()), database)
    tasks.send_mail(rt, mail(org_id, secret=True))
    assert "https://cadence.test/x" in smtp.inbox.text(smtp.inbox.messages[0])
    (row,) = rows(database)
    assert "cadence.test/x" not in row.text_body + row.html_body
    assert row.text_body == outbox.BLANKED


def test_without_smtp_the_local_outbox_prints_and_keeps_every_message(
    database, settings, org_id, capsys
):
    assert settings.smtp_url is None
    rt = runtime(settings, database)
    tasks.send_mail(rt, mail(org_id, secret=True))
    printed = capsys.readouterr().err
    assert "To: pat@acme.test" in printed and "Subject: Hello" in printed
    assert "https://cadence.test/x" in printed
    (row,) = rows(database)
    assert row.sent_at == NOW and "https://cadence.test/x" in row.text_body  # kept to read


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca, tmp_path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.mark.parametrize("tls", ["starttls", "smtps"])
def test_starttls_or_tls_and_the_credentials_of_the_url(
    database, settings, org_id, ca, ca_file, tls
):
    login = ("me@acme.test", "p/w s")
    server = SmtpServer(tls=tls, context=server_context(ca), login=login).start()
    try:
        url = server.url("me%40acme.test:p%2Fw%20s")
        rt = runtime(with_smtp(settings, url, smtp_ca_bundle=ca_file), database)
        tasks.send_mail(rt, mail(org_id))
        assert len(server.inbox.messages) == 1
        assert server.inbox.logins == ["me@acme.test"]
    finally:
        server.stop()


def test_an_untrusted_certificate_is_refused(database, settings, org_id, ca):
    server = SmtpServer(tls="starttls", context=server_context(ca)).start()
    try:
        rt = runtime(with_smtp(settings, server.url()), database)  # the system's CAs only
        tasks.send_mail(rt, mail(org_id))
        assert server.inbox.messages == []
        (row,) = rows(database)
        assert row.sent_at is None and "SSL" in row.last_error
    finally:
        server.stop()


def test_smtp_settings():
    base = {"CADENCE_SECRET_KEY": "k" * 32, "CADENCE_TOKEN_KEYS": "A" * 43 + "="}
    plain = Settings.from_env({**base, "CADENCE_BASE_URL": "https://cadence.acme.test"})
    assert plain.smtp_url is None and plain.mail_from == "cadence@cadence.acme.test"
    ipv6 = Settings.from_env({**base, "CADENCE_BASE_URL": "http://[::1]:5000"})
    assert ipv6.mail_from == "cadence@localhost"  # an address is no mail domain
    old = Settings.from_env({**base, "SMTP_URL": "smtp://h.test?from=r@acme.test"})
    assert old.mail_from == "r@acme.test"  # the older ?from= still counts
    server = SmtpTransport.from_url("smtp+starttls://u:p@mail.acme.test")
    assert (server.port, server.starttls, server.implicit_tls) == (587, True, False)
    assert SmtpTransport.from_url("smtps://mail.acme.test").port == 465
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({**base, "SMTP_URL": "http://mail.acme.test", "MAIL_FROM": "nobody"})
    assert set(refused.value.problems) == {"SMTP_URL", "MAIL_FROM"}
