"""Every page, for each role, in a real browser: axe-core finds no serious or critical
violation, status never rests on colour alone, and the keyboard reaches every action.

The pages are those of the app's own URL map: a test fails when a page is added that no
role here opens. axe-core comes bundled with axe-playwright-python (no download).
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.defend import ConflictState
from scheduler.links import new_nonce, unsubscribe_url
from scheduler.models import ActionItem, Person, Session, SlotConflict
from scheduler.usecases.debrief_chase import debrief_link
from scheduler.usecases.debriefing import record_debrief
from scheduler.usecases.defending import conflict_link_tokens
from scheduler.usecases.rep_items import item_done_link
from tests.web.conftest import PASSWORD, set_password
from tests.web.test_browser import browser, new_page, server  # noqa: F401 (fixtures)
from tests.web.test_manager import book_top_slot
from web.account_links import reset_token
from web.agenda_links import LINK_LIFETIME, agenda_token

AXE = Axe()
BLOCKING = {"serious", "critical"}
# GET pages that are not pages to look at: downloads, JSON, redirects, webhooks, the demo's
# pages (only in demo mode: test_outbox_browser walks them) and the provider round trips.
# /join needs a provider's consent held for it: test_joining_browser runs axe there.
NOT_PAGES = re.compile(
    r"^/(api/|static/|webhooks/|demo/|auth/<|health)|\.csv$|^/$|^/signout$|^/join$"
)
# What says a status: each must carry words, never just a colour.
STATUS_MARKS = ".tag, .flash, .banner, .error, .errors, .conflict, [aria-invalid=true]"


def axe_violations(page: Page) -> list[str]:
    """The serious and critical axe-core violations on the page, one line per element."""
    results = AXE.run(page)
    return [
        f"{page.url.split('?')[0]} {rule['id']} ({rule['impact']}): {node['target']}"
        for rule in results.response["violations"]
        if rule["impact"] in BLOCKING
        for node in rule["nodes"]
    ]


def _wordless_status(page: Page) -> list[str]:
    """Status marks with no words of their own (an invalid field: no message tied to it)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter(el => {
             if (el.matches("[aria-invalid=true]")) {
               const ids = (el.getAttribute("aria-describedby") || "").split(" ");
               return !ids.some(id => id && document.getElementById(id)?.textContent.trim());
             }
             return !el.textContent.trim();
           }).map(el => el.outerHTML.slice(0, 80))""",
        STATUS_MARKS,
    )


def sign_in_page(page: Page, email: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url)


@pytest.fixture
def booked(app: Flask, make_org, database):
    """Patrick (admin and manager) has booked Lena (London); George is not booked yet."""
    client = app.test_client()
    org = make_org(client)
    lena = org.rep_ids[1]
    answer, _ = book_top_slot(client, lena)
    assert answer.status_code == 302
    with database.session() as db:
        session = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    set_password(database, "lena@acme.test")
    return org, session


def _pages(org, session, items: dict[str, str], secret_key: str) -> dict[str, list[str]]:
    """Per role, the pages it opens (each GET page route of the app, with real ids);
    ``items`` is an open action item of each owner ("manager", "rep")."""
    lena, agenda = org.rep_ids[1], f"/agenda/{agenda_token(secret_key, org.org_id, session.id)}"
    return {
        "anyone": [
            "/signin",
            "/signup",
            agenda,
            "/no-such-page",
            "/verify-email?email=lena@acme.test",
            "/verify-email/not.a.real.link",
            "/slot/not.a.real.link",  # a conflict email's link, forged: the refusal page
            "/unsubscribe/not.a.real.link",
            "/password/forgot",
            "/join",  # no consent held: back to the sign-in page
        ],
        "admin and manager": [
            "/manager/team",
            "/manager/team/proposals",
            f"/manager/reps/{org.rep_ids[0]}/slots",
            f"/manager/series/{session.series_id}",
            f"/manager/sessions/{session.id}",
            "/manager/action-items",
            f"/manager/action-items/{items['manager']}/done",
            f"/manager/sessions/{session.id}/cancel",
            "/manager/agenda",
            "/account",
            "/admin/people",
            "/admin/settings",
            "/admin/connections",
            "/admin/api-tokens",
            "/reports/",
            "/reports/skipped",
            "/reports/stopped",
            f"/reports/reps/{lena}",
            "/reports/digest",
        ],
        "rep": [
            "/me",
            "/me/action-items",
            f"/me/action-items/{items['rep']}/done",
            "/account",
            agenda,
        ],
    }


def _debrief_second_week(database, org) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Debrief the second week (as of its end), so each owner has an open action item."""
    with database.session() as db:
        second = db.scalars(select(Session).order_by(Session.scheduled_start)).all()[1]
    due = second.scheduled_start.date() + timedelta(days=7)
    record_debrief(
        database,
        org_id=org.org_id,
        session_id=second.id,
        manager_id=org.manager_id,
        draft=DebriefDraft(
            notes={},
            action_items=(
                ActionItemDraft("Send the pricing deck", "manager", due),
                ActionItemDraft("Call the two stalled accounts", "rep", due),
                ActionItemDraft("Update the forecast", "rep", due),
            ),
        ),
        now=second.scheduled_end,
    )
    with database.session() as db:
        rows = db.scalars(select(ActionItem).where(ActionItem.session_id == second.id)).all()
        return {row.owner.value: row.id for row in rows}


def _mailed_links(database, settings, org, session, items, now) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The pages the emails' links open, per role: a conflict's alternative and an
    unsubscribe page (anyone holding the email), a nudge's debrief link (the manager), a
    Monday email's mark-done link (the rep)."""
    nonce = new_nonce()
    with database.session() as db:
        row = SlotConflict(
            organization_id=org.org_id,
            session_id=session.id,
            series_id=session.series_id,
            manager_id=session.manager_id,
            rep_id=session.rep_id,
            week_start=session.week_start,
            occurrence_start=session.scheduled_start,
            detected_at=now,
            fingerprint="a11y",
            busy=[],
            alternatives=[(session.scheduled_start + timedelta(hours=2)).isoformat()],
            state=ConflictState.MAILED,
            mailed_at=now,
            link_nonce=nonce,
        )
        db.add(row)
        db.flush()
        moves, _ = conflict_link_tokens(settings.secret_key, row, nonce)
        item = db.get(ActionItem, items["rep"])
        done = item_done_link(settings, item=item, now=now)
    stop = unsubscribe_url(
        settings, org_id=org.org_id, person_id=session.manager_id, kind="conflict", now=now
    )
    nudge = debrief_link(
        settings, org_id=org.org_id, session_id=session.id, manager_id=session.manager_id, now=now
    )
    return {
        "anyone": [f"/slot/{moves[0][1]}", urlsplit(stop).path],
        "admin and manager": [urlsplit(nudge).path],
        "rep": [urlsplit(done).path],
    }


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_of_every_role_passes_axe(
    width: int,
    app: Flask,
    browser,  # noqa: F811 (the fixture imported above)
    server,  # noqa: F811
    booked,
    settings,
    clock,
    database,
):
    org, session = booked
    items = _debrief_second_week(database, org)
    pages = _pages(org, session, items, settings.secret_key)
    for role, paths in _mailed_links(database, settings, org, session, items, clock.now).items():
        pages[role] += paths
    with database.session() as db:
        lena = db.scalars(select(Person).where(Person.email == "lena@acme.test")).one()
        reset = reset_token(
            settings.secret_key,
            org_id=lena.organization_id,
            person_id=lena.id,
            password_hash=lena.password_hash,
            now=clock.now,
        )
    pages["anyone"].append(f"/password/reset/{reset}")
    problems: list[str] = []
    found: list[str] = []
    wordless: list[str] = []
    wider: list[str] = []

    def open_as(email: str | None) -> Page:
        page = new_page(browser, server, problems)
        page.set_viewport_size({"width": width, "height": 900})
        if email:
            sign_in_page(page, email)
        return page

    def check(page: Page, path: str) -> None:
        page.goto(path)
        expect(page.locator("h1").first).to_be_visible()
        found.extend(axe_violations(page))
        # Nothing widens the page past the screen (wide tables scroll inside their wrap).
        if page.evaluate("document.documentElement.scrollWidth") > width:
            wider.append(path)
        wordless.extend(f"{path}: {html}" for html in _wordless_status(page))

    anyone = open_as(None)
    for path in pages["anyone"]:
        check(anyone, path)
    # A form sent back with its errors, and a link past its time.
    anyone.goto("/signin")
    anyone.get_by_label("Email").fill("pat@acme.test")
    anyone.get_by_label("Password").fill("not the password")
    anyone.get_by_role("button", name="Sign in").click()
    found.extend(axe_violations(anyone))
    wordless.extend(_wordless_status(anyone))

    manager = open_as(org.manager_email)
    for path in pages["admin and manager"]:
        check(manager, path)
    # Two charts on one page, each named by its own title (not both by the first one's).
    manager.goto("/reports/")
    for title in ("Consistency score per week", "Consistency score by manager"):
        expect(manager.get_by_role("img", name=title, exact=True)).to_have_count(1)
    # The debrief sent back with errors beside its fields (once the 1:1 has begun: before,
    # a debrief is refused outright).
    clock.now = session.scheduled_end + timedelta(minutes=5)
    manager.goto(f"/manager/sessions/{session.id}")
    manager.get_by_role("button", name="Save debrief").click()
    expect(manager.get_by_role("alert")).to_be_visible()
    found.extend(axe_violations(manager))
    wordless.extend(_wordless_status(manager))

    rep = open_as("lena@acme.test")
    for path in pages["rep"]:
        check(rep, path)

    clock.now = session.scheduled_start + LINK_LIFETIME + timedelta(days=1)
    check(anyone, pages["anyone"][2])
    expect(anyone.get_by_role("heading", name="This agenda link has expired")).to_be_visible()

    assert found == []
    assert wordless == []
    assert wider == []
    # The console reports the pages' own error statuses (the missing page, the refused forms,
    # the expired link) and nothing else.
    assert [p for p in problems if not re.search(r"status of (400|404|410)", p)] == []

    # Every GET page of the app was opened by some role.
    adapter = app.url_map.bind("localhost")
    opened = {adapter.match(path.split("?")[0])[0] for paths in pages.values() for path in paths
              if path != "/no-such-page"}  # fmt: skip
    routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not NOT_PAGES.search(rule.rule)
    }
    assert routes - opened == set()


# Everything a keyboard should reach on the page, in document order.
ACTIONS = """() => [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, [tabindex='0']")]
  .filter(el => !el.disabled && !el.closest("[hidden]") && el.getClientRects().length)
  .map(el => el.outerHTML.slice(0, 120))"""
FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const ringed = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return [el.outerHTML.slice(0, 120), ringed];
}"""


def test_the_keyboard_alone_reaches_and_uses_every_action_of_the_series_page(
    browser,  # noqa: F811
    server,  # noqa: F811
    booked,
    calendar,
    database,
):
    """Tab from the address bar to the end: every link, button and field of the series page
    (with a conflicting week, so its moves are there) takes focus in order, with a visible
    focus ring; the skip link leads to the content; Enter on a move moves that week."""
    org, session = booked
    with database.session() as db:
        third = db.scalars(select(Session).order_by(Session.scheduled_start)).all()[2]
    dentist = third.scheduled_start - timedelta(minutes=15)
    calendar.add_busy("lena@acme.test", dentist, dentist + timedelta(hours=1), label="Dentist")
    problems: list[str] = []
    page = new_page(browser, server, problems)
    sign_in_page(page, org.manager_email)
    page.goto(f"/manager/series/{session.series_id}")
    # The page answers from the stored busy time: "Refresh now" reads both calendars again.
    page.get_by_role("button", name="Refresh now").click()
    expect(page.get_by_text("Dentist")).to_be_visible()
    actions = page.evaluate(ACTIONS)
    assert any("Move to" in a for a in actions) and any('/cancel"' in a for a in actions)

    reached: list[str] = []
    unringed: list[str] = []
    for _ in range(3 * len(actions) + 5):  # bounded: a date field takes a Tab per part
        page.keyboard.press("Tab")
        html, ringed = page.evaluate(FOCUSED)
        if html.startswith("<body"):
            break
        if reached and reached[-1] == html:
            continue  # the day, month and year of one date field
        reached.append(html)
        if not ringed:
            unringed.append(html)
    assert reached == actions
    assert unringed == []

    # The skip link is the first stop and takes focus past the navigation.
    page.goto(f"/manager/series/{session.series_id}")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Enter on the first "Move to" moves the conflicting week.
    move = page.get_by_role("button", name=re.compile("^Move to")).first
    move.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Moved this week's 1:1")).to_be_visible()
    assert calendar.calls["move_occurrence"] == 1
    assert problems == []
