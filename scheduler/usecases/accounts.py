"""Signing up and joining: who may have an account in which organisation.

A person joins an organisation three ways: they start a new one (and are its admin), they
accept an invitation (someone added their address: the row exists, not yet joined), or they
accept an organisation whose ``join_domain`` is their email's domain. Accepting by a Google or
Microsoft sign-in is ``scheduler.usecases.joining``'s; this module holds password sign-up,
where following an invitation link and signing up is the acceptance. A typed-in address
proves nothing (whoever holds the link can type it), so that acceptance makes a member only
once the address is proven (``join_once_proven``). Passwords arrive already hashed: hashing
is the web layer's concern, deciding who may join is this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session as DbSession

from scheduler.db import Database
from scheduler.field_errors import FieldError
from scheduler.models import Organization, Person
from scheduler.usecases.directory import (
    InvalidInput,
    create_organization,
    normalise_email,
    person_errors,
    person_in_org,
)
from scheduler.usecases.scope import audit, get_in_org

# The audit action of a password sign-up that accepted an invitation before the address was
# proven: when it happened is when the grace to confirm it starts (``unconfirmed``).
SIGNED_UP = "person.signed_up"


@dataclass(frozen=True)
class Invitation:
    """What a verified invitation link says: who was invited, into which organisation."""

    org_id: str
    person_id: str


def people_with_email(db: DbSession, email: str) -> list[Person]:
    """Active people with this address, in every organisation (sign-in picks among them)."""
    return list(
        db.scalars(
            select(Person)
            .where(func.lower(Person.email) == normalise_email(email), Person.active.is_(True))
            .order_by(Person.created_at)
        )
    )


def _domain_org(db: DbSession, email: str) -> Organization | None:
    domain = normalise_email(email).rpartition("@")[2]
    if not domain:
        return None
    return db.scalar(
        select(Organization)
        .where(func.lower(Organization.join_domain) == domain)
        .order_by(Organization.created_at)
    )


def sign_up(
    database: Database,
    *,
    email: str,
    name: str,
    zone: str | None,
    password_hash: str | None,
    organization_name: str,
    invitation: Invitation | None,
    now: datetime,
    email_verified: bool = False,
) -> Person:
    """The person's account after signing up; ``InvalidInput`` names each field at fault.

    ``zone`` ``None`` (a provider that named none) keeps an invited person's zone, gives a
    newcomer the organisation's, and a new organisation UTC.

    ``invitation`` comes from a verified invitation link and admits only the person it was
    made for. Without one, an organisation whose ``join_domain`` matches takes the person in
    as a manager, but only when the provider verified the address (``email_verified``: a
    typed-in address proves nothing); otherwise a new organisation named
    ``organization_name`` is created with them as its admin.
    """
    errors = person_errors(email, zone)
    if errors:
        raise InvalidInput(errors)
    address = normalise_email(email)
    with database.session() as db:
        if invitation is not None:
            return join_as_member(
                db,
                invitation.org_id,
                address,
                name,
                zone,
                password_hash,
                invitation,
                now,
                address_proven=email_verified,  # a typed-in address is proven by its link
            )
        org = _domain_org(db, address)
        if org is not None:
            if any(person.password_hash for person in people_with_email(db, address)):
                raise InvalidInput(
                    [FieldError("email", "This email has an account: sign in instead.")]
                )
            if not email_verified:
                raise InvalidInput(
                    [
                        FieldError(
                            "email",
                            f"People at {org.join_domain} join {org.name} by continuing with "
                            "Google or Microsoft, or through an admin's invitation.",
                        )
                    ]
                )
            return join_as_member(
                db, org.id, address, name, zone, password_hash, None, now, address_proven=True
            )
    if not organization_name.strip():
        raise InvalidInput(
            [FieldError("organization", "Name your organisation, or ask your admin to add you.")]
        )
    return found_organization(
        database,
        name=organization_name,
        email=address,
        person_name=name,
        zone=zone,
        password_hash=password_hash,
        now=now,
    )


def found_organization(
    database: Database,
    *,
    name: str,
    email: str,
    person_name: str,
    zone: str | None,
    password_hash: str | None,
    now: datetime,
    microsoft_account: str | None = None,
) -> Person:
    """A new organisation named ``name`` whose founder (its admin, a member) is returned;
    ``microsoft_account`` is the Microsoft account founding it (it signs in as the founder)."""
    _, person_id = create_organization(
        database, name=name, admin_email=email, admin_name=person_name, zone=zone or "UTC", now=now
    )
    with database.session() as db:
        person = db.get(Person, person_id)
        assert person is not None
        person.password_hash = password_hash
        person.microsoft_account = microsoft_account
        return person


def join_as_member(
    db: DbSession,
    org_id: str,
    address: str,
    name: str,
    zone: str | None,
    password_hash: str | None,
    invitation: Invitation | None,
    now: datetime,
    *,
    address_proven: bool,
) -> Person:
    """``address`` accepts ``org_id``: their invitation row (``invitation`` from a link), or a
    new row for someone the organisation's join domain admits. A member at once when the
    address is proven (a provider verified it); else once it is (``join_once_proven``)."""
    person = person_in_org(db, org_id, address)
    if person is not None and person.password_hash:
        raise InvalidInput([FieldError("email", "This email has an account: sign in instead.")])
    if person is not None and person.email_verified_at is not None and not address_proven:
        # Its owner proved the address; whoever typed it now did not, and must not get a
        # password for the row (nor be signed in as it). The owner sets one by a reset link.
        raise InvalidInput(
            [
                FieldError(
                    "email",
                    "This email is confirmed already: sign in with Google or Microsoft, or use"
                    " “Forgot your password?” on the sign-in page to choose a password.",
                )
            ]
        )
    if invitation is not None and (person is None or person.id != invitation.person_id):
        raise InvalidInput([FieldError("email", "The invitation is for another address.")])
    if person is None:
        org = db.get(Organization, org_id)
        assert org is not None
        person = Person(
            organization_id=org_id, email=address, zone=org.zone, is_manager=True, created_at=now
        )
        db.add(person)
    # The invitation as its admin left it: an unconfirmed sign-up undone puts it back.
    invited = {"name": person.name, "zone": person.zone, "active": person.active}
    person.name = name.strip() or person.name
    person.zone = zone or person.zone
    person.password_hash = password_hash
    person.active = True
    person.declined_at = None
    db.flush()
    if address_proven:
        mark_joined(db, person, now)
    else:
        # Accepted, not joined: whoever holds the invitation link can type the address.
        audit(
            db,
            org_id=org_id,
            actor_id=person.id,
            action=SIGNED_UP,
            subject=person,
            now=now,
            invitation=invited,
        )
    return person


def mark_joined(db: DbSession, person: Person, now: datetime) -> None:
    """``person`` is a member of their organisation from ``now`` on."""
    person.joined_at, person.declined_at = now, None
    audit(
        db,
        org_id=person.organization_id,
        actor_id=person.id,
        action="person.joined",
        subject=person,
        now=now,
    )


def awaiting_proof() -> ColumnElement[bool]:
    """People who accepted by a password sign-up and have not proven the address yet: no
    member, nor declined, and told to confirm when they sign in."""
    return and_(
        Person.password_hash.is_not(None),
        Person.email_verified_at.is_(None),
        Person.joined_at.is_(None),
        Person.declined_at.is_(None),
    )


def join_once_proven(db: DbSession, person: Person, now: datetime) -> None:
    """The address of ``person`` was just proven (a followed verification or reset link): a
    password sign-up that accepted an invitation makes them a member now."""
    if person.password_hash and person.joined_at is None and person.declined_at is None:
        mark_joined(db, person, now)


def invite_person(
    database: Database,
    *,
    org_id: str,
    actor_id: str,
    email: str,
    name: str,
    zone: str,
    admin: bool,
    manager: bool,
    rep: bool,
    now: datetime,
) -> str:
    """Add someone to the organisation with the given roles (they sign up by invitation)."""
    errors = person_errors(email, zone)
    if errors:
        raise InvalidInput(errors)
    address = normalise_email(email)
    with database.session() as db:
        get_in_org(db, Person, org_id, actor_id)
        person = person_in_org(db, org_id, address)
        if person is not None:
            raise InvalidInput([FieldError("email", "This person is already in the organisation.")])
        person = Person(
            organization_id=org_id,
            email=address,
            name=name.strip(),
            zone=zone,
            is_admin=admin,
            is_manager=manager,
            is_rep=rep,
            invited_by_id=actor_id,
            created_at=now,
        )
        db.add(person)
        db.flush()
        audit(
            db, org_id=org_id, actor_id=actor_id, action="person.invited", subject=person, now=now
        )
        return person.id


def set_roles(
    database: Database,
    *,
    org_id: str,
    actor_id: str,
    person_id: str,
    admin: bool,
    manager: bool,
    rep: bool,
    active: bool,
    now: datetime,
) -> None:
    """Change a person's roles; the organisation always keeps one active admin."""
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        if person.is_admin and person.active and not (admin and active):
            admins = db.scalar(
                select(func.count()).where(
                    Person.organization_id == org_id,
                    Person.is_admin.is_(True),
                    Person.active.is_(True),
                )
            )
            if admins == 1:
                raise InvalidInput([FieldError("admin", "The organisation needs one admin.")])
        person.is_admin, person.is_manager, person.is_rep, person.active = (
            admin,
            manager,
            rep,
            active,
        )
        audit(
            db,
            org_id=org_id,
            actor_id=actor_id,
            action="person.roles",
            subject=person,
            now=now,
            admin=admin,
            manager=manager,
            rep=rep,
            active=active,
        )
