"""Availability read once, used everywhere: pages answer from the stored busy time.

Calls are counted on the in-memory calendar every page's connection opens.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from integrations.base import Transient
from scheduler.models import Series, StoredBusyTime
from tests.web.conftest import post
from tests.web.test_manager import book_top_slot, refresh_now


@pytest.fixture
def org(client, make_org):
    return make_org(client)


def test_a_fresh_page_view_makes_no_provider_call(client, org, calendar):
    answer, _ = book_top_slot(client, org.rep_ids[0])  # the slots page reads both, once
    series_url = answer.headers["Location"]
    assert calendar.calls["free_busy"] == 1
    for _ in range(3):
        page = client.get(series_url).get_data(as_text=True)
        assert "availability read just now" in page
        client.get(f"/manager/reps/{org.rep_ids[0]}/slots?change=1")
    assert calendar.calls["free_busy"] == 1


def test_stale_busy_time_is_read_again_once_and_its_age_is_shown(client, org, calendar, clock):
    slots = f"/manager/reps/{org.rep_ids[1]}/slots"
    client.get(slots)
    clock.now += timedelta(minutes=12)
    assert "availability read 12 min ago" in client.get(slots).get_data(as_text=True)
    assert calendar.calls["free_busy"] == 1
    clock.now += timedelta(minutes=30)  # 42 minutes: older than the 30 + 10 allowed
    assert "availability read just now" in client.get(slots).get_data(as_text=True)
    client.get(slots)
    assert calendar.calls["free_busy"] == 2


def test_an_unreadable_calendar_is_labelled_and_never_shown_as_free(
    client, org, calendar, database
):
    calendar.unreadable.add("george@acme.test")
    slots = client.get(f"/manager/reps/{org.rep_ids[0]}/slots").get_data(as_text=True)
    assert 'George: <span class="tag warn">not readable' in slots
    assert "Free for both every week" not in slots
    with database.session() as db:
        stored = db.scalars(select(StoredBusyTime)).all()
    # Stored as unknown over the window, never as an empty (free) busy list alone.
    george = [row for row in stored if row.person_id == org.rep_ids[0]]
    assert george and george[0].unknown and not george[0].busy


def test_a_failed_refresh_keeps_the_old_read_labelled_and_nothing_clear(
    client, org, calendar, clock
):
    answer, _ = book_top_slot(client, org.rep_ids[1])
    series_url = answer.headers["Location"]
    assert 'tag ok">Upcoming' in client.get(series_url).get_data(as_text=True)
    clock.now += timedelta(hours=2)
    calendar.fail_next(Transient("503"))
    page = client.get(series_url).get_data(as_text=True)
    assert "could not be read again (the calendar did not answer)" in page
    assert 'tag ok">Upcoming' not in page and "Not readable" in page
    assert "availability read 2 h ago" in page


def test_refresh_now_reads_the_pair_again_in_one_call(client, org, calendar):
    answer, _ = book_top_slot(client, org.rep_ids[0])
    series_url = answer.headers["Location"]
    before = calendar.calls["free_busy"]
    back = refresh_now(client, series_url)
    assert back.status_code == 302 and back.headers["Location"] == series_url
    assert calendar.calls["free_busy"] == before + 1
    assert "Availability read just now." in client.get(series_url).get_data(as_text=True)


def test_refresh_now_goes_back_to_this_site_only(client, org):
    answer = post(
        client,
        "/manager/availability/refresh",
        {"next": "//evil.example/x"},
        page="/manager/team",
    )
    assert answer.headers["Location"] == "/manager/team"


def test_propose_for_every_unbooked_rep_reads_once_and_books_each_pair(
    client, make_org, calendar, database
):
    reps = tuple(
        (f"rep{n}@acme.test", f"Rep {n}", "Europe/London" if n % 2 else "America/Chicago")
        for n in range(8)
    )
    org = make_org(client, reps=reps)
    team = client.get("/manager/team").get_data(as_text=True)
    assert "Propose for every unbooked rep" in team

    page = client.get("/manager/team/proposals").get_data(as_text=True)
    assert calendar.calls["free_busy"] == 1  # the manager and all eight reps in one read
    forms = re.findall(r'<form method="post" action="/manager/reps/([^/]+)/book"', page)
    assert set(forms) == set(org.rep_ids)

    # Book the first pair from the page: back to the page, without that rep.
    form = page[page.index(f'action="/manager/reps/{org.rep_ids[0]}/book"') :]
    fields = dict(
        re.findall(
            r'name="(weekday|local_time|minutes|zone|first_day|next)" value="([^"]*)"', form
        )[:6]
    )
    booked = post(
        client, f"/manager/reps/{org.rep_ids[0]}/book", fields, page="/manager/team/proposals"
    )
    assert booked.headers["Location"] == "/manager/team/proposals"
    again = client.get("/manager/team/proposals").get_data(as_text=True)
    assert f"/manager/reps/{org.rep_ids[0]}/book" not in again
    assert f"/manager/reps/{org.rep_ids[1]}/book" in again
    assert calendar.calls["free_busy"] == 1  # still fresh: no second read
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(Series)) == 1
