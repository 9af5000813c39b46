"""A person's proof of address and password: confirming the email, setting a new password.

Passwords arrive hashed (hashing is the web layer's); sessions to end are named by the
browser's token (``login_sessions``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session as DbSession

from scheduler.db import Database
from scheduler.models import Person, Provider
from scheduler.usecases.accounts import join_once_proven
from scheduler.usecases.directory import active_people_with_email, normalise_email
from scheduler.usecases.login_sessions import end_sessions
from scheduler.usecases.scope import audit, get_in_org


def password_accounts(db: DbSession, email: str) -> list[Person]:
    """Active people with this address and a password, in every organisation."""
    return active_people_with_email(db, email, Person.password_hash.is_not(None))


def confirm_email(
    database: Database, *, org_id: str, person_id: str, email: str, now: datetime
) -> Person | None:
    """Mark the person's address as proven, if ``email`` is still their address (which
    completes an invitation accepted by signing up); the person (None when the link names an
    address they no longer have, or a sign-up undone since: ``unconfirmed``)."""
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        if normalise_email(person.email) != normalise_email(email):
            return None
        if person.email_verified_at is None and person.password_hash is None:
            # Links go to password sign-ups only; one whose password is gone was undone, and
            # its invitation waits to be answered, not confirmed.
            return None
        if person.email_verified_at is None:
            person.email_verified_at = now
            audit(
                db, org_id=org_id, actor_id=person.id, action="person.email_verified",
                subject=person, now=now,
            )  # fmt: skip
            join_once_proven(db, person, now)
        return person


def prove_by_sign_in(
    database: Database, *, org_id: str, person_id: str, provider: Provider, now: datetime
) -> bool:
    """The person signed in with a provider that vouches for their address: it is proven from
    ``now`` (a proof already made keeps its time). True when a password was dropped.

    A password chosen while the address was unproven (a sign-up, by whoever typed the address,
    with nobody having followed the link mailed to it) is dropped rather than made to work:
    the provider vouches for the address's owner, not for whoever typed that password. Such a
    sign-up's invitation is not accepted by this proof either: the owner answers it at /join
    (``scheduler.usecases.joining``), as the sign-in that brought them here already asks."""
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        if person.email_verified_at is not None:
            return False
        dropped = person.password_hash is not None
        person.email_verified_at, person.password_hash = now, None
        audit(
            db, org_id=org_id, actor_id=person.id, action="person.email_verified",
            subject=person, now=now, by=provider.value, password_dropped=dropped,
        )  # fmt: skip
        return dropped


def set_password(
    database: Database,
    *,
    org_id: str,
    person_id: str,
    password_hash: str,
    now: datetime,
    keep_session: str | None,
    by_email: bool,
) -> None:
    """Give the person a new password and end their other sessions (all of them when
    ``keep_session`` is None). ``by_email``: set through a reset link, which proves the
    address as well (and so completes an invitation accepted by signing up)."""
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        person.password_hash = password_hash
        if by_email and person.email_verified_at is None:
            person.email_verified_at = now
            join_once_proven(db, person, now)
        end_sessions(db, org_id=org_id, person_id=person_id, now=now, keep=keep_session)
        audit(
            db, org_id=org_id, actor_id=person.id, subject=person, now=now,
            action="person.password_reset" if by_email else "person.password_changed",
        )  # fmt: skip


__all__ = ["confirm_email", "password_accounts", "prove_by_sign_in", "set_password"]
