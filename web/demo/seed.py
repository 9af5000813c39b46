"""Seed the demo organisation through Cadence's own use cases, against a real Radicale.

``seed`` replays twelve weeks as they would have happened: the organisation and its people
are created, every person's calendar is filled and connected (CalDAV), each pair's series is
booked in the manager's Radicale calendar twelve weeks ago, and then, week by week and in
the order things happened, debriefs are recorded, weeks are cancelled and moved (through
Cadence or by editing Radicale as another calendar app, then syncing), and action items are
completed — each with its own ``now`` in the past. The jobs that mail run at their times
too (inline, on the seed's clock): the debrief chase over the last two weeks, the reps'
action items last Monday. Then today: Cadence reads everyone's busy time, two new busy
blocks land on next week's 1:1s, the next read records them as conflicts and the notice run
acts on them (an email to Patrick, an automatic move for Matt), and the chase runs once more.
Finally every session is classified at the real ``now``. The figures come out as the plans
in ``web.demo.people`` say; every email waits in the outbox.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import partial
from zoneinfo import ZoneInfo

import icalendar
from caldav.calendarobjectresource import CalendarObjectResource
from caldav.davclient import DAVClient
from sqlalchemy import select

from integrations.base import CalendarChange, ChangeKind
from integrations.caldav import CalDAVCalendar, CalDAVCredentials, checked_credentials
from integrations.caldav.series_ical import series_uid
from integrations.outbound import OutboundPolicy
from scheduler import jobs
from scheduler.agenda import DEFAULT_TEMPLATE
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.debrief import ActionItemDraft, DebriefDraft
from scheduler.defend import ConflictPolicy
from scheduler.jobs import tasks
from scheduler.jobs.registry import declared
from scheduler.models import ActionItem, CalendarConnection, Organization, Provider, Session
from scheduler.recurrence import WeeklySlot, week_start
from scheduler.settings import Settings
from scheduler.usecases.accounts import invite_person, set_roles
from scheduler.usecases.agendas import AgendaLink
from scheduler.usecases.booking import book_series
from scheduler.usecases.calendar_sync import apply_changes, sync_connection
from scheduler.usecases.connections import ConnectionTokenStore, save_connection
from scheduler.usecases.debriefing import complete_action_item, record_debrief
from scheduler.usecases.directory import add_rep, create_organization
from scheduler.usecases.excusals import mark_excused_weeks
from scheduler.usecases.joining import accept_everyone
from scheduler.usecases.person_time import set_own_time
from scheduler.usecases.sessions import reclassify
from scheduler.usecases.slot_conflicts import set_conflict_policy
from scheduler.usecases.upkeep import extend_horizon
from scheduler.usecases.weeks import cancel_session, move_session
from web.demo.busy import BusyEvent, add_event, new_clashes, work_calendar, write_calendar
from web.demo.people import (
    ADMIN,
    BY_KEY,
    CALENDAR_NAME,
    HISTORY_WEEKS,
    MANAGERS,
    ORG_NAME,
    PASSWORD,
    PEOPLE,
    REPS,
    DemoPerson,
)
from web.demo.radicale import RadicaleServer

MEETING = timedelta(minutes=30)
# The debrief chase was turned on this many weeks before today: their 1:1s were nudged.
CHASED_WEEKS = 2
# When the seed runs the chase after a 1:1's end (the job runs every 15 minutes): the nudge
# at the end, the reminder half the grace period (48 h) later, and a day after each in case
# the week was moved to the next day.
_CHASE_AFTER = tuple(timedelta(days=days, minutes=15) for days in range(3))
# The reps' Monday emails went out last Monday afternoon UTC: after 08:00 in every zone.
_REP_ITEMS_AT = timedelta(days=-7, hours=17)
# Today: Cadence reads the calendars an hour before; new blocks land; the next read (the
# periodic refresh's interval later) finds the new conflicts, and the notice run acts.
_FIRST_READ = timedelta(hours=1)
_SECOND_READ = timedelta(minutes=30)

_NOTES = {
    "Status update": "Walked the pipeline: two opportunities moved to proposal, one stalled.",
    "Coaching to best practices": "Role-played the pricing objection from Tuesday's call.",
    "The customer's voice": '"We need it live before the quarter ends" — the buyer, verbatim.',
    "Praise for a job well done": "Great discovery call notes, shared with the team.",
}
_ITEMS = (
    ("manager", "Get legal's answer on the redlines"),
    ("rep", "Send the revised proposal"),
    ("rep", "Book the technical deep dive with the customer's IT lead"),
    ("manager", "Introduce the rep to our champion at the account"),
    ("rep", "Update the close plan in the CRM"),
    ("rep", "Ask the customer for a reference call"),
)
# Which of a manager's action items get done: (history week, item number) -> done?
_FOLLOW_THROUGH: dict[str, Callable[[int, int], bool]] = {
    "patrick": lambda week, item: (week + item) % 5 != 0,
    "maria": lambda week, item: (week + item) % 2 == 0,
    "matt": lambda week, item: (week + item) % 4 == 0,
}

# Why the managers called their weeks off (the confirmation page's optional reason).
CANCEL_REASONS = ("Customer visit", "Quarterly planning offsite", "Out sick")


class HalfSeeded(RuntimeError):
    """The data already holds (part of) a demo organisation: seeding again would mix them."""


@dataclass(frozen=True)
class Seeded:
    org_id: str
    person_ids: dict[str, str]  # demo key -> Person id


def find_demo_org(database: Database) -> str | None:
    """The demo organisation's id, if it has been seeded."""
    with database.session() as db:
        return db.scalar(select(Organization.id).where(Organization.name == ORG_NAME))


def history_start(now: datetime) -> date:
    """The Monday twelve weeks before the current (UTC) week: the first week of history."""
    return week_start(now.astimezone(UTC).date()) - timedelta(weeks=HISTORY_WEEKS)


def seed(
    database: Database,
    cipher: TokenCipher,
    server: RadicaleServer,
    link: AgendaLink,
    *,
    settings: Settings,
    now: datetime,
) -> Seeded:
    """Create the demo organisation and its twelve weeks of history; returns its ids.

    ``settings`` are the app's (links in emails are signed with its key and point at its
    base URL; its CalDAV origins must allow ``server``) and its token keys ``cipher``'s."""
    return _Seeder(database, cipher, server, link, settings, now).run()


def point_connections_at(
    database: Database, cipher: TokenCipher, org_id: str, server: RadicaleServer
) -> int:
    """Keep the saved CalDAV URLs on the running Radicale (its port may change between
    starts); returns how many connections were updated."""
    with database.session() as db:
        connection_ids = list(
            db.scalars(
                select(CalendarConnection.id).where(
                    CalendarConnection.organization_id == org_id,
                    CalendarConnection.provider == Provider.CALDAV,
                )
            )
        )
    updated = 0
    for connection_id in connection_ids:
        store = ConnectionTokenStore(database, cipher, org_id, connection_id)
        credentials = CalDAVCredentials.load(store)
        if credentials.url != server.url:
            # The calendar is found again on the new server on first use.
            store.save(replace(credentials, url=server.url, calendar_url="").to_blob())
            updated += 1
    return updated


class _Seeder:
    def __init__(
        self,
        database: Database,
        cipher: TokenCipher,
        server: RadicaleServer,
        link: AgendaLink,
        settings: Settings,
        now: datetime,
    ):
        self.database = database
        self.cipher = cipher
        self.server = server
        # The demo's own Radicale, on loopback: the one server these connections may reach.
        self.outbound = OutboundPolicy.trusting([server.url])
        self.link = link
        self.now = now
        self.first_monday = history_start(now)
        self.this_monday = self.first_monday + timedelta(weeks=HISTORY_WEEKS)
        # The organisation was set up the week before the history begins.
        self.founded = _at(self.first_monday - timedelta(days=7), time(9))
        self.org_id = ""
        self.ids: dict[str, str] = {}
        self.connections: dict[str, str] = {}
        self.series: dict[str, str] = {}
        # The app's job pipeline, inline, on the seed's clock: jobs run "when" the step is.
        self.clock = self.founded
        self.runtime = jobs.build(settings, link=link, database=database, clock=lambda: self.clock)

    def run(self) -> Seeded:
        if find_demo_org(self.database) is not None:
            raise HalfSeeded("the demo organisation exists already")
        self._people()
        for person in PEOPLE:
            write_calendar(self.server, person, self.first_monday)
            self._connect(person)
        for rep in REPS:
            self._book(rep)
        for manager in MANAGERS:  # the first sync: what the calendar says at booking time
            self._sync(manager, self.founded)
        for _, step in sorted(self._history(), key=lambda timed: timed[0]):
            step()
        self._finish()
        return Seeded(self.org_id, dict(self.ids))

    # ------------------------------------------------------------------ people and calendars

    def _people(self) -> None:
        self.org_id, admin_id = create_organization(
            self.database,
            name=ORG_NAME,
            admin_email=ADMIN.email,
            admin_name=ADMIN.name,
            zone=ADMIN.zone,
            now=self.founded,
        )
        self.ids[ADMIN.key] = admin_id
        # The admin runs the organisation and manages no one.
        set_roles(
            self.database,
            org_id=self.org_id,
            actor_id=admin_id,
            person_id=admin_id,
            admin=True,
            manager=False,
            rep=False,
            active=True,
            now=self.founded,
        )
        for manager in MANAGERS:
            self.ids[manager.key] = invite_person(
                self.database,
                org_id=self.org_id,
                actor_id=admin_id,
                email=manager.email,
                name=manager.name,
                zone=manager.zone,
                admin=False,
                manager=True,
                rep=False,
                now=self.founded,
            )
            if manager.conflict_policy is not None:  # chosen on their account page
                set_conflict_policy(
                    self.database,
                    org_id=self.org_id,
                    person_id=self.ids[manager.key],
                    policy=manager.conflict_policy,
                    now=self.founded,
                )
        for rep in REPS:
            assert rep.manager is not None
            self.ids[rep.key] = add_rep(
                self.database,
                org_id=self.org_id,
                manager_id=self.ids[rep.manager],
                email=rep.email,
                name=rep.name,
                zone=rep.zone,
                now=self.founded,
            )
            if rep.hours is not None:
                set_own_time(
                    self.database,
                    org_id=self.org_id,
                    person_id=self.ids[rep.key],
                    zone=rep.zone,
                    days=dict.fromkeys(range(5), rep.hours),
                    now=self.founded,
                )
        # Everyone in the story has long since accepted their invitation.
        accept_everyone(self.database, org_id=self.org_id, now=self.founded)

    def _connect(self, person: DemoPerson) -> None:
        """Connect the person's Radicale calendar as they would in Cadence: checked, then
        saved encrypted."""
        credentials = CalDAVCredentials(
            url=self.server.url,
            username=person.key,
            password=PASSWORD,
            email=person.email,
            calendar=CALENDAR_NAME,
        )
        credentials = checked_credentials(credentials, self.outbound)
        self.connections[person.key] = save_connection(
            self.database,
            self.cipher,
            org_id=self.org_id,
            person_id=self.ids[person.key],
            provider=Provider.CALDAV,
            account_email=person.email,
            grant=credentials.to_blob(),
            now=self.founded,
        )

    def _calendar(self, person: DemoPerson) -> CalDAVCalendar:
        store = ConnectionTokenStore(
            self.database, self.cipher, self.org_id, self.connections[person.key]
        )
        return CalDAVCalendar(store, zone=person.zone, outbound=self.outbound)

    def _book(self, rep: DemoPerson) -> None:
        assert rep.manager is not None and rep.slot is not None
        manager = BY_KEY[rep.manager]
        weekday, at = rep.slot
        calendar = self._calendar(manager)
        try:
            self.series[rep.key] = book_series(
                self.database,
                calendar,
                org_id=self.org_id,
                manager_id=self.ids[manager.key],
                rep_id=self.ids[rep.key],
                connection_id=self.connections[manager.key],
                slot=WeeklySlot(weekday, at, MEETING, manager.zone),
                first_day=self.first_monday,
                link=self.link,
                now=self.founded,
            )
        finally:
            calendar.close()

    def _sync(self, manager: DemoPerson, now: datetime) -> None:
        calendar = self._calendar(manager)
        try:
            sync_connection(
                self.database,
                calendar,
                org_id=self.org_id,
                connection_id=self.connections[manager.key],
                now=now,
            )
        finally:
            calendar.close()

    # ------------------------------------------------------------------ the twelve weeks

    def _history(self) -> list[tuple[datetime, Callable[[], None]]]:
        """Every step of the history with when it happened."""
        steps: list[tuple[datetime, Callable[[], None]]] = []
        for rep in REPS:
            rows = self._history_sessions(rep)
            stopped = rep.plan.find("S")
            if stopped >= 0:
                deleted_at = _at(self.first_monday + timedelta(weeks=stopped), time(0))
                steps.append((deleted_at, partial(self._delete_series, rep, deleted_at)))
            for week, (letter, row) in enumerate(zip(rep.plan, rows, strict=False)):
                start, end = row.scheduled_start, row.scheduled_end
                if letter == "H":
                    recorded = end + timedelta(hours=2)
                    steps.append((recorded, partial(self._debrief, rep, row, recorded, week)))
                elif letter in _BEFORE:
                    earlier, step = _BEFORE[letter]
                    steps.append((start - earlier, partial(step, self, rep, row, start - earlier)))
                # E: the rep's vacation is in their calendar: excused at the end, from it.
                # U: nothing happens, which is the point.
                if week >= HISTORY_WEEKS - CHASED_WEEKS:
                    steps += [
                        (end + after, partial(self._run, tasks.chase_debriefs, end + after))
                        for after in _CHASE_AFTER
                    ]
        items_at = _at(self.this_monday, time(0)) + _REP_ITEMS_AT
        steps.append((items_at, partial(self._run, tasks.send_rep_items, items_at)))
        return steps

    def _run(self, function: Callable[..., object], at: datetime, *ids: str) -> None:
        """Run a job (and the jobs it starts, inline) as if it were ``at``."""
        self.clock = at
        declared(function).perform(self.runtime, *ids)

    def _history_sessions(self, rep: DemoPerson) -> list[Session]:
        with self.database.session() as db:
            rows = list(
                db.scalars(
                    select(Session)
                    .where(
                        Session.series_id == self.series[rep.key],
                        Session.week_start < self.this_monday,
                    )
                    .order_by(Session.scheduled_start)
                )
            )
        assert len(rows) == HISTORY_WEEKS, (rep.key, len(rows))
        return rows

    def _debrief(self, rep: DemoPerson, row: Session, recorded: datetime, week: int) -> None:
        assert rep.manager is not None
        day = row.scheduled_start.astimezone(ZoneInfo(BY_KEY[rep.manager].zone)).date()
        drafts = []
        for number in range(3):
            owner, text = _ITEMS[(week + 3 * number) % len(_ITEMS)]
            if number == 0:
                owner = "manager"  # the article: the manager owns at least one
            # Last week's items fall due next week; older ones are past due by now.
            due = (
                self.this_monday + timedelta(days=7 + number)
                if week == HISTORY_WEEKS - 1
                else day + timedelta(days=3 + number)
            )
            drafts.append(ActionItemDraft(text, owner, due))
        notes = {title: _NOTES[title] for title in DEFAULT_TEMPLATE.titles if title in _NOTES}
        record_debrief(
            self.database,
            org_id=self.org_id,
            session_id=row.id,
            manager_id=self.ids[rep.manager],
            draft=DebriefDraft(notes, tuple(drafts)),
            now=recorded,
        )
        done = _FOLLOW_THROUGH[rep.manager]
        with self.database.session() as db:
            items = list(
                db.scalars(
                    select(ActionItem)
                    .where(ActionItem.session_id == row.id)
                    .order_by(ActionItem.due_date, ActionItem.text)
                )
            )
        for number, item in enumerate(items):
            if done(week, number):
                complete_action_item(
                    self.database,
                    org_id=self.org_id,
                    item_id=item.id,
                    person_id=item.owner_id,
                    done=True,
                    now=recorded + timedelta(days=1, hours=number),
                )

    def _cancel(self, rep: DemoPerson, row: Session, at: datetime) -> None:
        assert rep.manager is not None
        calendar = self._calendar(BY_KEY[rep.manager])
        try:
            cancel_session(
                self.database,
                calendar,
                org_id=self.org_id,
                session_id=row.id,
                actor_id=self.ids[rep.manager],
                link=self.link,
                now=at,
                reason=CANCEL_REASONS[row.week_start.toordinal() // 7 % len(CANCEL_REASONS)],
            )
        finally:
            calendar.close()

    def _move(self, rep: DemoPerson, row: Session, at: datetime) -> None:
        """The manager moves the week to the next day, same time, through Cadence; or, for a
        manager whose policy is "auto", a customer call lands on the rep's 1:1 and Cadence
        moves the week by itself to the best time that week."""
        assert rep.manager is not None
        if BY_KEY[rep.manager].conflict_policy == ConflictPolicy.AUTO:
            start = row.scheduled_start.astimezone(ZoneInfo(rep.zone))
            self._new_busy(
                [(rep.key, BusyEvent("Call with Umbrella", start.date(), start.time()))], at
            )
            return
        calendar = self._calendar(BY_KEY[rep.manager])
        try:
            move_session(
                self.database,
                calendar,
                org_id=self.org_id,
                session_id=row.id,
                new_start=row.scheduled_start + timedelta(days=1),
                actor_id=self.ids[rep.manager],
                link=self.link,
                now=at,
            )
        finally:
            calendar.close()

    def _decline(self, rep: DemoPerson, row: Session, at: datetime) -> None:
        """The rep's "no" reaches the manager's calendar (an override with their PARTSTAT),
        then Cadence's sync picks it up."""
        self._edit_series(rep, lambda ical: _decline_occurrence(ical, row, rep.email))
        assert rep.manager is not None
        self._sync(BY_KEY[rep.manager], at)

    def _rep_cancels(self, rep: DemoPerson, row: Session, at: datetime) -> None:
        """The rep calls the week off and the occurrence is cancelled in the manager's
        calendar. CalDAV does not say who cancelled (Graph does), so the seed tells Cadence
        what a calendar that knows would: the change, with the rep as its author."""
        assert rep.manager is not None
        self._edit_series(rep, lambda ical: _exclude_occurrence(ical, row))
        self._sync(BY_KEY[rep.manager], at)
        with self.database.session() as db:
            apply_changes(
                db,
                self.org_id,
                [
                    CalendarChange(
                        ChangeKind.OCCURRENCE_CANCELLED,
                        self.series[rep.key],
                        "",
                        original_start=row.scheduled_start,
                        changed_by=rep.email,
                    )
                ],
                now=at,
            )

    def _delete_series(self, rep: DemoPerson, at: datetime) -> None:
        """The manager deletes the whole series in their calendar app: Matt's case."""
        assert rep.manager is not None
        with self.server.client(rep.manager) as client:
            _series_object(client, self.series[rep.key]).delete()
        self._sync(BY_KEY[rep.manager], at)

    def _edit_series(self, rep: DemoPerson, edit: Callable[[icalendar.Calendar], None]) -> None:
        """Read, edit and write back the pair's series as another calendar app would."""
        assert rep.manager is not None
        with self.server.client(rep.manager) as client:
            event = _series_object(client, self.series[rep.key])
            ical = icalendar.Calendar.from_ical(event.data)
            edit(ical)
            event.save(raw_data=ical.to_ical())

    # ------------------------------------------------------------------ today

    def _excuse(self, manager: DemoPerson) -> None:
        """Excuse the weeks the plans put a vacation in, read from the team's calendars."""
        team = [rep for rep in REPS if rep.manager == manager.key]
        away = [week for rep in team for week, letter in enumerate(rep.plan) if letter == "E"]
        if not away:
            return
        # Only the weeks around the vacations: expanding twelve weeks of everyone's
        # recurring events in Radicale would triple the seed's time for the same answer.
        calendars = {rep.email: self._calendar(rep) for rep in team}
        own = self._calendar(manager)
        try:
            mark_excused_weeks(
                self.database,
                own,
                org_id=self.org_id,
                manager_id=self.ids[manager.key],
                from_day=self.first_monday + timedelta(weeks=min(away)),
                weeks=max(away) - min(away) + 1,
                now=self.now,
                own_calendars=calendars,
            )
        finally:
            for calendar in [own, *calendars.values()]:
                calendar.close()

    def _new_busy(self, clashes: list[tuple[str, BusyEvent]], at: datetime) -> None:
        """Cadence reads these people's busy time at ``at``, the new busy blocks land in their
        calendars, and the next read of those calendars finds them: each clash with a 1:1
        becomes a conflict the notice run acts on, by the manager's policy.

        Only these calendars are read, each through the periodic refresh's own job (the
        conflict check reads their managers' too): reading all sixteen would double the
        seed's time; the demo's timer reads everyone else's on its first round."""
        first, second = at, at + _SECOND_READ
        connections = [self.connections[key] for key, _ in clashes]
        for connection_id in connections:
            self._run(tasks.refresh_availability, first, self.org_id, connection_id)
        for key, event in clashes:
            add_event(self.server, BY_KEY[key], event, self.first_monday)
        for connection_id in connections:
            self._run(tasks.refresh_availability, second, self.org_id, connection_id)
        self._run(tasks.notify_conflicts, second)

    def _defend(self) -> None:
        """An hour before today, new busy blocks land on two of next week's 1:1s."""
        self._new_busy(new_clashes(self.this_monday), self.now - _FIRST_READ)

    def _finish(self) -> None:
        """The horizon reaches ahead from today, the new conflicts are acted on, the chase
        runs, the weeks someone was away are excused (from their calendars, as Cadence reads
        them), and every session gets its outcome as of the real ``now``."""
        for rep in REPS:
            extend_horizon(
                self.database,
                org_id=self.org_id,
                series_id=self.series[rep.key],
                now=self.now - _FIRST_READ,
            )
        self._defend()
        self._run(tasks.chase_debriefs, self.now)
        self._run(tasks.send_rep_items, self.now)
        for manager in MANAGERS:
            self._excuse(manager)
        with self.database.session() as db:
            reclassify(
                db,
                db.scalars(select(Session).where(Session.organization_id == self.org_id)),
                now=self.now,
            )


# Plan letters acted on before the meeting: how long before, and the step.
_BEFORE: dict[str, tuple[timedelta, Callable[[_Seeder, DemoPerson, Session, datetime], None]]] = {
    "M": (timedelta(days=1), _Seeder._cancel),
    "R": (timedelta(hours=20), _Seeder._rep_cancels),
    "D": (timedelta(days=2), _Seeder._decline),
    "V": (timedelta(days=2), _Seeder._move),
}


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=UTC)


def _series_object(client: DAVClient, series_id: str) -> CalendarObjectResource:
    """The calendar object of a Cadence series in the manager's "Work" calendar."""
    found = work_calendar(client).get_event_by_uid(series_uid(series_id))
    assert isinstance(found, CalendarObjectResource)  # a synchronous client's answer
    return found


def _occurrence_override(ical: icalendar.Calendar, row: Session) -> icalendar.Event:
    """A new override of the occurrence at ``row``'s start: a copy of the series' event."""
    master = _master(ical)
    zone = _zone_of(master)
    override = copy.deepcopy(master)
    for name in ("RRULE", "RDATE", "EXDATE", "DTSTART", "DTEND", "DURATION", "SEQUENCE"):
        override.pop(name, None)
    start = row.scheduled_start.astimezone(zone)
    override.add("recurrence-id", start)
    override.add("dtstart", start)
    override.add("dtend", row.scheduled_end.astimezone(zone))
    override.add("sequence", 1)
    ical.add_component(override)
    return override


def _decline_occurrence(ical: icalendar.Calendar, row: Session, email: str) -> None:
    override = _occurrence_override(ical, row)
    for attendee in override.attendees:
        if attendee.email.lower() == email:
            attendee.params["PARTSTAT"] = "DECLINED"


def _exclude_occurrence(ical: icalendar.Calendar, row: Session) -> None:
    master = _master(ical)
    master.add("exdate", row.scheduled_start.astimezone(_zone_of(master)))


def _master(ical: icalendar.Calendar) -> icalendar.Event:
    """The series' own event (the one that is not an override)."""
    return next(event for event in ical.events if "RECURRENCE-ID" not in event)


def _zone_of(master: icalendar.Event) -> tzinfo | None:
    """The zone a series' start is written in (Cadence series start at a time, not a day)."""
    start = master.start
    if not isinstance(start, datetime):
        raise ValueError("a Cadence series starts at a time of day")
    return start.tzinfo
