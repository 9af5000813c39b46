"""Organisations, the people in them, their agenda templates, and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler import text_limits
from scheduler.models.base import Base, OrgScoped, UTCDateTime, new_id


class Organization(Base):
    """A company using Cadence, with the defaults its admins set (PRODUCT.md, Admin)."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(text_limits.ORGANIZATION_NAME))
    zone: Mapped[str] = mapped_column(String(text_limits.ZONE), default="UTC")
    horizon_weeks: Mapped[int] = mapped_column(Integer, default=13)
    agenda_period_weeks: Mapped[int] = mapped_column(Integer, default=13)
    grace_hours: Mapped[int] = mapped_column(Integer, default=48)
    min_action_items: Mapped[int] = mapped_column(Integer, default=3)
    meeting_minutes: Mapped[int] = mapped_column(Integer, default=30)
    stopped_after_weeks: Mapped[int] = mapped_column(Integer, default=3)
    video_meetings: Mapped[bool] = mapped_column(Boolean, default=False)
    # People whose email is at this domain may join without an invitation (empty: invite only).
    join_domain: Mapped[str] = mapped_column(String(text_limits.DOMAIN), default="")
    # {"0": [["09:00", "17:00"]], ...} in each person's own zone; weekday 0 = Monday.
    working_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What Cadence does about a new conflict for managers who chose nothing: "ask" (mail
    # the alternatives) or "auto" (move to the best one when the rules allow).
    conflict_policy_default: Mapped[str] = mapped_column(
        String(8), default="ask", server_default="ask"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Person(OrgScoped, Base):
    """Someone in an organisation. One person can be admin, manager and rep at once."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("organization_id", "email"),)

    email: Mapped[str] = mapped_column(String(text_limits.EMAIL))
    name: Mapped[str] = mapped_column(String(text_limits.PERSON_NAME), default="")
    zone: Mapped[str] = mapped_column(String(text_limits.ZONE), default="UTC")
    # The language dates are written in, in emails (scheduler/mail/dates.py): a Babel locale.
    date_locale: Mapped[str] = mapped_column(String(16), default="en_US", server_default="en_US")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    is_rep: Mapped[bool] = mapped_column(Boolean, default=False)
    manager_id: Mapped[str | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    # Overrides the organisation's working hours when set (same shape).
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # "ask" or "auto" for this manager's conflicts; None follows the organisation's default.
    conflict_policy: Mapped[str | None] = mapped_column(String(8))
    # When the person proved the address: a followed verification or reset link, or a Google
    # sign-in, or a Microsoft one whose ID token says xms_edov (the domain's owner verified the
    # address; without it the address is whatever the account's tenant set). A password
    # account signs in only once it is set.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The Microsoft account ("<tid>/<oid>") that signs in as this person without proving the
    # address again: linked by a sign-in that proved it, by the link Cadence mailed to it, or
    # by founding the organisation (scheduler/usecases/joining.py). Proving the address drops
    # a link made while it was unproven.
    microsoft_account: Mapped[str | None] = mapped_column(String(text_limits.MICROSOFT_ACCOUNT))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Joining (scheduler/usecases/joining.py): a row someone else added is an invitation until
    # the person accepts it (joined_at) or declines it (declined_at); only a member signs in.
    invited_by_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A rep's cadence with their current manager, as the stopped-cadence report reads it:
    # derived from the pair's series and sessions, kept current after every flush by
    # scheduler.reports.cadence_facts (never set by hand). Deferred: only reports read them.
    cadence_first_start: Mapped[datetime | None] = mapped_column(UTCDateTime, deferred=True)
    # The last day a live series books (date.max: open-ended); None when none is live.
    cadence_booked_through: Mapped[date | None] = mapped_column(Date, deferred=True)
    cadence_last_held_at: Mapped[datetime | None] = mapped_column(UTCDateTime, deferred=True)


class AgendaTemplateRow(OrgScoped, Base):
    """An organisation's agenda template, or one manager's (``manager_id`` set)."""

    __tablename__ = "agenda_templates"
    __table_args__ = (UniqueConstraint("organization_id", "manager_id"),)

    manager_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # [{"title": ..., "prompt": ...}, ...]
    topics: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(OrgScoped, Base):
    """Who did what to which object, for admins (and for reconstructing a history)."""

    __tablename__ = "audit_log"

    actor_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
