"""Signed links to one session's agenda page: no account needed, one session, expiring.

The link names the organisation and the session and is signed with the app's secret key; it
stops working ``LINK_LIFETIME`` after the session starts (a link in an old invite goes stale).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from scheduler.usecases.agendas import AgendaLink

LINK_LIFETIME = timedelta(days=30)
_SALT = "cadence.agenda-link"


class AgendaLinkInvalid(Exception):
    """The token is forged, malformed, or its session is too long past."""


class AgendaLinkExpired(AgendaLinkInvalid):
    """A genuine link whose session is more than ``LINK_LIFETIME`` past: the page says so
    (410) and where the agenda still is, instead of pretending the link never existed."""

    def __init__(self, expired_at: datetime):
        super().__init__("expired")
        self.expired_at = expired_at


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def agenda_token(secret_key: str, org_id: str, session_id: str) -> str:
    return _serializer(secret_key).dumps([org_id, session_id])


def read_agenda_token(secret_key: str, token: str) -> tuple[str, str]:
    """The (organisation id, session id) a token was signed for; ``AgendaLinkInvalid`` if not."""
    try:
        payload = _serializer(secret_key).loads(token)
    except BadSignature as error:
        raise AgendaLinkInvalid("bad signature") from error
    if not (
        isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)
    ):
        raise AgendaLinkInvalid("malformed payload")
    return payload[0], payload[1]


def check_not_expired(session_start: datetime, now: datetime) -> None:
    """``AgendaLinkExpired`` once ``LINK_LIFETIME`` has passed since the session started."""
    if now > session_start + LINK_LIFETIME:
        raise AgendaLinkExpired(session_start + LINK_LIFETIME)


def agenda_link_builder(secret_key: str, base_url: str) -> AgendaLink:
    """The ``AgendaLink`` use cases put into invites: an absolute URL to the agenda page."""

    def link(org_id: str, session_id: str) -> str:
        return f"{base_url}/agenda/{agenda_token(secret_key, org_id, session_id)}"

    return link
