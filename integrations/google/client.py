"""The Calendar v3 client: one built service, one ``execute`` that retries and translates.

The service is built from the discovery document shipped with google-api-python-client
(static discovery: no network fetch), its endpoint from ``GoogleSettings.api_endpoint`` and
its TLS trust from ``GoogleSettings.ca_bundle`` handed to httplib2 explicitly (httplib2 ignores
``REQUESTS_CA_BUNDLE``). Every call goes through the shared ``RetryPolicy`` rather than
``execute(num_retries=...)``, which ignores ``Retry-After``.

Error mapping (https://developers.google.com/calendar/api/guides/errors):
401, 403 ``insufficientPermissions`` and ``invalid_grant`` -> ``ReconnectRequired``;
429 and 403 ``rateLimitExceeded`` / ``userRateLimitExceeded`` -> ``RateLimited``;
5xx, timeouts, resets -> ``Transient``; both carry the answer's ``Retry-After``, which the
retry policy waits instead of its own backoff; 404 / 410 -> ``NotFound`` (410 as ``Gone``);
409 -> ``Conflict``.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urljoin

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest

from integrations.base import (
    NotFound,
    ProviderError,
    RateLimited,
    ReconnectRequired,
    TokenStore,
    Transient,
)
from integrations.google.auth import credentials_from_blob, token_blob
from integrations.retry import RetryPolicy, retry_after_seconds
from scheduler.settings import GoogleSettings

if TYPE_CHECKING:
    # Only in google-api-python-client-stubs: the typed Calendar v3 service.
    from googleapiclient._apis.calendar.v3 import CalendarResource

_SERVICE_PATH = "calendar/v3/"
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# A grant without the scope a call needs (the user unticked it): only a new consent helps.
_RECONNECT_REASONS = frozenset({"insufficientPermissions", "authError"})

RequestFactory: TypeAlias = "Callable[[CalendarResource], HttpRequest]"
# One page of a list call: the service and the page token (None for the first page).
PageRequestFactory: TypeAlias = "Callable[[CalendarResource, str | None], HttpRequest]"


class Conflict(ProviderError):
    """409: an event with the requested id already exists."""


class Gone(NotFound):
    """410: deleted, or (for a sync token) expired: a full sync is required."""


class CalendarClient:
    """The manager's Calendar API session: credentials from, and refreshes back to, a store."""

    def __init__(
        self,
        settings: GoogleSettings,
        tokens: TokenStore,
        retry: RetryPolicy,
        timeout: float = 30.0,
    ):
        blob = tokens.load()
        if blob is None:
            raise ReconnectRequired("no Google connection stored")
        self._credentials, self.email = credentials_from_blob(blob, settings)
        self._tokens = tokens
        self._saved_token = self._credentials.token
        self._retry = retry
        http = google_auth_httplib2.AuthorizedHttp(
            self._credentials, http=httplib2.Http(ca_certs=settings.ca_bundle, timeout=timeout)
        )
        self._service = build(
            "calendar",
            "v3",
            http=http,
            static_discovery=True,
            client_options={"api_endpoint": urljoin(settings.api_endpoint, _SERVICE_PATH)},
        )

    def execute(self, make_request: RequestFactory) -> dict[str, Any]:
        """Run one API call with retries; the decoded JSON answer ({} for an empty body)."""
        return self._retry.call(lambda: self._execute_once(make_request))

    def pages(self, make_request: PageRequestFactory) -> Iterator[dict[str, Any]]:
        """Every page of a list call, following ``nextPageToken``; each page retried alone."""
        page_token: str | None = None
        while True:

            def request(service: CalendarResource, token: str | None = page_token) -> HttpRequest:
                return make_request(service, token)

            page = self.execute(request)
            yield page
            page_token = page.get("nextPageToken")
            if not page_token:
                return

    def _execute_once(self, make_request: RequestFactory) -> dict[str, Any]:
        try:
            return make_request(self._service).execute() or {}
        except HttpError as error:
            raise translate_http_error(error) from error
        except RefreshError as error:
            raise translate_refresh_error(error) from error
        except ssl.SSLCertVerificationError as error:
            # A wrong CA bundle or an intercepting proxy: retrying will not help.
            raise ProviderError(
                f"TLS verification failed (check GOOGLE_CA_BUNDLE): {error}"
            ) from error
        except (TimeoutError, TransportError, ConnectionError, ssl.SSLError) as error:
            raise Transient(f"Google Calendar unreachable: {error}") from error
        except (httplib2.HttpLib2Error, OSError) as error:
            raise Transient(f"Google Calendar transport error: {error}") from error
        finally:
            self._save_refreshed_token()

    def _save_refreshed_token(self) -> None:
        # google-auth refreshes in place; persist the new access token (and keep the refresh
        # token, which Google does not resend) so the next process does not refresh again.
        if self._credentials.token and self._credentials.token != self._saved_token:
            self._tokens.save(token_blob(self._credentials, self.email))
            self._saved_token = self._credentials.token


def translate_http_error(error: HttpError) -> ProviderError:
    """The typed Cadence error for a Calendar API error answer."""
    status = error.resp.status
    reason, message = _reason(error)
    if status == 401 or (status == 403 and reason in _RECONNECT_REASONS):
        return ReconnectRequired(f"Google refused the credentials: {message}")
    if status == 429 or (status == 403 and reason in _RATE_LIMIT_REASONS):
        return RateLimited(message, retry_after=_retry_after(error))
    if status >= 500:
        return Transient(f"Google Calendar {status}: {message}", retry_after=_retry_after(error))
    if status == 410:
        return Gone(message)
    if status == 404:
        return NotFound(message)
    if status == 409:
        return Conflict(message)
    return ProviderError(f"Google Calendar {status} {reason}: {message}")


def translate_refresh_error(error: RefreshError) -> ProviderError:
    """A failed token refresh: a dead grant needs a person; anything else is worth a retry."""
    if "invalid_grant" in str(error) or not getattr(error, "retryable", False):
        return ReconnectRequired(f"Google token refresh failed: {error}")
    return Transient(f"Google token refresh failed: {error}")


def _reason(error: HttpError) -> tuple[str, str]:
    try:
        body = json.loads(error.content)["error"]
        return body.get("errors", [{}])[0].get("reason", ""), body.get("message", "")
    except (ValueError, KeyError, IndexError, TypeError):
        return "", error.content.decode(errors="replace")[:200]


def _retry_after(error: HttpError) -> float | None:
    return retry_after_seconds(error.resp.get("retry-after"), now=datetime.now(UTC))
