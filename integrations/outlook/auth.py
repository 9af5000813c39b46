"""Connect once with Microsoft (MSAL auth code flow), then fetch access tokens silently.

The web app calls ``start_connect`` (keep the returned flow in the user's session, send the
browser to ``flow["auth_uri"]``) and ``finish_connect`` on the callback; the returned
``token_blob`` (MSAL's serialized cache: refresh token, account) goes into the connection's
``TokenStore``. ``TokenSource`` then reads that blob for every Graph call.

One MSAL application serves a whole process per app registration (``shared_client``):
building one fetches the authority's OpenID metadata, which per request cost two calls per
page. Each connection keeps its own token cache with its grant; the shared application works
on the cache of the connection it is called for (``_ConnectionCaches``).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import msal
import requests

from integrations.base import ReconnectRequired, TokenStore, Transient
from scheduler import text_limits
from scheduler.settings import MicrosoftSettings

# MSAL adds openid, profile and offline_access itself (and refuses them if passed).
SCOPES = ("User.Read", "Calendars.ReadWrite", "MailboxSettings.Read")
# What every later token is asked for: a grant consented before MailboxSettings.Read was
# added must keep working (asking for it silently would fail with consent_required).
TOKEN_SCOPES = ("User.Read", "Calendars.ReadWrite")
_RECONNECT_ERRORS = {"invalid_grant", "interaction_required", "consent_required", "login_required"}


class ConnectFailed(Exception):
    """The sign-in did not complete (user refused, state mismatch, bad code)."""


@dataclass(frozen=True)
class ConnectedAccount:
    """Who signed in, and the token cache blob to keep (encrypted) for them.

    ``email_domain_verified``: the ID token's ``email`` (not ``preferred_username``) comes
    with the optional claim ``xms_edov: true``, Microsoft's word that the owner of the
    address's domain verified it; without it the address is whatever the account's tenant
    set (``_email_domain_verified``). ``account_id`` is the account itself, immutable and
    unique across tenants: ``<tid>/<oid>`` (None if the token names no tenant or object).
    """

    email: str
    name: str
    token_blob: bytes
    email_domain_verified: bool = False
    account_id: str | None = None


def http_session(settings: MicrosoftSettings) -> requests.Session:
    """A session trusting ``settings.ca_bundle`` (or the system CAs) and nothing else.

    ``trust_env`` is off so that ``REQUESTS_CA_BUNDLE`` or proxy variables in the process
    environment cannot silently override the settings (requests lets them beat ``verify``).
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = settings.ca_bundle or True
    return session


def build_client(
    settings: MicrosoftSettings, session: requests.Session
) -> msal.ConfidentialClientApplication:
    """An MSAL app for ``settings`` (fetches the authority's metadata once); instance
    discovery only against the public cloud. Its token cache is the connection's in use."""
    return msal.ConfidentialClientApplication(
        settings.client_id,
        client_credential=settings.client_secret,
        authority=settings.authority,
        token_cache=_ConnectionCaches(),
        http_client=session,
        # The discovery endpoint lives in the public cloud: sovereign clouds and local
        # emulators must not call it (PROVIDERS.md, MSAL).
        instance_discovery=None if settings.public_cloud else False,
    )


_cache_in_use: ContextVar[msal.SerializableTokenCache | None] = ContextVar(
    "msal_cache_in_use", default=None
)


class _ConnectionCaches(msal.SerializableTokenCache):  # type: ignore[misc]
    """The shared application's token cache: every read and write goes to the cache of the
    connection the current call is for (``_using``), so one application serves them all.

    MSAL keeps a cache's entries in ``_cache`` and flags writes in ``has_state_changed``;
    both are routed. Outside ``_using`` there is no cache to use, which is a bug.
    """

    @staticmethod
    def _current() -> msal.SerializableTokenCache:
        cache = _cache_in_use.get()
        if cache is None:
            raise RuntimeError("the shared MSAL application was used outside _using(cache)")
        return cache

    @property
    def _cache(self) -> dict[str, Any]:
        entries: dict[str, Any] = self._current()._cache
        return entries

    @_cache.setter
    def _cache(self, value: dict[str, Any]) -> None:
        # msal's __init__ sets an empty dict; entries live in the connection's cache.
        if _cache_in_use.get() is not None:
            self._current()._cache = value

    @property
    def has_state_changed(self) -> bool:
        changed: bool = self._current().has_state_changed
        return changed

    @has_state_changed.setter
    def has_state_changed(self, value: bool) -> None:
        if _cache_in_use.get() is not None:
            self._current().has_state_changed = value


@contextmanager
def _using(cache: msal.SerializableTokenCache) -> Iterator[None]:
    """Run the shared application on ``cache`` (this thread only)."""
    token = _cache_in_use.set(cache)
    try:
        yield
    finally:
        _cache_in_use.reset(token)


_clients: dict[MicrosoftSettings, msal.ConfidentialClientApplication] = {}
_clients_lock = threading.Lock()


def shared_client(settings: MicrosoftSettings) -> msal.ConfidentialClientApplication:
    """This process's MSAL application for the app registration in ``settings`` (authority
    and client; a changed secret or CA bundle builds another). A failed metadata fetch
    raises ``Transient`` and is tried again on the next call."""
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            try:
                client = build_client(settings, http_session(settings))
            except (requests.RequestException, ValueError) as error:
                raise Transient(f"Microsoft sign-in metadata unavailable: {error}") from error
            _clients[settings] = client
        return client


def start_connect(
    settings: MicrosoftSettings,
    redirect_uri: str,
    *,
    login_hint: str | None = None,
    response_mode: str = "query",
) -> dict[str, Any]:
    """Begin sign-in: a flow dict to keep in the user's session; send them to ``auth_uri``.

    MSAL recommends ``response_mode="form_post"`` (RFC 9700), but that callback is a
    cross-site POST, which carries no ``SameSite=Lax`` session cookie and so loses the flow.
    ``"query"`` keeps the session; the code stays bound to this flow by PKCE, state and nonce.
    """
    client = shared_client(settings)
    with warnings.catch_warnings(), _using(msal.SerializableTokenCache()):
        warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
        flow: dict[str, Any] = client.initiate_auth_code_flow(
            list(SCOPES),
            redirect_uri=redirect_uri,
            login_hint=login_hint,
            prompt="select_account",
            response_mode=response_mode,
        )
    return flow


def finish_connect(
    settings: MicrosoftSettings,
    flow: Mapping[str, Any],
    callback_args: Mapping[str, str],
) -> ConnectedAccount:
    """Redeem the callback's code; who signed in and the cache blob to store for them."""
    cache = msal.SerializableTokenCache()
    client = shared_client(settings)
    try:
        with _using(cache):
            result = client.acquire_token_by_auth_code_flow(dict(flow), dict(callback_args))
    except ValueError as error:  # MSAL: state mismatch or a flow used twice
        raise ConnectFailed(str(error)) from error
    if "error" in result:
        raise ConnectFailed(f"{result['error']}: {result.get('error_description', '')}")
    claims = result.get("id_token_claims") or {}
    email = claims.get("email") or claims.get("preferred_username")
    if not email:
        raise ConnectFailed("the sign-in returned no email address")
    return ConnectedAccount(
        email.lower(),
        claims.get("name") or email,
        cache.serialize().encode(),
        email_domain_verified=_email_domain_verified(claims),
        account_id=_account_id(claims),
    )


def _email_domain_verified(claims: Mapping[str, Any]) -> bool:
    """Whether Microsoft vouches for the ID token's ``email``.

    The ``email`` claim is a mutable attribute any tenant's admin may set to any address
    (and ``preferred_username`` is mutable too), so it proves nothing by itself: that is
    the "nOAuth" account takeover. The optional claim ``xms_edov`` ("email domain owner
    verified") is true when the address's domain belongs to the user's tenant and its admin
    verified it, or the address is a personal Microsoft account's, a Google account's or a
    one-time-passcode one. It is only sent when the app registration asks for it, and only
    about ``email``. Microsoft: https://learn.microsoft.com/en-us/entra/identity-platform/migrate-off-email-claim-authorization
    and https://learn.microsoft.com/en-us/entra/identity-platform/optional-claims-reference
    """
    return bool(claims.get("email")) and claims.get("xms_edov") is True


def _account_id(claims: Mapping[str, Any]) -> str | None:
    """``<tid>/<oid>``: the tenant and the user object, the immutable claims Microsoft
    recommends, instead of the email, to tell who signed in."""
    tenant, user = claims.get("tid"), claims.get("oid")
    if not (isinstance(tenant, str) and isinstance(user, str) and tenant and user):
        return None
    account = f"{tenant}/{user}"
    return account if len(account) <= text_limits.MICROSOFT_ACCOUNT else None


class TokenSource:
    """Access tokens for one connected account, from the blob in its ``TokenStore``.

    Every call goes through ``acquire_token_silent`` (a cached token, or a refresh), and a
    refreshed cache is written back to the store. A grant that is gone raises
    ``ReconnectRequired``; a token endpoint that is down raises ``Transient``. The MSAL
    application is the process's shared one; the cache is this connection's own.
    """

    def __init__(self, settings: MicrosoftSettings, store: TokenStore) -> None:
        self._store = store
        self._cache = msal.SerializableTokenCache()
        blob = store.load()
        if blob:
            self._cache.deserialize(blob.decode())
        self._settings = settings
        self._lock = threading.Lock()

    @property
    def email(self) -> str:
        """The connected mailbox (the account MSAL stored at sign-in)."""
        username: str = self._account()["username"]
        return username.lower()

    def _account(self) -> dict[str, Any]:
        accounts = list(self._cache.search(msal.TokenCache.CredentialType.ACCOUNT))
        if not accounts:
            raise ReconnectRequired("no Microsoft account is connected")
        account: dict[str, Any] = accounts[0]
        return account

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` after Graph refused the cached one."""
        client = shared_client(self._settings)
        with self._lock, _using(self._cache):
            accounts = client.get_accounts()
            if not accounts:
                raise ReconnectRequired("no Microsoft account is connected")
            try:
                result = client.acquire_token_silent_with_error(
                    list(TOKEN_SCOPES), accounts[0], force_refresh=force_refresh
                )
            except requests.RequestException as error:
                raise Transient(f"token endpoint unreachable: {error}") from error
            if self._cache.has_state_changed:
                self._store.save(self._cache.serialize().encode())
        if not result:
            raise ReconnectRequired("no refresh token for the Microsoft account")
        if "access_token" in result:
            token: str = result["access_token"]
            return token
        if result.get("error") in _RECONNECT_ERRORS:
            raise ReconnectRequired(f"{result['error']}: {result.get('error_description', '')}")
        raise Transient(f"token refresh failed: {result.get('error')}")
