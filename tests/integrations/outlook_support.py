"""Shared pieces of the Outlook adapter tests: the emulator, a connected manager, a webhook.

The browser is played by ``requests``: it follows the authorize redirect exactly as a
signed-in user's browser would, and hands the callback's query to ``finish_connect``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from integrations.base import AgendaDocument, SeriesSpec
from integrations.outlook import OutlookCalendar, finish_connect, start_connect
from integrations.outlook.graph import MailboxLimiter
from integrations.outlook.subscriptions import validation_response
from integrations.retry import RetryPolicy
from scheduler.recurrence import WeeklySlot
from scheduler.settings import MicrosoftSettings
from tests.emulators.graph import GraphEmulator
from tests.emulators.server import LocalServer, Request, Response
from tests.fakes import MemoryTokenStore

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "emulator-secret"
REDIRECT_URI = "https://cadence.test/auth/microsoft/callback"
MANAGER = "maria@contoso.test"
REPS = [f"rep{n}@contoso.test" for n in range(1, 9)]


def settings_for(graph: GraphEmulator) -> MicrosoftSettings:
    return MicrosoftSettings(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        authority=graph.authority,
        graph_url=graph.graph_url,
        ca_bundle=graph.ca_bundle,
    )


def sign_in(graph: GraphEmulator, email: str) -> bytes:
    """The whole connect flow as the user's browser plays it; the token blob to store."""
    settings = settings_for(graph)
    flow = start_connect(settings, REDIRECT_URI)
    graph.identity.signed_in = email
    answer = requests.get(flow["auth_uri"], verify=graph.ca_bundle, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == REDIRECT_URI
    return finish_connect(settings, flow, dict(parse_qsl(callback.query))).token_blob


@dataclass
class Sleeps:
    """A ``RetryPolicy.sleep`` that records instead of waiting."""

    waited: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


def populate(emulator: GraphEmulator) -> GraphEmulator:
    """Maria (Los Angeles) and her eight reps (New York), and Cadence's app registration."""
    emulator.add_mailbox(MANAGER, "Maria Manager")
    for n, rep in enumerate(REPS, start=1):
        emulator.add_mailbox(rep, f"Rep {n}", "Eastern Standard Time")
    emulator.register_app(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    return emulator


def make_calendar(
    graph: GraphEmulator, store: MemoryTokenStore, sleep: Any, **kwargs: Any
) -> OutlookCalendar:
    return OutlookCalendar(
        settings_for(graph),
        store,
        retry=kwargs.pop("retry", RetryPolicy(attempts=5, base_delay=0.01, sleep=sleep)),
        limiter=kwargs.pop("limiter", MailboxLimiter()),
        timeout=kwargs.pop("timeout", 5.0),
        **kwargs,
    )


def series_spec(rep: str = REPS[0], series_id: str = "series-1", **changes: Any) -> SeriesSpec:
    """Maria's weekly 1:1 with ``rep``: Mondays 9:00 Los Angeles, from 2026-12-07."""
    agenda = AgendaDocument(
        title="1:1 agenda",
        text="1. Status update",
        html="<ol><li>Status update</li></ol>",
        url="https://cadence.test/agenda/1",
        pdf=b"%PDF-1.4 agenda",
        filename="agenda.pdf",
    )
    values: dict[str, Any] = {
        "series_id": series_id,
        "organization_id": "org-1",
        "organiser_email": MANAGER,
        "attendee_email": rep,
        "title": f"Maria / {rep} 1:1",
        "slot": WeeklySlot(0, time(9), timedelta(minutes=30), "America/Los_Angeles"),
        "first_day": date(2026, 12, 7),
        "agenda": agenda,
    }
    return SeriesSpec(**(values | changes))


class Webhook:
    """The app's notification endpoint on plain loopback HTTP, recording what Graph POSTs."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.validations = 0
        self.arrived = threading.Condition()
        self.echo_wrong_token = False
        self._server = LocalServer(self._answer)

    @property
    def url(self) -> str:
        return f"{self._server.base_url}/webhooks/microsoft"

    def _answer(self, request: Request) -> Response:
        token = request.param("validationToken")
        if token is not None:
            self.validations += 1
            body, status, headers = validation_response(token + ("x" * self.echo_wrong_token))
            return Response(status, body.encode(), headers)
        with self.arrived:
            self.received.append(request.json())
            self.arrived.notify_all()
        return Response(202)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        return list(self.received)

    def last_lifecycle(self) -> dict[str, Any]:
        """The latest lifecycle notification (change notifications may arrive around it)."""
        with self.arrived:
            return next(p for p in reversed(self.received) if "lifecycleEvent" in p["value"][0])

    def __enter__(self) -> Webhook:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
