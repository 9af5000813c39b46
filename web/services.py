"""What every request handler needs, built once by ``create_app`` and found via ``cadence()``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from integrations.base import CalendarProvider
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.models import CalendarConnection
from scheduler.settings import Settings
from scheduler.usecases.agendas import AgendaLink

# A connection row -> the calendar it opens (tests inject an in-memory calendar).
ProviderFactory = Callable[[CalendarConnection], CalendarProvider]
# Aware UTC "now" (tests pin it).
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Services:
    """The app's collaborators: passed in or built from settings, never read from globals."""

    settings: Settings
    database: Database
    cipher: TokenCipher
    providers: ProviderFactory
    clock: Clock
    agenda_link: AgendaLink

    def now(self) -> datetime:
        return self.clock()


def cadence() -> Services:
    """The current app's services (inside a request or app context)."""
    return current_app.extensions["cadence"]  # type: ignore[no-any-return]
