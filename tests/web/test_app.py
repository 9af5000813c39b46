"""The skeleton: security headers, CSRF, friendly errors, JSON errors, 503 without a database."""

from __future__ import annotations

from scheduler.db import Database
from tests.web.conftest import csrf_token
from web.app import create_app


def test_pages_carry_security_headers(client):
    answer = client.get("/signin")
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_landmarks_and_a_skip_link(client):
    page = client.get("/signin").get_data(as_text=True)
    assert '<main id="main"' in page and 'href="#main"' in page
    assert '<label for="f-email">Email</label>' in page


def test_a_form_without_its_csrf_token_is_refused(client):
    answer = client.post("/signin", data={"email": "a@b.test", "password": "x"})
    assert answer.status_code == 400
    assert "The form expired" in answer.get_data(as_text=True)


def test_a_form_with_its_token_is_accepted(client):
    token = csrf_token(client)
    answer = client.post(
        "/signin", data={"csrf_token": token, "email": "a@b.test", "password": "x"}
    )
    assert answer.status_code == 400  # wrong password, but past CSRF
    assert "do not match an account" in answer.get_data(as_text=True)


def test_unknown_pages_are_friendly_404s(client):
    answer = client.get("/no/such/page")
    assert answer.status_code == 404
    assert "Nothing here" in answer.get_data(as_text=True)


def test_api_errors_are_json(client):
    answer = client.get("/api/v1/no-such-thing")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["status"] == 404


def test_an_unreachable_database_is_a_503_page_not_a_traceback(settings, calendar):
    nowhere = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(settings, database=nowhere, providers=lambda _row: calendar)
    client = app.test_client()
    with client.session_transaction() as session:
        session["person_id"], session["org_id"], session["sid"] = "p", "o", "token"
    answer = client.get("/manager/team")
    assert answer.status_code == 503
    assert "briefly unavailable" in answer.get_data(as_text=True)
    assert answer.headers["Retry-After"] == "30"
    assert client.get("/healthz").status_code == 503
    assert client.get("/static/cadence.css").status_code == 200  # the 503 page keeps its style
    api = client.get("/api/v1/series")
    assert api.status_code == 503 and api.get_json()["error"]["status"] == 503


def test_unexpected_errors_are_a_friendly_500(app, client):
    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom")

    answer = client.get("/boom")
    assert answer.status_code == 500
    assert "kaboom" not in answer.get_data(as_text=True)
    assert "Something went wrong" in answer.get_data(as_text=True)
