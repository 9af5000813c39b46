"""How people and scripts get in: browser sessions, API tokens on an admin's behalf, and the
single-use links mailed to them once used."""

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


class LoginSession(Base):
    """One signed-in browser: its cookie carries a random token, this row its SHA-256.

    Every request reads it together with the person (one indexed read): a session signed
    out (``ended_at``), ended everywhere, or past ``expires_at`` is refused at once, even
    from a copied cookie.
    """

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the token's SHA-256
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# What using a single-use link did, in a line ("Moved to Wednesday 10:00"): shown when the
# link is followed again.
LINK_OUTCOME = 300


class SpentLink(OrgScoped, Base):
    """A single-use signed link (``scheduler.links``) that was used: its nonce, once.

    Several links may share a nonce (the alternatives of one conflict email): using one
    spends them all.
    """

    __tablename__ = "spent_links"

    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(40))
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(LINK_OUTCOME), default="")
