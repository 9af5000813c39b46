"""Property-based run of the JSON API against its own OpenAPI document (schemathesis).

Every generated request — schema-valid and schema-violating alike — must get an answer that
is not a 5xx and that matches the document: listed status codes, JSON bodies valid against
their schemas. (schemathesis' pytest plugin does not load under pytest 9, so the operations
are walked here with Hypothesis directly.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks
from sqlalchemy import select

from scheduler.models import Session
from tests.scheduler.reports.test_defended import record_defence_and_chase
from tests.web.conftest import post
from tests.web.test_manager import book_top_slot
from tests.web.test_reports import RANGE, as_, signable_history

EXAMPLES_PER_OPERATION = 25
# Schema-valid input may still break a rule the document cannot express (an unknown IANA
# zone, a due date before the session, fewer than three action items): those are 422s.
BUSINESS_RULES = checks.positive_data_acceptance


def test_the_api_keeps_to_its_document(app, client, make_org):
    org = make_org(client)
    book_top_slot(client, org.rep_ids[0])
    page = post(client, "/admin/api-tokens", {"name": "fuzz"}, page="/admin/api-tokens").text
    token = re.search(r'id="issued-token" readonly value="([^"]+)"', page).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 16  # 11 + the five report answers

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def keeps_to_the_document(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(headers=headers, excluded_checks=[BUSINESS_RULES])

            keeps_to_the_document()


@pytest.fixture
def history(database, clock):
    return signable_history(database, clock)


def _operation(app, path: str):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path]["GET"]


def strictly_valid(document: dict, name: str, body: object) -> None:
    """Validate ``body`` against the component schema ``name``, formats included.

    schemathesis checks status codes, content types and required fields but lets through a
    field the document does not name; the report and resource schemas say
    ``additionalProperties: false`` and this holds the answers to it.
    """
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    jsonschema_rs.Draft202012Validator(root, validate_formats=True).validate(body)


# Every report answer, on a history with every outcome, item state and stopped reason.
REPORT_ANSWERS = [
    ("/reports/overview", "Overview", f"/api/v1/reports/overview?{RANGE}"),
    ("/reports/overview", "Overview", "/api/v1/reports/overview?manager={matt}&" + RANGE),
    ("/reports/skipped", "SkippedPage", f"/api/v1/reports/skipped?{RANGE}&limit=3"),
    ("/reports/skipped", "SkippedPage",
     f"/api/v1/reports/skipped?{RANGE}&outcome=cancelled&outcome=stopped"),
    ("/reports/stopped", "StoppedCadences", "/api/v1/reports/stopped"),
    ("/reports/reps/{rep_id}", "RepReport", "/api/v1/reports/reps/{george}?" + RANGE),
    ("/reports/reps/{rep_id}", "RepReport", "/api/v1/reports/reps/{ann}?" + RANGE),
    ("/reports/digest", "Digest", "/api/v1/reports/digest"),
    ("/reports/digest", "Digest", "/api/v1/reports/digest?week=2026-09-21"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "name", "url"), REPORT_ANSWERS)
def test_report_answers_keep_to_the_document(app, client, database, history, path, name, url):
    record_defence_and_chase(database, history)  # conflicts and nudges in every answer
    answer = as_(client, history, "ada").get(url.format(**vars(history)))
    assert answer.status_code == 200
    _operation(app, path).validate_response(answer)
    strictly_valid(client.get("/api/v1/openapi.json").get_json(), name, answer.get_json())


def test_report_errors_keep_to_the_document(app, client, history):
    overview, rep = _operation(app, "/reports/overview"), _operation(app, "/reports/reps/{rep_id}")
    signed_out = client.get("/api/v1/reports/overview")
    as_(client, history, "ada")
    bad_date = client.get("/api/v1/reports/overview?from=20260914")
    elsewhere = client.get(f"/api/v1/reports/reps/{history.other_org_id}")
    bad_limit = client.get("/api/v1/reports/skipped?limit=501")
    rep_asks = as_(app.test_client(), history, "george").get("/api/v1/reports/overview")
    expected = [(signed_out, 401), (bad_date, 400), (elsewhere, 404), (bad_limit, 400),
                (rep_asks, 403)]  # fmt: skip
    assert [answer.status_code for answer, _ in expected] == [status for _, status in expected]
    document = client.get("/api/v1/openapi.json").get_json()
    for answer, _ in expected:
        (rep if answer is elsewhere else overview).validate_response(answer)
        strictly_valid(document, "Error", answer.get_json())


def test_session_answers_carry_the_cancel_reason_and_keep_to_the_document(app, client, make_org):
    """A week cancelled with a reason says why in the API, as the pages and reports do; the
    other weeks say "". Both answers hold strictly to the document's Session."""
    org = make_org(client)
    book_top_slot(client, org.rep_ids[0])
    listing = client.get("/api/v1/sessions").get_json()["data"]
    first, second = listing[0]["id"], listing[1]["id"]
    cancel = f"/manager/sessions/{second}/cancel"
    post(client, cancel, {"reason": "Lena is at a customer all day"}, page=cancel)

    document = client.get("/api/v1/openapi.json").get_json()
    answers = [client.get("/api/v1/sessions"), client.get(f"/api/v1/sessions/{second}")]
    for path, answer in zip(("/sessions", "/sessions/{session_id}"), answers, strict=True):
        _operation(app, path).validate_response(answer)
    listed = answers[0].get_json()["data"]
    for row in [*listed, answers[1].get_json()["data"]]:
        strictly_valid(document, "Session", row)
    reasons = {row["id"]: row["cancel_reason"] for row in listed}
    assert (reasons[first], reasons[second]) == ("", "Lena is at a customer all day")
    assert answers[1].get_json()["data"]["cancel_reason"] == "Lena is at a customer all day"


def test_people_series_and_action_items_keep_strictly_to_the_document(
    app, client, make_org, database, clock
):
    """Every answer carrying a person, a series or an action item, reads and writes alike,
    holds strictly to the document's schema: no field the document does not name, none it
    requires missing (an item done and one open, a rep and a manager-admin)."""
    org = make_org(client)
    book_top_slot(client, org.rep_ids[0])
    page = post(client, "/admin/api-tokens", {"name": "shapes"}, page="/admin/api-tokens").text
    token = re.search(r'id="issued-token" readonly value="([^"]+)"', page).group(1)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    with database.session() as db:
        first = db.scalars(select(Session).order_by(Session.scheduled_start)).first()
    clock.now = first.scheduled_end
    items = [
        {"text": f"Item {i}", "owner": owner, "due_date": "2026-11-30"}
        for i, owner in enumerate(("manager", "rep", "rep"))
    ]
    debrief = api.put(
        f"/api/v1/sessions/{first.id}/debrief", json={"action_items": items}, headers=headers
    )
    item = f"/api/v1/action-items/{debrief.get_json()['data'][0]['id']}"
    new_rep = {"email": "ann@acme.test", "name": "Ann", "zone": "Europe/Paris"}
    answers = [
        ("PUT", "/sessions/{session_id}/debrief", "ActionItem", debrief),
        ("PATCH", "/action-items/{item_id}", "ActionItem",
         api.patch(item, json={"done": True}, headers=headers)),
        ("GET", "/action-items", "ActionItem", api.get("/api/v1/action-items", headers=headers)),
        ("GET", "/people", "Person", api.get("/api/v1/people", headers=headers)),
        ("GET", "/people/{person_id}", "Person",
         api.get(f"/api/v1/people/{org.manager_id}", headers=headers)),
        ("POST", "/people", "Person", api.post("/api/v1/people", json=new_rep, headers=headers)),
        ("GET", "/series", "Series", api.get("/api/v1/series", headers=headers)),
        ("GET", "/series/{series_id}", "Series",
         api.get(f"/api/v1/series/{first.series_id}", headers=headers)),
    ]  # fmt: skip
    document = client.get("/api/v1/openapi.json").get_json()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for method, path, name, answer in answers:
        assert answer.status_code in (200, 201), (method, path, answer.get_json())
        schema[path][method].validate_response(answer)
        data = answer.get_json()["data"]
        for row in data if isinstance(data, list) else [data]:
            strictly_valid(document, name, row)
    listed_items = answers[2][3].get_json()["data"]
    assert sorted(row["done"] for row in listed_items) == [False, False, True]

    # The checks have teeth: each resource's schema is closed, and requires every field sent.
    for name, row in {name: answer.get_json()["data"] for _, _, name, answer in answers}.items():
        row = row[0] if isinstance(row, list) else row
        with pytest.raises(jsonschema_rs.ValidationError, match="new_field"):
            strictly_valid(document, name, {**row, "new_field": 1})
        for field in row:
            with pytest.raises(jsonschema_rs.ValidationError, match=field):
                strictly_valid(document, name, {k: v for k, v in row.items() if k != field})


def test_a_report_answer_that_drifts_from_the_document_fails(client, history):
    """The checks have teeth: a field the document lacks, or one the answer lacks, fails."""
    body = as_(client, history, "ada").get(f"/api/v1/reports/overview?{RANGE}").get_json()
    document = client.get("/api/v1/openapi.json").get_json()
    strictly_valid(document, "Overview", body)
    overview = document["components"]["schemas"]["Overview"]
    for drift in ("median_score", "new_field"):
        changed = {**overview, "properties": dict(overview["properties"])}
        if drift in changed["properties"]:
            del changed["properties"][drift]  # the answer now carries an undocumented field
        else:
            changed["required"] = [*overview["required"], drift]  # the answer now lacks one
        drifted = {"components": {"schemas": {**document["components"]["schemas"],
                                              "Overview": changed}}}  # fmt: skip
        with pytest.raises(jsonschema_rs.ValidationError, match=drift):
            strictly_valid(drifted, "Overview", body)


# What PostgreSQL cannot store (U+0000) and what no column is long enough for.
ODD_STRINGS = ("x" * 5000, "nul\x00inside")


def _with_each_string_odd(value: object) -> Iterator[object]:
    """``value`` once per string inside it (keys of objects too), that string made odd."""
    if isinstance(value, str):
        yield from ODD_STRINGS
    elif isinstance(value, dict):
        for key, item in value.items():
            for odd in _with_each_string_odd(item):
                yield {**value, key: odd}
            for odd_key in ODD_STRINGS:
                yield {**{k: v for k, v in value.items() if k != key}, odd_key: item}
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for odd in _with_each_string_odd(item):
                yield [*value[:index], odd, *value[index + 1 :]]


def test_long_and_nul_strings_in_every_field_and_parameter_get_a_documented_4xx(
    app, client, make_org
):
    """Beside the generated run (which may or may not draw them), every string of every
    request body, path and query, once 5,000 characters long and once with a NUL: never a
    5xx, always an answer the document describes, on SQLite and PostgreSQL."""
    org = make_org(client)
    book_top_slot(client, org.rep_ids[0])
    page = post(client, "/admin/api-tokens", {"name": "fuzz"}, page="/admin/api-tokens").text
    token = re.search(r'value="(cad_[^"]+)"', page).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    session_id = client.get("/api/v1/sessions", headers=headers).get_json()["data"][0]["id"]
    bodies = {
        ("POST", "/people"): {"email": "ann@acme.test", "name": "Ann", "zone": "UTC"},
        ("POST", "/series"): {
            "rep_id": org.rep_ids[1], "weekday": 1, "local_time": "10:00",
            "first_day": "2026-11-03", "zone": "America/New_York",
        },
        ("PUT", "/sessions/{session_id}/debrief"): {
            "notes": {"Coaching to best practices": "Good call."},
            "action_items": [{"text": "Send the deck", "owner": "manager",
                              "due_date": "2026-11-20"}],
        },
    }  # fmt: skip
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    statuses: set[int] = set()
    for operation in (result.ok() for result in schema.get_all_operations()):
        real = {"session_id": session_id, "rep_id": org.rep_ids[0]}
        path_ids = {p.name: real.get(p.name, "x") for p in operation.path_parameters}
        cases = [
            operation.Case(body=odd, path_parameters=path_ids)
            for odd in _with_each_string_odd(bodies.get((operation.method.upper(), operation.path)))
        ]
        for parameter in [*operation.path_parameters, *operation.query]:
            for odd in ODD_STRINGS:
                where = "path_parameters" if parameter.location == "path" else "query"
                given = {"path_parameters": dict(path_ids), "query": {}}
                given[where][parameter.name] = odd
                body = bodies.get((operation.method.upper(), operation.path))
                extra = {} if body is None else {"body": body}
                cases.append(operation.Case(**given, **extra))
        for case in cases:
            answer = case.call_and_validate(headers=headers, excluded_checks=[BUSINESS_RULES])
            assert answer.status_code < 500
            statuses.add(answer.status_code)
    assert {400, 404, 422} <= statuses
