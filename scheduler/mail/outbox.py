"""The outbox: queue a message once per key, deliver it once.

``queue`` stores a ``Mail`` unless its key is already there (a second ask is the same
message). ``deliver`` first *claims* the row — one UPDATE that only succeeds while the row is
unsent and unclaimed — then sends, then marks it sent: two jobs for one message (a duplicate
enqueue, a retry racing a slow first try) cannot both send it. A send the server refused
releases the claim and raises ``MailNotSent`` (a ``Transient``: RQ and the periodic retry try
again). A worker that dies between the server's acceptance and the mark leaves a claim that
lapses after ``CLAIM``; the retry then sends a copy with the same Message-ID, the one
duplicate left, and one that mail clients fold away.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, Select, String, func, literal, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from integrations.base import Transient
from scheduler.db import Database
from scheduler.mail.message import Mail, as_email, message_id
from scheduler.mail.transport import Transport
from scheduler.models import OutboxMessage
from scheduler.settings import Settings

# How long one delivery may take before its claim lapses (well over the SMTP timeout).
CLAIM = timedelta(minutes=5)
# The periodic retry gives up after this many tries, or on messages older than this.
MAX_ATTEMPTS = 6
GIVE_UP_AFTER = timedelta(days=2)
BLANKED = "(Removed once delivered: this message held a sign-in link.)"


class MailNotSent(Transient):
    """The SMTP server refused the message or could not be reached; it stays queued."""


def queue(db: DbSession, mail: Mail, *, domain: str, now: datetime) -> str:
    """The id of ``mail``'s outbox row: stored now, or the one its key already has."""
    found = _by_key(db, mail.key)
    if found is not None:
        return found
    row = OutboxMessage(
        organization_id=mail.org_id,
        key=mail.key,
        kind=mail.kind,
        to_email=mail.to,
        subject=mail.subject,
        text_body=mail.text,
        html_body=mail.html,
        secret=mail.secret,
        unsubscribe_url=mail.unsubscribe_url,
        message_id=message_id(mail.key, domain),
        created_at=now,
        attempts=0,
        last_error="",
    )
    try:
        with db.begin_nested():  # a concurrent queue of the same key loses only this insert
            db.add(row)
    except IntegrityError:
        found = _by_key(db, mail.key)
        assert found is not None
        return found
    return row.id


def _by_key(db: DbSession, key: str) -> str | None:
    return db.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key))


def mail_domain(settings: Settings) -> str:
    """The right-hand side of Message-IDs: the sender's domain."""
    return parseaddr(settings.mail_from)[1].rpartition("@")[2] or (
        urlsplit(settings.base_url).hostname or "cadence.invalid"
    )


def deliver(
    database: Database,
    transport: Transport,
    *,
    org_id: str,
    message_id: str,
    sender: str,
    now: datetime,
) -> bool:
    """Send one queued message unless it was sent or another delivery holds it.

    True when this call sent it. Raises ``MailNotSent`` when the transport refused it.
    """
    with database.session() as db:
        claimed = _update(
            db,
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.organization_id == org_id,
                OutboxMessage.sent_at.is_(None),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .values(claimed_until=now + CLAIM, attempts=OutboxMessage.attempts + 1),
        )
        if not claimed:
            return False
        row = db.scalars(select(OutboxMessage).where(OutboxMessage.id == message_id)).one()
        email = as_email(row, sender=sender, now=now)
    try:
        transport.send(email)
    except (smtplib.SMTPException, OSError) as error:
        with database.session() as db:
            _update(
                db,
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(claimed_until=None, last_error=f"{type(error).__name__}: {error}"[:500]),
            )
        raise MailNotSent(f"mail {message_id} not sent: {error}") from error
    sent: dict[str, Any] = {"sent_at": now, "claimed_until": None, "last_error": ""}
    if row.secret and not transport.keeps_copy:
        sent.update(text_body=BLANKED, html_body=f"<p>{BLANKED}</p>")
    with database.session() as db:
        _update(db, update(OutboxMessage).where(OutboxMessage.id == message_id).values(**sent))
    return True


def _update(db: DbSession, statement: Any) -> int:
    """Rows an UPDATE changed."""
    return cast("CursorResult[Any]", db.execute(statement)).rowcount


def unsent(db: DbSession, *, now: datetime) -> Sequence[tuple[str, str]]:
    """(organisation id, message id) of each message still to send and still worth trying:
    unclaimed (or its claim lapsed), tried fewer than ``MAX_ATTEMPTS`` times, recent."""
    return [
        (row.organization_id, row.id)
        for row in db.execute(
            select(OutboxMessage.organization_id, OutboxMessage.id)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.created_at > now - GIVE_UP_AFTER,
                OutboxMessage.attempts < MAX_ATTEMPTS,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.created_at)
        )
    ]


# Messages per page of the operator's view of the outbox.
PAGE = 50


@dataclass(frozen=True)
class OutboxPage:
    """One page of the outbox, newest first. ``older`` and ``newer`` are the ids of the page's
    last and first messages when more messages lie that way (the cursors of the next pages),
    else ``None``."""

    messages: list[OutboxMessage]
    older: str | None
    newer: str | None


def listed(
    db: DbSession,
    *,
    to: str = "",
    before: str | None = None,
    after: str | None = None,
    limit: int = PAGE,
) -> OutboxPage:
    """A page of every organisation's messages, newest first: the operator's view of the
    local outbox (the demo's loopback-only page, where sign-ups start new organisations).

    Keyset pages by (created, id): ``before`` (a message id) gives the page just older than
    that message, ``after`` the page just newer; neither, the newest. ``to`` keeps one
    recipient's messages (any case). A page costs the same however far back it is, and a
    message queued meanwhile does not shift the pages under the reader.
    """
    theirs = select(OutboxMessage)
    if to:
        theirs = theirs.where(func.lower(OutboxMessage.to_email) == to.strip().lower())
    if after is not None:
        oldest_first = theirs.where(_newer_than(after)).order_by(*_OLDEST_FIRST)
        messages = list(db.scalars(oldest_first.limit(limit)))[::-1]
    else:
        newest_first = theirs.where(_older_than(before)) if before is not None else theirs
        messages = list(db.scalars(newest_first.order_by(*_NEWEST_FIRST).limit(limit)))
    if not messages:
        return OutboxPage([], None, None)
    first, last = messages[0].id, messages[-1].id
    return OutboxPage(
        messages,
        older=last if _any(db, theirs.where(_older_than(last))) else None,
        newer=first if _any(db, theirs.where(_newer_than(first))) else None,
    )


_NEWEST_FIRST = (OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
_OLDEST_FIRST = (OutboxMessage.created_at, OutboxMessage.id)


def _key(message_id: str) -> Any:
    """The sort key (created, id) of message ``message_id``, in SQL (no such message: null,
    and so nothing is older or newer)."""
    created = select(OutboxMessage.created_at).where(OutboxMessage.id == message_id)
    return tuple_(created.scalar_subquery(), literal(message_id, String()))


def _older_than(message_id: str) -> Any:
    return tuple_(OutboxMessage.created_at, OutboxMessage.id) < _key(message_id)


def _newer_than(message_id: str) -> Any:
    return tuple_(OutboxMessage.created_at, OutboxMessage.id) > _key(message_id)


def _any(db: DbSession, query: Select[Any]) -> bool:
    return db.scalar(select(query.exists())) or False


__all__ = [
    "PAGE",
    "MailNotSent",
    "OutboxPage",
    "deliver",
    "listed",
    "mail_domain",
    "queue",
    "unsent",
]
