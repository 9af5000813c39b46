"""Looking things up inside one organisation, and writing the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.models import AuditEntry
from scheduler.models.base import OrgScoped

Row = TypeVar("Row", bound=OrgScoped)


class NotInOrganization(LookupError):
    """No such object in this organisation (whether or not it exists in another one)."""


def get_in_org(db: DbSession, model: type[Row], org_id: str, object_id: str) -> Row:
    row = db.scalar(select(model).where(model.id == object_id, model.organization_id == org_id))
    if row is None:
        raise NotInOrganization(f"{model.__name__} {object_id} not found")
    return row


def audit(
    db: DbSession,
    *,
    org_id: str,
    actor_id: str | None,
    action: str,
    subject: OrgScoped,
    now: datetime,
    **detail: Any,
) -> None:
    db.add(
        AuditEntry(
            organization_id=org_id,
            actor_id=actor_id,
            action=action,
            subject_type=type(subject).__name__,
            subject_id=subject.id,
            detail=detail,
            at=now,
        )
    )
