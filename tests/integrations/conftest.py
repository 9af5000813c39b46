"""Fixtures shared by the adapter tests."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from tests.emulators.tls import LocalCA
from web.demo.radicale import RadicaleServer, running_radicale


@pytest.fixture(scope="module")
def ca() -> Iterator[LocalCA]:
    """A local certificate authority for the emulators' and receivers' https."""
    authority = LocalCA()
    yield authority
    authority.close()


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    """A Radicale with a ``manager`` account (modules needing other accounts define theirs)."""
    with running_radicale({"manager": "app-password"}) as server:
        yield server


@pytest.fixture
def calendar_name(radicale: RadicaleServer) -> str:
    """A fresh calendar in the manager's account, its id and display name alike."""
    name = f"work-{uuid4().hex[:8]}"
    radicale.make_calendar("manager", name, name)
    return name
