"""The job layer against real Redis (a random database per test) and an in-memory calendar."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from redis import Redis
from rq import SimpleWorker

from integrations.base import CalendarChange, ChangeKind, Channel, Response
from integrations.retry import RetryPolicy
from scheduler import jobs
from scheduler.jobs.dispatch import RQDispatcher
from scheduler.jobs.runtime import Runtime, Tuning, install
from scheduler.jobs.workers import BeatingWorker, ForkingWorker
from scheduler.models import Provider
from scheduler.recurrence import WeeklySlot
from scheduler.usecases.booking import book_series
from scheduler.usecases.connections import save_connection
from scheduler.usecases.directory import add_rep, create_organization
from tests.e2e.stack import RedisServer
from tests.memory_provider import MemoryCalendar
from tests.sessions import series_sessions

# A Monday morning in New York; the series meets on Tuesdays at 10:00.
NOW = datetime(2026, 10, 19, 13, 0, tzinfo=UTC)
SLOT = WeeklySlot(1, time(10), timedelta(minutes=30), "America/New_York")
FAST = Tuning(
    retry_intervals=(0,),
    mailbox_wait=timedelta(seconds=0.3),
    adapter_retry=RetryPolicy(attempts=1),
)


def link(org_id: str, session_id: str) -> str:
    return f"https://cadence.test/agenda/{session_id}"


class PushCalendar(MemoryCalendar):
    """The in-memory calendar with push channels, like Google's and Graph's adapters."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.opened: list[Channel] = []
        self.clock = clock

    def open_channel(self, callback_url: str) -> Channel:
        self._call("open_channel")
        channel = Channel(
            uuid.uuid4().hex, "res", uuid.uuid4().hex, self.clock() + timedelta(days=7)
        )
        self.opened.append(channel)
        return channel

    def renew_channel(self, channel: Channel, callback_url: str) -> Channel:
        self._call("renew_channel")
        return self.open_channel(callback_url)

    def close_channel(self, channel: Channel) -> None:
        self._call("close_channel")


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Team:
    org_id: str
    manager_id: str
    rep_id: str
    connection_id: str
    series_ids: list[str] = field(default_factory=list)


@pytest.fixture
def calendar(clock: Clock) -> PushCalendar:
    return PushCalendar(clock)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private ``redis-server`` for this run: parallel runs and other engineers' tests never
    see (or flush) each other's keys."""
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def redis(redis_server: RedisServer) -> Iterator[Redis]:
    connection = Redis.from_url(redis_server.url)
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def runtime(settings, database, calendar, clock, redis) -> Iterator[Runtime]:
    """The pipeline on Redis: RQ queues under a namespace of their own."""
    built = jobs.build(
        settings,
        link=link,
        database=database,
        calendars=lambda row: calendar,
        clock=clock,
        tuning=FAST,
        redis=redis,
        namespace=f"t{uuid.uuid4().hex[:8]}:",
    )
    install(built)
    yield built


@pytest.fixture
def inline(settings, database, calendar, clock) -> Runtime:
    """The embedded default: no Redis, jobs run inline."""
    assert settings.redis_url is None
    return jobs.build(
        settings, link=link, database=database, calendars=lambda row: calendar, clock=clock
    )


@pytest.fixture
def team(database, settings) -> Team:
    from scheduler.crypto import TokenCipher

    org_id, manager_id = create_organization(
        database,
        name="Acme",
        admin_email="pat@acme.test",
        admin_name="Patrick",
        zone="America/New_York",
        now=NOW,
    )
    rep_id = add_rep(
        database,
        org_id=org_id,
        manager_id=manager_id,
        email="george@acme.test",
        name="George",
        zone="America/New_York",
        now=NOW,
    )
    connection_id = save_connection(
        database,
        TokenCipher(settings.token_keys),
        org_id=org_id,
        person_id=manager_id,
        provider=Provider.GOOGLE,
        account_email="pat@acme.test",
        grant=b"grant",
        now=NOW,
    )
    return Team(org_id, manager_id, rep_id, connection_id)


@pytest.fixture
def booked(team, database, calendar) -> Team:
    """The team with its weekly series booked."""
    team.series_ids.append(
        book_series(
            database,
            calendar,
            org_id=team.org_id,
            manager_id=team.manager_id,
            rep_id=team.rep_id,
            connection_id=team.connection_id,
            slot=SLOT,
            first_day=date(2026, 10, 20),
            link=link,
            now=NOW,
        )
    )
    return team


def rep_declines_week1(database, calendar: MemoryCalendar, team: Team) -> None:
    """The rep declines the series' first session; the calendar will report it on its next sync."""
    week1 = series_sessions(database, team.series_ids[0])[0]
    calendar.feed.append(
        CalendarChange(
            ChangeKind.ATTENDEE_RESPONDED,
            team.series_ids[0],
            "mem",
            original_start=week1.scheduled_start,
            response=Response.DECLINED,
        )
    )


class QuietWorker(SimpleWorker):
    """RQ's in-process worker without its command channel, whose thread takes ~0.5 s to stop."""

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


class QuietBeatingWorker(QuietWorker, BeatingWorker):
    """The production worker without its command channel (slow to stop in a test)."""


class QuietForkingWorker(ForkingWorker):
    """``--fork``'s worker without its command channel."""

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


def drain(runtime: Runtime) -> None:
    """Run every queued job in this process until the queues are empty."""
    dispatcher = runtime.dispatcher
    assert isinstance(dispatcher, RQDispatcher)
    worker = QuietWorker(dispatcher.queues(), connection=dispatcher.redis)
    worker.work(burst=True, with_scheduler=False)


def queued(runtime: Runtime) -> int:
    dispatcher = runtime.dispatcher
    assert isinstance(dispatcher, RQDispatcher)
    return sum(queue.count for queue in dispatcher.queues())
