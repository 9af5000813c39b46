"""The API's JSON shapes: one function per resource, the same shapes the OpenAPI doc names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from scheduler.models import ActionItem, Person, Series, Session
from scheduler.usecases.joining import membership


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def person_json(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "zone": person.zone,
        "roles": [
            role
            for role, on in (
                ("admin", person.is_admin),
                ("manager", person.is_manager),
                ("rep", person.is_rep),
            )
            if on
        ],
        "manager_id": person.manager_id,
        "active": person.active,
        "membership": membership(person),
    }


def series_json(series: Series) -> dict[str, Any]:
    return {
        "id": series.id,
        "manager_id": series.manager_id,
        "rep_id": series.rep_id,
        "weekday": series.weekday,
        "local_time": series.local_time,
        "zone": series.zone,
        "duration_minutes": series.duration_minutes,
        "first_day": _day(series.first_day),
        "until": _day(series.until),
        "status": series.status.value,
    }


def session_json(row: Session) -> dict[str, Any]:
    return {
        "id": row.id,
        "series_id": row.series_id,
        "manager_id": row.manager_id,
        "rep_id": row.rep_id,
        "week_start": _day(row.week_start),
        "scheduled_start": _instant(row.scheduled_start),
        "scheduled_end": _instant(row.scheduled_end),
        "current_start": _instant(row.current_start),
        "cancelled": row.cancelled,
        "cancel_reason": row.cancel_reason,
        "outcome": row.outcome,
    }


def action_item_json(item: ActionItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "session_id": item.session_id,
        "series_id": item.series_id,
        "text": item.text,
        "owner": item.owner.value,
        "owner_id": item.owner_id,
        "due_date": _day(item.due_date),
        "done": item.done_at is not None,
        "done_at": _instant(item.done_at),
    }
