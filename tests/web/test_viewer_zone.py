"""Every time on a report page is on the viewer's clock (here New York), with the manager's
and the rep's beside it where their zones differ: never bare UTC."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduler.models import Person, Session
from tests.web.test_reports import RANGE, as_, signable_history

NEW_YORK = "America/New_York"


@pytest.fixture
def past(database, clock):
    return signable_history(database, clock)


def _zones(database, past, **zones: str) -> None:
    with database.session() as db:
        for name, zone in zones.items():
            db.scalar(
                select(Person).where(
                    Person.organization_id == past.org_id, Person.name == name.capitalize()
                )
            ).zone = zone


def _start(database, session_id: str):
    with database.session() as db:
        return db.get(Session, session_id).scheduled_start


def test_the_skipped_list_shows_the_viewers_time_and_each_persons(client, past, database):
    _zones(database, past, ada=NEW_YORK, patrick="America/Los_Angeles", lena="Europe/London")
    html = as_(client, past, "ada").get(f"/reports/skipped?{RANGE}").get_data(as_text=True)
    # Lena's week 2, cancelled by Patrick: Wednesday 23 September, 10:00 UTC.
    assert _start(database, past.sessions[("Lena", 2)]).hour == 10
    row = html.split(">Lena</a>")[0].rsplit("<tr>", 1)[1]
    assert "Wed 23 Sep 2026, 06:00 EDT (America/New_York)" in row
    assert "03:00 PDT for Patrick (America/Los_Angeles)" in row
    assert "11:00 BST for Lena (Europe/London)" in row
    assert "(UTC)" not in row and "10:00" not in row and "When (UTC)" not in html
    # Matt and Ryan keep UTC, which differs from Ada's zone: their clock is named too.
    ryan = html.split(">Ryan</a>")[0].rsplit("<tr>", 1)[1]
    assert "EDT (America/New_York)" in ryan and "for Ryan (UTC)" in ryan


def test_the_digest_shows_the_viewers_time_and_the_reps_on_another_day(client, past, database):
    _zones(database, past, patrick=NEW_YORK, george="Asia/Tokyo")
    html = as_(client, past, "patrick").get("/reports/digest").get_data(as_text=True)
    # George's week 5, cancelled by him: Tuesday 13 October 15:00 UTC, midnight in Tokyo.
    row = html.split(">George</a>")[0].rsplit("<tr>", 1)[1]
    assert "Tue 13 Oct 2026, 11:00 EDT (America/New_York)" in row
    assert "Wed 00:00 JST for George (Asia/Tokyo)" in row
    assert "for Patrick" not in row  # the viewer's own clock is not repeated
    assert "When (UTC)" not in html


def test_stopped_cadences_date_the_last_1to1_on_the_viewers_calendar(client, past, database):
    _zones(database, past, ada=NEW_YORK)
    html = as_(client, past, "ada").get("/reports/stopped").get_data(as_text=True)
    # Ryan's last held 1:1 was Thursday 17 September 09:00 UTC: 05:00 that day in New York.
    assert "Thu 17 Sep 2026" in html.split(">Ryan</a>")[1].split("</tr>")[0]
