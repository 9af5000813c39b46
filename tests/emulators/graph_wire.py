"""How the emulated Graph speaks: its error shape and the request details every route reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tests.emulators.graph_calendar import iso_z, new_id, zone


class GraphError(Exception):
    """An error Graph reports as ``{"error": {"code", "message", "innerError"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {"date": iso_z(datetime.now(UTC)), "request-id": new_id("r")},
            }
        }


def preferred_zone(headers: Mapping[str, str]) -> str:
    """The zone named by ``Prefer: outlook.timezone="..."``; Graph's default is UTC."""
    found = re.search(r'outlook\.timezone="([^"]+)"', headers.get("prefer", ""))
    if found:
        zone(found.group(1))  # unknown names fail loudly, as in Graph
        return found.group(1)
    return "UTC"


def param_time(args: Mapping[str, str], name: str) -> datetime:
    """A required ISO 8601 query parameter (``startDateTime``...) as an aware datetime."""
    if name not in args:
        raise GraphError(400, "ErrorInvalidParameter", f"{name} is required.")
    value = datetime.fromisoformat(args[name].replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
