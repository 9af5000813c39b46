"""Background jobs that failed for good, recorded where admins can see them.

A failure is an audit entry (``job.failed``) against the object the job worked on, so the
admin page lists them with one query and no extra table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.db import Database
from scheduler.models import AuditEntry

ACTION = "job.failed"


@dataclass(frozen=True)
class JobFailure:
    job: str
    subject_type: str
    subject_id: str
    error: str
    at: datetime


def record_job_failure(
    database: Database,
    *,
    org_id: str,
    job: str,
    subject_type: str,
    subject_id: str,
    error: BaseException,
    now: datetime,
) -> None:
    with database.session() as db:
        db.add(
            AuditEntry(
                organization_id=org_id,
                actor_id=None,
                action=ACTION,
                subject_type=subject_type[:32],
                subject_id=subject_id[:36],
                detail={"job": job, "error": f"{type(error).__name__}: {error}"[:2000]},
                at=now,
            )
        )


def recent_job_failures(db: DbSession, org_id: str, *, limit: int = 50) -> list[JobFailure]:
    """The organisation's latest failed jobs, newest first (the admin page's list)."""
    rows = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.organization_id == org_id, AuditEntry.action == ACTION)
        .order_by(AuditEntry.at.desc())
        .limit(limit)
    )
    return [_failure(row.subject_type, row.subject_id, row.detail, row.at) for row in rows]


def _failure(
    subject_type: str, subject_id: str, detail: dict[str, Any], at: datetime
) -> JobFailure:
    return JobFailure(
        job=str(detail.get("job", "")),
        subject_type=subject_type,
        subject_id=subject_id,
        error=str(detail.get("error", "")),
        at=at,
    )
