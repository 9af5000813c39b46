"""The demo-only sign-in: refused unless demo and loopback; one click signs in as a person."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.usecases.directory import add_rep, create_organization
from web.app import create_app
from web.demo.signin import DemoInfo, DemoSignInRefused, describe_demo, enable_demo_signin

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@pytest.fixture
def demo_settings(settings):
    return dataclasses.replace(settings, demo=True)


def test_refused_when_the_settings_are_not_demo(settings, database):
    app = create_app(settings, database=database)
    with pytest.raises(DemoSignInRefused, match="CADENCE_DEMO"):
        enable_demo_signin(app, host="127.0.0.1")
    assert "demo" not in app.blueprints


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "demo.example", ""])
def test_refused_when_listening_beyond_loopback(demo_settings, database, host):
    app = create_app(demo_settings, database=database)
    with pytest.raises(DemoSignInRefused, match="loopback"):
        enable_demo_signin(app, host=host)
    assert "demo" not in app.blueprints


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_enabled_on_loopback_in_demo(demo_settings, database, host):
    app = create_app(demo_settings, database=database)
    enable_demo_signin(app, host=host)
    assert "demo" in app.blueprints


@pytest.fixture
def org(database):
    org_id, admin_id = create_organization(
        database,
        name="Northwind Sales",
        admin_email="jordan@northwind.example",
        admin_name="Jordan Reyes",
        zone="America/New_York",
        now=NOW,
    )
    rep_id = add_rep(
        database,
        org_id=org_id,
        manager_id=admin_id,
        email="alice@northwind.example",
        name="Alice Nguyen",
        zone="America/New_York",
        now=NOW,
    )
    return org_id, admin_id, rep_id


@pytest.fixture
def app(demo_settings, database, org) -> Flask:
    app = create_app(demo_settings, database=database)
    enable_demo_signin(app, host="127.0.0.1")
    describe_demo(app, DemoInfo(org[0], "http://127.0.0.1:5232/", "cadence-demo"))
    return app


def signin_form(client: FlaskClient, name: str) -> tuple[str, str]:
    """(action, CSRF token) of the demo page's button for ``name``."""
    page = client.get("/demo/").get_data(as_text=True)
    match = re.search(
        r'action="(/demo/signin/[^"]+)">\s*<input type="hidden" name="csrf_token" '
        rf'value="([^"]+)">\s*<button type="submit" aria-label="Sign in as {name}"',
        page,
    )
    assert match, f"no button for {name}"
    return match.group(1), match.group(2)


def test_one_click_signs_in_as_that_person(app: Flask, org):
    client = app.test_client()
    page = client.get("/demo/").get_data(as_text=True)
    assert "Jordan Reyes" in page and "Alice Nguyen" in page
    assert "http://127.0.0.1:5232/" in page and "cadence-demo" in page

    action, token = signin_form(client, "Alice Nguyen")
    answer = client.post(action, data={"csrf_token": token})

    assert answer.status_code == 302
    with client.session_transaction() as session:
        assert session["person_id"] == org[2]
    assert "Alice Nguyen" in client.get(answer.location).get_data(as_text=True)


def test_signing_in_needs_the_csrf_token(app: Flask, org):
    client = app.test_client()
    action, _ = signin_form(client, "Jordan Reyes")
    assert client.post(action).status_code == 400
    with client.session_transaction() as session:
        assert "person_id" not in session


def test_only_people_of_the_demo_organisation(app: Flask, database):
    _, stranger = create_organization(
        database,
        name="Elsewhere",
        admin_email="eve@elsewhere.example",
        admin_name="Eve",
        zone="UTC",
        now=NOW,
    )
    client = app.test_client()
    assert "eve@elsewhere.example" not in client.get("/demo/").get_data(as_text=True)
    _, token = signin_form(client, "Jordan Reyes")
    assert client.post(f"/demo/signin/{stranger}", data={"csrf_token": token}).status_code == 404


def test_not_answered_to_another_machine(app: Flask):
    client = app.test_client()
    assert client.get("/demo/", environ_base={"REMOTE_ADDR": "192.168.1.20"}).status_code == 404


def test_someone_added_without_a_name_can_sign_in_too(app: Flask, database, org):
    add_rep(
        database,
        org_id=org[0],
        manager_id=org[1],
        email="noor@northwind.example",
        name="",
        zone="Europe/London",
        now=NOW,
    )
    client = app.test_client()
    action, token = signin_form(client, "noor@northwind.example")
    assert client.post(action, data={"csrf_token": token}).status_code == 302
