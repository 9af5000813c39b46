"""Each person's busy time over the horizon, as one connection last read it.

Pages, conflict checks and proposals answer from these rows instead of asking the provider
on every view; the sync that change notifications trigger, a periodic refresh and "refresh
now" keep them current (``scheduler.usecases.stored_availability``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.models.base import Base, OrgScoped, UTCDateTime


class StoredBusyTime(OrgScoped, Base):
    """What ``connection_id``'s calendar said about ``person_id`` over [window_start,
    window_end) at ``read_at``. Time it could not read is in ``unknown``, never left out:
    an absent span would read as free."""

    __tablename__ = "stored_busy_time"
    __table_args__ = (UniqueConstraint("connection_id", "person_id"),)

    connection_id: Mapped[str] = mapped_column(
        ForeignKey("calendar_connections.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    # [[start, end, kind, label], ...] and [[start, end], ...], ISO 8601 UTC instants.
    busy: Mapped[list[Any]] = mapped_column(JSON, default=list)
    unknown: Mapped[list[Any]] = mapped_column(JSON, default=list)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Why the last refresh failed (kept until one succeeds): the page says so beside the age.
    error: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
