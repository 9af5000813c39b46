"""Conflicts found in booked weeks, kept so each is acted on (mailed, moved) exactly once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.defend import ConflictState
from scheduler.models.base import Base, OrgScoped, UTCDateTime, enum_column


class SlotConflict(OrgScoped, Base):
    """One clash of other busy time with one booked week, and what came of it.

    ``fingerprint`` hashes the clashing busy intervals and whose they are: the same clash
    is recorded (and mailed) once. ``busy`` is free/busy only, never a title:
    ``[{"email", "role": "manager"|"rep", "start", "end"}]``; ``alternatives`` are up to three
    ISO 8601 UTC starts in the same week, free for both. ``link_nonce`` is shared by every
    link of the conflict's email, so using one spends them all.
    """

    __tablename__ = "slot_conflicts"
    __table_args__ = (
        UniqueConstraint("session_id", "fingerprint"),
        # The notice run's work list; reports count by week.
        Index("ix_slot_conflicts_state", "state", "detected_at"),
        Index("ix_slot_conflicts_org_week", "organization_id", "week_start"),
    )

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[str] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    manager_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    rep_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    week_start: Mapped[date] = mapped_column(Date)  # the session's Monday
    occurrence_start: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fingerprint: Mapped[str] = mapped_column(String(64))
    busy: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[ConflictState] = mapped_column(
        enum_column(ConflictState, 24), default=ConflictState.PENDING
    )
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the week went, when it was moved (by the manager or automatically).
    moved_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_nonce: Mapped[str | None] = mapped_column(String(64))
