"""A person's zone and working hours: what a provider's answer changes, and what it keeps."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from integrations.base import AccountZone, ReconnectRequired, Transient
from scheduler.availability import WorkingHours
from scheduler.models import AuditEntry, Person
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.person_time import (
    ZoneReading,
    keep_zone_current,
    own_time,
    read_zone,
    set_own_time,
)
from tests.scheduler.usecases.conftest import NOW

LONDON_HOURS = WorkingHours("Europe/London", {0: ((time(8), time(16)),)})


def manager(database, team) -> Person:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return db.get(Person, team.manager_id)


@pytest.mark.parametrize(
    ("answer", "zone", "problem"),
    [
        (lambda: AccountZone("Europe/London"), "Europe/London", ""),
        (lambda: None, None, "Google names no time zone Cadence knows"),
    ],
)
def test_a_reading_is_the_providers_zone_or_why_there_is_none(answer, zone, problem) -> None:
    reading = read_zone("Google", answer)
    assert (reading.zone, reading.problem) == (zone, problem)


@pytest.mark.parametrize("error", [Transient("503"), ReconnectRequired("invalid_grant")])
def test_a_provider_failure_is_a_reading_without_a_zone_never_an_error(error) -> None:
    def fail() -> AccountZone:
        raise error

    reading = read_zone("Microsoft", fail)
    assert reading.zone is None and reading.problem.startswith("Microsoft did not answer")


def test_the_providers_zone_and_hours_in_it_become_the_persons(database, team) -> None:
    reading = ZoneReading("Microsoft", "Europe/London", LONDON_HOURS)

    kept = keep_zone_current(
        database, org_id=team.org_id, person_id=team.manager_id, reading=reading, now=NOW
    )

    assert (kept.zone, kept.from_provider, kept.changed) == ("Europe/London", True, True)
    assert kept.hours == LONDON_HOURS and kept.hours_elsewhere == ""
    pat = manager(database, team)
    assert (pat.zone, pat.working_hours) == ("Europe/London", {"0": [["08:00", "16:00"]]})
    again = keep_zone_current(
        database, org_id=team.org_id, person_id=team.manager_id, reading=reading, now=NOW
    )
    assert not again.changed
    with database.session() as db:
        assert (
            len(db.scalars(select(AuditEntry).where(AuditEntry.action == "person.zone")).all()) == 1
        )


def test_hours_kept_in_another_zone_are_not_taken_and_that_is_said(database, team) -> None:
    reading = ZoneReading("Microsoft", "Asia/Tokyo", LONDON_HOURS)

    kept = keep_zone_current(
        database, org_id=team.org_id, person_id=team.manager_id, reading=reading, now=NOW
    )

    assert kept.zone == "Asia/Tokyo" and kept.hours is None
    assert kept.hours_elsewhere == "Europe/London"
    pat = manager(database, team)
    assert pat.zone == "Asia/Tokyo" and pat.working_hours is None


def test_without_a_zone_the_person_keeps_theirs(database, team) -> None:
    reading = ZoneReading("Google", None, problem="Google did not answer (503)")

    kept = keep_zone_current(
        database, org_id=team.org_id, person_id=team.manager_id, reading=reading, now=NOW
    )

    assert (kept.zone, kept.from_provider, kept.changed) == ("America/New_York", False, False)
    assert manager(database, team).zone == "America/New_York"


def test_own_time_shows_the_organisations_hours_until_the_person_sets_theirs(
    database, team
) -> None:
    shown = own_time(database, org_id=team.org_id, person_id=team.manager_id)
    assert shown.zone == "America/New_York" and not shown.own_hours
    assert shown.hours == WorkingHours("America/New_York")

    set_own_time(
        database,
        org_id=team.org_id,
        person_id=team.manager_id,
        zone="Europe/Paris",
        days={5: (time(10), time(14))},
        now=NOW,
    )

    shown = own_time(database, org_id=team.org_id, person_id=team.manager_id)
    assert shown.own_hours
    assert shown.hours == WorkingHours("Europe/Paris", {5: ((time(10), time(14)),)})


def test_own_time_refuses_unknown_zones_and_backward_hours_naming_each(database, team) -> None:
    with pytest.raises(InvalidInput) as refused:
        set_own_time(
            database,
            org_id=team.org_id,
            person_id=team.manager_id,
            zone="Mars/Olympus_Mons",
            days={0: (time(17), time(9)), 1: (time(9), time(17))},
            now=NOW,
        )
    assert [error.field for error in refused.value.errors] == ["zone", "working_hours[0]"]
    assert manager(database, team).zone == "America/New_York"
