"""Where delivered mail goes: an SMTP server, or the local outbox when none is configured.

``SMTP_URL`` picks the server and how to speak to it: ``smtps://`` is TLS from the first
byte (port 465), ``smtp+starttls://`` upgrades with STARTTLS (port 587), ``smtp://`` is plain
(port 25; ``?starttls=1`` upgrades it too). Credentials are the URL's user and password,
percent-encoded: ``smtp+starttls://apikey:s%40cret@smtp.example.com:587``.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from scheduler.settings import SMTP_SCHEMES, Settings

SMTP_TIMEOUT = 30  # seconds; a job's own time limit is longer


class Transport(Protocol):
    @property
    def keeps_copy(self) -> bool:
        """False: the message leaves Cadence (secret bodies are blanked once it is taken)."""
        ...

    def send(self, email: EmailMessage) -> None:
        """Hand ``email`` over; raises ``smtplib.SMTPException`` or ``OSError`` when refused."""
        ...


@dataclass(frozen=True)
class SmtpServer:
    """The SMTP server of ``SMTP_URL``."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    # Tests trust their own certificate authority; production uses the system's.
    ca_file: str | None = None
    keeps_copy: bool = field(default=False, init=False)

    @classmethod
    def from_url(cls, url: str, *, ca_file: str | None = None) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
            raise ValueError("SMTP_URL must be smtp://, smtp+starttls:// or smtps://host:port")
        query = parse_qs(parts.query)
        default_port = {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            implicit_tls=parts.scheme == "smtps",
            starttls=parts.scheme == "smtp+starttls"
            or query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ca_file=ca_file,
        )

    def send(self, email: EmailMessage) -> None:
        context = ssl.create_default_context(cafile=self.ca_file)
        smtp: smtplib.SMTP = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT, context=context)
            if self.implicit_tls
            else smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
        )
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)


@dataclass
class LocalOutbox:
    """No SMTP server: each message is printed to the console; the outbox table keeps it
    for the operator (``/demo/outbox`` in the demo)."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    keeps_copy: bool = field(default=True, init=False)

    def send(self, email: EmailMessage) -> None:
        text = email.get_body(("plain",))
        body = text.get_content() if isinstance(text, EmailMessage) else ""
        self.stream.write(
            f"--- mail (local outbox: SMTP_URL is not set) ---\n"
            f"To: {email['To']}\nSubject: {email['Subject']}\n\n{body.rstrip()}\n"
            f"--- end of mail ---\n"
        )
        self.stream.flush()


def transport_for(settings: Settings) -> Transport:
    """The SMTP server of ``settings.smtp_url``, or the local outbox without one."""
    if settings.smtp_url:
        return SmtpServer.from_url(settings.smtp_url, ca_file=settings.smtp_ca_bundle)
    return LocalOutbox()


__all__ = ["LocalOutbox", "SmtpServer", "Transport", "transport_for"]
