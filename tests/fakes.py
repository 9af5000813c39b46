"""Small stand-ins for the tests: the token store a connection row would provide."""

from __future__ import annotations


class MemoryTokenStore:
    """A ``TokenStore`` that keeps the blob in memory and counts saves."""

    def __init__(self, blob: bytes | None = None):
        self.blob = blob
        self.saves = 0

    def load(self) -> bytes | None:
        return self.blob

    def save(self, blob: bytes) -> None:
        self.blob = blob
        self.saves += 1
