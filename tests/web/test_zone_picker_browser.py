"""The time zone picker in a real browser (Debian's Chromium through Playwright): the browser's
own zone preselected at sign-up, a search that narrows the list, the offer on the account
page, and the plain list still working with JavaScript off. No CSP refusal on the way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from scheduler.models import Person
from tests.web.conftest import PASSWORD
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    browser,
    confirm_and_sign_in,
    server,
    shot,
)


@pytest.fixture
def problems() -> list[str]:
    return []


@contextmanager
def in_zone(
    chromium: Browser, base_url: str, problems: list[str], zone: str, *, script: bool = True
) -> Iterator[Page]:
    """A fresh context whose clock is in ``zone``; console errors (CSP refusals) collected."""
    context = chromium.new_context(
        base_url=base_url,
        timezone_id=zone,
        java_script_enabled=script,
        viewport={"width": 1000, "height": 900},
    )
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()


def sign_up(page: Page, email: str) -> None:
    page.get_by_label("Your name").fill(email.split("@")[0].title())
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organisation name").fill("Acme")


def stored_zone(database, email: str) -> str:
    with database.session() as db:
        return db.scalar(select(Person.zone).where(Person.email == email))


def test_sign_up_preselects_the_browsers_zone(
    browser,  # noqa: F811 (the fixture imported above)
    server,  # noqa: F811
    database,
    problems,
):
    with in_zone(browser, server, problems, "Asia/Tokyo") as page:
        page.goto("/signup")
        zone = page.get_by_label("Your time zone")
        expect(zone).to_have_value("Asia/Tokyo")
        shot(page, "zone-picker-sign-up")
        sign_up(page, "kenji@acme.test")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(lambda url: "/signup" not in url)
    assert stored_zone(database, "kenji@acme.test") == "Asia/Tokyo"
    assert problems == []


def test_the_search_narrows_the_list_to_matching_zones(
    browser,  # noqa: F811
    server,  # noqa: F811
    database,
    problems,
):
    with in_zone(browser, server, problems, "Europe/Paris") as page:
        page.goto("/signup")
        search = page.get_by_label("Search the time zones")
        search.fill("buenos")
        zone = page.get_by_label("Your time zone")
        # The first match is chosen, and only matches are left to pick from.
        expect(zone).to_have_value("America/Argentina/Buenos_Aires")
        visible = zone.evaluate(
            "s => Array.from(s.options).filter(o => !o.hidden).map(o => o.value)"
        )
        assert visible == ["America/Argentina/Buenos_Aires", "America/Buenos_Aires"]
        search.press("Enter")  # chooses; does not submit the form
        assert page.url.endswith("/signup")
        sign_up(page, "ines@acme.test")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(lambda url: "/signup" not in url)
    assert stored_zone(database, "ines@acme.test") == "America/Argentina/Buenos_Aires"
    assert problems == []


def test_the_account_page_offers_the_browsers_zone_when_it_differs(
    browser,  # noqa: F811
    server,  # noqa: F811
    app,
    database,
    problems,
):
    with in_zone(browser, server, problems, "Europe/London") as page:
        page.goto("/signup")
        page.get_by_label("Your time zone").select_option("UTC")
        sign_up(page, "ada@acme.test")
        page.get_by_role("button", name="Create account").click()
        confirm_and_sign_in(page, app, "ada@acme.test")
        page.wait_for_url(lambda url: "/signin" not in url)
        page.goto("/account")
        zone = page.get_by_label("Time zone", exact=True)
        expect(zone).to_have_value("UTC")  # the stored zone, never silently replaced
        offer = page.get_by_role("button", name="Use your browser's zone, Europe/London")
        offer.click()
        expect(zone).to_have_value("Europe/London")
        shot(page, "zone-picker-account")
        page.get_by_role("button", name="Save time zone and hours").click()
        expect(page.get_by_role("status").first).to_contain_text("you are in Europe/London")
    assert stored_zone(database, "ada@acme.test") == "Europe/London"
    assert problems == []


def test_without_javascript_the_list_still_works(
    browser,  # noqa: F811
    server,  # noqa: F811
    database,
    problems,
):
    with in_zone(browser, server, problems, "Asia/Tokyo", script=False) as page:
        page.goto("/signup")
        zone = page.get_by_label("Your time zone")
        expect(zone).to_have_value("UTC")
        expect(page.get_by_label("Search the time zones")).to_be_hidden()
        zone.select_option("Australia/Perth")
        sign_up(page, "olivia@acme.test")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(lambda url: "/signup" not in url)
    assert stored_zone(database, "olivia@acme.test") == "Australia/Perth"
