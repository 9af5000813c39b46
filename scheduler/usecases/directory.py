"""Organisations and the people in them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session as DbSession

from scheduler.db import Database
from scheduler.field_errors import FieldError
from scheduler.models import Organization, Person
from scheduler.usecases.scope import audit, get_in_org
from scheduler.working_time import known_zone


class InvalidInput(ValueError):
    """The input breaks a rule; ``errors`` names every field at fault."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = errors


class RowsRefused(ValueError):
    """Some rows of a batch break a rule, so none was stored; ``problems`` maps each row's
    index to its errors."""

    def __init__(self, problems: dict[int, list[FieldError]]):
        super().__init__(f"{len(problems)} row(s) refused")
        self.problems = problems


@dataclass(frozen=True)
class RepAddition:
    """One rep to put on a manager's team (a row of the team CSV)."""

    manager_id: str
    email: str
    name: str
    zone: str


def normalise_email(email: str) -> str:
    return email.strip().lower()


def person_in_org(db: DbSession, org_id: str, address: str) -> Person | None:
    """The organisation's person with this (normalised) address, whatever its stored case."""
    return db.scalar(
        select(Person).where(Person.organization_id == org_id, func.lower(Person.email) == address)
    )


def person_errors(email: str, zone: str | None, prefix: str = "") -> list[FieldError]:
    """What is wrong with an address and a zone (``None``: no zone given, nothing to check)."""
    errors = []
    local, _, domain = normalise_email(email).partition("@")
    if not local or "." not in domain or " " in email.strip():
        errors.append(FieldError(f"{prefix}email", "Give a valid email address."))
    if zone is not None and not known_zone(zone):
        errors.append(FieldError(f"{prefix}zone", f"Unknown time zone {zone!r}."))
    return errors


def create_organization(
    database: Database, *, name: str, admin_email: str, admin_name: str, zone: str, now: datetime
) -> tuple[str, str]:
    """A new organisation whose first person is its admin (and a manager); returns both ids."""
    errors = person_errors(admin_email, zone)
    if not name.strip():
        errors.append(FieldError("name", "Name the organisation."))
    if errors:
        raise InvalidInput(errors)
    with database.session() as db:
        org = Organization(name=name.strip(), zone=zone, created_at=now)
        db.add(org)
        db.flush()
        admin = Person(
            organization_id=org.id,
            email=normalise_email(admin_email),
            name=admin_name.strip(),
            zone=zone,
            is_admin=True,
            is_manager=True,
            created_at=now,
            joined_at=now,  # creating the organisation is joining it
        )
        db.add(admin)
        db.flush()
        audit(db, org_id=org.id, actor_id=admin.id, action="org.created", subject=admin, now=now)
        return org.id, admin.id


def add_rep(
    database: Database,
    *,
    org_id: str,
    manager_id: str,
    email: str,
    name: str,
    zone: str,
    now: datetime,
) -> str:
    """Put ``email`` on the manager's team (creating the person if new); returns the rep's id.

    Adding the same rep twice is harmless; a person can be a manager and someone's rep.
    """
    with database.session() as db:
        return _put_on_team(db, org_id, RepAddition(manager_id, email, name, zone), now)


def add_reps(
    database: Database, *, org_id: str, additions: Sequence[RepAddition], now: datetime
) -> list[str]:
    """Every addition (as ``add_rep``) in one transaction, or none: ``RowsRefused`` names
    each row at fault. Returns the reps' ids, in order."""
    problems: dict[int, list[FieldError]] = {}
    ids = []
    with database.session() as db:
        for index, addition in enumerate(additions):
            try:  # a row is refused before it changes anything
                ids.append(_put_on_team(db, org_id, addition, now))
            except InvalidInput as error:
                problems[index] = error.errors
        if problems:
            raise RowsRefused(problems)  # leaving the block rolls every row back
    return ids


def _put_on_team(db: DbSession, org_id: str, addition: RepAddition, now: datetime) -> str:
    errors = person_errors(addition.email, addition.zone)
    if errors:
        raise InvalidInput(errors)
    manager = get_in_org(db, Person, org_id, addition.manager_id)
    address = normalise_email(addition.email)
    if address == manager.email:
        raise InvalidInput([FieldError("email", "A manager cannot be their own rep.")])
    rep = person_in_org(db, org_id, address)
    if rep is None:
        # An invitation: the rep joins when they accept it (scheduler/usecases/joining.py).
        rep = Person(
            organization_id=org_id, email=address, invited_by_id=manager.id, created_at=now
        )
        db.add(rep)
    rep.name = addition.name.strip() or rep.name
    rep.zone = addition.zone
    rep.is_rep = True
    rep.manager_id = manager.id
    manager.is_manager = True
    db.flush()
    audit(db, org_id=org_id, actor_id=manager.id, action="rep.added", subject=rep, now=now)
    return rep.id


def active_people_with_email(db: DbSession, email: str, *also: ColumnElement[bool]) -> list[Person]:
    """Active people with this address (and ``also``), in every organisation, oldest first."""
    return list(
        db.scalars(
            select(Person)
            .where(
                func.lower(Person.email) == normalise_email(email), Person.active.is_(True), *also
            )
            .order_by(Person.created_at)
        )
    )
