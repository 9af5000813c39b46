"""Nothing counts before it has happened: a week cancelled ahead of its time is upcoming in
the reports, the skipped list, CSV and JSON until its time has passed; its page says what is
known."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.models import Session
from scheduler.usecases.upkeep import reclassify_past_sessions
from tests.web.conftest import post, sign_in
from tests.web.test_manager import book_top_slot

# From the week of NOW (Monday 19 October 2026) to well after the horizon's end.
RANGE = "from=2026-10-19&to=2027-03-01"


@pytest.fixture
def org(client, make_org):
    return make_org(client)


def _sessions(database):  # type: ignore[no-untyped-def]
    with database.session() as db:
        return list(db.scalars(select(Session).order_by(Session.scheduled_start)))


def _report(client):  # type: ignore[no-untyped-def]
    overview = client.get(f"/api/v1/reports/overview?{RANGE}").get_json()
    skipped = client.get(f"/api/v1/reports/skipped?{RANGE}").get_json()
    rows = list(csv.reader(io.StringIO(client.get(f"/reports/skipped.csv?{RANGE}").text)))
    return overview["totals"], skipped["rows"], rows[1:]


def test_a_week_cancelled_ahead_counts_only_once_its_time_has_passed(
    client, org, calendar, database, clock
):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    first, second = _sessions(database)[:2]
    post(client, f"/manager/sessions/{second.id}/cancel", page=answer.headers["Location"])

    totals, skipped, csv_rows = _report(client)
    assert (totals["cancelled"], totals["expected"], skipped, csv_rows) == (0, 0, [], [])
    assert totals["upcoming"] == len(_sessions(database))

    # The cancelled week's time has passed (and the first week's grace): both count now.
    clock.now = second.scheduled_end
    reclassify_past_sessions(database, now=clock.now)
    sign_in(client, org.manager_email)  # weeks later: the server-side session has lapsed
    totals, skipped, csv_rows = _report(client)
    assert (totals["expected"], totals["cancelled_by_manager"], totals["undocumented"]) == (2, 1, 1)
    assert {row["session_id"] for row in skipped} == {first.id, second.id}
    assert len(csv_rows) == 2
    # The range reaches months ahead: every later week is still upcoming, none counted.
    assert totals["upcoming"] == len(_sessions(database)) - 2
    assert clock.now < _sessions(database)[2].scheduled_start


def test_a_report_of_the_coming_weeks_counts_nothing_known_of_them(client, org, database, clock):
    """A report over the coming weeks alone counts nothing, whatever is known of them."""
    answer, _ = book_top_slot(client, org.rep_ids[0])
    for row in _sessions(database)[1:4]:
        post(client, f"/manager/sessions/{row.id}/cancel", page=answer.headers["Location"])
    clock.now += timedelta(days=1)
    reclassify_past_sessions(database, now=clock.now)
    future = client.get("/api/v1/reports/overview?from=2026-10-26&to=2027-01-25").get_json()
    assert future["totals"]["expected"] == future["totals"]["cancelled"] == 0
    assert future["score"] is None
