"""The pages in a real browser (Debian's Chromium through Playwright), served from a thread.

One story: a manager signs up, adds two reps, books the top slot, sees a conflict and moves
that week, records a debrief with three action items; the rep opens the agenda link with no
account and adds a talking point; the admin opens connection health. Screenshots go to
``artifacts/`` (the best are copied to docs/screenshots/ by hand).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from scheduler.crypto import TokenCipher
from scheduler.models import Person, Provider, Session
from scheduler.usecases.connections import save_connection
from tests.web.conftest import NOW, PASSWORD, mailed_link

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app on 127.0.0.1 on a free port, in a thread, for the length of one test."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def new_page(browser: Browser, base_url: str, problems: list[str]) -> Page:
    """A fresh browser context (no cookies); console errors, such as CSP refusals, collected."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_load_state("load")  # the stylesheet decides the full page's height
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def confirm_and_sign_in(page: Page, app, email: str) -> None:  # type: ignore[no-untyped-def]
    """After sign-up: follow the link mailed to ``email`` (read from the outbox), sign in."""
    expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
    page.goto(mailed_link(app, email, "verify-email"))
    expect(page.get_by_text("Your email is confirmed: sign in.")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_week_of_cadence_in_the_browser(
    browser, server, app, database, settings, calendar, clock
):
    problems: list[str] = []
    page = new_page(browser, server, problems)

    # The manager signs up; the first person creates the organisation.
    page.goto("/signup")
    page.get_by_label("Your name").fill("Patrick")
    page.get_by_label("Work email").fill("pat@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your time zone").select_option("America/New_York")
    page.get_by_label("Organisation name").fill("Acme")
    shot(page, "01-sign-up")
    page.get_by_role("button", name="Create account").click()
    confirm_and_sign_in(page, app, "pat@acme.test")
    expect(page.get_by_role("heading", name="Your team")).to_be_visible()

    # The calendar consent itself is covered against the Google emulator (test_google_sign_in).
    with database.session() as db:
        pat = db.scalar(select(Person).where(Person.email == "pat@acme.test"))
    save_connection(
        database,
        TokenCipher(settings.token_keys),
        org_id=pat.organization_id,
        person_id=pat.id,
        provider=Provider.GOOGLE,
        account_email=pat.email,
        grant=b"{}",
        now=NOW,
    )

    for email, name, zone in (
        ("george@acme.test", "George", "America/New_York"),
        ("lena@acme.test", "Lena", "Europe/London"),
    ):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Name").fill(name)
        page.get_by_label("Their time zone").select_option(zone)
        page.get_by_role("button", name="Add rep").click()
        expect(page.get_by_role("status").first).to_contain_text("is on your team")
    shot(page, "02-team")

    # Lena's slot: proposals in both zones, book the best.
    page.get_by_role("row", name="Lena").get_by_role("link", name="Find a weekly slot").click()
    expect(page.get_by_text("Best", exact=True)).to_be_visible()
    expect(page.get_by_text("(Europe/London)").first).to_be_visible()
    shot(page, "03-proposals")
    page.get_by_role("button", name="Book").first.click()
    expect(page.get_by_text("Booked: the 1:1 with Lena")).to_be_visible()

    # A dentist appointment lands on her third week: the conflict shows, move that week.
    with database.session() as db:
        third = db.scalars(select(Session).order_by(Session.scheduled_start)).all()[2]
    dentist = third.scheduled_start - timedelta(minutes=15)
    calendar.add_busy("lena@acme.test", dentist, dentist + timedelta(hours=1), label="Dentist")
    # The page answers from the busy time read for the proposals: "Refresh now" reads it again.
    page.get_by_role("button", name="Refresh now").click()
    expect(page.get_by_text("Availability read just now.")).to_be_visible()
    expect(page.get_by_text("Dentist")).to_be_visible()
    shot(page, "04-series-conflict")
    page.get_by_role("button", name="Move to").first.click()
    expect(page.get_by_text("Moved this week's 1:1")).to_be_visible()
    expect(page.get_by_text("Moved · upcoming week", exact=True)).to_be_visible()
    assert calendar.calls["move_occurrence"] == 1

    # The first session's debrief, once the 1:1 has begun: notes and three action items.
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    clock.now = first.scheduled_start + timedelta(minutes=25)
    page.reload()
    page.get_by_role("link").filter(has_text="America/New_York").first.click()
    page.get_by_label("Coaching to best practices").fill("Role-played the renewal call.")
    for row, (text, owner) in enumerate(
        (("Send the pricing memo", "You"), ("Call Globex", "Lena"), ("Update the CRM", "Lena"))
    ):
        page.locator(f"#items-{row}-text").fill(text)
        page.locator(f"#items-{row}-owner").select_option(label=owner)
        page.locator(f"#items-{row}-due_date").fill("2026-11-30")
    page.get_by_role("button", name="Save debrief").click()
    expect(page.get_by_text("Debrief recorded")).to_be_visible()
    shot(page, "05-debrief")
    agenda_url = page.get_by_role("link", name="The rep's agenda page").get_attribute("href")

    # Lena opens the agenda from her invite: no account, her own time, adds a talking point.
    rep = new_page(browser, server, problems)
    rep.goto(agenda_url.replace(settings.base_url, server))
    expect(rep.get_by_text("(Europe/London)").first).to_be_visible()
    rep.get_by_label("Add a talking point").fill("The Initech renewal is at risk")
    rep.get_by_role("button", name="Add to the agenda").click()
    expect(rep.get_by_text("The Initech renewal is at risk")).to_be_visible()
    shot(rep, "06-rep-agenda")

    # The admin (Patrick) checks calendar connection health.
    page.get_by_role("link", name="Calendars").click()
    expect(page.get_by_role("heading", name="Calendar connection health")).to_be_visible()
    expect(page.get_by_text("Working")).to_be_visible()
    shot(page, "07-connection-health")

    assert problems == []
