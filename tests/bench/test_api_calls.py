"""The provider-call benchmark's operations, counted by the Google and Graph emulators:
each at its API's minimum, or above it only by what ``bench.api_calls`` explains."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import api_calls
from tests.emulators.tls import LocalCA


@pytest.fixture
def ca() -> Iterator[LocalCA]:
    authority = LocalCA()
    yield authority
    authority.close()


def _within_minimum(provider: str, found: dict[str, int]) -> None:
    for operation, calls in found.items():
        least, _ = api_calls.MINIMUM[provider][operation]
        identity = api_calls.IDENTITY[provider].get(operation, 0)
        if (provider, operation) not in api_calls.ABOVE:
            assert calls - identity == least, (operation, calls)
        else:
            assert calls - identity > least, f"{operation}: the explanation is stale"


def test_google_operations_make_the_fewest_calls(tmp_path: Path, ca) -> None:
    with api_calls.google_world(tmp_path, ca) as world:
        found = api_calls.measure(world)
    assert found["series page, fresh"] == 0
    assert found["proposals, 8 reps"] == found["proposals, 1 rep"] == 2
    _within_minimum("google", found)


def test_graph_operations_make_the_fewest_calls(tmp_path: Path) -> None:
    with api_calls.graph_world(tmp_path) as world:
        found = api_calls.measure(world)
    assert found["series page, fresh"] == 0
    _within_minimum("microsoft", found)
