"""Availability read once, used everywhere: each person's busy time over the horizon, kept.

One free/busy read per connection stores the busy time of everyone that connection speaks
for (its owner, and the owner's reps who connected no calendar of their own). Pages,
conflict checks and proposals answer from the stored rows; only time that is missing, stale
or no longer covers the asked window is read again. Three things refresh the rows:

- the sync that a change notification triggers refreshes the notified calendar's owner,
- a periodic pass refreshes the people no notification speaks for (reps read through
  free/busy, calendars without push), once their rows are older than the refresh interval,
- "refresh now" on a page.

Time that was never read, could not be read, or is stale and could not be read again is
unknown, never free.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from integrations.base import (
    CalendarProvider,
    ProviderError,
    RateLimited,
    ReconnectRequired,
    Transient,
)
from scheduler.availability import BusyChange, PersonAvailability, busy_change
from scheduler.db import Database
from scheduler.intervals import Busy, BusyKind, Interval
from scheduler.models import CalendarConnection, ConnectionStatus, Person, StoredBusyTime
from scheduler.usecases.connections import reporting_lost_grants
from scheduler.usecases.scope import get_in_org

# Everyone's availability over a window, by email: what proposals and conflict checks ask.
AvailabilityReader = Callable[[Sequence[str], Interval], Mapping[str, PersonAvailability]]
# A connection row -> its calendar (``integrations.factory.CalendarOpener``).
Opener = Callable[[CalendarConnection], CalendarProvider]

# Before today: the series page starts at this week's Monday, a day's zone offset further.
_BEHIND = timedelta(days=8)
# After the horizon: proposals reach a day past it in the organiser's zone, conflicts a week.
_AHEAD = timedelta(weeks=2)


def kept_window(today: date, weeks: int) -> Interval:
    """The span kept for each person on ``today`` (UTC) with a ``weeks``-week horizon: every
    window a page asks about falls inside it (113 days for 13 weeks: two free/busy spans on
    Google and on Graph alike, as the 93 days proposals need already are)."""
    start = datetime.combine(today - _BEHIND, time(0), UTC)
    return Interval(start, datetime.combine(today + timedelta(weeks=weeks) + _AHEAD, time(0), UTC))


# ---------------------------------------------------------------------------- who reads whom


@dataclass(frozen=True)
class Reader:
    """A connection and the people whose busy time it reads (``person id -> email``)."""

    connection: CalendarConnection
    people: dict[str, str] = field(default_factory=dict)


def readers(
    db: DbSession, org_id: str, manager_id: str, people: Iterable[Person]
) -> tuple[dict[str, Reader], list[Person]]:
    """Which connection reads each person: their own active calendar if they connected one
    (it speaks for them, and CalDAV reads no one else), else ``manager_id``'s. Returns the
    readers by connection id, and the people no connection can read."""
    people = list(people)
    ids = {person.id for person in people} | {manager_id}
    connections = db.scalars(
        select(CalendarConnection)
        .where(
            CalendarConnection.organization_id == org_id,
            CalendarConnection.person_id.in_(ids),
            CalendarConnection.status == ConnectionStatus.ACTIVE,
        )
        .order_by(CalendarConnection.created_at)
    ).all()
    own = {row.person_id: row for row in connections}  # the newest active one wins
    found: dict[str, Reader] = {}
    unread: list[Person] = []
    for person in people:
        connection = own.get(person.id) or own.get(manager_id)
        if connection is None:
            unread.append(person)
            continue
        found.setdefault(connection.id, Reader(connection)).people[person.id] = person.email
    return found, unread


def watched(connection: CalendarConnection, now: datetime) -> bool:
    """Whether change notifications report this connection's calendar (an open channel)."""
    expires = connection.channel_expires_at
    return connection.channel_id is not None and expires is not None and expires > now


# ---------------------------------------------------------------------------- stored rows


@dataclass(frozen=True)
class KnownTime:
    """What Cadence keeps of one person's calendar, and how old it is.

    ``read_at`` is ``None`` when it was never read; ``error`` says why the last refresh
    failed; ``kept_current`` when change notifications refresh it (the connection's owner
    with an open channel), so its age does not make it stale.
    """

    email: str
    availability: PersonAvailability
    window: Interval | None
    read_at: datetime | None
    error: str = ""
    kept_current: bool = False

    def fresh(self, window: Interval, now: datetime, max_age: timedelta) -> bool:
        if self.read_at is None or self.window is None or self.error:
            return False
        if not self.window.contains(window):
            return False
        return self.kept_current or now - self.read_at <= max_age

    def over(self, window: Interval, *, trusted: bool) -> PersonAvailability:
        """The availability over ``window``: busy time inside it, and unknown wherever the
        stored read does not reach, could not read, or (``trusted`` false: stale, not read
        again) may be out of date."""
        kept = self.availability
        busy = tuple(b for b in kept.busy if b.interval.overlaps(window))
        unknown = [u for u in kept.unknown if u.overlaps(window)]
        if not trusted or self.window is None:
            unknown = [window]
        else:
            if self.window.start > window.start:
                unknown.append(Interval(window.start, min(self.window.start, window.end)))
            if self.window.end < window.end:
                unknown.append(Interval(max(self.window.end, window.start), window.end))
        return PersonAvailability(self.email, busy=busy, unknown=tuple(unknown))


def _to_rows(availability: PersonAvailability) -> tuple[list[Any], list[Any]]:
    busy = [
        [b.start.isoformat(), b.end.isoformat(), str(b.kind), b.label] for b in availability.busy
    ]
    unknown = [[u.start.isoformat(), u.end.isoformat()] for u in availability.unknown]
    return busy, unknown


def _from_row(email: str, row: StoredBusyTime) -> PersonAvailability:
    return PersonAvailability(
        email,
        busy=tuple(
            Busy(
                Interval(datetime.fromisoformat(start), datetime.fromisoformat(end)),
                BusyKind(kind),
                label,
            )
            for start, end, kind, label in row.busy
        ),
        unknown=tuple(
            Interval(datetime.fromisoformat(start), datetime.fromisoformat(end))
            for start, end in row.unknown
        ),
    )


def load_known(
    db: DbSession, org_id: str, manager_id: str, people: Sequence[Person], now: datetime
) -> dict[str, KnownTime]:
    """The stored time of each person, by email, from the connection that reads them."""
    plan, _ = readers(db, org_id, manager_id, people)
    reader_of = {
        person_id: reader.connection for reader in plan.values() for person_id in reader.people
    }
    rows = (
        db.scalars(
            select(StoredBusyTime).where(
                StoredBusyTime.organization_id == org_id,
                StoredBusyTime.connection_id.in_({c.id for c in reader_of.values()}),
                StoredBusyTime.person_id.in_([person.id for person in people]),
            )
        ).all()
        if reader_of
        else []
    )
    by_pair = {(row.connection_id, row.person_id): row for row in rows}
    known = {}
    for person in people:
        connection = reader_of.get(person.id)
        row = by_pair.get((connection.id, person.id)) if connection else None
        if connection is None or row is None:
            known[person.email] = KnownTime(
                person.email, PersonAvailability(person.email), None, None
            )
            continue
        known[person.email] = KnownTime(
            person.email,
            _from_row(person.email, row),
            Interval(row.window_start, row.window_end),
            row.read_at,
            row.error,
            kept_current=connection.person_id == person.id and watched(connection, now),
        )
    return known


# ---------------------------------------------------------------------------- refreshing


def refresh_busy_time(
    database: Database,
    calendar: CalendarProvider,
    *,
    org_id: str,
    connection_id: str,
    people: Mapping[str, str],
    weeks: int,
    now: datetime,
) -> list[BusyChange]:
    """Read ``people`` (person id -> email) through the connection's calendar in one
    free/busy read, store it, and return what changed for each person whose time did.

    A failed read is recorded on the rows (their busy time kept, labelled with its age and
    the reason) and re-raised; a lost grant also flags the connection.
    """
    if not people:
        return []
    window = kept_window(now.date(), weeks)
    emails = list(dict.fromkeys(people.values()))
    try:
        with reporting_lost_grants(database, org_id=org_id, connection_id=connection_id, now=now):
            seen = calendar.free_busy(emails, window)
    except ProviderError as error:
        _record_failure(database, org_id, connection_id, people, reason(error), now)
        raise
    changes = []
    for attempt in range(2):  # a concurrent first read of the same pair wins the insert once
        try:
            with database.session() as db:
                changes = _store(db, org_id, connection_id, people, seen, window, now)
            break
        except IntegrityError:
            if attempt:
                raise
    return [change for change in changes if change]


def _store(
    db: DbSession,
    org_id: str,
    connection_id: str,
    people: Mapping[str, str],
    seen: Mapping[str, PersonAvailability],
    window: Interval,
    now: datetime,
) -> list[BusyChange]:
    rows = _rows(db, org_id, connection_id, people)
    changes = []
    for person_id, email in people.items():
        # Someone the provider said nothing about is unknown over the window, never free.
        availability = seen.get(email) or PersonAvailability(email, unknown=(window,))
        row = rows.get(person_id)
        if row is None:
            row = StoredBusyTime(
                organization_id=org_id, connection_id=connection_id, person_id=person_id
            )
            db.add(row)
            old = None
        else:
            old = _from_row(email, row)
        changes.append(busy_change(old, availability))
        row.busy, row.unknown = _to_rows(availability)
        row.window_start, row.window_end = window.start, window.end
        row.read_at, row.error, row.failed_at = now, "", None
    db.flush()
    return changes


def _rows(
    db: DbSession, org_id: str, connection_id: str, people: Iterable[str]
) -> dict[str, StoredBusyTime]:
    return {
        row.person_id: row
        for row in db.scalars(
            select(StoredBusyTime).where(
                StoredBusyTime.organization_id == org_id,
                StoredBusyTime.connection_id == connection_id,
                StoredBusyTime.person_id.in_(list(people)),
            )
        )
    }


def _record_failure(
    database: Database,
    org_id: str,
    connection_id: str,
    people: Mapping[str, str],
    why: str,
    now: datetime,
) -> None:
    """Keep what was read before, and say why it could not be read again."""
    with database.session() as db:
        for row in _rows(db, org_id, connection_id, people).values():
            row.error, row.failed_at = why, now


def reason(error: ProviderError) -> str:
    """A failed read in a page's words."""
    if isinstance(error, ReconnectRequired):
        return "the calendar connection needs reconnecting"
    if isinstance(error, RateLimited):
        return "the calendar asked Cadence to slow down"
    if isinstance(error, Transient):
        return "the calendar did not answer"
    return f"the calendar refused ({error})"


def refresh_watched_owner(
    database: Database,
    calendar: CalendarProvider,
    *,
    org_id: str,
    connection_id: str,
    weeks: int,
    now: datetime,
) -> list[BusyChange]:
    """After a sync of a connection that change notifications report: read its owner's
    busy time again (the periodic pass leaves them out). Unwatched connections are polled
    for changes far more often than their busy time needs reading: nothing is done."""
    with database.session() as db:
        connection = get_in_org(db, CalendarConnection, org_id, connection_id)
        if not watched(connection, now):
            return []
        owner = get_in_org(db, Person, org_id, connection.person_id)
    return refresh_busy_time(
        database,
        calendar,
        org_id=org_id,
        connection_id=connection_id,
        people={owner.id: owner.email},
        weeks=weeks,
        now=now,
    )


def refresh_people(
    database: Database,
    calendars: Opener,
    *,
    org_id: str,
    manager_id: str,
    people: Sequence[Person],
    weeks: int,
    now: datetime,
) -> tuple[list[BusyChange], list[str]]:
    """Refresh ``people``: one read per connection that reads any of them. Returns what
    changed, and why any read failed (a failed connection does not stop the others)."""
    with database.session() as db:
        plan, unread = readers(db, org_id, manager_id, people)
    changes: list[BusyChange] = []
    problems = [f"no connected calendar reads {person.email}" for person in unread]
    for connection_id, reader in plan.items():
        try:
            changes += refresh_busy_time(
                database,
                calendars(reader.connection),
                org_id=org_id,
                connection_id=connection_id,
                people=reader.people,
                weeks=weeks,
                now=now,
            )
        except ProviderError as error:
            problems.append(reason(error))
    return changes, problems


# ---------------------------------------------------------------------------- reading


class StoredAvailability:
    """An ``AvailabilityReader`` answering from the stored busy time.

    People whose stored time is fresh cost no provider call. The others (never read, stale,
    not covering the window) are read again first, one read per connection, when
    ``calendars`` is given; if that fails, their stored busy time is still shown and the
    whole window is unknown for them. ``known``, ``answers`` and ``problems`` keep what the
    page labels.
    """

    def __init__(
        self,
        database: Database,
        calendars: Opener | None,
        *,
        org_id: str,
        manager_id: str,
        now: datetime,
        max_age: timedelta,
        weeks: int,
    ):
        self._database = database
        self._calendars = calendars
        self._org_id = org_id
        self._manager_id = manager_id
        self._now = now
        self._max_age = max_age
        self._weeks = weeks
        self.known: dict[str, KnownTime] = {}
        self.answers: dict[str, PersonAvailability] = {}
        self.problems: list[str] = []

    def __call__(self, emails: Sequence[str], window: Interval) -> dict[str, PersonAvailability]:
        with self._database.session() as db:
            people = list(
                db.scalars(
                    select(Person).where(
                        Person.organization_id == self._org_id, Person.email.in_(list(emails))
                    )
                )
            )
            known = load_known(db, self._org_id, self._manager_id, people, self._now)
        stale = [p for p in people if not known[p.email].fresh(window, self._now, self._max_age)]
        if stale and self._calendars is not None:
            _, problems = refresh_people(
                self._database,
                self._calendars,
                org_id=self._org_id,
                manager_id=self._manager_id,
                people=stale,
                weeks=self._weeks,
                now=self._now,
            )
            self.problems += problems
            with self._database.session() as db:
                known.update(load_known(db, self._org_id, self._manager_id, stale, self._now))
        self.known.update(known)
        answer = {
            email: known[email].over(
                window, trusted=known[email].fresh(window, self._now, self._max_age)
            )
            if email in known
            else PersonAvailability(email, unknown=(window,))
            for email in emails
        }
        self.answers.update(answer)
        return answer


def read_availability(
    manager_calendar: CalendarProvider,
    emails: Sequence[str],
    window: Interval,
    own_calendars: Mapping[str, CalendarProvider] | None = None,
) -> dict[str, PersonAvailability]:
    """Everyone's availability over ``window``: one read through the manager's connection,
    plus one per person who connected their own calendar (which then speaks for them).

    Anyone no calendar answered for is unknown over the window, never free.
    """
    own_calendars = own_calendars or {}
    through_manager = [email for email in emails if email not in own_calendars]
    seen = dict(manager_calendar.free_busy(through_manager, window)) if through_manager else {}
    for email, calendar in own_calendars.items():
        if email in emails:
            seen.update(calendar.free_busy([email], window))
    return {
        email: seen.get(email) or PersonAvailability(email, unknown=(window,)) for email in emails
    }


def live_reader(
    calendar: CalendarProvider, own_calendars: Mapping[str, CalendarProvider] | None = None
) -> AvailabilityReader:
    """An ``AvailabilityReader`` that asks the calendars every time."""

    def read(emails: Sequence[str], window: Interval) -> dict[str, PersonAvailability]:
        return read_availability(calendar, emails, window, own_calendars)

    return read


# ---------------------------------------------------------------------------- periodic pass


def periodically_read(db: DbSession, now: datetime) -> dict[str, Reader]:
    """Each active connection and the people only a periodic read keeps current: its owner
    when no channel reports their calendar, and the owner's reps read through free/busy."""
    connections = db.scalars(
        select(CalendarConnection).where(CalendarConnection.status == ConnectionStatus.ACTIVE)
    ).all()
    with_own = {row.person_id for row in connections}
    owners = {row.person_id for row in connections}
    reps: defaultdict[str, list[Person]] = defaultdict(list)
    for rep in db.scalars(
        select(Person).where(
            Person.manager_id.in_(owners), Person.active.is_(True), Person.is_rep.is_(True)
        )
    ):
        if rep.id not in with_own and rep.manager_id is not None:
            reps[rep.manager_id].append(rep)
    owner_emails = {
        person_id: email
        for person_id, email in db.execute(
            select(Person.id, Person.email).where(Person.id.in_(owners))
        )
    }
    found = {}
    for connection in sorted(connections, key=lambda row: row.created_at):
        reader = Reader(connection)
        if not watched(connection, now):
            reader.people[connection.person_id] = owner_emails[connection.person_id]
        for rep in reps[connection.person_id]:
            if rep.organization_id == connection.organization_id:
                reader.people[rep.id] = rep.email
        if reader.people:
            found[connection.person_id] = reader  # the owner's newest active connection
    return {reader.connection.id: reader for reader in found.values()}


def due_for_refresh(db: DbSession, now: datetime, every: timedelta) -> list[tuple[str, str]]:
    """(organisation, connection) of each connection with someone to read periodically
    whose stored time is missing or older than ``every``."""
    plan = periodically_read(db, now)
    if not plan:
        return []
    read_at = {
        (connection_id, person_id): at
        for connection_id, person_id, at in db.execute(
            select(
                StoredBusyTime.connection_id, StoredBusyTime.person_id, StoredBusyTime.read_at
            ).where(StoredBusyTime.connection_id.in_(list(plan)))
        )
    }
    return [
        (reader.connection.organization_id, connection_id)
        for connection_id, reader in plan.items()
        if any(
            now - read_at.get((connection_id, person_id), datetime.min.replace(tzinfo=UTC)) >= every
            for person_id in reader.people
        )
    ]
