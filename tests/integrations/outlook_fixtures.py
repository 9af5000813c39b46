"""Pytest fixtures for the Outlook adapter tests (load with ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.outlook import OutlookCalendar
from tests.emulators.graph import GraphEmulator
from tests.fakes import MemoryTokenStore
from tests.integrations.outlook_support import (
    MANAGER,
    Sleeps,
    Webhook,
    make_calendar,
    populate,
    sign_in,
)


@pytest.fixture
def graph() -> Iterator[GraphEmulator]:
    with GraphEmulator() as emulator:
        yield populate(emulator)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def store(graph: GraphEmulator) -> MemoryTokenStore:
    return MemoryTokenStore(sign_in(graph, MANAGER))


@pytest.fixture
def calendar(graph: GraphEmulator, store: MemoryTokenStore, sleeps: Sleeps) -> OutlookCalendar:
    graph.reset_counts()
    return make_calendar(graph, store, sleeps)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook
