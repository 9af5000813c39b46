"""Consents held while a person chooses which organisation to join."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from scheduler import text_limits
from scheduler.models.base import Base, UTCDateTime, enum_column, new_id
from scheduler.models.calendar import Provider


class HeldConsent(Base):
    """A finished Google or Microsoft consent whose person has not yet chosen an organisation.

    The grant waits here, encrypted, until the person accepts an invitation (it is then stored
    for that organisation only) or declines them all; it is deleted then, or soon expires.
    Not organisation-scoped: until the person chooses, the consent belongs to none.
    """

    __tablename__ = "held_consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    provider: Mapped[Provider] = mapped_column(enum_column(Provider, 16))
    # The address the provider gave, and the name.
    email: Mapped[str] = mapped_column(String(text_limits.EMAIL))
    # Whether the provider vouched for the address (Google's email_verified, Microsoft's
    # xms_edov); and the Microsoft account that consented ("<tid>/<oid>").
    address_proven: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    microsoft_account: Mapped[str | None] = mapped_column(String(text_limits.MICROSOFT_ACCOUNT))
    name: Mapped[str] = mapped_column(String(text_limits.PERSON_NAME))
    # The provider's grant, Fernet-encrypted like a connection's.
    token_blob: Mapped[bytes] = mapped_column(LargeBinary)
    # What the provider said about the person's zone (ZoneReading's fields).
    zone_reading: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
