"""Joining in a real browser (Debian's Chromium through Playwright): "Continue with Google"
against the Google emulator, then the invitation page — decline one organisation, accept
another — and the calendar connected only where the person accepted."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from scheduler.models import CalendarConnection
from tests.emulators.google import GoogleEmulator
from tests.web.test_accessibility_browser import axe_violations
from tests.web.test_browser import browser, shot  # noqa: F401 (fixtures)
from tests.web.test_joining import VIC, org_id, organisation, row
from web.app import create_app


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator({VIC: "Vic Tim"}) as google:
        yield google


@pytest.fixture
def served(settings, database, clock, emulator) -> Iterator[tuple[Flask, str]]:
    """The app with Google at its emulator, on 127.0.0.1 on a free port: its base URL (the
    consent's redirect URI) is the port the server got."""
    apps: list[Flask] = []

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        return apps[0](environ, start_response)

    http = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base_url = f"http://127.0.0.1:{http.server_port}"
    apps.append(
        create_app(
            dataclasses.replace(settings, base_url=base_url, google=emulator.settings()),
            database=database,
            clock=clock,
        )
    )
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield apps[0], base_url
    http.shutdown()
    thread.join(timeout=5)


def test_the_invitation_page_declines_one_organisation_and_joins_another(
    browser,  # noqa: F811 (the fixture imported above)
    served,
    emulator,
    database,
):
    app, base_url = served
    organisation(app, "mallory@evil.test", "Mallory", "Evil Corp", (VIC, "Vic"))
    organisation(app, "ada@acme.test", "Ada", "Acme", (VIC, "Vic"))
    emulator.consenting_user = VIC
    problems: list[str] = []
    # The emulator's certificate is signed by the test's own throwaway CA.
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1200, "height": 900}, ignore_https_errors=True
    )
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/signin")
    page.get_by_role("link", name="Continue with Google").click()

    expect(page.get_by_role("heading", name="Which organisation?")).to_be_visible()
    expect(page.get_by_role("heading", name="Join Evil Corp?")).to_be_visible()
    expect(page.get_by_text("Added by Mallory, mallory@evil.test.")).to_be_visible()
    expect(page.get_by_text("Added by Ada, ada@acme.test.")).to_be_visible()
    assert axe_violations(page) == []  # the join page, checked where a consent reaches it
    shot(page, "join-invitations")
    assert _connections(database) == []  # nothing stored before the answer

    page.get_by_role("button", name="Decline Evil Corp").click()
    expect(page.get_by_text("Declined: that organisation will not ask you again.")).to_be_visible()
    expect(page.get_by_role("heading", name="Join Evil Corp?")).to_have_count(0)
    expect(page.get_by_text("You declined: Evil Corp.")).to_be_visible()

    page.get_by_role("button", name="Accept: join Acme").click()
    expect(page.get_by_role("heading", name="Your team")).to_be_visible()
    expect(page.get_by_text(f"Your Google calendar ({VIC}) is connected.")).to_be_visible()
    shot(page, "join-accepted")
    context.close()

    acme_vic = row(database, "Acme")
    assert acme_vic.joined_at is not None
    assert row(database, "Evil Corp").declined_at is not None
    (connection,) = _connections(database)
    assert connection.organization_id == org_id(database, "Acme") == acme_vic.organization_id
    assert problems == []


def _connections(database) -> list[CalendarConnection]:  # type: ignore[no-untyped-def]
    with database.session() as db:
        return list(db.scalars(select(CalendarConnection)))
