"""Rate limits on sign-in, sign-up, password reset requests and verification re-sends: per
account and per client address, 429 with
Retry-After and a plain message, reset when the window has passed; counted in memory, or in
the real Redis on 127.0.0.1:6379 (a key prefix of each test's own) shared by every process."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from scheduler.settings import RateLimitSettings, RateRule, Settings
from tests.web.conftest import PASSWORD, csrf_token, post, sign_up, sign_up_form
from web.app import create_app

REDIS_URL = "redis://127.0.0.1:6379/0"


def limited_app(settings: Settings, database, *rules: RateRule, **config) -> Flask:  # type: ignore[no-untyped-def]
    """The app with ``rules`` in place of the defaults of the same actions."""
    defaults = {rule.action: rule for rule in RateLimitSettings().rules}
    defaults.update({rule.action: rule for rule in rules})
    limits = RateLimitSettings(rules=tuple(defaults.values()), **config)
    return create_app(dataclasses.replace(settings, rate_limits=limits), database=database)


@dataclass
class Browser:
    """A client at one address, with the sign-in form's CSRF token in hand."""

    client: FlaskClient
    token: str


def browser(app: Flask, address: str = "203.0.113.9", forwarded_for: str = "") -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Browser(client, csrf_token(client))


def attempt(browser: Browser, email: str, password: str = "wrong password"):  # type: ignore[no-untyped-def]
    form = {"csrf_token": browser.token, "email": email, "password": password}
    return browser.client.post("/signin", data=form)


@pytest.fixture
def pat(client) -> str:  # type: ignore[no-untyped-def]
    """An account (signed up in another app on the same database)."""
    assert sign_up(client, "pat@acme.test", "Patrick", "UTC", "Acme").status_code == 302
    return "pat@acme.test"


def test_sign_in_is_limited_per_account(settings, database, pat):
    app = limited_app(settings, database, RateRule("signin", "3 per hour", "100 per hour"))
    mallory = browser(app)

    answers = [attempt(mallory, pat) for _ in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    refused = answers[-1]
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    page = refused.get_data(as_text=True)
    assert "Too many sign-in attempts for this account or from your network." in page
    assert "Please wait 60 minutes and try again." in page
    # The right password is refused too until the window passes, from anywhere ...
    assert attempt(browser(app, "198.51.100.7"), pat, PASSWORD).status_code == 429
    # ... while other accounts, from the same address, are not held back.
    assert attempt(mallory, "someone@else.test").status_code == 400


def test_sign_in_is_limited_per_client_address(settings, database, pat):
    app = limited_app(settings, database, RateRule("signin", "100 per hour", "3 per hour"))
    sprayer = browser(app)

    answers = [attempt(sprayer, f"guess{n}@acme.test") for n in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert attempt(sprayer, pat, PASSWORD).status_code == 429
    assert attempt(browser(app, "198.51.100.7"), pat, PASSWORD).status_code == 302


def test_an_ipv6_client_is_counted_by_its_network(settings, database):
    app = limited_app(settings, database, RateRule("signin", "100 per hour", "2 per hour"))
    first, same_network = browser(app, "2001:db8:1:2::1"), browser(app, "2001:db8:1:2::ffff")

    assert attempt(first, "a@acme.test").status_code == 400
    assert attempt(same_network, "b@acme.test").status_code == 400
    assert attempt(same_network, "c@acme.test").status_code == 429
    assert attempt(browser(app, "2001:db8:1:3::1"), "d@acme.test").status_code == 400


def test_only_trusted_proxies_name_the_client(settings, database):
    rule = RateRule("signin", "100 per hour", "1 per hour")
    direct = limited_app(settings, database, rule)
    # Without a trusted proxy a client cannot dodge the limit by naming another address.
    assert attempt(browser(direct, forwarded_for="10.0.0.1"), "a@acme.test").status_code == 400
    assert attempt(browser(direct, forwarded_for="10.0.0.2"), "b@acme.test").status_code == 429
    # Behind one trusted proxy, each client is the address that proxy saw.
    proxied = limited_app(settings, database, rule, trusted_proxies=1)
    for client_address in ("198.51.100.1", "198.51.100.2"):
        behind = browser(proxied, "10.0.0.9", forwarded_for=client_address)
        assert attempt(behind, "c@acme.test").status_code == 400
    again = browser(proxied, "10.0.0.9", forwarded_for="198.51.100.1")
    assert attempt(again, "d@acme.test").status_code == 429


def test_the_limit_resets_when_its_window_has_passed(settings, database, pat):
    app = limited_app(settings, database, RateRule("signin", "2 per second", "100 per second"))
    client = browser(app)
    with app.app_context():  # two attempts, counted the instant before the next request
        for _ in range(2):
            app.extensions["rate_limits"].attempt("signin", account=pat, address="203.0.113.9")

    refused = attempt(client, pat, PASSWORD)
    time.sleep(1.0)
    allowed = attempt(client, pat, PASSWORD)

    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "Please wait 1 second and try again." in refused.get_data(as_text=True)
    assert allowed.status_code == 302 and allowed.headers["Location"] == "/manager/team"


def test_sign_up_is_limited_per_client_address(settings, database):
    app = limited_app(settings, database, RateRule("signup", "100 per hour", "2 per hour"))
    answers = []
    for n in range(3):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        answers.append(sign_up(client, f"founder{n}@acme{n}.test", "Founder", "UTC", f"Org {n}"))

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "Too many sign-up attempts" in answers[-1].get_data(as_text=True)
    assert "Retry-After" in answers[-1].headers


def test_password_reset_requests_are_limited_per_account(settings, database, pat):
    """Each request mails a link: a limit keeps the form from flooding someone's inbox."""
    app = limited_app(settings, database, RateRule("password_reset", "2 per hour", "100 per hour"))
    client = app.test_client()

    def forgot(email: str):  # type: ignore[no-untyped-def]
        return post(client, "/password/forgot", {"email": email}, page="/password/forgot")

    answers = [forgot(pat) for _ in range(3)]

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "Too many password reset requests" in answers[-1].get_data(as_text=True)
    assert 3500 <= int(answers[-1].headers["Retry-After"]) <= 3600
    assert forgot("someone@else.test").status_code == 302  # other accounts go on


def test_verification_resends_are_limited_per_client_address(settings, database):
    app = limited_app(
        settings, database, RateRule("verification_resend", "100 per hour", "2 per hour")
    )
    client = app.test_client()
    assert sign_up_form(client, "pat@acme.test", "Patrick", "UTC", "Acme").status_code == 302

    answers = [
        post(client, "/verify-email/resend", {"email": email}, page="/verify-email")
        for email in ("pat@acme.test", "a@acme.test", "b@acme.test")
    ]

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "Too many verification emails" in answers[-1].get_data(as_text=True)
    assert "Retry-After" in answers[-1].headers


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the real Redis, its keys deleted afterwards."""
    prefix = f"cadence-test-{uuid.uuid4().hex}"
    yield prefix
    store = redis.Redis.from_url(REDIS_URL)
    keys = list(store.scan_iter(f"{prefix}*"))
    if keys:
        store.delete(*keys)
    store.close()


def test_limits_in_redis_are_shared_by_every_web_process(settings, database, pat, redis_prefix):
    rule = RateRule("signin", "3 per hour", "100 per hour")
    config = {"key_prefix": redis_prefix}
    redis_settings = dataclasses.replace(settings, redis_url=REDIS_URL)
    first, second = (limited_app(redis_settings, database, rule, **config) for _ in range(2))

    answers = [attempt(browser(app), pat) for app in (first, second, first, second)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert 3500 <= int(answers[-1].headers["Retry-After"]) <= 3600
    keys = [key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}*")]
    assert keys and not any("pat" in key or "acme" in key for key in keys)  # addresses hashed


def test_a_limit_in_redis_resets_when_its_window_has_passed(settings, database, pat, redis_prefix):
    redis_settings = dataclasses.replace(settings, redis_url=REDIS_URL)
    app = limited_app(
        redis_settings,
        database,
        RateRule("signin", "1 per second", "100 per second"),
        key_prefix=redis_prefix,
    )
    client = browser(app)
    with app.app_context():
        app.extensions["rate_limits"].attempt("signin", account=pat, address="203.0.113.9")

    refused = attempt(client, pat, PASSWORD)
    time.sleep(1.0)
    allowed = attempt(client, pat, PASSWORD)

    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert allowed.status_code == 302


def test_sign_in_goes_on_when_the_limit_store_does_not_answer(settings, database, pat):
    nothing_there = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
    app = limited_app(nothing_there, database, RateRule("signin", "1 per hour", "1 per hour"))

    answers = [attempt(browser(app), pat, PASSWORD) for _ in range(2)]

    assert [a.status_code for a in answers] == [302, 302]
