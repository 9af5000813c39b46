"""Signed links mailed to people: what they name, until when, and which nonce spends them.

A link's token is signed with the app's secret key under a salt of its own ``purpose``, so a
link for one purpose never passes for another. It carries the organisation, a small
``subject`` (ids the action needs: ``{"session": …}``), a ``nonce`` and its expiry instant,
checked against the ``now`` given. Single use is the database's (``spent_links``,
``scheduler.usecases.spent_links.spend``): several links may share one nonce, so using one
(a conflict's alternatives) spends them all. Pure: no I/O.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from scheduler.settings import Settings

UNSUBSCRIBE = "unsubscribe"
UNSUBSCRIBE_LIFETIME = timedelta(days=180)
NONCE_MAX = 64  # spent_links.nonce


class LinkRefused(Exception):
    """A link that does nothing: forged, expired or already used (``web.link_pages`` says
    which, and where to go instead)."""


class LinkInvalid(LinkRefused):
    """Forged, malformed, or made for another purpose."""


class LinkExpired(LinkRefused):
    """Genuine, but past its expiry."""

    def __init__(self, expires_at: datetime):
        super().__init__(f"expired on {expires_at.isoformat()}")
        self.expires_at = expires_at


@dataclass(frozen=True)
class SignedLink:
    purpose: str
    org_id: str
    subject: dict[str, str]
    nonce: str
    expires_at: datetime


def _serializer(secret_key: str, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=f"cadence.link.{purpose}")


def new_nonce() -> str:
    """A random nonce, for links that are to share one."""
    return secrets.token_urlsafe(16)


def sign_link(
    secret_key: str,
    *,
    purpose: str,
    org_id: str,
    subject: dict[str, str],
    expires_at: datetime,
    nonce: str | None = None,
) -> str:
    """The token of a link for ``purpose``, valid until ``expires_at`` (to the second)."""
    nonce = new_nonce() if nonce is None else nonce
    if not 0 < len(nonce) <= NONCE_MAX:
        raise ValueError(f"a nonce is 1 to {NONCE_MAX} characters")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware instant")
    payload = [org_id, dict(subject), nonce, int(expires_at.timestamp())]
    return _serializer(secret_key, purpose).dumps(payload)


def read_link(secret_key: str, token: str, *, purpose: str, now: datetime) -> SignedLink:
    """What a genuine, unexpired token for ``purpose`` names; ``LinkInvalid`` (forged,
    malformed, another purpose) or ``LinkExpired`` otherwise. Whether it was already used is
    the database's to say (``spent_links``)."""
    try:
        payload: Any = _serializer(secret_key, purpose).loads(token)
    except BadSignature as error:
        raise LinkInvalid("bad signature") from error
    if not (
        isinstance(payload, list)
        and len(payload) == 4
        and isinstance(payload[0], str)
        and isinstance(payload[1], dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in payload[1].items())
        and isinstance(payload[2], str)
        and isinstance(payload[3], int)
    ):
        raise LinkInvalid("malformed payload")
    expires_at = datetime.fromtimestamp(payload[3], UTC)
    if now >= expires_at:
        raise LinkExpired(expires_at)
    return SignedLink(purpose, payload[0], payload[1], payload[2], expires_at)


def link_url(base_url: str, path: str, token: str) -> str:
    """The absolute URL of ``path``/``token`` (``path`` like "/unsubscribe")."""
    return f"{base_url.rstrip('/')}/{path.strip('/')}/{token}"


def unsubscribe_token(
    secret_key: str, *, org_id: str, person_id: str, kind: str, now: datetime
) -> str:
    """A link stopping one kind of email for one person: 180 days, usable again and again
    (stopping twice is stopping once)."""
    return sign_link(
        secret_key,
        purpose=UNSUBSCRIBE,
        org_id=org_id,
        subject={"person": person_id, "kind": kind},
        expires_at=now + UNSUBSCRIBE_LIFETIME,
    )


def unsubscribe_url(
    settings: Settings, *, org_id: str, person_id: str, kind: str, now: datetime
) -> str:
    token = unsubscribe_token(
        settings.secret_key, org_id=org_id, person_id=person_id, kind=kind, now=now
    )
    return link_url(settings.base_url, "/unsubscribe", token)


__all__ = [
    "UNSUBSCRIBE",
    "UNSUBSCRIBE_LIFETIME",
    "LinkExpired",
    "LinkInvalid",
    "LinkRefused",
    "SignedLink",
    "link_url",
    "new_nonce",
    "read_link",
    "sign_link",
    "unsubscribe_token",
    "unsubscribe_url",
]
