"""The conflict email's links: a GET only asks, the POST moves (or cancels) just that week;
used, expired and forged links are refused with a clear page; a time no longer free offers
the week's other free times. No sign-in: the signed link is the credential."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler.defend import ConflictState
from scheduler.jobs import tasks
from scheduler.models import OutboxMessage, Session, SlotConflict
from tests.web.conftest import post
from tests.web.test_manager import book_top_slot, refresh_now


@pytest.fixture
def mailed(app, client, make_org, calendar, database):
    """Lena's first week clashes with a dentist appointment; the notice run mailed Patrick."""
    org = make_org(client)
    answer, _ = book_top_slot(client, org.rep_ids[1])
    series_url = answer.headers["Location"]
    with database.session() as db:
        week = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    dentist = week.scheduled_start - timedelta(minutes=15)
    calendar.add_busy("lena@acme.test", dentist, dentist + timedelta(hours=1), label="Dentist")
    refresh_now(client, series_url)
    tasks.notify_conflicts.job.perform(app.extensions["cadence.jobs"])
    with database.session() as db:
        (mail,) = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "conflict"))
    paths = re.findall(r"(/slot/[A-Za-z0-9_.\-]+)", mail.text_body)
    return {"org": org, "week": week, "series_url": series_url, "moves": paths[:-1],
            "cancel": paths[-1], "manager": client}  # fmt: skip


def conflict(database) -> SlotConflict:
    with database.session() as db:
        return db.scalars(select(SlotConflict)).one()


def test_an_alternative_moves_exactly_that_week_once(app, mailed, calendar, database):
    browser = app.test_client()  # the email opened anywhere: no sign-in
    path = mailed["moves"][0]
    page = browser.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Move this week" in text and "Lena" in text
    assert "From:" in text and "To:" in text
    assert calendar.calls["move_occurrence"] == 0  # a GET never acts (mail scanners)

    done = post(browser, path, page=path)
    assert done.status_code == 200 and "Done" in done.get_data(as_text=True)
    week = mailed["week"]
    row = conflict(database)
    assert row.state == ConflictState.MOVED and row.moved_to.isoformat() == row.alternatives[0]
    series_id = week.series_id
    assert calendar.events[series_id].moved == {week.scheduled_start: row.moved_to}
    with database.session() as db:
        assert db.get(Session, week.id).current_start == row.moved_to

    again = browser.get(path)
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
    # One link used spends the email's others.
    assert browser.get(mailed["cancel"]).status_code == 410
    assert post(browser, mailed["moves"][-1], page="/signin").status_code == 410
    assert calendar.calls["move_occurrence"] == 1


def test_an_expired_or_forged_link_is_refused(app, mailed, clock):
    browser = app.test_client()
    path = mailed["moves"][0]
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert browser.get(forged).status_code == 404
    clock.now = mailed["week"].scheduled_start
    page = browser.get(path)
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)


def test_a_time_no_longer_free_offers_the_others(app, mailed, calendar, database, clock):
    browser = app.test_client()
    row = conflict(database)
    taken = datetime.fromisoformat(row.alternatives[0])
    calendar.add_busy("pat@acme.test", taken, taken + timedelta(minutes=30), label="Board")
    clock.now += timedelta(minutes=1)
    refresh_now(mailed["manager"], mailed["series_url"])

    path = mailed["moves"][0]
    answer = post(browser, path, page=path)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "no longer free" in text
    assert calendar.calls["move_occurrence"] == 0
    others = re.findall(r'name="to" value="([^"]+)"', text)
    assert others and taken.isoformat() not in others
    moved = post(browser, path, {"to": others[0]}, page=path)
    assert moved.status_code == 200
    assert conflict(database).moved_to == datetime.fromisoformat(others[0])


def test_cancelling_the_week_through_the_email_keeps_the_reason(app, mailed, calendar, database):
    browser = app.test_client()
    path = mailed["cancel"]
    page = browser.get(path).get_data(as_text=True)
    assert "Cancel this week" in page and 'name="reason"' in page
    done = post(browser, path, {"reason": "Lena is at the dentist"}, page=path)
    assert done.status_code == 200
    assert calendar.calls["cancel_occurrence"] == 1
    with database.session() as db:
        week = db.get(Session, mailed["week"].id)
        assert week.cancelled and week.cancel_reason == "Lena is at the dentist"
    assert conflict(database).state == ConflictState.CANCELLED
    assert browser.get(mailed["moves"][0]).status_code == 410


def test_a_calendar_that_refuses_the_move_gives_the_week_back(app, mailed, calendar, database):
    """The claim is undone when the calendar fails: the conflict is mailed again, neither
    settled nor moved, the week where it was, and the same link works on a second try."""
    from integrations.base import Transient

    browser = app.test_client()
    path = mailed["moves"][0]
    calendar.fail_next(Transient("calendar down"))
    refused = post(browser, path, page=path)
    assert refused.status_code == 503
    row = conflict(database)
    assert (row.state, row.settled_at, row.moved_to) == (ConflictState.MAILED, None, None)
    with database.session() as db:
        assert db.get(Session, mailed["week"].id).current_start is None

    done = post(browser, path, page=path)
    assert done.status_code == 200 and conflict(database).state == ConflictState.MOVED
