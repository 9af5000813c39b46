"""What the reports keep: the counts they add up (the digests sent are in the outbox)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.models.base import Base


class ManagerWeek(Base):
    """One manager's week of 1:1s, counted by outcome: what the overview adds up.

    Derived from the week's sessions and recomputed whenever one of them changes
    (scheduler.reports.rollups); never written by hand. Columns as ``SessionCounts``.
    """

    __tablename__ = "manager_weeks"
    __table_args__ = (Index("ix_manager_weeks_org_week", "organization_id", "week_start"),)

    manager_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    expected: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    undocumented: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    rescheduled: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by_manager: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by_rep: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by_unknown: Mapped[int] = mapped_column(Integer, default=0)
    declined: Mapped[int] = mapped_column(Integer, default=0)
    excused: Mapped[int] = mapped_column(Integer, default=0)
    stopped: Mapped[int] = mapped_column(Integer, default=0)
    upcoming: Mapped[int] = mapped_column(Integer, default=0)


class ManagerItemWeek(Base):
    """Action items of one manager's series created in one UTC week, by due date.

    ``open`` per due date is what makes "overdue as of today" a sum: the open rows due
    before today. Derived like ``ManagerWeek`` (scheduler.reports.rollups).
    """

    __tablename__ = "manager_item_weeks"
    __table_args__ = (Index("ix_manager_item_weeks_org_week", "organization_id", "week_start"),)

    manager_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)  # Monday, UTC
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    created: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    completed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
