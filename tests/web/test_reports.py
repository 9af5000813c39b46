"""Report pages and JSON over HTTP, on the hand-built history of tests/scheduler/reports."""

from __future__ import annotations

import csv
import io

import pytest

from tests.scheduler.reports.conftest import NOW, build_history
from tests.scheduler.reports.test_defended import record_defence_and_chase
from tests.web.conftest import set_password, sign_in

RANGE = "from=2026-09-14&to=2026-10-19"


def signable_history(database, clock):  # type: ignore[no-untyped-def]
    """The hand-built history at its own today, with passwords for Ada, Matt, George, Patrick."""
    clock.now = NOW
    history = build_history(database)
    for name in ("ada", "matt", "george", "patrick"):
        set_password(database, f"{name}@{history.org_id[:8]}.test")
    return history


@pytest.fixture
def history(database, clock):
    return signable_history(database, clock)


def as_(client, history, name: str):
    answer = sign_in(client, f"{name}@{history.org_id[:8]}.test")
    assert answer.status_code == 302
    return client


def test_admin_overview_ranks_managers_with_chart_table_and_downloads(client, history):
    page = as_(client, history, "ada").get(f"/reports/?{RANGE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index(">Patrick</a>") < html.index(">Matt</a>") < html.index(">Nina</a>")
    assert "Median manager: <strong>40%</strong>" in html
    assert "<strong>41%</strong>" in html  # 7 of 17
    assert html.count("<svg") == 2 and "Hatched: below the median" in html
    assert "/reports/overview.csv?" in html and "/reports/skipped.csv?" in html


def test_admin_drills_down_to_a_manager_and_a_rep(client, history):
    client = as_(client, history, "ada")
    matt = client.get(f"/reports/?{RANGE}&manager={history.matt}").get_data(as_text=True)
    assert "1:1s of Matt" in matt and ">Patrick</a>" not in matt  # in the picker only
    rep = client.get(f"/reports/reps/{history.george}?{RANGE}").get_data(as_text=True)
    assert "George: week by week" in rep and "overdue" in rep
    assert f'id="session-{history.sessions[("George", 5)]}"' in rep


def test_manager_sees_only_their_team_whatever_the_query_says(client, history):
    client = as_(client, history, "matt")
    html = client.get(f"/reports/?{RANGE}&manager={history.patrick}").get_data(as_text=True)
    assert "1:1s of Matt" in html and "Patrick" not in html.split("<main")[1]
    skipped = client.get(f"/api/v1/reports/skipped?{RANGE}").get_json()
    assert {row["manager_name"] for row in skipped["rows"]} == {"Matt"}
    assert client.get(f"/reports/reps/{history.george}?{RANGE}").status_code == 404
    stopped = client.get("/api/v1/reports/stopped").get_json()
    assert [row["rep_name"] for row in stopped["rows"]] == ["Ann", "Kai", "Ryan"]


def test_reps_get_no_reports(client, history):
    client = as_(client, history, "george")
    assert client.get("/reports/").status_code == 403
    assert client.get("/api/v1/reports/overview").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, history):
    assert client.get("/reports/").status_code == 302
    assert client.get("/api/v1/reports/overview").status_code == 401


def test_skipped_pages_follow_the_cursor(client, history):
    client = as_(client, history, "ada")
    first = client.get(f"/api/v1/reports/skipped?{RANGE}&limit=4").get_json()
    second = client.get(
        f"/api/v1/reports/skipped?{RANGE}&limit=4&cursor={first['next_cursor']}"
    ).get_json()
    assert [r["rep_name"] for r in first["rows"] + second["rows"]][:6] == [
        "Ryan", "Ryan", "George", "Ryan", "Kai", "Ryan",
    ]  # fmt: skip
    html = client.get(f"/reports/skipped?{RANGE}&limit=4").get_data(as_text=True)
    assert 'rel="next"' in html and "cancelled by rep" in html
    two = f"/reports/skipped?{RANGE}&outcome=cancelled&outcome=undocumented&limit=2"
    second = client.get(two + f"&cursor={first['next_cursor']}").get_data(as_text=True)
    first_link = second.split(">First page<")[0].rsplit('href="', 1)[1]
    assert "outcome=cancelled" in first_link and "outcome=undocumented" in first_link
    assert "cursor" not in first_link
    bad = client.get(f"/api/v1/reports/skipped?{RANGE}&cursor=nonsense")
    assert bad.status_code == 400 and bad.get_json()["error"]["status"] == 400


def test_stopped_cadences_page_in_json_and_html(client, history):
    client = as_(client, history, "ada")
    first = client.get("/api/v1/reports/stopped?limit=2").get_json()
    assert first["stopped_after_weeks"] == 3
    assert [row["rep_name"] for row in first["rows"]] == ["Ann", "Kai"]
    rest = client.get(f"/api/v1/reports/stopped?limit=2&cursor={first['next_cursor']}").get_json()
    assert ([row["rep_name"] for row in rest["rows"]], rest["next_cursor"]) == (["Ryan"], None)
    html = client.get(f"/reports/stopped?manager={history.matt}&limit=2").get_data(as_text=True)
    assert ">Ann</a>" in html and ">Ryan</a>" not in html
    more = html.split('rel="next"')[0].rsplit('href="', 1)[1].replace("&amp;", "&")
    assert f"manager={history.matt}" in more and "cursor=" in more
    page2 = client.get(more).get_data(as_text=True)
    assert ">Ryan</a>" in page2 and ">First page<" in page2 and 'rel="next"' not in page2
    bad = client.get("/api/v1/reports/stopped?cursor=nonsense")
    assert bad.status_code == 400 and "cursor" in bad.get_json()["error"]["detail"]
    assert client.get("/reports/stopped?cursor=nonsense").status_code == 400
    assert client.get("/api/v1/reports/stopped?limit=0").status_code == 400


def test_bad_queries_are_400_with_a_reason(client, history):
    client = as_(client, history, "ada")
    answer = client.get("/api/v1/reports/overview?from=yesterday")
    assert answer.status_code == 400
    assert "from must be a date" in answer.get_json()["error"]["detail"]
    assert client.get("/api/v1/reports/skipped?outcome=held").status_code == 400
    assert client.get("/api/v1/reports/overview?from=2020-01-06&to=2026-10-19").status_code == 400
    assert client.get("/reports/?from=2026-10-19&to=2026-09-14").status_code == 400


def test_json_overview_shape(client, history):
    body = as_(client, history, "ada").get(f"/api/v1/reports/overview?{RANGE}").get_json()
    assert body["score"] == pytest.approx(7 / 17)
    assert [m["name"] for m in body["managers"]] == ["Patrick", "Matt", "Nina"]
    assert body["managers"][0]["items"] == {
        "created": 6, "completed": 3, "completed_on_time": 2, "overdue": 1,
    }  # fmt: skip
    assert body["trend"][0] == {"week_start": "2026-09-14", "expected": 3, "held": 3, "score": 1.0}


def test_csv_downloads_stream(client, history):
    client = as_(client, history, "ada")
    answer = client.get(f"/reports/skipped.csv?{RANGE}&outcome=cancelled")
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["rep_name"] for r in rows] == ["Ryan", "George", "Lena"]
    overview = client.get(f"/reports/overview.csv?{RANGE}").get_data(as_text=True)
    ranked = [(r["name"], r["score"]) for r in csv.DictReader(io.StringIO(overview))]
    assert ranked == [("Patrick", "0.6667"), ("Matt", "0.1250"), ("Nina", "")]


def test_digest_page_and_json(client, history):
    client = as_(client, history, "patrick")
    html = client.get("/reports/digest").get_data(as_text=True)
    assert "Week of Monday 12 October 2026, your team" in html
    assert "cancelled by rep" in html
    body = client.get("/api/v1/reports/digest").get_json()
    assert body["scope"] == "team" and body["skipped_total"] == 1


def test_defended_weeks_and_debrief_chase_agree_in_html_csv_and_json(client, history, database):
    record_defence_and_chase(database, history)
    client = as_(client, history, "ada")
    body = client.get(f"/api/v1/reports/overview?{RANGE}").get_json()
    assert body["conflicts"] == {
        "detected": 8, "moved_by_manager": 1, "moved_automatically": 1, "defended": 2,
        "lost": 3, "resolved": 1,
    }  # fmt: skip
    assert body["debrief_chase"] == {
        "emails": 4, "nudged": 3, "reminded": 1, "debriefed_after_nudge": 1,
    }  # fmt: skip
    html = client.get(f"/reports/?{RANGE}").get_data(as_text=True)
    defend = html.split('id="defend-the-slot"')[1].split("</section>")[0]
    assert "<dt>Conflicts detected</dt><dd>8</dd>" in defend
    assert "<strong>2</strong>\n        (1 moved by the manager, 1 moved automatically)" in defend
    assert "<dt>Lost to a conflict</dt><dd><strong>3</strong></dd>" in defend
    chase = html.split('id="debrief-chase"')[1].split("</section>")[0]
    assert "<dd>4 (3 1:1s nudged, 1 reminded)</dd>" in chase
    assert "<dd><strong>1</strong> of 3</dd>" in chase
    rows = list(csv.DictReader(io.StringIO(client.get(f"/reports/overview.csv?{RANGE}").get_data(
        as_text=True))))  # fmt: skip
    for name, total in body["conflicts"].items():
        assert sum(int(row[f"conflicts_{name}"]) for row in rows) == total
    for name, total in body["debrief_chase"].items():
        column = name if name == "debriefed_after_nudge" else f"debrief_{name}"
        assert sum(int(row[column]) for row in rows) == total
    by_name = {row["name"]: row for row in body["managers"]}
    for row in rows:
        assert int(row["conflicts_lost"]) == by_name[row["name"]]["conflicts"]["lost"]
        assert int(row["debrief_emails"]) == by_name[row["name"]]["debrief_chase"]["emails"]


def test_a_manager_sees_the_defence_and_chase_of_their_own_team(client, history, database):
    record_defence_and_chase(database, history)
    client = as_(client, history, "matt")
    body = client.get(f"/api/v1/reports/overview?{RANGE}&manager={history.patrick}").get_json()
    assert (body["conflicts"]["detected"], body["conflicts"]["lost"]) == (3, 2)
    assert body["conflicts"]["defended"] == 0
    assert body["debrief_chase"]["emails"] == 3
    html = client.get(f"/reports/?{RANGE}").get_data(as_text=True)
    assert "<dt>Conflicts detected</dt><dd>3</dd>" in html
    assert "<dt>Lost to a conflict</dt><dd><strong>2</strong></dd>" in html
    rows = list(csv.DictReader(io.StringIO(client.get(f"/reports/overview.csv?{RANGE}").get_data(
        as_text=True))))  # fmt: skip
    assert [(r["name"], r["conflicts_detected"], r["debrief_nudged"]) for r in rows] == [
        ("Matt", "3", "2")
    ]
    digest = client.get("/api/v1/reports/digest?week=2026-09-21").get_json()
    assert digest["scope"] == "team" and digest["conflicts"]["lost"] == 1
    assert digest["debrief_chase"]["debriefed_after_nudge"] == 1
    page = client.get("/reports/digest?week=2026-09-21").get_data(as_text=True)
    assert "Defend the slot: 1 conflict detected, 0 defended" in page
    assert "Debrief chase: 1 debrief email sent about 1 1:1 (0 reminded)" in page
