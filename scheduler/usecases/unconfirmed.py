"""Password sign-ups whose address nobody confirmed, undone once their grace period is over.

A typed-in address proves nothing (``scheduler.usecases.accounts``): until the link mailed
to it is followed, a password sign-up cannot sign in. Left alone it would hold the address
for ever, so after the grace period (``CADENCE_UNCONFIRMED_DAYS``) a periodic job undoes it:

- **an invitation** accepted by such a sign-up loses the password and is an unanswered
  invitation again, with the name and zone its admin gave it. The row stays: it is the
  inviting organisation's, and its admins still want that person. The address's owner can
  then sign up through the invitation link, where they were told "This email has an
  account".
- **a new organisation** whose founder never confirmed the address is deleted, with its
  founder, when it holds nothing else: any other person, calendar connection, series or row
  of any other kind keeps it (that is someone's data then, not a squat). The audit log goes
  with the organisation, so the removal is written to the application log.

The grace counts from the sign-up, not from the last link sent: asking for new links does
not keep an address held.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, and_, exists, func, or_, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from scheduler.db import Database
from scheduler.models import AuditEntry, Base, Organization, Person
from scheduler.usecases.accounts import SIGNED_UP, awaiting_proof
from scheduler.usecases.scope import audit

log = logging.getLogger(__name__)

Pair = tuple[str, str]

# What signing up leaves in a new organisation: its founder, the audit entries, the mail
# carrying the link. A row in any other organisation table means the organisation is used.
SIGN_UP_TRACES = frozenset({"people", "audit_log", "outbox_messages"})


def _sign_up_of(org_id: Any, person_id: Any) -> ColumnElement[bool]:
    """Audit entries of a password sign-up of that person (columns or values)."""
    return and_(
        AuditEntry.organization_id == org_id,
        AuditEntry.subject_id == person_id,
        AuditEntry.action == SIGNED_UP,
    )


def _signed_up_at() -> ScalarSelect[datetime]:
    """When the person's latest password sign-up accepted their invitation (audit log)."""
    return (
        select(func.max(AuditEntry.at))
        .where(_sign_up_of(Person.organization_id, Person.id))
        .scalar_subquery()
    )


def _sign_up_expired(cutoff: datetime) -> ColumnElement[bool]:
    """An invitation accepted by a password sign-up at or before ``cutoff`` whose address is
    still unproven. A row without that sign-up in its audit log is never picked."""
    return and_(awaiting_proof(), _signed_up_at() <= cutoff)


def _unconfirmed_founder(cutoff: datetime) -> ColumnElement[bool]:
    """The one person of an organisation founded at or before ``cutoff``: its founder
    (creating is joining), with a password and an address never proven."""
    other = aliased(Person)
    return and_(
        Person.is_admin.is_(True),
        Person.joined_at.is_not(None),
        Person.password_hash.is_not(None),
        Person.email_verified_at.is_(None),
        exists().where(
            Organization.id == Person.organization_id, Organization.created_at <= cutoff
        ),
        ~exists().where(other.organization_id == Person.organization_id, other.id != Person.id),
    )


def expired_sign_ups(db: DbSession, *, now: datetime, grace: timedelta) -> list[Pair]:
    """(organisation, person) of each invitation accepted by a sign-up whose grace is over."""
    rows = db.execute(
        select(Person.organization_id, Person.id).where(_sign_up_expired(now - grace))
    )
    return [(org_id, person_id) for org_id, person_id in rows]


def unconfirmed_foundings(db: DbSession, *, now: datetime, grace: timedelta) -> list[Pair]:
    """(organisation, founder) of each organisation founded by an address never confirmed,
    older than the grace, with nobody else in it (what else it holds is checked when it is
    removed)."""
    rows = db.execute(
        select(Person.organization_id, Person.id).where(_unconfirmed_founder(now - grace))
    )
    return [(org_id, person_id) for org_id, person_id in rows]


def withdraw_sign_up(
    database: Database, *, org_id: str, person_id: str, now: datetime, grace: timedelta
) -> bool:
    """Drop the password of an invitation accepted by a sign-up whose address was not
    confirmed within ``grace``: the invitation is unanswered again. False (nothing done)
    when it no longer is such a sign-up (confirmed, declined or withdrawn meanwhile)."""
    with database.session() as db:
        person = db.scalar(
            select(Person)
            .where(
                Person.organization_id == org_id,
                Person.id == person_id,
                _sign_up_expired(now - grace),
            )
            .with_for_update()
        )
        if person is None:
            return False
        person.password_hash = None
        # The name, zone and standing the admin gave the invitation, not what was typed.
        invited = _latest_sign_up(db, person).detail.get("invitation", {})
        person.name = invited.get("name", person.name)
        person.zone = invited.get("zone", person.zone)
        person.active = invited.get("active", person.active)
        audit(
            db,
            org_id=org_id,
            actor_id=None,
            action="person.sign_up_expired",
            subject=person,
            now=now,
            unconfirmed_days=grace.days,
        )
        return True


def remove_unconfirmed_organization(
    database: Database, *, org_id: str, founder_id: str, now: datetime, grace: timedelta
) -> bool:
    """Delete an organisation founded by ``founder_id`` with an address not confirmed within
    ``grace`` and holding nothing but the sign-up's traces; False (kept) otherwise."""
    with database.session() as db:
        founder = db.scalar(
            select(Person)
            .where(
                Person.organization_id == org_id,
                Person.id == founder_id,
                _unconfirmed_founder(now - grace),
            )
            .with_for_update()
        )
        if founder is None or _holds_more_than_a_sign_up(db, org_id):
            return False
        org = db.get(Organization, org_id)
        assert org is not None
        log.warning(
            "removed organisation %s (%r, founded %s): its founder never confirmed the "
            "address within %d days and it held nothing else",
            org_id,
            org.name,
            org.created_at.isoformat(),
            grace.days,
        )
        db.delete(org)  # the database deletes its rows with it (ON DELETE CASCADE)
        return True


def _latest_sign_up(db: DbSession, person: Person) -> AuditEntry:
    """The audit entry of the person's latest password sign-up (``_sign_up_expired`` found
    one)."""
    entry = db.scalar(
        select(AuditEntry)
        .where(_sign_up_of(person.organization_id, person.id))
        .order_by(AuditEntry.at.desc())
        .limit(1)
    )
    assert entry is not None
    return entry


def _holds_more_than_a_sign_up(db: DbSession, org_id: str) -> bool:
    """Whether any organisation table other than the sign-up's traces has a row of
    ``org_id`` (a table added later counts too, until it is named a trace)."""
    used = [
        exists().where(table.c.organization_id == org_id)
        for table in Base.metadata.sorted_tables
        if "organization_id" in table.c and table.name not in SIGN_UP_TRACES
    ]
    return bool(db.scalar(select(or_(*used))))


__all__ = [
    "SIGN_UP_TRACES",
    "expired_sign_ups",
    "remove_unconfirmed_organization",
    "unconfirmed_foundings",
    "withdraw_sign_up",
]
