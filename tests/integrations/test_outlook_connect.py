"""Connect once: MSAL's auth code flow against the emulated identity platform."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, parse_qsl, urlsplit

import msal
import pytest
import requests

from integrations.base import ReconnectRequired
from integrations.outlook import ConnectFailed, OutlookCalendar, finish_connect, start_connect
from integrations.outlook.auth import (
    TokenSource,
    _email_domain_verified,
    build_client,
    http_session,
)
from scheduler.intervals import Interval
from scheduler.settings import MicrosoftSettings
from tests.emulators.graph import GraphEmulator
from tests.fakes import MemoryTokenStore
from tests.integrations.outlook_support import MANAGER, REDIRECT_URI, REPS, settings_for, sign_in

WEEK = Interval(datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 14, tzinfo=UTC))

pytest_plugins = ("tests.integrations.outlook_fixtures",)


def browse(graph: GraphEmulator, auth_uri: str, as_user: str) -> dict[str, str]:
    """The signed-in browser at ``auth_uri``: consent, redirect, callback query."""
    graph.identity.signed_in = as_user
    answer = requests.get(auth_uri, verify=graph.ca_bundle, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


def test_connect_once_returns_who_signed_in_and_a_cache_that_calls_graph(
    graph: GraphEmulator,
) -> None:
    settings = settings_for(graph)
    flow = start_connect(settings, REDIRECT_URI)
    query = parse_qs(urlsplit(flow["auth_uri"]).query)
    assert set(query["scope"][0].split()) == {
        "openid",
        "profile",
        "offline_access",
        "User.Read",
        "Calendars.ReadWrite",
        "MailboxSettings.Read",  # the owner's zone and working hours
    }
    assert query["code_challenge_method"] == ["S256"]

    account = finish_connect(settings, flow, browse(graph, flow["auth_uri"], MANAGER))

    assert (account.email, account.name) == (MANAGER, "Maria Manager")
    store = MemoryTokenStore(account.token_blob)
    tokens = TokenSource(settings, store)
    assert tokens.email == MANAGER
    me = requests.get(
        f"{graph.graph_url}/me",
        headers={"Authorization": f"Bearer {tokens.access_token()}"},
        verify=graph.ca_bundle,
    )
    assert me.json()["mail"] == MANAGER


def test_form_post_response_mode_works_too(graph: GraphEmulator) -> None:
    settings = settings_for(graph)
    flow = start_connect(settings, REDIRECT_URI, response_mode="form_post")
    graph.identity.signed_in = MANAGER
    page = requests.get(flow["auth_uri"], verify=graph.ca_bundle).text

    fields: dict[str, str] = {}

    class Form(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            if tag == "input":
                fields[named["name"] or ""] = named["value"] or ""

    Form().feed(page)
    assert re.search(r'action="https://cadence\.test/auth/microsoft/callback"', page)
    assert finish_connect(settings, flow, fields).email == MANAGER


def test_a_forged_state_or_a_refused_consent_fails_the_connect(graph: GraphEmulator) -> None:
    settings = settings_for(graph)
    flow = start_connect(settings, REDIRECT_URI)
    callback = browse(graph, flow["auth_uri"], MANAGER)
    with pytest.raises(ConnectFailed):
        finish_connect(settings, flow, {**callback, "state": "forged"})
    refused = {"error": "access_denied", "error_description": "AADSTS65004: declined consent"}
    with pytest.raises(ConnectFailed, match="access_denied"):
        finish_connect(settings, flow, {**refused, "state": flow["state"]})


def test_a_code_cannot_be_redeemed_twice(graph: GraphEmulator) -> None:
    settings = settings_for(graph)
    flow = start_connect(settings, REDIRECT_URI)
    callback = browse(graph, flow["auth_uri"], MANAGER)
    finish_connect(settings, flow, callback)
    with pytest.raises(ConnectFailed, match="invalid_grant"):
        finish_connect(settings, flow, callback)


def test_a_token_graph_refuses_is_refreshed_and_the_new_cache_is_saved(
    graph: GraphEmulator, store: MemoryTokenStore
) -> None:
    settings = settings_for(graph)
    tokens = TokenSource(settings, store)
    first = tokens.access_token()
    graph.identity.token_requests = 0
    assert tokens.access_token() == first  # cached: no token request
    assert graph.identity.token_requests == 0

    second = tokens.access_token(force_refresh=True)

    assert second != first and graph.identity.token_requests == 1
    assert store.saves == 1  # the rotated refresh token reached the store
    again = TokenSource(settings, store)
    assert again.access_token() == second  # a new worker reads the saved cache


def test_revoked_or_missing_grants_are_reconnect_required(
    graph: GraphEmulator, store: MemoryTokenStore
) -> None:
    settings = settings_for(graph)
    graph.revoke(MANAGER)
    with pytest.raises(ReconnectRequired, match="invalid_grant"):
        TokenSource(settings, store).access_token(force_refresh=True)
    with pytest.raises(ReconnectRequired):
        TokenSource(settings, MemoryTokenStore()).access_token()


def test_the_ca_bundle_setting_beats_requests_ca_bundle_in_the_environment(
    graph: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    settings = settings_for(graph)
    flow = start_connect(settings, REDIRECT_URI)
    assert finish_connect(settings, flow, browse(graph, flow["auth_uri"], MANAGER)).email


def test_only_the_public_cloud_uses_instance_discovery(graph: GraphEmulator) -> None:
    public = MicrosoftSettings("id", "secret")
    us_gov = MicrosoftSettings("id", "secret", authority="https://login.microsoftonline.us/t")
    assert public.public_cloud and not us_gov.public_cloud
    # The emulator is a "sovereign cloud" too: building a client against it makes no call
    # to login.microsoftonline.com (there is no internet here, so that would fail).
    client = build_client(settings_for(graph), http_session(settings_for(graph)))
    assert isinstance(client, msal.ConfidentialClientApplication)
    assert client.authority.token_endpoint.startswith(graph.authority)


def test_one_msal_application_per_process_no_metadata_fetch_per_request(
    graph: GraphEmulator,
) -> None:
    """Each page or job opens the calendar anew; only the first one in a process may fetch
    the authority's OpenID metadata, and each connection still uses its own grant."""
    maria = MemoryTokenStore(sign_in(graph, MANAGER))
    rep = MemoryTokenStore(sign_in(graph, REPS[0]))
    settings = settings_for(graph)
    assert graph.identity.metadata_requests <= 1  # the sign-ins built the one application

    OutlookCalendar(settings, maria).free_busy([REPS[1]], WEEK)  # the first page
    graph.reset_counts()
    OutlookCalendar(settings, maria).free_busy([REPS[1]], WEEK)  # the second page
    OutlookCalendar(settings, rep).free_busy([REPS[1]], WEEK)  # another connection

    assert graph.identity.metadata_requests == 0
    assert graph.identity.token_requests == 0  # both access tokens came cached with the grant
    assert [c.mailbox for c in graph.calls] == [MANAGER, REPS[0]]


def test_connections_sharing_the_application_keep_their_own_token_caches(
    graph: GraphEmulator,
) -> None:
    """Refreshes rotate refresh tokens: each must land in its own connection's store, also
    when the connections refresh at the same time from several threads."""
    stores = {email: MemoryTokenStore(sign_in(graph, email)) for email in (MANAGER, *REPS[:3])}
    settings = settings_for(graph)
    graph.expire_access_tokens()
    graph.reset_counts()

    def two_calls(email: str) -> list[str | None]:
        calendar = OutlookCalendar(settings, stores[email])
        calendar.free_busy([REPS[4]], WEEK)
        calendar.tokens.access_token(force_refresh=True)  # rotates the refresh token again
        return [calendar.graph.call("GET", "/me")["mail"], calendar.tokens.email]

    with ThreadPoolExecutor(4) as pool:
        seen = dict(zip(stores, pool.map(two_calls, stores), strict=True))

    assert seen == {email: [email, email] for email in stores}
    assert graph.identity.token_requests == 8 and graph.identity.metadata_requests == 0
    for email, store in stores.items():  # the stored cache holds the newest refresh token
        assert store.saves == 2
        assert OutlookCalendar(settings, store).tokens.access_token(force_refresh=True)
        assert sum(1 for c in graph.calls if c.mailbox == email) == 2


def test_xms_edov_proves_the_email_and_tid_oid_name_the_account(graph: GraphEmulator) -> None:
    """The ID token's ``xms_edov: true`` is Microsoft's word for its ``email``; without it the
    address is only what the account's tenant set. ``<tid>/<oid>`` names the account."""
    settings = settings_for(graph)
    flow = start_connect(settings, REDIRECT_URI)
    proven = finish_connect(settings, flow, browse(graph, flow["auth_uri"], MANAGER))
    maria = f"{graph.identity.tenant}/{graph.identity.object_id(MANAGER)}"
    graph.identity.unverified.add(MANAGER)
    graph.identity.object_ids[MANAGER] = "0000-mallory"
    flow = start_connect(settings, REDIRECT_URI)
    unproven = finish_connect(settings, flow, browse(graph, flow["auth_uri"], MANAGER))

    assert (proven.email, proven.email_domain_verified, proven.account_id) == (
        MANAGER,
        True,
        maria,
    )
    assert (unproven.email, unproven.email_domain_verified, unproven.account_id) == (
        MANAGER,
        False,
        f"{graph.identity.tenant}/0000-mallory",
    )


@pytest.mark.parametrize(
    "claims",
    [
        {"preferred_username": MANAGER, "xms_edov": True},  # xms_edov speaks of email only
        {"email": MANAGER, "xms_edov": "true"},  # not the boolean Microsoft documents
        {"email": MANAGER, "xms_edov": False},
        {"email": MANAGER},
    ],
)
def test_only_a_boolean_xms_edov_beside_email_proves_it(claims: dict[str, object]) -> None:
    assert _email_domain_verified(claims) is False
