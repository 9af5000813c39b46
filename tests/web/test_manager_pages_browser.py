"""The manager's pages in a real browser (Debian's Chromium through Playwright), with
JavaScript off where a confirmation is asked: no slot when working hours never meet (why, and
the ways out), ticking off one's own action item after confirming, cancelling a week with a
reason, and the rep's overdue items in words. Screenshots go to ``artifacts/``;
docs/screenshots/no-common-hours.png, manager-open-items.png and series-declined-week.png
are copies of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from integrations.base import CalendarChange, ChangeKind, Response
from scheduler.models import ActionItem, CalendarConnection, Person, Session
from scheduler.usecases.calendar_sync import sync_connection
from tests.web.conftest import NOW, PASSWORD, set_password
from tests.web.test_browser import browser, server, shot  # noqa: F401 (fixtures)
from tests.web.test_manager import book_top_slot
from tests.web.test_manager_pages import book_and_debrief


@pytest.fixture
def problems() -> list[str]:
    return []


@contextmanager
def signed_in(
    chromium: Browser, base_url: str, problems: list[str], email: str, *, script: bool = True
) -> Iterator[Page]:
    """A fresh context signed in as ``email``; console errors (CSP refusals) collected."""
    context = chromium.new_context(
        base_url=base_url, java_script_enabled=script, viewport={"width": 1200, "height": 900}
    )
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    yield page
    context.close()


def test_no_common_hours_shows_why_and_the_ways_out(
    browser,  # noqa: F811 (the fixture imported above)
    server,  # noqa: F811
    client,
    make_org,
    database,
    problems,
):
    org = make_org(client, reps=(("ravi@acme.test", "Ravi", "Asia/Kolkata"),))
    with database.session() as db:
        manager = db.get(Person, org.manager_id)
        manager.zone = "America/Los_Angeles"
        manager.working_hours = {str(day): [["08:00", "17:00"]] for day in range(5)}
        db.get(Person, org.rep_ids[0]).working_hours = {
            str(day): [["10:00", "18:00"]] for day in range(5)
        }
    with signed_in(browser, server, problems, org.manager_email) as page:
        page.get_by_role("row", name="Ravi").get_by_role("link", name="Find a weekly slot").click()
        expect(page.get_by_role("heading", name="No time inside both working days")).to_be_visible()
        rows = page.locator("#gap-table tbody tr")
        expect(rows.nth(0)).to_contain_text("You")
        expect(rows.nth(0)).to_contain_text("Tue 08:00 PST–Tue 17:00 PST")
        expect(rows.nth(1)).to_contain_text("Ravi")
        expect(rows.nth(1)).to_contain_text("Tue 10:00 IST–Tue 18:00 IST")
        expect(page.locator(".day-bar")).to_have_count(2)
        expect(page.get_by_text("Wider hours: Ravi working until")).to_be_visible()
        expect(page.get_by_text("A shorter meeting does not help")).to_be_visible()
        shot(page, "no-common-hours")
        # keyboard only: the way out to the account page is reachable and followed
        link = page.get_by_role("link", name="Change your working hours")
        link.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert problems == []


def test_own_items_done_and_a_week_cancelled_without_javascript(
    browser,  # noqa: F811
    server,  # noqa: F811
    client,
    make_org,
    database,
    clock,
    problems,
):
    org = make_org(client)
    first, series_url, _ = book_and_debrief(
        client,
        org,
        database,
        (
            ("Send the pricing memo", "manager", date(2026, 10, 28)),
            ("Book the QBR room", "manager", date(2026, 11, 20)),
            ("Update the CRM", "rep", date(2026, 10, 27)),
            ("Call Initech", "rep", date(2026, 11, 30)),
        ),
    )
    clock.now = NOW + timedelta(days=10)  # Thursday 29 October: two items are overdue
    with signed_in(browser, server, problems, org.manager_email, script=False) as page:
        page.get_by_role("link", name="Action items").click()
        memo = page.get_by_role("row", name="Send the pricing memo")
        expect(memo).to_contain_text("Overdue")
        expect(page.get_by_role("row", name="Update the CRM")).to_contain_text("George ticks")
        memo.get_by_role("link", name="Mark done").click()
        expect(page.get_by_role("heading", name="Mark this action item done?")).to_be_visible()
        page.get_by_role("button", name="Yes, mark it done").click()
        expect(page.get_by_text("Done: Send the pricing memo")).to_be_visible()
        expect(page.get_by_role("heading", name="Your items done lately")).to_be_visible()
        shot(page, "manager-open-items")
        done_lately = page.get_by_role("region", name="Your items done lately")
        done_lately.get_by_role("button", name="Reopen").click()
        expect(page.get_by_text("Reopened: Send the pricing memo")).to_be_visible()

        # on the session page too, and "No, keep it open" changes nothing
        page.goto(f"/manager/sessions/{first.id}")
        items = page.get_by_role("region", name="Action items from this 1:1")
        items.get_by_role("link", name="Mark done: Book the QBR room").click()
        page.get_by_role("link", name="No, keep it open").click()
        expect(page.get_by_role("heading", name="1:1 with George")).to_be_visible()
        items.get_by_role("link", name="Mark done: Book the QBR room").click()
        page.get_by_role("button", name="Yes, mark it done").click()
        expect(page.get_by_text("Done: Book the QBR room")).to_be_visible()

        # cancelling a week asks first and keeps the reason
        page.goto(series_url)
        page.get_by_role("link", name="Cancel this week").first.click()
        expect(page.get_by_role("heading", name="Cancel this week's 1:1?")).to_be_visible()
        page.get_by_label("Why").fill("Customer offsite")
        page.get_by_role("button", name="Yes, cancel this week").click()
        expect(page.get_by_text("Cancelled this week's 1:1")).to_be_visible()
        expect(page.get_by_text("“Customer offsite”")).to_be_visible()
    with database.session() as db:
        done = {i.text: i.done_at for i in db.scalars(select(ActionItem))}
    assert done["Send the pricing memo"] is None and done["Book the QBR room"] is not None

    set_password(database, "george@acme.test")
    with signed_in(browser, server, problems, "george@acme.test", script=False) as rep:
        rep.get_by_role("link", name="My actions").click()
        expect(rep.get_by_role("row", name="Update the CRM")).to_contain_text("Overdue")
        expect(rep.get_by_role("row", name="Call Initech")).not_to_contain_text("Overdue")
    assert problems == []


def test_the_series_page_says_a_declined_week_in_words(
    browser,  # noqa: F811
    server,  # noqa: F811
    client,
    make_org,
    database,
    calendar,
    problems,
):
    """A week the rep declined reads "Declined · upcoming week" (never "Clear"), in words
    beside its colour; docs/screenshots/series-declined-week.png is this page."""
    org = make_org(client)
    answer, _ = book_top_slot(client, org.rep_ids[1])
    with database.session() as db:
        weeks = db.scalars(select(Session).order_by(Session.scheduled_start)).all()
        connection_id = db.scalar(select(CalendarConnection.id))
    calendar.feed.append(
        CalendarChange(
            kind=ChangeKind.ATTENDEE_RESPONDED,
            series_id=weeks[0].series_id,
            provider_event_id="e",
            original_start=weeks[1].scheduled_start,
            response=Response.DECLINED,
            attendee_email="lena@acme.test",
        )
    )
    sync_connection(database, calendar, org_id=org.org_id, connection_id=connection_id, now=NOW)
    with signed_in(browser, server, problems, org.manager_email) as page:
        page.goto(answer.headers["Location"])
        declined = page.get_by_role("row").filter(has_text="Declined · upcoming week")
        expect(declined).to_have_count(1)
        expect(declined).not_to_contain_text("Clear")
        shot(page, "series-declined-week")
    assert problems == []
