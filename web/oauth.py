""" "Continue with Google / Microsoft": one consent that signs the person in and, for managers,
connects their calendar. Each provider's connect flow lives in its adapter; this module only
adapts both to one shape (start, then finish) and keeps the in-between state in the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from scheduler import text_limits
from scheduler.models import Provider
from scheduler.settings import Settings


class SignInFailed(Exception):
    """The consent did not finish (refused, tampered with, or the adapter is unavailable)."""


@dataclass(frozen=True)
class ConsentResult:
    """Who consented, and the grant. ``email_verified`` is what the provider says of the
    address: True or False (Google's ``email_verified``), None when it says nothing (a
    Microsoft ID token without ``xms_edov``). ``microsoft_account``: the Microsoft account
    that consented (``<tid>/<oid>``), which a person row may be linked to."""

    email: str
    name: str
    grant: bytes
    email_verified: bool | None
    microsoft_account: str | None = None


def _bounded_name(name: str) -> str:
    """A provider's display name, cut to the longest name Cadence stores."""
    return name[: text_limits.PERSON_NAME]


class ConsentFlow(Protocol):
    def start(self, redirect_uri: str, login_hint: str | None) -> tuple[str, dict[str, Any]]:
        """The URL to send the browser to, and what to keep in the session until the callback."""
        ...

    def finish(
        self, redirect_uri: str, callback_url: str, args: dict[str, str], kept: dict[str, Any]
    ) -> ConsentResult: ...


class GoogleConsent:
    def __init__(self, settings: Settings):
        self.settings = settings.google

    def start(self, redirect_uri: str, login_hint: str | None) -> tuple[str, dict[str, Any]]:
        from integrations.google.auth import start_connect

        started = start_connect(self.settings, redirect_uri, login_hint)
        return started.url, {"state": started.state, "code_verifier": started.code_verifier}

    def finish(
        self, redirect_uri: str, callback_url: str, args: dict[str, str], kept: dict[str, Any]
    ) -> ConsentResult:
        from integrations.google.auth import ConnectFailed, ConnectStart, finish_connect

        started = ConnectStart(url="", state=kept["state"], code_verifier=kept["code_verifier"])
        try:
            done = finish_connect(self.settings, redirect_uri, callback_url, started)
        except ConnectFailed as error:
            raise SignInFailed(str(error)) from error
        return ConsentResult(
            done.email, _bounded_name(done.name), done.token_blob, done.email_verified
        )


class MicrosoftConsent:
    def __init__(self, settings: Settings):
        self.settings = settings.microsoft

    def start(self, redirect_uri: str, login_hint: str | None) -> tuple[str, dict[str, Any]]:
        from integrations.outlook.auth import start_connect

        flow = start_connect(self.settings, redirect_uri, login_hint=login_hint)
        return str(flow["auth_uri"]), {"flow": flow}

    def finish(
        self, redirect_uri: str, callback_url: str, args: dict[str, str], kept: dict[str, Any]
    ) -> ConsentResult:
        from integrations.outlook.auth import ConnectFailed, finish_connect

        try:
            done = finish_connect(self.settings, kept["flow"], args)
        except ConnectFailed as error:
            raise SignInFailed(str(error)) from error
        # The ID token's ``email`` is whatever the account's tenant set, and
        # ``preferred_username`` is mutable: neither proves the address. Only the optional
        # claim ``xms_edov: true`` does (integrations/outlook/auth.py); without it the
        # sign-in says nothing of the address (docs/security.md, "nOAuth").
        return ConsentResult(
            done.email,
            _bounded_name(done.name),
            done.token_blob,
            True if done.email_domain_verified else None,
            microsoft_account=done.account_id,
        )


def consent_flow(settings: Settings, provider: Provider) -> ConsentFlow | None:
    """The provider's flow when it is configured (client id and secret set), else ``None``."""
    if provider == Provider.GOOGLE and settings.google.configured:
        return GoogleConsent(settings)
    if provider == Provider.MICROSOFT and settings.microsoft.configured:
        return MicrosoftConsent(settings)
    return None
