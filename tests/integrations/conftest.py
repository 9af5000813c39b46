"""Fixtures shared by the adapter tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators.tls import LocalCA


@pytest.fixture(scope="module")
def ca() -> Iterator[LocalCA]:
    """A local certificate authority for the emulators' and receivers' https."""
    authority = LocalCA()
    yield authority
    authority.close()
