"""The demo's outbox pages in a real browser (Debian's Chromium through Playwright): each
message's HTML part shows in its sandboxed frame as a mail client would show it, its button
opens the app, a script in it never runs; the older link, the recipient filter; axe-core and
the phone width on every demo page (the app's accessibility walk leaves /demo/ to this one,
as only a demo app has it)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import expect

from scheduler.mail import outbox
from scheduler.mail.compose import Action, Para, compose
from scheduler.mail.message import Mail
from tests.demo.test_outbox import START, queue_many, send
from tests.demo.test_signin import app, demo_settings, org  # noqa: F401 (fixtures)
from tests.web.test_accessibility_browser import axe_violations
from tests.web.test_browser import browser, new_page, server, shot  # noqa: F401 (fixtures)

SUBJECT = "Debrief your 1:1 with Alice Nguyen"


def nudge_to(org_id: str, base_url: str) -> Mail:
    """A composed email whose button leads to this test's server."""
    return compose(
        org_id=org_id,
        key="debrief-nudge/browser",
        kind="debrief-nudge",
        person=("jordan@northwind.example", "Jordan Reyes", "p1"),
        subject=SUBJECT,
        blocks=[
            Para("Your 1:1 with Alice Nguyen has ended."),
            Action("Debrief this 1:1", f"{base_url}/signin"),
        ],
        unsubscribe_url=f"{base_url}/unsubscribe/not.a.real.link",
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_outbox_pages_show_each_message_as_received_and_pass_axe(
    width: int,
    app: Flask,  # noqa: F811
    org,  # noqa: F811
    database,
    browser,  # noqa: F811
    server,  # noqa: F811
):
    queue_many(database, org[0], 60, "alice@northwind.example")
    message_id = send(app, nudge_to(org[0], server))
    problems: list[str] = []
    page = new_page(browser, server, problems)
    page.set_viewport_size({"width": width, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path))
    found: list[str] = []
    wider: list[str] = []

    def check(where: str) -> None:
        expect(page.locator("h1").first).to_be_visible()
        found.extend(axe_violations(page))
        if page.evaluate("document.documentElement.scrollWidth") > width:
            wider.append(where)

    page.goto("/demo/")
    check("people")
    page.get_by_role("link", name="outbox").click()
    check("outbox")
    page.get_by_label("Recipient").fill("alice@northwind.example")
    page.get_by_role("button", name="Show their mail").click()
    expect(
        page.get_by_role("heading", name="Outbox: mail to alice@northwind.example")
    ).to_be_visible()
    expect(page.get_by_role("article")).to_have_count(50)
    check("one recipient")
    shot(page, f"demo-outbox-{width}")
    page.get_by_role("link", name="Older messages").click()
    expect(page.get_by_role("article")).to_have_count(10)
    check("older")
    page.get_by_role("link", name="Everyone's mail").click()

    page.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_role("heading", name=SUBJECT, level=1)).to_be_visible()
    frame = page.frame_locator(f'iframe[title="The email as HTML: {SUBJECT}"]')
    button = frame.get_by_role("link", name="Debrief this 1:1")
    expect(button).to_be_visible()
    check("message")
    shot(page, f"demo-outbox-message-{width}")
    button.click()  # the whole tab goes to the app, out of the frame
    page.wait_for_url(f"{server}/signin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    assert found == []
    assert wider == []
    assert problems == []
    # Every GET page of the demo was opened here (the frame's part among them).
    adapter = app.url_map.bind("localhost")
    opened = {adapter.match(path)[0] for path in requested if path.startswith("/demo/")}
    demo_pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/demo/") and "GET" in (rule.methods or ())
    }
    assert demo_pages - opened == set()
    assert f"/demo/outbox/{message_id}/html" in requested


def test_a_script_in_an_html_part_never_runs(
    app: Flask,  # noqa: F811
    org,  # noqa: F811
    database,
    browser,  # noqa: F811
    server,  # noqa: F811
):
    """Cadence escapes what it puts in an email; were one to slip through, the frame's
    sandbox and the part's policy still run nothing and reach nothing of the app."""
    hostile = Mail(
        org[0],
        "hostile",
        "test",
        "alice@northwind.example",
        "Hostile",
        "Words.",
        '<p id="words">Words.</p><script>document.getElementById("words").textContent ='
        " document.cookie || 'ran';</script>",
    )
    with database.session() as db:
        message_id = outbox.queue(db, hostile, domain="northwind.example", now=START)
    problems: list[str] = []
    page = new_page(browser, server, problems)
    page.goto(f"/demo/outbox/{message_id}")
    frame = page.frame_locator('iframe[title="The email as HTML: Hostile"]')
    expect(frame.locator("#words")).to_have_text("Words.")
    assert [p for p in problems if not p.startswith("Blocked script execution")] == []
    assert len(problems) == 1  # the sandbox refused the script
