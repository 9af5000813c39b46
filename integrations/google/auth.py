"""Connect once: Google's OAuth consent for a manager, and the token blob Cadence stores.

``start_connect`` gives the web app an authorization URL (offline access, forced consent so a
refresh token comes back, PKCE S256, a random ``state``); ``finish_connect`` exchanges the code,
reads who signed in and returns a ``GoogleConnection`` whose ``token_blob`` goes into the
connection's ``TokenStore``. The blob is JSON and holds no client secret: the OAuth client
comes from ``GoogleSettings`` each time credentials are rebuilt.

Scopes use their full URLs: Google answers ``email``/``profile`` with the URL forms, and
oauthlib treats any difference between asked and granted scopes as an error.
https://developers.google.com/identity/protocols/oauth2/web-server
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import requests
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from integrations.base import ProviderError
from scheduler.settings import GoogleSettings

_AUTH = "https://www.googleapis.com/auth/"
SCOPES = (
    "openid",
    _AUTH + "userinfo.email",
    _AUTH + "userinfo.profile",
    _AUTH + "calendar.events",
    # calendar.events alone cannot read reps' free/busy (PROVIDERS.md).
    _AUTH + "calendar.freebusy",
)
_REQUIRED = frozenset({_AUTH + "calendar.events", _AUTH + "calendar.freebusy"})
_TIMEOUT_SECONDS = 20


class ConnectFailed(ProviderError):
    """The consent did not produce a usable connection (denied, tampered, scopes unticked)."""


@dataclass(frozen=True)
class ConnectStart:
    """Where to send the browser, and what to keep in the session until the callback."""

    url: str
    state: str
    code_verifier: str


@dataclass(frozen=True)
class GoogleConnection:
    """A finished consent: who connected and the blob for their ``TokenStore``.

    ``email_verified``: Google vouches that the address is the account's (the OpenID userinfo's
    ``email_verified``, as in the ID token); false for an address its owner never confirmed.
    """

    email: str
    name: str
    token_blob: bytes
    email_verified: bool


def start_connect(
    settings: GoogleSettings, redirect_uri: str, login_hint: str | None = None
) -> ConnectStart:
    """The consent URL (offline access, ``prompt=consent``, PKCE S256) and what to remember."""
    flow = _flow(settings, redirect_uri, state=secrets.token_urlsafe(24), code_verifier=None)
    extra = {"login_hint": login_hint} if login_hint else {}
    url, state = flow.authorization_url(
        access_type="offline", prompt="consent", include_granted_scopes="true", **extra
    )
    assert flow.code_verifier is not None  # Flow generates one (autogenerate_code_verifier)
    return ConnectStart(url=url, state=state, code_verifier=flow.code_verifier)


def finish_connect(
    settings: GoogleSettings, redirect_uri: str, callback_url: str, started: ConnectStart
) -> GoogleConnection:
    """Exchange the callback's code for tokens and name the signed-in user.

    Raises ``ConnectFailed`` if the user refused, the ``state`` does not match the one
    ``start_connect`` issued, the exchange fails, or calendar scopes were not granted.
    """
    query = {k: v[-1] for k, v in parse_qs(urlsplit(callback_url).query).items()}
    if "error" in query:
        raise ConnectFailed(f"Google consent refused: {query['error']}")
    if not hmac.compare_digest(query.get("state", ""), started.state):
        raise ConnectFailed("state mismatch: the callback does not belong to this sign-in")
    if "code" not in query:
        raise ConnectFailed("the callback carries no authorization code")
    flow = _flow(settings, redirect_uri, state=started.state, code_verifier=started.code_verifier)
    try:
        flow.fetch_token(
            code=query["code"],
            verify=settings.ca_bundle or True,
            timeout=_TIMEOUT_SECONDS,
        )
    except Warning as changed:
        # With include_granted_scopes Google answers with every scope granted so far, and a
        # user may untick some; oauthlib raises on any difference (unless an environment
        # variable relaxes it process-wide). Keep the token and check what matters below.
        token = getattr(changed, "token", None)
        if token is None:
            raise ConnectFailed(f"token exchange failed: {changed}") from changed
        flow.oauth2session.token = token
    except (OAuth2Error, requests.RequestException) as error:
        raise ConnectFailed(f"token exchange failed: {error}") from error
    credentials = flow.credentials
    missing = _REQUIRED - set(credentials.granted_scopes or credentials.scopes or ())
    if missing:
        raise ConnectFailed(f"calendar access was not granted: {sorted(missing)}")
    answer = requests.get(
        settings.userinfo_uri,
        headers={"Authorization": f"Bearer {credentials.token}"},
        verify=settings.ca_bundle or True,
        timeout=_TIMEOUT_SECONDS,
    )
    if answer.status_code != 200:
        raise ConnectFailed(f"userinfo answered {answer.status_code}")
    person = answer.json()
    if not credentials.refresh_token:
        raise ConnectFailed("Google sent no refresh token (offline access was not granted)")
    return GoogleConnection(
        email=person["email"],
        name=person.get("name", ""),
        token_blob=token_blob(credentials, person["email"]),
        email_verified=person.get("email_verified") is True,
    )


def token_blob(credentials: Credentials, email: str) -> bytes:
    """Serialise what ``credentials_from_blob`` needs (never the client secret)."""
    expiry = credentials.expiry.replace(tzinfo=UTC).isoformat() if credentials.expiry else None
    return json.dumps(
        {
            "email": email,
            "token": credentials.token,
            "refresh_token": credentials.refresh_token,
            "expiry": expiry,
            "scopes": sorted(credentials.granted_scopes or credentials.scopes or SCOPES),
        }
    ).encode()


def credentials_from_blob(blob: bytes, settings: GoogleSettings) -> tuple[Credentials, str]:
    """google-auth credentials (refreshable against ``settings.token_uri``) and the email."""
    data = json.loads(blob)
    expiry = None
    if data.get("expiry"):
        # google-auth compares expiry with a naive UTC clock.
        expiry = datetime.fromisoformat(data["expiry"]).astimezone(UTC).replace(tzinfo=None)
    credentials = Credentials(
        token=data.get("token"),
        refresh_token=data["refresh_token"],
        token_uri=settings.token_uri,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=data.get("scopes"),
        expiry=expiry,
    )
    return credentials, data["email"]


def _flow(
    settings: GoogleSettings, redirect_uri: str, state: str, code_verifier: str | None
) -> Flow:
    config = {
        "web": {
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
            "auth_uri": settings.auth_uri,
            "token_uri": settings.token_uri,
            "redirect_uris": [redirect_uri],
        }
    }
    return Flow.from_client_config(
        config,
        scopes=list(SCOPES),
        redirect_uri=redirect_uri,
        state=state,
        code_verifier=code_verifier,
        autogenerate_code_verifier=code_verifier is None,
    )
