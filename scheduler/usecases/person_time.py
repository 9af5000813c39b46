"""A person's zone and working hours: taken from their provider at each consent, or set by
themselves. Booked series keep their own zone: changing a person's zone never moves a 1:1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from integrations.base import AccountZone, ProviderError
from scheduler.availability import WorkingHours
from scheduler.db import Database
from scheduler.field_errors import FieldError
from scheduler.models import Organization, Person
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import audit, get_in_org
from scheduler.working_time import hours_errors, hours_from_shape, hours_shape, known_zone


@dataclass(frozen=True)
class ZoneReading:
    """What a provider said about a person's zone at a consent.

    ``zone`` is ``None`` when it said nothing usable; ``problem`` then says why.
    """

    source: str
    zone: str | None
    working_hours: WorkingHours | None = None
    problem: str = ""

    def to_shape(self) -> dict[str, Any]:
        """As JSON, to keep while the person chooses an organisation (a held consent)."""
        hours = self.working_hours
        return {
            "source": self.source,
            "zone": self.zone,
            "problem": self.problem,
            "hours": None
            if hours is None
            else {"zone": hours.zone, "days": hours_shape(hours.days)},
        }

    @classmethod
    def from_shape(cls, shape: Mapping[str, Any]) -> ZoneReading:
        hours = shape.get("hours")
        return cls(
            source=str(shape["source"]),
            zone=shape.get("zone"),
            working_hours=None if hours is None else hours_from_shape(hours["zone"], hours["days"]),
            problem=str(shape.get("problem", "")),
        )


def read_zone(source: str, read: Callable[[], AccountZone | None]) -> ZoneReading:
    """Ask the provider (``read``); a failure or an unknown zone is a reading without a zone,
    never an error: sign-in goes on, and the person is told."""
    try:
        found = read()
    except ProviderError as error:
        return ZoneReading(source, None, problem=f"{source} did not answer ({error})")
    if found is None:
        return ZoneReading(source, None, problem=f"{source} names no time zone Cadence knows")
    return ZoneReading(source, found.zone, found.working_hours)


@dataclass(frozen=True)
class ZoneKept:
    """The person's zone after a consent, and where it came from.

    ``from_provider`` false: the provider said nothing, the person's zone stayed.
    ``hours`` are the provider's working hours when they became the person's;
    ``hours_elsewhere`` names the zone of provider hours that could not (another zone).
    """

    zone: str
    from_provider: bool
    changed: bool
    hours: WorkingHours | None = None
    hours_elsewhere: str = ""


def keep_zone_current(
    database: Database, *, org_id: str, person_id: str, reading: ZoneReading, now: datetime
) -> ZoneKept:
    """Make the provider's zone (and working hours in that zone) the person's; without a
    zone in ``reading`` the person keeps theirs."""
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        if reading.zone is None:
            return ZoneKept(person.zone, from_provider=False, changed=False)
        hours = reading.working_hours
        # Hours kept in another zone cannot be stored in the person's: they would drift.
        adopted = hours if hours is not None and hours.zone == reading.zone else None
        shape = hours_shape(adopted.days) if adopted else person.working_hours
        changed = (person.zone, person.working_hours) != (reading.zone, shape)
        if changed:
            person.zone, person.working_hours = reading.zone, shape
            audit(
                db,
                org_id=org_id,
                actor_id=person.id,
                action="person.zone",
                subject=person,
                now=now,
                zone=reading.zone,
                source=reading.source,
                working_hours=adopted is not None,
            )
        return ZoneKept(
            reading.zone,
            from_provider=True,
            changed=changed,
            hours=adopted,
            hours_elsewhere=hours.zone if hours is not None and adopted is None else "",
        )


@dataclass(frozen=True)
class OwnTime:
    """A person's zone and effective working hours, and whether the hours are their own."""

    zone: str
    hours: WorkingHours
    own_hours: bool


def own_time(database: Database, *, org_id: str, person_id: str) -> OwnTime:
    """What the account page shows: the zone, and the hours the slot finder will use."""
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        org = db.get(Organization, org_id)
        assert org is not None
        shape = person.working_hours or org.working_hours
        return OwnTime(
            person.zone, hours_from_shape(person.zone, shape), bool(person.working_hours)
        )


def set_own_time(
    database: Database,
    *,
    org_id: str,
    person_id: str,
    zone: str,
    days: Mapping[int, tuple[time, time]],
    now: datetime,
) -> None:
    """Store the person's own zone and working hours (one span per working day, in ``zone``).

    Hours equal to the organisation's are not copied, so the person keeps following the
    organisation's. Booked series keep their zone. ``InvalidInput`` names each field at fault.
    """
    errors = hours_errors(days)
    if not known_zone(zone):
        errors.insert(0, FieldError("zone", f"Unknown time zone {zone!r}: choose one in the list."))
    if errors:
        raise InvalidInput(errors)
    shape = hours_shape({day: (span,) for day, span in days.items()})
    with database.session() as db:
        person = get_in_org(db, Person, org_id, person_id)
        org = db.get(Organization, org_id)
        assert org is not None
        follows_org = hours_from_shape(zone, shape) == hours_from_shape(zone, org.working_hours)
        person.zone = zone
        person.working_hours = None if follows_org else shape
        audit(
            db,
            org_id=org_id,
            actor_id=person.id,
            action="person.zone",
            subject=person,
            now=now,
            zone=zone,
            source="account",
            working_hours=not follows_org,
        )
