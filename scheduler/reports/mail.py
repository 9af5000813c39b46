"""Sending the weekly digests by email, once per person per week.

A ``digest_deliveries`` row is inserted in the same transaction as the send and committed
only after the SMTP server accepted the message: a failed send leaves no row (the next run
tries again); a second run finds the row (or loses the race on its unique key) and sends
nothing. The Message-ID is derived from person and week, so even the one remaining gap —
a crash between the server's acceptance and the commit — gives mail clients a duplicate
they can recognise.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from scheduler.db import Database
from scheduler.models import DigestDelivery, Organization
from scheduler.reports.digest import (
    Digest,
    digest_recipients,
    due_digest_weeks,
    render_html,
    render_text,
    weekly_digest,
)
from scheduler.settings import Settings

Send = Callable[[EmailMessage], None]


@dataclass(frozen=True)
class SmtpServer:
    """Where to send mail, from ``SMTP_URL``.

    ``smtp://user:password@host:587?starttls=1&from=cadence@example.com``; ``smtps://`` for
    TLS from the first byte. Without ``from``, mail comes from ``cadence@`` the base URL's host.
    """

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            implicit_tls=parts.scheme == "smtps",
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=query.get("from", [None])[0],
        )

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; raises ``smtplib.SMTPException`` or ``OSError``."""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=30, context=context)
            if self.implicit_tls
            else smtplib.SMTP(self.host, self.port, timeout=30)
        )
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def digest_message(digest: Digest, *, sender: str, base_url: str) -> EmailMessage:
    """The email for ``digest``: plain text with an HTML alternative, a stable Message-ID."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = digest.email
    domain = urlsplit(base_url).hostname or "cadence.invalid"
    message["Message-ID"] = f"<digest-{digest.person_id}-{digest.week_start}@{domain}>"
    message.set_content(render_text(digest, base_url))
    message.add_alternative(
        f"<!doctype html><html><body>{render_html(digest, base_url)}</body></html>",
        subtype="html",
    )
    return message


def send_weekly_digests(
    database: Database,
    settings: Settings,
    *,
    org_id: str,
    now: datetime,
    send: Send | None = None,
) -> int:
    """Email last week's digest to every admin and manager of ``org_id`` who has not had it.

    ``send`` defaults to the server in ``settings.smtp_url``; with neither, nothing is sent.
    Returns how many were sent. A failure to send one person's digest is raised after the
    others were tried, so one bad address does not hold up the organisation.
    """
    if send is None:
        if settings.smtp_url is None:
            return 0
        send = SmtpServer.from_url(settings.smtp_url).send
    server_sender = SmtpServer.from_url(settings.smtp_url).sender if settings.smtp_url else None
    sender = server_sender or f"cadence@{urlsplit(settings.base_url).hostname}"
    with database.session() as db:
        recipients = digest_recipients(db, org_id)
        # Each person's due weeks: their own zone's last complete week, once it has settled.
        due = {
            person_id: due_digest_weeks(db, org_id, person_id, now=now) for person_id in recipients
        }
    sent, failures = 0, []
    for person_id in recipients:
        try:
            for week in due[person_id]:
                if _send_one(database, send, org_id, person_id, now=now, week=week, sender=sender,
                             base_url=settings.base_url):  # fmt: skip
                    sent += 1
        except (smtplib.SMTPException, OSError) as error:
            failures.append(error)
    if failures:
        raise failures[0]
    return sent


def send_all_weekly_digests(database: Database, settings: Settings, *, now: datetime) -> int:
    """``send_weekly_digests`` for every organisation; safe to run hourly (sends once a week).

    Meant for the periodic scheduler. Raises the first send failure after every organisation
    was tried.
    """
    with database.session() as db:
        org_ids = list(db.scalars(select(Organization.id).order_by(Organization.id)))
    sent, failures = 0, []
    for org_id in org_ids:
        try:
            sent += send_weekly_digests(database, settings, org_id=org_id, now=now)
        except (smtplib.SMTPException, OSError) as error:
            failures.append(error)
    if failures:
        raise failures[0]
    return sent


def _send_one(
    database: Database,
    send: Send,
    org_id: str,
    person_id: str,
    *,
    now: datetime,
    week: date,
    sender: str,
    base_url: str,
) -> bool:
    try:
        with database.session() as db:
            already = db.scalar(
                select(DigestDelivery.id).where(
                    DigestDelivery.organization_id == org_id,
                    DigestDelivery.person_id == person_id,
                    DigestDelivery.week_start == week,
                )
            )
            if already is not None:
                return False
            digest = weekly_digest(db, org_id, person_id, now=now, week=week)
            if digest is None:
                return False
            message = digest_message(digest, sender=sender, base_url=base_url)
            db.add(
                DigestDelivery(
                    organization_id=org_id,
                    person_id=person_id,
                    week_start=digest.week_start,
                    email=digest.email,
                    message_id=message["Message-ID"],
                    sent_at=now,
                )
            )
            # The unique key is checked before the send: a concurrent run fails here.
            db.flush()
            send(message)
    except IntegrityError:
        return False
    return True


__all__ = ["SmtpServer", "digest_message", "send_all_weekly_digests", "send_weekly_digests"]
