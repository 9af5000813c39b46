"""The 1:1s themselves: series, their weekly sessions, debriefs, action items, talking points."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from scheduler import text_limits
from scheduler.debrief import Owner
from scheduler.models.base import Base, OrgScoped, UTCDateTime, enum_column
from scheduler.outcomes import OUTCOMES_NOT_HELD

# The outcomes the skipped-meeting list shows, as SQL for partial indexes.
NOT_HELD_SQL = "outcome IN ({})".format(
    ", ".join(f"'{outcome.value}'" for outcome in sorted(OUTCOMES_NOT_HELD))
)


class SeriesStatus(enum.StrEnum):
    # The row exists before the provider call, so a crash between the two is recoverable.
    BOOKING = "booking"
    ACTIVE = "active"
    # Ended by Cadence (a new time from a date, or cancelled from a date).
    ENDED = "ended"
    # Deleted or shortened in the calendar: no future 1:1 booked (Matt's case).
    STOPPED = "stopped"


# A series still booking 1:1s (a BOOKING row is one the provider call is making live).
LIVE_SERIES = (SeriesStatus.BOOKING, SeriesStatus.ACTIVE)


class Series(OrgScoped, Base):
    """A standing weekly 1:1 between a manager and a rep, booked in the manager's calendar."""

    __tablename__ = "series"
    __table_args__ = (
        # At most one live series per pair: a double submit cannot book twice.
        Index(
            "uq_series_live_pair",
            "organization_id",
            "manager_id",
            "rep_id",
            unique=True,
            sqlite_where=text("status IN ('booking', 'active')"),
            postgresql_where=text("status IN ('booking', 'active')"),
        ),
    )

    manager_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    rep_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("calendar_connections.id", ondelete="SET NULL")
    )
    weekday: Mapped[int] = mapped_column(Integer)
    local_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" in ``zone``
    duration_minutes: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(text_limits.ZONE))
    first_day: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[SeriesStatus] = mapped_column(
        enum_column(SeriesStatus, 16), default=SeriesStatus.BOOKING
    )
    provider_event_id: Mapped[str | None] = mapped_column(String(1024))
    # The agenda template locked for the current agenda period, and when that period began.
    template_topics: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    template_locked_on: Mapped[date] = mapped_column(Date)
    previous_series_id: Mapped[str | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL")
    )
    ended_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Session(OrgScoped, Base):
    """One scheduled week of a series: what the calendar says, and what came of it."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("series_id", "scheduled_start"),
        Index("ix_sessions_org_week", "organization_id", "week_start"),
        Index("ix_sessions_org_outcome_week", "organization_id", "outcome", "week_start"),
        # Reports (scheduler/reports): every column the overview and trends read, so
        # PostgreSQL answers them from the index alone.
        Index(
            "ix_sessions_overview",
            "organization_id",
            "week_start",
            "manager_id",
            "outcome",
            "cancelled_by",
        ),
        # The skipped-meeting list, newest first, for the organisation and per manager.
        Index(
            "ix_sessions_not_held",
            "organization_id",
            "scheduled_start",
            "id",
            sqlite_where=text(NOT_HELD_SQL),
            postgresql_where=text(NOT_HELD_SQL),
        ),
        Index(
            "ix_sessions_not_held_manager",
            "organization_id",
            "manager_id",
            "scheduled_start",
            "id",
            sqlite_where=text(NOT_HELD_SQL),
            postgresql_where=text(NOT_HELD_SQL),
        ),
        # The 1:1s that ended lately, moved or not (scheduler.usecases.debrief_chase).
        Index("ix_sessions_org_scheduled_end", "organization_id", "scheduled_end"),
        Index("ix_sessions_org_current_end", "organization_id", "current_end"),
        # A rep's weeks, and each pair's first 1:1 (scheduler.reports.cadence_facts).
        Index("ix_sessions_rep_start", "rep_id", "scheduled_start", "manager_id", "outcome"),
        # Each pair's last held 1:1 (scheduler.reports.cadence_facts).
        Index(
            "ix_sessions_held_pair",
            "rep_id",
            "manager_id",
            "scheduled_start",
            sqlite_where=text("outcome = 'held'"),
            postgresql_where=text("outcome = 'held'"),
        ),
    )

    series_id: Mapped[str] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    manager_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    rep_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date] = mapped_column(Date)  # Monday, in the organiser's zone
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime)
    scheduled_end: Mapped[datetime] = mapped_column(UTCDateTime)
    # Where the occurrence is now, when it was moved in the calendar.
    current_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))  # manager | rep | unknown
    # Why, when the manager said so on cancelling in Cadence (a calendar cancellation has none).
    cancel_reason: Mapped[str] = mapped_column(
        String(text_limits.CANCEL_REASON), default="", server_default=""
    )
    rep_response: Mapped[str | None] = mapped_column(String(16))
    # The rep answered this occurrence itself: the series' answer no longer reaches it.
    response_on_occurrence: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # The series was deleted or shortened in the calendar before this occurrence.
    series_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    excused: Mapped[bool] = mapped_column(Boolean, default=False)
    excused_reason: Mapped[str] = mapped_column(Text, default="")
    agenda_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    agenda_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last classification (scheduler.outcomes), kept for reports to aggregate in SQL.
    outcome: Mapped[str] = mapped_column(String(16), default="upcoming")
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Debrief(OrgScoped, Base):
    """What the manager recorded after the 1:1: a note per agenda topic."""

    __tablename__ = "debriefs"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), unique=True
    )
    recorded_by_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionItem(OrgScoped, Base):
    """One of the (at least) three actions agreed in a 1:1, with an owner and a due date."""

    __tablename__ = "action_items"
    __table_args__ = (
        Index("ix_action_items_org_due", "organization_id", "due_date"),
        # A series' items by creation (scheduler.reports.rollups recounts a manager's week).
        Index("ix_action_items_series_created", "series_id", "created_at"),
    )

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[str] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[Owner] = mapped_column(enum_column(Owner, 8))
    owner_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TalkingPoint(OrgScoped, Base):
    """Something the rep wants to raise, added from the agenda page before the 1:1."""

    __tablename__ = "talking_points"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
