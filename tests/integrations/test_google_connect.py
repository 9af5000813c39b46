"""Connect once: google-auth-oauthlib's Flow against the emulator, the test playing browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.google import (
    SCOPES,
    ConnectFailed,
    GoogleCalendar,
    finish_connect,
    start_connect,
)
from scheduler.intervals import Interval
from tests.emulators.google import GoogleEmulator
from tests.fakes import MemoryTokenStore

REDIRECT = "https://cadence.test/auth/google/callback"
MANAGER = "pat@acme.test"


@pytest.fixture
def emulator():
    with GoogleEmulator({MANAGER: "Pat Manager", "rep@acme.test": "Rita Rep"}) as emu:
        yield emu


def consent(emulator: GoogleEmulator, url: str) -> requests.Response:
    """What the browser does: open the consent page, get redirected (not followed)."""
    return requests.get(url, allow_redirects=False, verify=emulator.ca_bundle, timeout=5)


def test_the_authorization_url_asks_for_offline_access_with_pkce(emulator):
    started = start_connect(emulator.settings(), REDIRECT)

    query = {k: v[0] for k, v in parse_qs(urlsplit(started.url).query).items()}
    assert started.url.startswith(emulator.settings().auth_uri)
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["redirect_uri"] == REDIRECT and query["state"] == started.state
    assert query["scope"].split() == list(SCOPES)
    assert started.code_verifier not in started.url


def test_connect_once_yields_a_working_connection(emulator):
    settings = emulator.settings()
    started = start_connect(settings, REDIRECT)
    callback = consent(emulator, started.url).headers["Location"]

    connection = finish_connect(settings, REDIRECT, callback, started)

    assert (connection.email, connection.name) == (MANAGER, "Pat Manager")
    store = MemoryTokenStore(connection.token_blob)
    window = Interval(datetime.now(UTC), datetime.now(UTC) + timedelta(days=7))
    availability = GoogleCalendar(settings, store).free_busy(["rep@acme.test"], window)
    assert availability["rep@acme.test"].unknown == ()
    assert b"emulator-secret" not in connection.token_blob  # the client secret stays in settings
    assert emulator.calls["oauth.token"] == 1 and emulator.calls["oauth.userinfo"] == 1


def test_a_callback_with_another_state_is_refused(emulator):
    settings = emulator.settings()
    started = start_connect(settings, REDIRECT)
    other = start_connect(settings, REDIRECT)
    callback = consent(emulator, other.url).headers["Location"]

    with pytest.raises(ConnectFailed, match="state"):
        finish_connect(settings, REDIRECT, callback, started)
    assert emulator.calls["oauth.token"] == 0


def test_a_code_is_good_once(emulator):
    settings = emulator.settings()
    started = start_connect(settings, REDIRECT)
    callback = consent(emulator, started.url).headers["Location"]
    finish_connect(settings, REDIRECT, callback, started)

    with pytest.raises(ConnectFailed, match="invalid_grant"):
        finish_connect(settings, REDIRECT, callback, started)


def test_a_wrong_pkce_verifier_is_refused_by_the_token_endpoint(emulator):
    settings = emulator.settings()
    started = start_connect(settings, REDIRECT)
    callback = consent(emulator, started.url).headers["Location"]
    forged = type(started)(started.url, started.state, "x" * 64)

    with pytest.raises(ConnectFailed, match="invalid_grant"):
        finish_connect(settings, REDIRECT, callback, forged)


def test_a_refused_consent_is_reported(emulator):
    started = start_connect(emulator.settings(), REDIRECT)
    denied = f"{REDIRECT}?error=access_denied&state={started.state}"

    with pytest.raises(ConnectFailed, match="access_denied"):
        finish_connect(emulator.settings(), REDIRECT, denied, started)


def test_the_emulator_insists_on_pkce(emulator):
    settings = emulator.settings()
    url = (
        f"{settings.auth_uri}?client_id={settings.client_id}&response_type=code"
        f"&redirect_uri={REDIRECT}&scope=openid&state=s"
    )

    answer = consent(emulator, url)

    assert answer.status_code == 400 and b"PKCE" in answer.content


def test_unticked_calendar_access_fails_the_connection(emulator):
    settings = emulator.settings()
    emulator.withheld_scopes = {"https://www.googleapis.com/auth/calendar.freebusy"}
    started = start_connect(settings, REDIRECT)
    callback = consent(emulator, started.url).headers["Location"]

    with pytest.raises(ConnectFailed, match=r"not granted.*calendar\.freebusy"):
        finish_connect(settings, REDIRECT, callback, started)


def test_scopes_granted_earlier_do_not_break_the_exchange(emulator):
    settings = emulator.settings()
    emulator.previously_granted = {"https://www.googleapis.com/auth/drive.file"}
    started = start_connect(settings, REDIRECT)
    callback = consent(emulator, started.url).headers["Location"]

    connection = finish_connect(settings, REDIRECT, callback, started)

    assert connection.email == MANAGER
    assert "https://www.googleapis.com/auth/drive.file" in connection.token_blob.decode()
