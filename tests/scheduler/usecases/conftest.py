from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from scheduler.usecases.directory import add_rep, create_organization
from tests.memory_provider import MemoryCalendar

# A Monday morning in New York, two weeks before the US clocks go back (1 November 2026).
NOW = datetime(2026, 10, 19, 13, 0, tzinfo=UTC)
MONDAY = date(2026, 10, 19)


def link(org_id: str, session_id: str) -> str:
    return f"https://cadence.test/agenda/{session_id}"


@dataclass
class Team:
    org_id: str
    manager_id: str
    rep_ids: list[str]


@pytest.fixture
def team(database) -> Team:
    return make_team(database)


def make_team(database) -> Team:
    """Acme: Patrick (New York) manages George (New York) and Lena (London)."""
    org_id, manager_id = create_organization(
        database,
        name="Acme",
        admin_email="pat@acme.test",
        admin_name="Patrick",
        zone="America/New_York",
        now=NOW,
    )
    reps = [
        add_rep(
            database,
            org_id=org_id,
            manager_id=manager_id,
            email=email,
            name=name,
            zone=zone,
            now=NOW,
        )
        for email, name, zone in [
            ("george@acme.test", "George", "America/New_York"),
            ("lena@acme.test", "Lena", "Europe/London"),
        ]
    ]
    return Team(org_id, manager_id, reps)


@pytest.fixture
def calendar() -> MemoryCalendar:
    return MemoryCalendar()
