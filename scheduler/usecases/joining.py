"""Joining an organisation: nobody is in one without accepting it.

A row someone else added (an admin's invitation, a manager's rep, a CSV import) is an
*invitation*: the person with that address sees "Join <organisation>? Added by <name,
email>" at their next Google or Microsoft sign-in and accepts or declines it. An
organisation whose ``join_domain`` is the address's domain is an *open offer* to a newcomer,
accepted or declined the same way. A declined one is never offered again (the row stays,
marked, so its admins see it). A *member* (``joined_at`` set) signs in directly.

Creating an organisation, signing up through an invitation link (once the address is
confirmed) or accepting here makes a member; nothing else does. The calendar grant of the
consent is stored only for the organisation accepted (web/joining.py holds it until then).

Everything here goes by the address, so it counts only when proven. Google's sign-in proves
it (``email_verified``), and a Microsoft one when its ID token says ``xms_edov: true``; a
Microsoft ID token without it carries whatever address the account's tenant set ("nOAuth").
Such a sign-in enters only the rows linked to its Microsoft account (``<tid>/<oid>``, set
when a sign-in proved the address, when the address's owner followed the link Cadence mailed
to it, or when the account founded the organisation), and founds organisations (nobody
else's data). Accepting anything else — an invitation, a join domain's offer, a membership
not linked to it — makes no member until the address's owner follows the link mailed to it
(``credentials.confirm_microsoft_account``), and it may decline nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from scheduler.db import Database
from scheduler.field_errors import FieldError
from scheduler.models import Organization, Person
from scheduler.usecases.accounts import (
    awaiting_proof,
    found_organization,
    join_as_member,
    mark_joined,
)
from scheduler.usecases.directory import (
    InvalidInput,
    active_people_with_email,
    normalise_email,
    person_in_org,
)
from scheduler.usecases.scope import audit

Membership = Literal["member", "invited", "declined"]


def membership(person: Person) -> Membership:
    """Where a person row stands: a member, an invitation not yet answered, or declined."""
    if person.joined_at is not None:
        return "member"
    return "declined" if person.declined_at is not None else "invited"


@dataclass(frozen=True)
class SignIn:
    """What a Google or Microsoft sign-in says of who it is: the address, whether the provider
    vouched for it, and the Microsoft account (``<tid>/<oid>``) when it is Microsoft's."""

    email: str
    address_proven: bool
    microsoft_account: str | None = None


def _linked(person: Person, who: SignIn) -> bool:
    return who.microsoft_account is not None and person.microsoft_account == who.microsoft_account


def may_enter(person: Person, who: SignIn) -> bool:
    """Whether the sign-in may accept or continue in ``person``'s row before the link mailed
    to the address is followed: the provider vouched for the address, or the row is linked to
    the sign-in's Microsoft account."""
    return who.address_proven or _linked(person, who)


def enters(person: Person, who: SignIn) -> bool:
    """Whether the sign-in is now signed in as ``person``: a member it may enter."""
    return person.joined_at is not None and may_enter(person, who)


def _direct(person: Person, who: SignIn) -> bool:
    """Whether the sign-in continues in a membership without being asked: the row is linked
    to its Microsoft account, or the address is proven and no other Microsoft account holds
    the row while its address is unproven (one that founded an organisation with an address
    its tenant merely set: whose row that is, the address's owner says at /join)."""
    if _linked(person, who):
        return True
    held_unproven = person.microsoft_account is not None and person.email_verified_at is None
    return who.address_proven and not held_unproven


@dataclass(frozen=True)
class Offer:
    """One organisation a signing-in person may enter.

    ``person_id`` is their row there (a membership or an invitation); ``None`` for an open
    offer by the organisation's join domain, where a row is made on accepting.
    ``needs_proof``: accepting (or continuing) waits for the address's owner to follow the
    link mailed to it (``may_enter`` is false). ``direct``: a membership entered without
    asking (``_direct``).
    """

    org_id: str
    org_name: str
    person_id: str | None
    added_by: str = ""  # "Name, email" of who added them
    domain: str = ""  # the join domain an open offer comes from
    needs_proof: bool = False
    direct: bool = False


@dataclass(frozen=True)
class Choices:
    """What a verified address may do: continue as a member, or answer offers (``declined``
    lists those it said no to, which are not offered again)."""

    memberships: tuple[Offer, ...]
    offers: tuple[Offer, ...]
    declined: tuple[Offer, ...] = ()

    def direct(self) -> str | None:
        """The person id to sign in without asking: the oldest membership, when no offer
        waits for an answer and every membership is one to enter without asking."""
        if self.offers or not self.memberships:
            return None
        if not all(offer.direct for offer in self.memberships):
            return None
        return self.memberships[0].person_id

    def find(self, org_id: str) -> Offer | None:
        return next(
            (offer for offer in (*self.memberships, *self.offers) if offer.org_id == org_id),
            None,
        )


def sign_in_candidates(db: DbSession, email: str) -> list[Person]:
    """Who a password may sign in as, oldest first: active members with this address, and
    password sign-ups still to confirm it (who are told to, never signed in)."""
    return active_people_with_email(db, email, or_(Person.joined_at.is_not(None), awaiting_proof()))


def choices_for(db: DbSession, who: SignIn) -> Choices:
    """Every organisation this sign-in's address may enter, and how."""
    address = normalise_email(who.email)
    adder = aliased(Person)
    rows = db.execute(
        select(Person, Organization.name, adder.name, adder.email)
        .join(Organization, Organization.id == Person.organization_id)
        .outerjoin(adder, adder.id == Person.invited_by_id)
        .where(func.lower(Person.email) == address, Person.active.is_(True))
        .order_by(Person.created_at)
    ).all()
    found: dict[Membership, list[Offer]] = {"member": [], "invited": [], "declined": []}
    for person, org_name, adder_name, adder_email in rows:
        added_by = ", ".join(part for part in (adder_name, adder_email) if part)
        offer = Offer(
            person.organization_id,
            org_name,
            person.id,
            added_by=added_by,
            needs_proof=not may_enter(person, who),
            direct=_direct(person, who),
        )
        found[membership(person)].append(offer)
    if not found["member"]:
        found["invited"].extend(_domain_offers(db, address, needs_proof=not who.address_proven))
    return Choices(tuple(found["member"]), tuple(found["invited"]), tuple(found["declined"]))


def _domain_offers(db: DbSession, address: str, *, needs_proof: bool) -> list[Offer]:
    """Organisations open to the address's domain where it has no row (a declined one too)."""
    domain = address.rpartition("@")[2]
    if not domain:
        return []
    has_row = select(Person.id).where(
        Person.organization_id == Organization.id, func.lower(Person.email) == address
    )
    orgs = db.scalars(
        select(Organization)
        .where(func.lower(Organization.join_domain) == domain, ~has_row.exists())
        .order_by(Organization.created_at)
    )
    return [Offer(org.id, org.name, None, domain=domain, needs_proof=needs_proof) for org in orgs]


def _offer(db: DbSession, who: SignIn, org_id: str) -> Offer:
    offer = choices_for(db, who).find(org_id)
    if offer is None:
        raise InvalidInput([FieldError("organization", "That invitation is not open to you.")])
    return offer


def accept(
    database: Database, *, who: SignIn, org_id: str, name: str, zone: str | None, now: datetime
) -> Person:
    """The person's row in ``org_id`` once they accept (or continue as a member there): a
    member, unless the offer ``needs_proof`` — then nobody joins until the address's owner
    follows the link mailed to it (``enters`` says which; an open offer's row is made now,
    as a password sign-up's is).

    ``InvalidInput`` when the organisation offers them nothing (declined, never invited).
    """
    with database.session() as db:
        offer = _offer(db, who, org_id)
        if offer.person_id is None:  # an open offer: the row is made now
            address = normalise_email(who.email)
            return join_as_member(
                db, org_id, address, name, zone, None, None, now,
                address_proven=not offer.needs_proof,
            )  # fmt: skip
        person = db.get(Person, offer.person_id)
        assert person is not None
        if person.joined_at is None and not offer.needs_proof:
            person.name = person.name or name.strip()
            mark_joined(db, person, now)
        return person


def decline(database: Database, *, who: SignIn, org_id: str, name: str, now: datetime) -> None:
    """The person says no: the organisation never offers itself to the address again, and its
    admins see the invitation declined. Only the address's proven owner says no for it."""
    address = normalise_email(who.email)
    with database.session() as db:
        offer = _offer(db, who, org_id)
        if offer.needs_proof:
            raise InvalidInput(
                [FieldError("organization", "Only the address's confirmed owner can decline.")]
            )
        if offer.person_id is not None:
            person = db.get(Person, offer.person_id)
            assert person is not None
            if person.joined_at is not None:
                raise InvalidInput([FieldError("organization", "You are a member there.")])
        else:  # an open offer declined: a row remembers it
            person = person_in_org(db, org_id, address) or Person(
                organization_id=org_id, email=address, name=name.strip(), created_at=now
            )
            db.add(person)
        person.declined_at = now
        db.flush()
        audit(
            db, org_id=org_id, actor_id=person.id, action="person.declined", subject=person, now=now
        )


def start_organization(
    database: Database, *, who: SignIn, name: str, zone: str | None, now: datetime
) -> Person:
    """A new organisation, named for the address's domain, with the person as its admin.

    Nobody else's data is in it, so a Microsoft sign-in founds one whether or not Microsoft
    vouched for the address, and its account is linked to the founder (who signs in with
    it again). Proving the address later drops a link made while it was unproven."""
    address = normalise_email(who.email)
    return found_organization(
        database,
        name=address.rpartition("@")[2] or address,
        email=address,
        person_name=name,
        zone=zone,
        password_hash=None,
        now=now,
        microsoft_account=who.microsoft_account,
    )


def accept_everyone(database: Database, *, org_id: str, now: datetime) -> None:
    """Every open invitation of the organisation accepted (a seeded demo's people)."""
    with database.session() as db:
        for person in db.scalars(
            select(Person).where(Person.organization_id == org_id, Person.joined_at.is_(None))
        ):
            person.joined_at, person.declined_at = now, None
