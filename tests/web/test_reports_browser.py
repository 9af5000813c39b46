"""The report pages in a real browser (Debian's Chromium through Playwright), served from a thread.

The admin of the hand-built history (tests/scheduler/reports/conftest.py, every figure known)
opens the overview, narrows it to Matt, and downloads his CSV. The overview's screenshot goes
to ``artifacts/``; docs/screenshots/reports-overview.png is a copy of it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import expect

from tests.web.conftest import PASSWORD
from tests.web.test_browser import browser, new_page, server, shot  # noqa: F401 (fixtures)
from tests.web.test_reports import RANGE, signable_history

OVERVIEW_SHOT = "08-reports-overview"


def test_admin_reads_the_overview_narrows_to_a_manager_and_downloads_csv(
    browser,  # noqa: F811 (the fixture imported above)
    server,  # noqa: F811
    database,
    clock,
    tmp_path: Path,
):
    history = signable_history(database, clock)
    problems: list[str] = []
    page = new_page(browser, server, problems)

    page.goto("/signin")
    page.get_by_label("Email").fill(f"ada@{history.org_id[:8]}.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url)

    # The organisation: 7 of 17 expected 1:1s held; Patrick 67%, Matt 13%, Nina no data.
    page.goto(f"/reports/?{RANGE}")
    expect(page.get_by_role("heading", name="Who holds their weekly 1:1s")).to_be_visible()
    expect(page.get_by_text("(7 of 17 expected 1:1s held)")).to_be_visible()
    expect(page.get_by_text("Median manager: 40%")).to_be_visible()
    trend = page.locator("svg").filter(has_text="Consistency score per week")
    bars = page.locator("svg").filter(has_text="Consistency score by manager")
    expect(trend).to_be_visible()
    expect(bars).to_be_visible()
    table = page.get_by_role("table").filter(has_text="Ranked by consistency score")
    names = table.locator("tbody tr td:first-child").all_inner_texts()
    assert names == ["Patrick", "Matt", "Nina"]
    expect(table.get_by_role("row", name="Patrick")).to_contain_text("67%")
    expect(table.get_by_role("row", name="Matt")).to_contain_text("13%")
    shot(page, OVERVIEW_SHOT)

    # Narrow to Matt with the range form: the weeks stay, only his 1:1s remain.
    page.get_by_label("Manager", exact=True).select_option(label="Matt")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="1:1s of Matt")).to_be_visible()
    assert f"manager={history.matt}" in page.url and "from=2026-09-14" in page.url
    expect(page.get_by_text("(1 of 8 expected 1:1s held)")).to_be_visible()
    expect(page.get_by_text("3 agreed")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "overview-2026-09-14-2026-10-19.csv"
    saved = tmp_path / "overview.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(r["name"], r["score"], r["expected"], r["held"]) for r in rows] == [
        ("Matt", "0.1250", "8", "1")
    ]
    matt = rows[0]
    assert (matt["undocumented"], matt["declined"], matt["rescheduled"], matt["stopped"]) == (
        "3", "1", "1", "1",
    )  # fmt: skip
    assert (matt["cancelled_by_unknown"], matt["excused"], matt["upcoming"]) == ("1", "1", "1")
    assert (matt["items_created"], matt["items_completed"], matt["items_overdue"]) == (
        "3", "0", "3",
    )  # fmt: skip

    assert problems == []
