"""API tokens: issued by an admin, shown once, stored hashed, expiring if asked, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select

from scheduler import text_limits
from scheduler.db import Database
from scheduler.field_errors import FieldError
from scheduler.models import ApiToken, Person
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import audit, get_in_org

TOKEN_PREFIX = "cad_"
MAX_NAME_CHARS = text_limits.API_TOKEN_NAME


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    database: Database,
    *,
    org_id: str,
    admin_id: str,
    name: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[str, str]:
    """A new token for the admin: (its id, the token itself, which is never stored).

    With ``expires_at`` the token is refused from that instant on; without, until revoked.
    """
    name = name.strip()
    errors = []
    if not name or len(name) > MAX_NAME_CHARS:
        errors.append(FieldError("name", f"Name the token (1 to {MAX_NAME_CHARS} characters)."))
    if expires_at is not None and expires_at <= now:
        errors.append(FieldError("expires", "Choose an expiry in the future."))
    if errors:
        raise InvalidInput(errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with database.session() as db:
        admin = get_in_org(db, Person, org_id, admin_id)
        if not admin.is_admin:
            raise InvalidInput([FieldError("name", "Only admins issue API tokens.")])
        row = ApiToken(
            organization_id=org_id,
            person_id=admin.id,
            name=name,
            token_hash=_digest(token),
            prefix=token[: len(TOKEN_PREFIX) + 4],
            created_at=now,
            expires_at=expires_at,
        )
        db.add(row)
        db.flush()
        audit(db, org_id=org_id, actor_id=admin.id, action="api_token.issued", subject=row, now=now)
        return row.id, token


def revoke_token(
    database: Database, *, org_id: str, token_id: str, actor_id: str, now: datetime
) -> None:
    with database.session() as db:
        row = get_in_org(db, ApiToken, org_id, token_id)
        if row.revoked_at is None:
            row.revoked_at = now
            audit(
                db,
                org_id=org_id,
                actor_id=actor_id,
                action="api_token.revoked",
                subject=row,
                now=now,
            )


def is_live(token: ApiToken, now: datetime) -> bool:
    """Neither revoked nor expired at ``now``."""
    return token.revoked_at is None and (token.expires_at is None or now < token.expires_at)


def person_for_token(database: Database, token: str, *, now: datetime) -> Person | None:
    """The active admin a live token acts as, or ``None`` (unknown, expired, revoked, or
    demoted). Every call reads the token's row, so a revocation holds from the next call."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = _digest(token)
    with database.session() as db:
        row = db.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is None or not is_live(row, now) or not hmac.compare_digest(row.token_hash, digest):
            return None
        person = db.get(Person, row.person_id)
        if person is None or not person.active or not person.is_admin:
            return None
        row.last_used_at = now
        return person
