"""CSV exports and SVG charts of the hand-built history."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from scheduler.reports import ReportScope, organisation_overview, rep_report
from scheduler.reports.charts import outcome_strip, score_bars, trend_line
from scheduler.reports.export import (
    csv_lines,
    overview_csv,
    rep_csv,
    skipped_csv,
    stopped_csv,
)
from tests.scheduler.reports.conftest import FIRST_WEEK, LAST_WEEK, NOW, TODAY

SVG = "{http://www.w3.org/2000/svg}"


def scope(history, manager_id=None) -> ReportScope:
    return ReportScope(history.org_id, FIRST_WEEK, LAST_WEEK, manager_id)


def parse(lines) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(lines))))


def test_skipped_csv_streams_every_row_newest_first(database, history):
    lines = skipped_csv(database, scope(history))
    assert next(lines).startswith("session_id,series_id,week_start")
    rows = parse(["session_id,series_id,week_start,scheduled_start,outcome,cancelled_by,"
                  "manager_id,manager_name,rep_id,rep_name\r\n", *lines])  # fmt: skip
    assert [(r["rep_name"], r["outcome"]) for r in rows[:3]] == [
        ("Ryan", "stopped"),
        ("Ryan", "cancelled"),
        ("George", "cancelled"),
    ]
    assert len(rows) == 9
    assert rows[2]["cancelled_by"] == "rep" and rows[0]["cancelled_by"] == ""
    assert rows[0]["scheduled_start"] == "2026-10-22T09:00:00+00:00"


def test_overview_csv_matches_the_page(database, history):
    rows = parse(overview_csv(database, scope(history), today=TODAY))
    assert [(r["name"], r["score"], r["expected"], r["held"]) for r in rows] == [
        ("Patrick", "0.6667", "9", "6"),
        ("Matt", "0.1250", "8", "1"),
        ("Nina", "", "0", "0"),
    ]
    assert (rows[0]["cancelled_by_manager"], rows[0]["cancelled_by_rep"]) == ("1", "1")
    assert (rows[1]["items_created"], rows[1]["items_overdue"]) == ("3", "3")


def test_stopped_and_rep_csv(database, history):
    stopped = parse(stopped_csv(database, history.org_id, now=NOW, stopped_after_weeks=3))
    assert [(r["rep_name"], r["reason"], r["days_since_last_held"]) for r in stopped] == [
        ("Ann", "not_booked", ""),
        ("Kai", "not_held", ""),
        ("Ryan", "not_booked", "34"),
    ]
    weeks = parse(rep_csv(database, scope(history), history.kai, today=TODAY))
    assert [w["outcome"] for w in weeks] == ["", "", "undocumented", "undocumented", "excused",
                                             "upcoming"]  # fmt: skip


def test_csv_cells_cannot_become_formulas():
    lines = list(csv_lines(["name"], [["=HYPERLINK(1)"], ["-1"], ["ok"]]))
    assert lines == ["name\r\n", "'=HYPERLINK(1)\r\n", "'-1\r\n", "ok\r\n"]


def test_charts_are_valid_svg_with_labels_not_colour_alone(database, history):
    with database.session() as db:
        overview = organisation_overview(db, scope(history), today=TODAY)
        george = rep_report(db, scope(history), history.george, today=TODAY)
    bars = score_bars(
        [(row.name, row.score) for row in overview.managers],
        median=overview.median_score,
        title="Consistency <by> manager",
    )
    trend = trend_line(overview.trend, title="Organisation, per week")
    strip = outcome_strip(george.strip, title="George")
    for chart in (bars, trend, strip):
        root = ET.fromstring(str(chart))
        assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    texts = [t.text for t in ET.fromstring(str(bars)).iter(f"{SVG}text")]
    assert {"67%", "13%", "—", "median 40%", "Hatched: below the median"} <= set(texts)
    assert "Consistency &lt;by&gt; manager" in str(bars)
    strip_letters = [t.text for t in ET.fromstring(str(strip)).iter(f"{SVG}text")][:6]
    assert strip_letters == ["H", "H", "E", "H", "C", "·"]
    # Six weeks, each with a score (the last one 0 of 1): a marker with its tooltip each.
    markers = [c for c in ET.fromstring(str(trend)).iter(f"{SVG}circle") if len(c)]
    assert [c.find(f"{SVG}title").text for c in markers][-1] == "2026-10-19: 0% (0 of 1)"
    assert len(markers) == 6
