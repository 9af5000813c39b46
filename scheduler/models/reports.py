"""What the reports keep: which weekly digest went to whom (so it goes once)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.models.base import Base, OrgScoped, UTCDateTime


class DigestDelivery(OrgScoped, Base):
    """One person's weekly digest, sent: the unique key makes a second send impossible."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("person_id", "week_start"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    week_start: Mapped[date] = mapped_column(Date)
    email: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
