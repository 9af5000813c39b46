"""The outbox: every message Cadence sends, kept once per idempotency key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler import text_limits
from scheduler.models.base import Base, OrgScoped, UTCDateTime

# "digest/2026-10-12/<person id>": what the message is about and for whom.
MAIL_KEY = 200
MAIL_SUBJECT = 300
MAIL_KIND = 40
# An unsubscribe link: the base URL and a signed token (a few hundred characters).
MAIL_URL = 2000


class OutboxMessage(OrgScoped, Base):
    """One message to one address: queued once per ``key``, delivered by a job.

    ``claimed_until`` is the lease of the delivery under way (a second job finds it taken);
    ``sent_at`` is set once the SMTP server (or, with none configured, the local outbox)
    took the message, after which no job sends it again.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_unsent", "sent_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(MAIL_KEY), unique=True)
    kind: Mapped[str] = mapped_column(String(MAIL_KIND))
    to_email: Mapped[str] = mapped_column(String(text_limits.EMAIL))
    subject: Mapped[str] = mapped_column(String(MAIL_SUBJECT))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # Bodies holding a sign-in secret (a verification or reset link) are blanked once an
    # SMTP server took them: the database then never holds a usable link.
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # The message's unsubscribe link ("" for account mail): its List-Unsubscribe header.
    unsubscribe_url: Mapped[str] = mapped_column(String(MAIL_URL), default="", server_default="")


class MailOptOut(OrgScoped, Base):
    """A person stopped one kind of email (``scheduler.mail.kinds.MailKind``); ``send_mail``
    queues nothing of that kind for them while the row is there."""

    __tablename__ = "mail_opt_outs"
    __table_args__ = (UniqueConstraint("person_id", "kind"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(MAIL_KIND))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
