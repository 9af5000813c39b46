"""What a feature asks to send: a ``Mail`` value, and the email message it becomes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from scheduler.models.mail import MAIL_KEY, MAIL_SUBJECT, MAIL_URL


@dataclass(frozen=True)
class Mail:
    """One message to one person.

    ``key`` names what it is about and for whom (``verify-email/<person>/<issued>``,
    ``digest/<week>/<person>``): the outbox keeps one message per key, so asking twice sends
    once. ``secret``: the body holds a sign-in secret (see ``OutboxMessage.secret``).
    ``person_id``: the recipient, when the message is of a kind they can stop
    (``scheduler.mail.kinds``; ``send_mail`` queues nothing once they did), with
    ``unsubscribe_url`` the link that stops it (its List-Unsubscribe header).
    """

    org_id: str
    key: str
    kind: str
    to: str
    subject: str
    text: str
    html: str
    secret: bool = False
    person_id: str | None = None
    unsubscribe_url: str = ""

    def __post_init__(self) -> None:
        if not 0 < len(self.key) <= MAIL_KEY:
            raise ValueError(f"a mail key is 1 to {MAIL_KEY} characters")
        if len(self.subject) > MAIL_SUBJECT or any(c in self.subject for c in "\r\n"):
            raise ValueError("a subject is one line")
        if "@" not in self.to or any(c in self.to for c in "\r\n,;<>"):
            raise ValueError("one plain address per message")
        if len(self.unsubscribe_url) > MAIL_URL or any(c in self.unsubscribe_url for c in "\r\n<>"):
            raise ValueError(f"an unsubscribe link is one URL of at most {MAIL_URL} characters")


def message_id(key: str, domain: str) -> str:
    """The Message-ID of ``key``'s message: the same for every attempt, so even a copy a
    crash let through is one that mail clients recognise."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


class Stored(Protocol):
    """What ``as_email`` needs of an outbox row."""

    to_email: str
    subject: str
    text_body: str
    html_body: str
    message_id: str
    unsubscribe_url: str


def as_email(stored: Stored, *, sender: str, now: datetime) -> EmailMessage:
    """The email for an outbox row: plain text with an HTML alternative, dated ``now``; with
    an unsubscribe link, the List-Unsubscribe headers of RFC 2369 and RFC 8058 (one click:
    mail clients POST ``List-Unsubscribe=One-Click`` to it)."""
    email = EmailMessage()
    email["Subject"] = stored.subject
    email["From"] = sender
    email["To"] = stored.to_email
    email["Message-ID"] = stored.message_id
    email["Date"] = format_datetime(now)
    if stored.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{stored.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(stored.text_body)
    email.add_alternative(
        f"<!doctype html><html><body>{stored.html_body}</body></html>", subtype="html"
    )
    return email


__all__ = ["Mail", "as_email", "message_id"]
