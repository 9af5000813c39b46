"""The stored busy time behind a manager's pages, and how the pages say how old it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.intervals import Interval
from scheduler.models import Person, Session
from scheduler.usecases.stored_availability import KnownTime, StoredAvailability
from web import queries
from web.services import cadence


def stored_reader(manager: Person) -> StoredAvailability:
    """The manager's team's stored busy time; whoever's is stale is read again first."""
    services = cadence()
    return StoredAvailability(
        services.database,
        services.providers,
        org_id=manager.organization_id,
        manager_id=manager.id,
        now=services.now(),
        max_age=services.settings.availability_max_age,
        weeks=queries.organization(manager.organization_id).horizon_weeks,
    )


@dataclass(frozen=True)
class AvailabilityNote:
    """One person's line in a page's "availability" box."""

    name: str
    text: str
    readable: bool


def age(read_at: datetime, now: datetime) -> str:
    """``just now``, ``12 min ago``, ``3 h ago``, ``2 days ago``."""
    elapsed = max(now - read_at, timedelta(0))
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed < timedelta(hours=1):
        return f"{elapsed // timedelta(minutes=1)} min ago"
    if elapsed < timedelta(days=1):
        return f"{elapsed // timedelta(hours=1)} h ago"
    days = elapsed.days
    return f"{days} day{'s' if days != 1 else ''} ago"


def note(name: str, known: KnownTime | None, now: datetime) -> AvailabilityNote:
    """What the page says about one person's stored busy time: its age, never "free" for
    time nobody could read."""
    if known is None or known.read_at is None:
        why = f" ({known.error})" if known is not None and known.error else ""
        return AvailabilityNote(name, f"not readable{why}", False)
    read = f"availability read {age(known.read_at, now)}"
    if known.error:
        return AvailabilityNote(
            name, f"{read}; could not be read again ({known.error}): not readable since", False
        )
    if known.window is not None and any(
        span == known.window for span in known.availability.unknown
    ):
        return AvailabilityNote(name, f"not readable (asked {age(known.read_at, now)})", False)
    if known.availability.unknown:
        return AvailabilityNote(name, f"{read}; part of it not readable", False)
    if known.kept_current:
        read += ", kept current by calendar notifications"
    return AvailabilityNote(name, read, True)


def unreadable_weeks(
    reader: StoredAvailability, people: Sequence[Person], sessions: Sequence[Session]
) -> set[str]:
    """The sessions (ids) whose time either person's calendar could not vouch for (never
    read, not readable, or stale and not read again): "not readable", never "clear"."""
    answers = [reader.answers.get(person.email) for person in people]
    unknown = [span for seen in answers if seen is not None for span in seen.unknown]
    return {
        row.id
        for row in sessions
        if None in answers
        or any(
            span.overlaps(
                Interval(
                    row.current_start or row.scheduled_start,
                    row.current_end or row.scheduled_end,
                )
            )
            for span in unknown
        )
    }


def notes(reader: StoredAvailability, people: Sequence[Person]) -> list[AvailabilityNote]:
    """One line per person, the viewer first as "You"."""
    services = cadence()
    now = services.now()
    return [
        note(
            "You" if index == 0 else (person.name or person.email),
            reader.known.get(person.email),
            now,
        )
        for index, person in enumerate(people)
    ]
