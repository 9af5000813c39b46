"""An in-memory ``CalendarProvider`` for the core's tests (and only there).

It keeps what a calendar would: one event per series id, busy time per person, and a change
feed with a cursor, and it can fail on demand the way a provider does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from integrations.base import (
    AgendaDocument,
    CalendarChange,
    ChangeSet,
    NotFound,
    SeriesRef,
    SeriesSpec,
)
from scheduler.availability import PersonAvailability
from scheduler.intervals import Busy, Interval


@dataclass
class MemoryEvent:
    spec: SeriesSpec
    until: date | None = None
    moved: dict[datetime, datetime] = field(default_factory=dict)
    cancelled: set[datetime] = field(default_factory=set)
    agendas: dict[datetime, AgendaDocument] = field(default_factory=dict)
    deleted: bool = False


class MemoryCalendar:
    def __init__(self) -> None:
        self.busy: dict[str, list[Busy]] = {}
        self.unreadable: set[str] = set()
        self.events: dict[str, MemoryEvent] = {}
        self.feed: list[CalendarChange] = []
        self.calls: Counter[str] = Counter()
        # Raised by the next calls, in order; ``after=True`` entries fail after the work is done
        # (the provider did it, the answer was lost).
        self.failures: list[tuple[Exception, bool]] = []

    # -- test controls ------------------------------------------------------------------
    def add_busy(self, email: str, start: datetime, end: datetime, **kw: object) -> None:
        self.busy.setdefault(email, []).append(Busy(Interval(start, end), **kw))  # type: ignore[arg-type]

    def fail_next(self, error: Exception, *, after: bool = False) -> None:
        self.failures.append((error, after))

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        self._fail(after=False)

    def _fail(self, *, after: bool) -> None:
        if self.failures and self.failures[0][1] == after:
            raise self.failures.pop(0)[0]

    # -- CalendarProvider ---------------------------------------------------------------
    def free_busy(self, emails: Sequence[str], window: Interval) -> dict[str, PersonAvailability]:
        self._call("free_busy")
        return {
            email: PersonAvailability(email, unknown=(window,))
            if email in self.unreadable
            else PersonAvailability(
                email,
                busy=tuple(b for b in self.busy.get(email, []) if b.interval.overlaps(window)),
            )
            for email in emails
        }

    def create_series(self, spec: SeriesSpec) -> SeriesRef:
        self._call("create_series")
        self.events.setdefault(spec.series_id, MemoryEvent(spec, until=spec.until))
        self._fail(after=True)
        return SeriesRef(f"mem-{spec.series_id}")

    def _event(self, ref: SeriesRef) -> MemoryEvent:
        event = self.events.get(ref.provider_event_id.removeprefix("mem-"))
        if event is None or event.deleted:
            raise NotFound(ref.provider_event_id)
        return event

    def end_series(self, ref: SeriesRef, spec: SeriesSpec, from_day: date) -> None:
        self._call("end_series")
        event = self._event(ref)
        if from_day <= spec.first_day:
            event.deleted = True
        else:
            event.until = date.fromordinal(from_day.toordinal() - 1)

    def move_occurrence(
        self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime, new_start: datetime
    ) -> None:
        self._call("move_occurrence")
        self._event(ref).moved[original_start] = new_start

    def cancel_occurrence(self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime) -> None:
        self._call("cancel_occurrence")
        self._event(ref).cancelled.add(original_start)

    def update_occurrence_agenda(
        self, ref: SeriesRef, spec: SeriesSpec, original_start: datetime, agenda: AgendaDocument
    ) -> None:
        self._call("update_occurrence_agenda")
        self._event(ref).agendas[original_start] = agenda

    def changes(self, cursor: str | None, *, full: bool = False) -> ChangeSet:
        self._call("changes")
        start = 0 if full or not cursor else int(cursor)
        return ChangeSet(tuple(self.feed[start:]), str(len(self.feed)), full_sync=start == 0)
