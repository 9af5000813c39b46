"""Sign-up, confirming the address and resetting the password in a real browser (Debian's
Chromium through Playwright), the links read from the demo's outbox page as an operator with
no mail server would. No CSP refusal on the way."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.web.conftest import PASSWORD
from tests.web.test_browser import browser, new_page, server, shot  # noqa: F401 (fixtures)
from web.app import create_app
from web.demo.signin import enable_demo_signin

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app(settings, database, calendar, clock) -> Flask:
    """The app as the demo runs it: no SMTP_URL, the outbox page on loopback."""
    demo = create_app(
        dataclasses.replace(settings, demo=True),
        database=database,
        providers=lambda _row: calendar,
        clock=clock,
    )
    enable_demo_signin(demo, host="127.0.0.1")
    return demo


def follow_newest_link(page: Page, subject: str, path: str) -> None:
    """Open the outbox, and the link in the newest message with ``subject`` (on this test's
    server: the message names the configured base URL)."""
    page.goto("/demo/outbox")
    message = page.get_by_role("article", name=subject).first
    href = message.get_by_role("link").filter(has_text=path).get_attribute("href")
    assert href is not None and href.startswith("http://127.0.0.1:5000/")
    page.goto(urlsplit(href).path)


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_up_confirm_the_address_sign_in_then_reset_the_password(
    browser,  # noqa: F811 (the fixture imported above)
    server,  # noqa: F811
):
    problems: list[str] = []
    page = new_page(browser, server, problems)

    page.goto("/signup")
    page.get_by_label("Your name").fill("Patrick")
    page.get_by_label("Work email").fill("pat@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organisation name").fill("Acme")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
    expect(page.get_by_text("We emailed a link to pat@acme.test")).to_be_visible()
    shot(page, "account-confirm-email")

    # Not confirmed yet: the right password is not enough.
    page.goto("/signin")
    sign_in(page, "pat@acme.test", PASSWORD)
    expect(page.get_by_text("Your account is not confirmed yet")).to_be_visible()
    assert problems == [
        "Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"
    ]
    problems.clear()  # the refusal's own status, as expected

    follow_newest_link(page, "Confirm your email for Cadence", "/verify-email/")
    expect(page.get_by_text("Your email is confirmed: sign in.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("pat@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your team")).to_be_visible()

    # Another browser forgot the password: a reset link, a new password.
    other = new_page(browser, server, problems)
    other.goto("/signin")
    other.get_by_role("link", name="Forgot your password?").click()
    other.get_by_label("Email").fill("pat@acme.test")
    other.get_by_role("button", name="Email me a link").click()
    expect(other.get_by_text("a link to choose a new one is on its way")).to_be_visible()
    follow_newest_link(other, "Reset your Cadence password", "/password/reset/")
    expect(other.get_by_role("heading", name="Choose a new password")).to_be_visible()
    other.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    shot(other, "account-reset-password")
    other.get_by_role("button", name="Set the new password").click()
    expect(other.get_by_text("Your password is changed")).to_be_visible()
    sign_in(other, "pat@acme.test", NEW_PASSWORD)
    expect(other.get_by_role("heading", name="Your team")).to_be_visible()

    # The reset signed the first browser out; the used link is dead.
    page.goto("/account")
    expect(page.get_by_role("heading", name="Sign in to Cadence")).to_be_visible()
    follow_newest_link(page, "Reset your Cadence password", "/password/reset/")
    expect(page.get_by_text("expired or was already used")).to_be_visible()
    assert problems == []
