"""The production calendar opener: a connection row becomes its adapter, with its owner's
zone (a CalDAV calendar reads all-day and floating events in it), against a real Radicale."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import caldav
import pytest
from sqlalchemy import select

from integrations.caldav import CalDAVCredentials
from integrations.factory import connection_calendars
from integrations.outbound import origin_of
from scheduler.crypto import TokenCipher
from scheduler.intervals import Interval
from scheduler.models import CalendarConnection, Provider
from scheduler.usecases.connections import save_connection
from scheduler.usecases.directory import create_organization
from web.demo.radicale import RadicaleServer, running_radicale

NOW = datetime(2027, 2, 22, 12, tzinfo=UTC)
EMAIL = "nora@acme.test"
NEW_YORK = ZoneInfo("America/New_York")
WEEK = Interval(datetime(2027, 2, 28, tzinfo=UTC), datetime(2027, 3, 7, tzinfo=UTC))


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale({"nora": "app-password"}) as server:
        yield server


def test_caldav_all_day_and_floating_events_are_read_in_the_owners_zone(
    radicale, database, settings
):
    calendar_name = f"work-{uuid4().hex[:8]}"
    radicale.make_calendar("nora", calendar_name, calendar_name)
    with radicale.client("nora") as client:
        work = client.principal().calendar(name=calendar_name)
        add_event(work, "DTSTART;VALUE=DATE:20270301", "DTEND;VALUE=DATE:20270302", "Offsite")
        # Floating: 9:00 wherever Nora is.
        add_event(work, "DTSTART:20270302T090000", "DTEND:20270302T100000", "Standup")
    org_id, nora_id = create_organization(
        database, name="Acme", admin_email=EMAIL, admin_name="Nora", zone=NEW_YORK.key, now=NOW
    )
    cipher = TokenCipher(settings.token_keys)
    save_connection(
        database,
        cipher,
        org_id=org_id,
        person_id=nora_id,
        provider=Provider.CALDAV,
        account_email=EMAIL,
        grant=CalDAVCredentials(
            radicale.url, "nora", "app-password", EMAIL, calendar_name
        ).to_blob(),
        now=NOW,
    )
    with database.session() as db:
        row = db.scalar(select(CalendarConnection))

    # The operator trusts this self-hosted server on loopback (CADENCE_CALDAV_PRIVATE_ORIGINS).
    trusted = dataclasses.replace(
        settings, caldav_private_origins=frozenset({origin_of(radicale.url) or ""})
    )
    calendar = connection_calendars(trusted, database, cipher)(row)
    found = calendar.free_busy([EMAIL], WEEK)[EMAIL]

    assert [(busy.start, busy.end, busy.label) for busy in found.busy] == [
        (
            datetime(2027, 3, 1, tzinfo=NEW_YORK),  # 05:00 UTC, not midnight UTC
            datetime(2027, 3, 2, tzinfo=NEW_YORK),
            "Offsite",
        ),
        (
            datetime(2027, 3, 2, 9, tzinfo=NEW_YORK),
            datetime(2027, 3, 2, 10, tzinfo=NEW_YORK),
            "Standup",
        ),
    ]


def add_event(calendar: caldav.Calendar, start: str, end: str, summary: str) -> None:
    """An event Nora made in another app, from its iCalendar lines."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Other app//EN", "BEGIN:VEVENT"]
    lines += [f"UID:{uuid4()}", "DTSTAMP:20270101T000000Z", start, end, f"SUMMARY:{summary}"]
    calendar.add_event("\n".join([*lines, "END:VEVENT", "END:VCALENDAR"]))
