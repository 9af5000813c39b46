"""The mailbox owner's zone and working hours: ``GET /me/mailboxSettings`` through MSAL and
requests against the Graph emulator, which refuses it without ``MailboxSettings.Read``."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, time
from urllib.parse import parse_qsl, urlsplit

import msal
import pytest
import requests

from integrations.base import AccountZone, AccountZoneReader, ProviderError
from integrations.outlook import OutlookCalendar
from integrations.outlook.auth import http_session
from integrations.outlook.mailbox import account_zone
from scheduler.availability import WorkingHours
from scheduler.intervals import Interval
from tests.emulators.graph import GraphEmulator
from tests.fakes import MemoryTokenStore
from tests.integrations.outlook_support import (
    MANAGER,
    REDIRECT_URI,
    REPS,
    make_calendar,
    settings_for,
)

pytest_plugins = ("tests.integrations.outlook_fixtures",)

WEEK = Interval(datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 14, tzinfo=UTC))


def consent_with(graph: GraphEmulator, email: str, scopes: list[str]) -> bytes:
    """A grant consented to ``scopes`` only (as Cadence asked before MailboxSettings.Read)."""
    settings = settings_for(graph)
    cache = msal.SerializableTokenCache()
    client = msal.ConfidentialClientApplication(  # an app of its own: an older Cadence
        settings.client_id,
        client_credential=settings.client_secret,
        authority=settings.authority,
        token_cache=cache,
        http_client=http_session(settings),
        instance_discovery=False,
    )
    with warnings.catch_warnings():  # MSAL recommends form_post; see outlook.auth
        warnings.simplefilter("ignore", UserWarning)
        flow = client.initiate_auth_code_flow(scopes, redirect_uri=REDIRECT_URI)
    graph.identity.signed_in = email
    answer = requests.get(flow["auth_uri"], verify=graph.ca_bundle, allow_redirects=False)
    result = client.acquire_token_by_auth_code_flow(
        flow, dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    )
    assert "access_token" in result, result
    return cache.serialize().encode()


def test_the_mailbox_gives_the_owners_zone_and_working_hours(graph, calendar):
    box = graph.mailboxes[REPS[0]]  # New York ("Eastern Standard Time")
    graph.mailboxes[MANAGER].zone_name = box.zone_name
    graph.mailboxes[MANAGER].working_days = ("monday", "tuesday", "wednesday", "thursday")
    graph.mailboxes[MANAGER].working_start = time(8)
    graph.mailboxes[MANAGER].working_end = time(16, 30)

    assert isinstance(calendar, AccountZoneReader)
    found = calendar.account_zone()

    assert found == AccountZone(
        "America/New_York",
        WorkingHours("America/New_York", {day: ((time(8), time(16, 30)),) for day in range(4)}),
    )
    assert graph.count("GET", "/me/mailboxSettings") == 1


def test_the_emulator_answers_mailbox_settings_as_graph_does(graph, calendar):
    token = calendar.tokens.access_token()

    answer = requests.get(
        f"{graph.graph_url}/me/mailboxSettings",
        headers={"Authorization": f"Bearer {token}"},
        verify=graph.ca_bundle,
        timeout=5,
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["@odata.context"].endswith("/mailboxSettings")
    assert body["timeZone"] == "Pacific Standard Time"  # a Windows name, as Exchange keeps it
    assert body["workingHours"] == {
        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        "startTime": "09:00:00.0000000",
        "endTime": "17:00:00.0000000",
        "timeZone": {"name": "Pacific Standard Time"},
    }


def test_without_mailbox_settings_read_graph_refuses_and_the_calendar_still_works(graph, sleeps):
    older = MemoryTokenStore(consent_with(graph, MANAGER, ["User.Read", "Calendars.ReadWrite"]))
    calendar: OutlookCalendar = make_calendar(graph, older, sleeps)
    token = calendar.tokens.access_token()

    refused = requests.get(
        f"{graph.graph_url}/me/mailboxSettings",
        headers={"Authorization": f"Bearer {token}"},
        verify=graph.ca_bundle,
        timeout=5,
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ErrorAccessDenied"
    with pytest.raises(ProviderError, match="ErrorAccessDenied"):
        calendar.account_zone()

    # A grant from before the new permission keeps booking and reading after a refresh:
    # Cadence never asks a refresh for a permission the person has not consented to.
    graph.expire_access_tokens()
    found = calendar.free_busy([MANAGER], WEEK)
    assert found[MANAGER].unknown == ()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"timeZone": "Eastern Standard Time"},
            AccountZone("America/New_York"),
        ),
        (
            {"timeZone": "Europe/Paris"},  # set through the API: an IANA name as it is
            AccountZone("Europe/Paris"),
        ),
        (
            {
                "timeZone": "tzone://Microsoft/Custom",
                "workingHours": {
                    "daysOfWeek": ["monday"],
                    "startTime": "10:00:00.0000000",
                    "endTime": "18:00:00.0000000",
                    "timeZone": {"name": "GMT Standard Time"},
                },
            },
            AccountZone(
                "Europe/London",
                WorkingHours("Europe/London", {0: ((time(10), time(18)),)}),
            ),
        ),
        ({"timeZone": "tzone://Microsoft/Custom"}, None),
        (
            {"timeZone": "Tokyo Standard Time", "workingHours": {"daysOfWeek": ["monday"]}},
            AccountZone("Asia/Tokyo"),  # incomplete hours: the zone alone
        ),
        ({}, None),
    ],
)
def test_mailbox_settings_as_a_zone(settings, expected) -> None:
    assert account_zone(settings) == expected


def test_hours_reported_in_another_zone_keep_theirs() -> None:
    found = account_zone(
        {
            "timeZone": "GMT Standard Time",
            "workingHours": {
                "daysOfWeek": ["friday"],
                "startTime": "09:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": "Pacific Standard Time"},
            },
        }
    )
    assert found is not None and found.zone == "Europe/London"
    assert found.working_hours == WorkingHours("America/Los_Angeles", {4: ((time(9), time(17)),)})
