"""An organisation's defaults, as its admins set them (PRODUCT.md, Admin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.agenda import AgendaTemplate, validate_template
from scheduler.db import Database
from scheduler.defend import ConflictPolicy
from scheduler.field_errors import FieldError
from scheduler.models import AgendaTemplateRow, Organization, Person
from scheduler.usecases.agendas import template_to_rows
from scheduler.usecases.directory import InvalidInput
from scheduler.usecases.scope import audit, get_in_org

LIMITS = {
    "horizon_weeks": (4, 52),
    "grace_hours": (0, 336),
    "min_action_items": (3, 10),
    "meeting_minutes": (15, 120),
}


@dataclass(frozen=True)
class OrganizationSettings:
    """What the settings page edits; ``working_hours`` is the same span Monday to Friday."""

    horizon_weeks: int
    grace_hours: int
    min_action_items: int
    meeting_minutes: int
    video_meetings: bool
    join_domain: str
    day_starts: time
    day_ends: time
    holidays: tuple[date, ...] = field(default_factory=tuple)
    # What a new conflict does for managers who chose nothing (scheduler.defend).
    conflict_policy_default: str = "ask"


def settings_errors(values: OrganizationSettings) -> list[FieldError]:
    errors = [
        FieldError(name, f"Enter a number from {low} to {high}.")
        for name, (low, high) in LIMITS.items()
        if not low <= getattr(values, name) <= high
    ]
    if values.day_ends <= values.day_starts:
        errors.append(FieldError("day_ends", "The working day must end after it starts."))
    if values.conflict_policy_default not in set(ConflictPolicy):
        errors.append(FieldError("conflict_policy_default", "Choose one of the options."))
    domain = values.join_domain.strip().lower()
    if domain and ("." not in domain or "@" in domain or " " in domain):
        errors.append(FieldError("join_domain", "Give a domain like example.com, or leave empty."))
    return errors


def update_settings(
    database: Database,
    *,
    org_id: str,
    actor_id: str,
    values: OrganizationSettings,
    now: datetime,
) -> None:
    """Store the organisation's defaults; ``InvalidInput`` names every field at fault."""
    errors = settings_errors(values)
    if errors:
        raise InvalidInput(errors)
    span = [[values.day_starts.strftime("%H:%M"), values.day_ends.strftime("%H:%M")]]
    with database.session() as db:
        actor = get_in_org(db, Person, org_id, actor_id)
        org = db.get(Organization, org_id)
        assert org is not None
        org.horizon_weeks = values.horizon_weeks
        org.grace_hours = values.grace_hours
        org.min_action_items = values.min_action_items
        org.meeting_minutes = values.meeting_minutes
        org.video_meetings = values.video_meetings
        org.join_domain = values.join_domain.strip().lower()
        org.working_hours = {str(day): span for day in range(5)}
        org.holidays = sorted({day.isoformat() for day in values.holidays})
        org.conflict_policy_default = values.conflict_policy_default
        audit(db, org_id=org_id, actor_id=actor.id, action="org.settings", subject=actor, now=now)


def save_template(
    database: Database,
    *,
    org_id: str,
    actor_id: str,
    template: AgendaTemplate,
    now: datetime,
    manager_id: str | None = None,
) -> None:
    """The agenda template new agenda periods take (running periods keep theirs): the
    organisation's, or with ``manager_id`` that manager's own, which overrides it."""
    errors = validate_template(template)
    if errors:
        raise InvalidInput(errors)
    with database.session() as db:
        actor = get_in_org(db, Person, org_id, actor_id)
        row = _template_row(db, org_id, manager_id)
        if row is None:
            row = AgendaTemplateRow(organization_id=org_id, manager_id=manager_id)
            db.add(row)
        row.topics = template_to_rows(template)
        row.updated_at = now
        audit(
            db,
            org_id=org_id,
            actor_id=actor.id,
            action="manager.template" if manager_id else "org.template",
            subject=actor,
            now=now,
            topics=len(template.topics),
        )


def clear_manager_template(
    database: Database, *, org_id: str, manager_id: str, now: datetime
) -> None:
    """The manager goes back to the organisation's template for their next agenda periods."""
    with database.session() as db:
        manager = get_in_org(db, Person, org_id, manager_id)
        row = _template_row(db, org_id, manager.id)
        if row is not None:
            db.delete(row)
            audit(
                db,
                org_id=org_id,
                actor_id=manager.id,
                action="manager.template_cleared",
                subject=manager,
                now=now,
            )


def _template_row(db: DbSession, org_id: str, manager_id: str | None) -> AgendaTemplateRow | None:
    owner = (
        AgendaTemplateRow.manager_id.is_(None)
        if manager_id is None
        else AgendaTemplateRow.manager_id == manager_id
    )
    return db.scalar(
        select(AgendaTemplateRow).where(AgendaTemplateRow.organization_id == org_id, owner)
    )
