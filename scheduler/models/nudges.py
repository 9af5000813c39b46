"""The debrief chase: which nudge or reminder went to a manager for which 1:1."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.models.base import Base, OrgScoped, UTCDateTime
from scheduler.models.mail import MAIL_KEY


class DebriefNudge(OrgScoped, Base):
    """One email asking a manager to debrief a 1:1 that ended: ``kind`` "nudge" or "reminder".

    Inserted before the email is queued, once per (session, kind): a retried or concurrent job
    finds the row and sends nothing. ``grace_ends_at`` is when the week stopped taking a
    debrief as the nudge was sent (the session's end plus the organisation's grace period),
    kept so the reports count "debriefed within the grace period after a nudge" from this row
    alone, whatever the grace period becomes later.
    """

    __tablename__ = "debrief_nudges"
    __table_args__ = (
        UniqueConstraint("session_id", "kind"),
        # The reports count nudges sent in a period, per organisation and per manager.
        Index("ix_debrief_nudges_org_queued", "organization_id", "queued_at"),
    )

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    manager_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    grace_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The outbox message's key: "debrief-nudge/<session>" or "debrief-reminder/<session>".
    outbox_key: Mapped[str] = mapped_column(String(MAIL_KEY))
