"""The report pages fit any screen, measured in a real browser at 390, 1280 and 1600 px wide.

Nothing widens the page (document scrollWidth <= viewport width), every table cell lies
inside its card, charts scale to their container, axe-core finds no serious or critical
violation, and on a phone the per-manager table
stacks (each cell under its column's name) instead of squeezing eleven columns. The
overview at 390 px goes to ``artifacts/``; docs/screenshots/reports-overview-390.png is it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.web.test_accessibility_browser import axe_violations, sign_in_page
from tests.web.test_browser import browser, new_page, server, shot  # noqa: F401 (fixtures)
from tests.web.test_reports import RANGE, signable_history

WIDTHS = (390, 1280, 1600)
PHONE_SHOT = "09-reports-overview-390"

# Every table cell whose box leaves its card's box (a clipped or overflowing table).
CELLS_OUTSIDE_THEIR_CARD = """() => {
  const out = [];
  for (const cell of document.querySelectorAll("main td, main th")) {
    const box = cell.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // hidden: a closed <details>
    const card = cell.closest(".card");
    const edge = card && card.getBoundingClientRect();
    if (!card || box.left < edge.left - 0.5 || box.right > edge.right + 0.5)
      out.push(cell.textContent.trim().slice(0, 40));
  }
  return out;
}"""
# Each chart's width against its container's content width.
CHARTS = """() => [...document.querySelectorAll("main svg[role=img]")].map(svg => {
  const parent = svg.parentElement, style = getComputedStyle(parent);
  const room = parent.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [svg.getBoundingClientRect().width, room];
})"""


def _fits(page: Page, width: int, path: str) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    page.wait_for_load_state("load")
    for details in page.locator("main details").all():  # the charts' tables count too
        details.evaluate("node => { node.open = true; }")
    where = f"{path} at {width} px"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, where
    assert page.evaluate(CELLS_OUTSIDE_THEIR_CARD) == [], where
    for chart, room in page.evaluate(CHARTS):
        assert chart <= room + 0.5, where
    assert axe_violations(page) == [], where  # axe-core, on pages full of figures


@pytest.mark.parametrize("width", WIDTHS)
def test_the_reports_fit_a_phone_a_laptop_and_a_wide_screen(
    browser,  # noqa: F811 (the fixture imported above)
    server,  # noqa: F811
    database,
    clock,
    width: int,
):
    history = signable_history(database, clock)
    problems: list[str] = []
    page = new_page(browser, server, problems)
    sign_in_page(page, f"ada@{history.org_id[:8]}.test")

    for path in (
        f"/reports/skipped?{RANGE}",
        f"/reports/reps/{history.george}?{RANGE}",
        "/reports/stopped",
        "/reports/digest",
        f"/reports/?{RANGE}",  # last: the one photographed
    ):
        _fits(page, width, path)

    table = page.get_by_role("table").filter(has_text="Ranked by consistency score")
    patrick = table.locator("tbody tr").first
    cells = patrick.locator("td")
    row_width = patrick.bounding_box()["width"]
    if width == 390:
        # Stacked: every cell spans the row, named by its column.
        assert all(box["width"] >= row_width - 1 for box in map(_box, cells.all()))
        score = cells.nth(1)
        assert score.evaluate("td => getComputedStyle(td, '::before').content") == '"Score"'
        expect(score).to_contain_text("67%")
        page.reload()  # the tables behind the charts folded again, as a reader finds them
        shot(page, PHONE_SHOT)
    else:
        # Side by side: eleven columns, each a fraction of the row.
        assert cells.count() == 11
        assert all(box["width"] < row_width / 3 for box in map(_box, cells.all()))
    assert problems == []


def _box(locator):  # type: ignore[no-untyped-def]
    return locator.bounding_box()
