"""API tokens: how scripts reach the JSON API on an admin's behalf."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler import text_limits
from scheduler.models.base import Base, OrgScoped, UTCDateTime


class ApiToken(OrgScoped, Base):
    """A bearer token acting as the admin who created it; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(text_limits.API_TOKEN_NAME))
    # The token is 256 random bits, so a fast hash is enough (no password to stretch).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, shown in the list so an admin can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Chosen when issued; None: until revoked.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
