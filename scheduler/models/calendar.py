"""A person's connected calendar account: provider, encrypted grant, sync and push state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler import text_limits
from scheduler.models.base import Base, OrgScoped, UTCDateTime, enum_column


class Provider(enum.StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"
    CALDAV = "caldav"


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    # The grant was revoked or expired: the manager and admins are told, with a reconnect link.
    RECONNECT_REQUIRED = "reconnect_required"
    DISCONNECTED = "disconnected"


class CalendarConnection(OrgScoped, Base):
    __tablename__ = "calendar_connections"
    __table_args__ = (UniqueConstraint("organization_id", "provider", "account_email"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    provider: Mapped[Provider] = mapped_column(enum_column(Provider, 16))
    account_email: Mapped[str] = mapped_column(String(text_limits.EMAIL))
    # The provider's grant (refresh token / MSAL cache / CalDAV password), Fernet-encrypted.
    token_blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[ConnectionStatus] = mapped_column(
        enum_column(ConnectionStatus, 24), default=ConnectionStatus.ACTIVE
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    sync_cursor: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel_id: Mapped[str | None] = mapped_column(String(200), index=True)
    channel_resource_id: Mapped[str | None] = mapped_column(String(500))
    # The channel token / clientState that authenticates notifications, Fernet-encrypted.
    channel_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    channel_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PushMessageClaim(Base):
    """The highest Google push message number claimed on a channel, raised before any work.

    One row per channel: of concurrent deliveries of one message (Google sends again when an
    answer is slow) exactly one raises the number and requests the sync; a number not above
    it is a replay or came late. A channel's row goes when the connection opens another.
    """

    __tablename__ = "push_message_claims"

    channel_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_number: Mapped[int] = mapped_column(BigInteger)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[str] = mapped_column(
        ForeignKey("calendar_connections.id", ondelete="CASCADE"), index=True
    )
