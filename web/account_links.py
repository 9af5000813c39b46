"""Signed links mailed to a person: confirm an email address, reset a password.

A confirmation link made for a Microsoft sign-in that did not prove the address also names
that Microsoft account (``LinkFor.microsoft_account``): following it links the account to the
person (``credentials.confirm_microsoft_account``).

Both are signed with the app's secret key (each with its own salt, so one kind never passes
for the other) and carry their own expiry instant, checked against the ``now`` given. A reset
link also carries a fingerprint of the password it replaces: once the password changes — by
this link or any other way — the link is dead, which makes it single-use.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

VERIFY_LIFETIME = timedelta(hours=48)
RESET_LIFETIME = timedelta(hours=1)
_VERIFY_SALT = "cadence.verify-email"
_RESET_SALT = "cadence.password-reset"


class LinkInvalid(Exception):
    """Forged, malformed, for another purpose, or used up."""


class LinkExpired(LinkInvalid):
    """Genuine, but past its expiry."""


@dataclass(frozen=True)
class LinkFor:
    """Whom a link names: a person of an organisation (and, to confirm, which address)."""

    org_id: str
    person_id: str
    detail: str  # the address to confirm; the password fingerprint of a reset
    microsoft_account: str = ""  # a confirmation's Microsoft account ("<tid>/<oid>"), if any


def _serializer(secret_key: str, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=salt)


def _dump(secret_key: str, salt: str, who: LinkFor, expires: datetime) -> str:
    payload: list[str | int] = [who.org_id, who.person_id, who.detail, int(expires.timestamp())]
    if who.microsoft_account:
        payload.append(who.microsoft_account)
    return _serializer(secret_key, salt).dumps(payload)


def _load(secret_key: str, salt: str, token: str, now: datetime) -> LinkFor:
    try:
        payload = _serializer(secret_key, salt).loads(token)
    except BadSignature as error:
        raise LinkInvalid("bad signature") from error
    if not (
        isinstance(payload, list)
        and len(payload) in (4, 5)
        and all(isinstance(part, str) for part in payload[:3] + payload[4:])
        and isinstance(payload[3], int)
    ):
        raise LinkInvalid("malformed payload")
    if now >= datetime.fromtimestamp(payload[3], UTC):
        raise LinkExpired("expired")
    return LinkFor(payload[0], payload[1], payload[2], *payload[4:])


def verification_token(
    secret_key: str,
    *,
    org_id: str,
    person_id: str,
    email: str,
    now: datetime,
    microsoft_account: str = "",
) -> str:
    """The token of a link confirming that ``email`` is the person's, for 48 hours (and that
    ``microsoft_account``, when given, signs in as them)."""
    who = LinkFor(org_id, person_id, email, microsoft_account)
    return _dump(secret_key, _VERIFY_SALT, who, now + VERIFY_LIFETIME)


def read_verification_token(secret_key: str, token: str, *, now: datetime) -> LinkFor:
    """Whom a verification link names (``detail``: the address; ``microsoft_account``, the
    account it links); ``LinkInvalid`` if not."""
    return _load(secret_key, _VERIFY_SALT, token, now)


def password_fingerprint(secret_key: str, password_hash: str | None) -> str:
    """A short keyed digest of the stored password hash: the hash itself never leaves."""
    digest = hmac.new(secret_key.encode(), (password_hash or "").encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def reset_token(
    secret_key: str, *, org_id: str, person_id: str, password_hash: str | None, now: datetime
) -> str:
    """The token of a link setting a new password, for an hour, until the password changes."""
    who = LinkFor(org_id, person_id, password_fingerprint(secret_key, password_hash))
    return _dump(secret_key, _RESET_SALT, who, now + RESET_LIFETIME)


def read_reset_token(secret_key: str, token: str, *, now: datetime) -> LinkFor:
    """Whom a reset link names; ``LinkInvalid`` if forged, malformed or expired. The caller
    then checks it against the person's password with ``check_unused``."""
    return _load(secret_key, _RESET_SALT, token, now)


def check_unused(secret_key: str, who: LinkFor, password_hash: str | None) -> None:
    """``LinkInvalid`` unless the reset link was made for the password the person has now
    (it was used, or the password changed some other way, since)."""
    if not hmac.compare_digest(who.detail, password_fingerprint(secret_key, password_hash)):
        raise LinkInvalid("the password changed since this link was made")


__all__ = [
    "RESET_LIFETIME",
    "VERIFY_LIFETIME",
    "LinkExpired",
    "LinkFor",
    "LinkInvalid",
    "check_unused",
    "read_reset_token",
    "read_verification_token",
    "reset_token",
    "verification_token",
]
