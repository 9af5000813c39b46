"""The longest texts Cadence stores keep every page inside the window (Chromium).

Names as long as the declared maximum with no space to break at, a 5,000-character note,
the longest action items and talking points: each page must wrap or cut them, never widen
past the viewport, on a desktop and on a phone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from scheduler import text_limits
from scheduler.models import Session
from tests.web.conftest import PASSWORD, post
from tests.web.test_browser import browser, new_page, server, shot  # noqa: F401 (fixtures)
from tests.web.test_manager import book_top_slot
from tests.web.test_rep import agenda_path

LONG_NAME = "Bartholomew" * (text_limits.PERSON_NAME // 11)
NOTE = "Pipeline" * (text_limits.NOTE // 8)  # 5,000 characters, no space


@pytest.fixture
def long_story(app, client, make_org, database, settings, clock):  # type: ignore[no-untyped-def]
    org = make_org(
        client,
        name=LONG_NAME,
        organization="O" * text_limits.ORGANIZATION_NAME,
        reps=(("george@acme.test", "G" * text_limits.PERSON_NAME, "America/New_York"),),
    )
    book_top_slot(client, org.rep_ids[0])
    with database.session() as db:
        session = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    clock.now = session.scheduled_end  # a debrief is for a 1:1 that has taken place
    items = {
        f"items-{n}-{key}": value
        for n in range(3)
        for key, value in (
            ("text", "x" * text_limits.ACTION_ITEM),
            ("owner", "manager"),
            ("due_date", "2026-12-01"),
        )
    }
    post(
        client,
        f"/manager/sessions/{session.id}/debrief",
        {"note-0": NOTE, **items},
        page=f"/manager/sessions/{session.id}",
    )
    link = agenda_path(settings, org.org_id, session.id)
    post(client, link, {"text": "t" * text_limits.TALKING_POINT}, page=link)
    return org, session, link


@pytest.mark.parametrize("width", [1200, 390], ids=["desktop", "phone"])
def test_the_longest_texts_never_widen_a_page(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    long_story,
    width: int,
):
    org, session, link = long_story
    problems: list[str] = []
    page = new_page(browser, server, problems)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/signin")
    page.get_by_label("Email").fill(org.manager_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    paths = [
        "/manager/team",
        f"/manager/series/{session.series_id}",
        f"/manager/sessions/{session.id}",
        "/manager/action-items",
        "/admin/people",
        "/reports/",
        link,
    ]
    wider = {}
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("load")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            wider[path] = overflow
    shot(page, f"long-text-agenda-{width}")
    assert wider == {}
    assert problems == []
