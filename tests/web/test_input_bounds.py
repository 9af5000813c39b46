"""Every text field has one declared maximum: over it, or with a NUL, the field is named and
nothing is stored, on SQLite and PostgreSQL alike (PostgreSQL used to answer 500)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, inspect, select

from scheduler import text_limits
from scheduler.models import ApiToken, Organization, Person
from tests.web.conftest import post, sign_up
from tests.web.test_api import bearer
from tests.web.test_api_tokens import issue

LONG_NAME = "N" * (text_limits.PERSON_NAME + 100)  # 300 characters


@pytest.fixture
def org(client, make_org):
    return make_org(client)


def error_beside(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', page)
    assert found, f"no error beside {field}"
    return found.group(1)


def people_named(database, name: str) -> int:
    with database.session() as db:
        return db.scalar(select(func.count()).where(Person.name == name))


def test_a_300_character_name_in_the_add_rep_form_is_named_and_not_stored(client, org, database):
    answer = post(
        client,
        "/manager/team/reps",
        {"email": "ann@acme.test", "name": LONG_NAME, "zone": "UTC"},
        page="/manager/team",
    )
    assert answer.status_code == 400
    assert error_beside(answer.get_data(as_text=True), "name") == "At most 200 characters."
    assert people_named(database, LONG_NAME) == 0


def test_a_name_of_exactly_the_maximum_is_stored(client, org, database):
    longest = "M" * text_limits.PERSON_NAME
    answer = post(
        client,
        "/manager/team/reps",
        {"email": "ann@acme.test", "name": longest, "zone": "UTC"},
        page="/manager/team",
    )
    assert answer.status_code == 302
    assert people_named(database, longest) == 1


def test_a_300_character_name_at_sign_up_is_named_and_creates_nothing(client, database):
    answer = sign_up(client, "pat@acme.test", LONG_NAME, "UTC", "Acme")
    assert answer.status_code == 400
    assert error_beside(answer.get_data(as_text=True), "name") == "At most 200 characters."
    long_org = sign_up(client, "pat@acme.test", "Pat", "UTC", "A" * 201)
    assert error_beside(long_org.get_data(as_text=True), "organization") == (
        "At most 200 characters."
    )
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(Organization)) == 0


def test_a_long_zone_is_an_error_beside_the_field_not_a_500(client, org, database):
    answer = post(
        client,
        "/manager/team/reps",
        {"email": "ann@acme.test", "name": "Ann", "zone": "Europe/" + "x" * 300},
        page="/manager/team",
    )
    assert answer.status_code == 400
    assert error_beside(answer.get_data(as_text=True), "zone") == "At most 64 characters."
    just_under = post(
        client,
        "/manager/team/reps",
        {"email": "ann@acme.test", "name": "Ann", "zone": "Europe/" + "x" * 50},
        page="/manager/team",
    )
    assert just_under.status_code == 400
    assert "Unknown time zone" in error_beside(just_under.get_data(as_text=True), "zone")


def test_the_api_names_a_long_field_with_422_and_stores_nothing(client, org, database):
    token = issue(client, "script")
    script = client.application.test_client()
    answer = script.post(
        "/api/v1/people",
        json={"email": "ann@acme.test", "name": LONG_NAME, "zone": "UTC"},
        headers=bearer(token),
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == [
        {"field": "name", "message": "At most 200 characters."}
    ]
    assert people_named(database, LONG_NAME) == 0


def test_long_and_nul_text_in_other_forms_is_named_beside_its_field(client, org, database):
    token = post(
        client, "/admin/api-tokens", {"name": "t" * 101, "expires": ""}, page="/admin/api-tokens"
    )
    assert error_beside(token.get_data(as_text=True), "name") == "At most 100 characters."
    settings = post(
        client,
        "/admin/settings",
        {"join_domain": "d" * 201, "horizon_weeks": "13", "grace_hours": "48"},
        page="/admin/settings",
    )
    assert settings.status_code == 400
    assert error_beside(settings.get_data(as_text=True), "join_domain") == (
        "At most 200 characters."
    )
    caldav = post(
        client,
        "/account/caldav",
        {"url": "https://cal.example/" + "p" * 2100, "username": "pat", "password": "x"},
        page="/account",
    )
    assert caldav.status_code == 400
    assert error_beside(caldav.get_data(as_text=True), "url") == "At most 2048 characters."
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(ApiToken)) == 0
        assert db.get(Organization, org.org_id).join_domain == ""


def upload(client, csv: str):  # type: ignore[no-untyped-def]
    return post(
        client,
        "/manager/team/import",
        {"file": (io.BytesIO(csv.encode()), "team.csv")},
        page="/manager/team",
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("bad_row", "problem"),
    [
        ("pat@acme.test,bob@acme.test,Bo\x00b,UTC", "rep_name: Remove the NUL character (U+0000)."),
        (f"pat@acme.test,bob@acme.test,{LONG_NAME},UTC", "rep_name: At most 200 characters."),
        ("pat@acme.test,bob@acme.test,Bob,Nowhere/Zone", "rep_zone: Unknown time zone"),
    ],
    ids=["nul", "long-name", "unknown-zone"],
)
def test_a_csv_import_with_one_bad_row_imports_nothing_and_names_the_row(
    client, org, database, bad_row, problem
):
    csv = (
        "manager_email,rep_email,rep_name,rep_zone\n"
        "pat@acme.test,ana@acme.test,Ana,Europe/Madrid\n"
        f"{bad_row}\n"
        "pat@acme.test,cy@acme.test,Cy,UTC\n"
    )
    page = upload(client, csv).get_data(as_text=True)
    assert "Nothing was imported" in page
    assert page.count("Fine, not added") == 2 and page.count("Not added") == 1
    assert problem in page.replace("&#39;", "'")
    with database.session() as db:
        added = db.scalars(select(Person.email).where(Person.email.like("%@acme.test"))).all()
    assert "ana@acme.test" not in added and "cy@acme.test" not in added


def test_a_clean_csv_imports_every_row(client, org, database):
    csv = (
        "manager_email,rep_email,rep_name,rep_zone\n"
        "pat@acme.test,ana@acme.test,Ana,Europe/Madrid\n"
        "pat@acme.test,cy@acme.test,Cy,\n"
    )
    page = upload(client, csv).get_data(as_text=True)
    assert "Imported 2 rows." in page and page.count(">Added<") == 2
    with database.session() as db:
        zones = dict(db.execute(select(Person.email, Person.zone)).all())
    assert zones["ana@acme.test"] == "Europe/Madrid"
    assert zones["cy@acme.test"] == "America/New_York"  # the manager's zone


def test_the_migrated_columns_hold_exactly_the_declared_maxima(database):
    """The migrations, not only the models, agree with scheduler/text_limits.py."""
    declared = {
        ("people", "email"): text_limits.EMAIL,
        ("people", "name"): text_limits.PERSON_NAME,
        ("people", "zone"): text_limits.ZONE,
        ("organizations", "name"): text_limits.ORGANIZATION_NAME,
        ("organizations", "zone"): text_limits.ZONE,
        ("organizations", "join_domain"): text_limits.DOMAIN,
        ("api_tokens", "name"): text_limits.API_TOKEN_NAME,
        ("calendar_connections", "account_email"): text_limits.EMAIL,
        ("series", "zone"): text_limits.ZONE,
    }
    schema = inspect(database.engine)
    lengths = {
        (table, column["name"]): getattr(column["type"], "length", None)
        for table, _ in declared
        for column in schema.get_columns(table)
    }
    assert {key: lengths[key] for key in declared} == declared
