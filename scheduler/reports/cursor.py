"""Opaque keyset cursors: the sort key of a page's last row, to resume just after it.

Keyset rather than OFFSET pagination: page 400 costs what page 1 costs, and a row that
changes while someone pages does not shift the rows under them.
"""

from __future__ import annotations

import base64
import binascii
import json


class BadCursor(ValueError):
    """The cursor was not made by this module (tampered with, or truncated)."""


def encode_cursor(*key: str | None) -> str:
    """A URL-safe cursor holding ``key`` (strings, or ``None`` for a null sort value)."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[str | None]:
    """The key ``encode_cursor`` was given; ``BadCursor`` unless it has ``length`` parts."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor(cursor) from error
    if (
        not isinstance(key, list)
        or len(key) != length
        or not all(part is None or isinstance(part, str) for part in key)
    ):
        raise BadCursor(cursor)
    return key


__all__ = ["BadCursor", "decode_cursor", "encode_cursor"]
