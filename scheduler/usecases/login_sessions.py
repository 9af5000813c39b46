"""Signed-in browsers, ended on the server: sign-out, "everywhere", and a password change.

The browser's cookie holds a random token; the ``login_sessions`` row holds its SHA-256 (a
copy of the table lets nobody in). Every request reads the person and their session in one
query by primary key, so ending a session takes effect on the very next request, whatever
cookie a browser kept.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session as DbSession

from scheduler.models import LoginSession, Person

# As long as the signed cookie itself lasts (web.security): two weeks from sign-in.
LIFETIME = timedelta(days=14)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: DbSession, person: Person, *, now: datetime) -> str:
    """A new session for ``person``; returns the token for the cookie. The person's ended
    and expired sessions are cleared out on the way (their rows are of no further use)."""
    db.execute(
        delete(LoginSession).where(
            LoginSession.person_id == person.id,
            or_(LoginSession.ended_at.is_not(None), LoginSession.expires_at <= now),
        )
    )
    token = secrets.token_urlsafe(32)
    db.add(
        LoginSession(
            id=_digest(token),
            organization_id=person.organization_id,
            person_id=person.id,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return token


def session_person(db: DbSession, token: str, *, org_id: str, now: datetime) -> Person | None:
    """The active person whose live session ``token`` is, in ``org_id``; else None."""
    return db.scalar(
        select(Person)
        .join(LoginSession, LoginSession.person_id == Person.id)
        .where(
            LoginSession.id == _digest(token),
            LoginSession.organization_id == org_id,
            LoginSession.ended_at.is_(None),
            LoginSession.expires_at > now,
            Person.organization_id == org_id,
            Person.active.is_(True),
        )
    )


def end_session(db: DbSession, token: str, *, now: datetime) -> None:
    """Sign-out: this browser's session ends; a copy of its cookie stops working too."""
    db.execute(
        update(LoginSession)
        .where(LoginSession.id == _digest(token), LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_sessions(
    db: DbSession, *, org_id: str, person_id: str, now: datetime, keep: str | None = None
) -> None:
    """End every live session of the person, except ``keep``'s (the browser that asked, after
    a password change); with no ``keep``, all of them (sign out everywhere, a reset)."""
    statement = update(LoginSession).where(
        LoginSession.organization_id == org_id,
        LoginSession.person_id == person_id,
        LoginSession.ended_at.is_(None),
    )
    if keep is not None:
        statement = statement.where(LoginSession.id != _digest(keep))
    db.execute(statement.values(ended_at=now))


__all__ = ["LIFETIME", "end_session", "end_sessions", "session_person", "start_session"]
