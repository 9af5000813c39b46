"""The cursor ``changes()`` hands out: where to resume, and what was seen last time.

CalDAV reports which objects changed, not what changed in them, so the cursor carries the
facts seen in each Cadence series (see ``series_changes``). It is opaque to the caller:
JSON, compressed, base64url. A cursor that cannot be read means a full sync.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass, field

from integrations.caldav.series_changes import Fact

_PREFIX = "caldav1:"


@dataclass(frozen=True)
class SeenSeries:
    """A Cadence series as the last sync saw it, at its object's href."""

    series_id: str
    uid: str
    facts: frozenset[Fact]


@dataclass(frozen=True)
class SyncCursor:
    """``sync_token`` when the server speaks RFC 6578; otherwise ``etags`` of every object.

    ``series`` holds the Cadence series seen, by href.
    """

    sync_token: str | None = None
    etags: dict[str, str] | None = None
    series: dict[str, SeenSeries] = field(default_factory=dict)

    def encode(self) -> str:
        document = {
            "sync_token": self.sync_token,
            "etags": self.etags,
            "series": {
                href: [seen.series_id, seen.uid, sorted(seen.facts)]
                for href, seen in sorted(self.series.items())
            },
        }
        packed = zlib.compress(json.dumps(document, separators=(",", ":")).encode())
        return _PREFIX + base64.urlsafe_b64encode(packed).decode()

    @classmethod
    def decode(cls, cursor: str | None) -> SyncCursor | None:
        """The cursor's content; None for no cursor or one this adapter did not write."""
        if not cursor or not cursor.startswith(_PREFIX):
            return None
        try:
            packed = base64.urlsafe_b64decode(cursor.removeprefix(_PREFIX))
            document = json.loads(zlib.decompress(packed))
            return cls(
                sync_token=document["sync_token"],
                etags=document["etags"],
                series={
                    href: SeenSeries(series_id, uid, frozenset(tuple(fact) for fact in facts))
                    for href, (series_id, uid, facts) in document["series"].items()
                },
            )
        except (binascii.Error, zlib.error, ValueError, KeyError, TypeError):
            return None
