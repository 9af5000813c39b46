"""A person's proof of address and password: confirming the email (by a mailed link or a
provider's word), linking a Microsoft account, setting a new password.

Passwords arrive hashed (hashing is the web layer's); sessions to end are named by the
browser's token (``login_sessions``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session as DbSession

from scheduler.db import Database
from scheduler.models import Person, Provider
from scheduler.usecases.accounts import join_once_proven, mark_joined
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
    database: Database,
    *,
    org_id: str,
    person_id: str,
    provider: Provider,
    microsoft_account: str | None,
    now: datetime,
) -> bool:
    """The person signed in with a provider that vouches for their address (Google's
    ``email_verified``, Microsoft's ``xms_edov``): it is proven from ``now`` (a proof already
    made keeps its time), and a Microsoft sign-in's account is linked to the person from
    then on. True when a password was dropped (``_prove``).

    A password sign-up's invitation is not accepted by this proof: the owner answers it at /join
    (``scheduler.usecases.joining``), as the sign-in that brought them here already asks."""
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        dropped = person.email_verified_at is None and _prove(db, person, now, by=provider.value)
        if microsoft_account is not None:
            person.microsoft_account = microsoft_account
        return dropped


def confirm_microsoft_account(
    database: Database,
    *,
    org_id: str,
    person_id: str,
    email: str,
    microsoft_account: str,
    now: datetime,
) -> Person | None:
    """The address's owner followed the link mailed when a Microsoft sign-in that did not
    prove it (no ``xms_edov``) accepted this row: an invitation, a join domain's offer, or a
    membership not linked to that account. The address is proven, the account is linked to
    the person (it signs in as them from now on), and an accepted invitation is a membership.

    None when the link names an address the person no longer has, or an invitation declined
    since (by its proven owner)."""
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        moved = normalise_email(person.email) != normalise_email(email)
        if moved or person.declined_at is not None:
            return None
        if person.email_verified_at is None:
            _prove(db, person, now, by="link")
        person.microsoft_account = microsoft_account
        audit(
            db, org_id=org_id, actor_id=person.id, action="person.microsoft_linked",
            subject=person, now=now,
        )  # fmt: skip
        if person.joined_at is None:
            mark_joined(db, person, now)
        return person


def _prove(db: DbSession, person: Person, now: datetime, *, by: str) -> bool:
    """The address of ``person`` is proven from ``now``; True when a password was dropped.

    What was set while it was unproven is dropped rather than made to work: a password (a
    sign-up, by whoever typed the address, with nobody having followed the link mailed to
    it), and a Microsoft account linked by founding an organisation with an address its
    tenant merely set. The proof vouches for the address's owner, not for either of them."""
    dropped = person.password_hash is not None
    person.email_verified_at, person.password_hash, person.microsoft_account = now, None, None
    audit(
        db, org_id=person.organization_id, actor_id=person.id, action="person.email_verified",
        subject=person, now=now, by=by, password_dropped=dropped,
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


__all__ = [
    "confirm_email",
    "confirm_microsoft_account",
    "password_accounts",
    "prove_by_sign_in",
    "set_password",
]
