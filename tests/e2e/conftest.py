"""A whole deployment for end-to-end tests: PostgreSQL, a private Redis, the app over TLS,
RQ worker processes, and the Google emulator pushing to the app's webhook (or the Graph
emulator, or Radicale polled over CalDAV)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import select, text

from integrations.caldav.connection import CalDAVCredentials
from scheduler import jobs
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.jobs import tasks
from scheduler.jobs.runtime import Runtime, Tuning
from scheduler.models import Base, CalendarConnection, Provider, Series, SeriesStatus, Session
from scheduler.settings import Settings
from scheduler.usecases.connections import save_connection
from scheduler.usecases.directory import add_rep, create_organization
from tests.e2e.stack import (
    AppServer,
    RedisServer,
    ShiftedClock,
    WorkerProcess,
    free_port,
    wait_until,
)
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.emulators.tls import LocalCA
from tests.integrations.outlook_support import populate, settings_for, sign_in
from tests.integrations.test_google_calendar import blob_for
from web.agenda_links import agenda_link_builder
from web.app import create_app
from web.demo.radicale import RadicaleServer, running_radicale

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MANAGER, REP = "pat@acme.test", "george@acme.test"
OUTLOOK_MANAGER, OUTLOOK_REP = "maria@contoso.test", "rep1@contoso.test"
# Radicale logins of the manager and the rep: each connects a calendar of their own (CalDAV
# reads no one else's busy time).
CALDAV_LOGINS = {MANAGER: "pat", REP: "george"}
CALDAV_PASSWORD = "app-password"


def _postgres_answers() -> bool:
    try:
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A migrated PostgreSQL schema of this run's own (end-to-end always runs on PostgreSQL)."""
    if not _postgres_answers():
        # Never a silent skip: end to end means the real database (see the README's Tests).
        pytest.fail("end-to-end tests need PostgreSQL answering on 127.0.0.1:5432 (trust auth)")
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    admin = Database(POSTGRES)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(schema_url(schema))
    database.create_schema()
    database.engine.dispose()
    yield schema
    with admin.engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.engine.dispose()


def schema_url(schema: str, port: int = 5432) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def ca() -> Iterator[LocalCA]:
    authority = LocalCA()
    yield authority
    authority.close()


@pytest.fixture(scope="session")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale(dict.fromkeys(CALDAV_LOGINS.values(), CALDAV_PASSWORD)) as server:
        yield server


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def google(ca) -> Iterator[GoogleEmulator]:
    with GoogleEmulator({MANAGER: "Patrick", REP: "George"}, ca=ca) as emulator:
        yield emulator


@dataclass
class Stack:
    env: dict[str, str]
    app: Flask
    database: Database
    google: GoogleEmulator
    redis: RedisServer
    log: Path
    provider: Provider = Provider.GOOGLE
    graph: GraphEmulator | None = None
    radicale: RadicaleServer | None = None
    clock: ShiftedClock | None = None  # the app's and workers' when the test moves time
    worker_module: str = "scheduler.jobs"
    workers: list[WorkerProcess] = field(default_factory=list)
    org_id: str = ""
    manager_id: str = ""
    rep_id: str = ""
    connection_id: str = ""
    rep_connection_id: str = ""  # CalDAV: the rep's own calendar
    calendar_name: str = ""  # CalDAV: the calendar of this stack in each Radicale account

    @property
    def manager_email(self) -> str:
        return OUTLOOK_MANAGER if self.provider is Provider.MICROSOFT else MANAGER

    @property
    def rep_email(self) -> str:
        return OUTLOOK_REP if self.provider is Provider.MICROSOFT else REP

    @property
    def connection_ids(self) -> list[str]:
        return [c for c in (self.connection_id, self.rep_connection_id) if c]

    @property
    def runtime(self) -> Runtime:
        return self.app.extensions["cadence.jobs"]

    def start_worker(self, process: str = "worker", module: str = "") -> WorkerProcess:
        worker = WorkerProcess(self.env, self.log, process, module or self.worker_module).start()
        self.workers.append(worker)
        return worker

    def run(self, function: Callable[..., Any], *args: Any, timeout: float = 15) -> Any:
        """Enqueue ``function`` for a worker and wait (bounded) for its result."""
        job_id = f"e2e-{uuid.uuid4().hex}"
        dispatcher = self.runtime.dispatcher
        dispatcher.enqueue(function, *args, job_id=job_id)
        job = Job.fetch(job_id, connection=dispatcher.redis)
        wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, timeout)
        return job.return_value()

    def settle(self, timeout: float = 15) -> None:
        """Wait (bounded) until no job is queued or running, twice in a row: a job may
        enqueue another (an email's delivery) as it ends."""

        def idle() -> bool:
            return all(
                queue.count == 0 and not StartedJobRegistry(queue=queue).get_job_ids()
                for queue in self.runtime.dispatcher.queues()
            )

        def idle_twice() -> bool:
            if not idle():
                return False
            time.sleep(0.2)
            return idle()

        wait_until(idle_twice, timeout)

    def series(self) -> Series | None:
        with self.database.session() as db:
            return db.scalar(select(Series).where(Series.organization_id == self.org_id))

    def sessions(self) -> list[Session]:
        with self.database.session() as db:
            return list(
                db.scalars(
                    select(Session)
                    .where(Session.organization_id == self.org_id)
                    .order_by(Session.scheduled_start)
                )
            )

    def connection(self) -> CalendarConnection:
        with self.database.session() as db:
            row = db.get(CalendarConnection, self.connection_id)
            assert row is not None
            return row

    def enqueue_booking(self) -> None:
        first_day = datetime.now(UTC).date() + timedelta(days=1)
        self.runtime.dispatcher.enqueue(
            tasks.book_series,
            self.org_id,
            self.manager_id,
            self.rep_id,
            self.connection_id,
            1,  # Tuesdays
            "10:00",
            30,
            "America/New_York",
            first_day.isoformat(),
        )

    def book_and_watch(self, timeout: float = 15) -> Series:
        """Book the weekly series through a worker and open the calendar's push channel
        (CalDAV has none: its first sync only)."""
        self.enqueue_booking()
        wait_until(lambda: self.series().status == SeriesStatus.ACTIVE, timeout)
        if self.provider is Provider.CALDAV:
            self.runtime.dispatcher.enqueue(tasks.sync_connection, self.org_id, self.connection_id)
            wait_until(lambda: self.connection().sync_cursor, timeout)
            return self.series()  # type: ignore[return-value]
        self.runtime.dispatcher.enqueue(tasks.keep_channel_open, self.org_id, self.connection_id)
        wait_until(lambda: self.connection().channel_id, timeout)
        wait_until(lambda: self.connection().sync_cursor, timeout)  # the first sync ran
        if self.provider is Provider.GOOGLE:
            # The channel's first message ("sync") was delivered; it raced the channel's row
            # being saved and may have been answered 404, which is harmless for a "sync" ping.
            wait_until(lambda: self.google.deliveries, timeout)
        series = self.series()
        assert series is not None
        return series


def truncate(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))


class Stacks:
    """Builds stacks on one PostgreSQL schema, Google emulator and Redis; ``close`` stops
    their workers, servers and Graph emulators."""

    def __init__(self, pg_schema, ca, google, redis_server, folder: Path, radicale=None):  # type: ignore[no-untyped-def]
        self.pg_schema, self.ca, self.google, self.redis = pg_schema, ca, google, redis_server
        self.folder = folder
        self.radicale: Callable[[], RadicaleServer] | None = radicale  # started when asked
        self.built: list[tuple[AppServer, Stack]] = []
        self.graphs: list[GraphEmulator] = []

    def build(
        self,
        *,
        workers: int = 1,
        database_port: int = 5432,
        provider: Provider = Provider.GOOGLE,
        env: dict[str, str] | None = None,
        shifted_clock: bool = False,
    ) -> Stack:
        """``database_port`` points the app (only) at a proxy the test can cut; ``env`` adds
        settings (``SMTP_URL``) for the app and its workers; ``shifted_clock`` gives the app
        and its workers (``tests.e2e.tuned_process``) one ``ShiftedClock`` the test moves."""
        port = free_port()
        graph = radicale = None
        if provider is Provider.MICROSOFT:
            graph = populate(GraphEmulator(ca=self.ca).start())
            self.graphs.append(graph)
        if provider is Provider.CALDAV:
            assert self.radicale is not None
            radicale = self.radicale()
        clock = ShiftedClock(self.folder / f"clock-{port}") if shifted_clock else None
        # Graph's emulator posts without our CA, so the Outlook stack serves plain http.
        scheme = "https" if provider is Provider.GOOGLE else "http"
        env = {
            "CADENCE_SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789",
            "CADENCE_TOKEN_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": schema_url(self.pg_schema),
            "REDIS_URL": self.redis.url,
            "CADENCE_BASE_URL": f"{scheme}://127.0.0.1:{port}",
            **_google_env(self.google),
            **(_graph_env(graph) if graph else {}),
            **({"CADENCE_CALDAV_PRIVATE_ORIGINS": radicale.url} if radicale else {}),
            **({ShiftedClock.ENV: str(clock.path)} if clock else {}),
            **(env or {}),
        }
        settings = Settings.from_env(env)
        database = Database(schema_url(self.pg_schema))
        truncate(database)
        app_database = Database(schema_url(self.pg_schema, database_port))
        app = create_app(settings, database=app_database, clock=clock)
        # Retries at once instead of after 10 s (the production default).
        app.extensions["cadence.jobs"] = jobs.build(
            settings,
            link=agenda_link_builder(settings.secret_key, settings.base_url),
            database=app_database,
            tuning=Tuning(retry_intervals=(0,)),
            clock=clock,
        )
        context = self.ca.server_context() if scheme == "https" else None
        server = AppServer(app, port, context).start()
        log = self.folder / "worker.log"
        stack = Stack(env, app, database, self.google, self.redis, log, provider, graph, radicale)
        if clock is not None:
            stack.clock, stack.worker_module = clock, "tests.e2e.tuned_process"
        self.built.append((server, stack))
        _seed(stack, settings)
        for _ in range(workers):
            stack.start_worker()
        return stack

    def close(self) -> None:
        for server, stack in self.built:
            for worker in stack.workers:
                worker.kill()  # nothing to finish gracefully in a test; a warm stop takes seconds
            server.stop()
            stack.database.engine.dispose()
            if os.environ.get("CADENCE_E2E_LOG"):
                print(stack.log.read_text())
        for graph in self.graphs:
            graph.stop()


@pytest.fixture
def stack_factory(pg_schema, ca, google, redis_server, tmp_path, request):
    stacks = Stacks(
        pg_schema, ca, google, redis_server, tmp_path, lambda: request.getfixturevalue("radicale")
    )
    yield stacks.build
    stacks.close()


@pytest.fixture
def stack(stack_factory) -> Stack:
    return stack_factory()


@pytest.fixture(scope="module")
def watched_google(pg_schema, ca, tmp_path_factory) -> Iterator[tuple[Stack, Series]]:
    """One booked and watched Google series shared by a module's tests (each uses its own
    week), so they pay for one worker start and one booking."""
    yield from _watched(Provider.GOOGLE, pg_schema, ca, tmp_path_factory)


@pytest.fixture(scope="module")
def watched_outlook(pg_schema, ca, tmp_path_factory) -> Iterator[tuple[Stack, Series]]:
    """The same through Outlook: a Graph subscription instead of a Google channel."""
    yield from _watched(Provider.MICROSOFT, pg_schema, ca, tmp_path_factory)


def _watched(provider, pg_schema, ca, tmp_path_factory):  # type: ignore[no-untyped-def]
    redis = RedisServer().start()
    with GoogleEmulator({MANAGER: "Patrick", REP: "George"}, ca=ca) as google:
        stacks = Stacks(pg_schema, ca, google, redis, tmp_path_factory.mktemp("watched"))
        try:
            stack = stacks.build(provider=provider)
            yield stack, stack.book_and_watch()
        finally:
            stacks.close()
            redis.close()


def _google_env(google: GoogleEmulator) -> dict[str, str]:
    settings = google.settings()
    return {
        "GOOGLE_CLIENT_ID": settings.client_id,
        "GOOGLE_CLIENT_SECRET": settings.client_secret,
        "GOOGLE_API_ENDPOINT": settings.api_endpoint,
        "GOOGLE_AUTH_URI": settings.auth_uri,
        "GOOGLE_TOKEN_URI": settings.token_uri,
        "GOOGLE_REVOKE_URI": settings.revoke_uri,
        "GOOGLE_USERINFO_URI": settings.userinfo_uri,
        "GOOGLE_CA_BUNDLE": google.ca_bundle,
    }


def _graph_env(graph: GraphEmulator) -> dict[str, str]:
    settings = settings_for(graph)
    return {
        "MS_CLIENT_ID": settings.client_id,
        "MS_CLIENT_SECRET": settings.client_secret,
        "MS_AUTHORITY": settings.authority,
        "MS_GRAPH_URL": settings.graph_url,
        "MS_CA_BUNDLE": graph.ca_bundle,
    }


def _seed(stack: Stack, settings: Settings) -> None:
    now = datetime.now(UTC)
    manager, rep = stack.manager_email, stack.rep_email
    stack.org_id, stack.manager_id = create_organization(
        stack.database,
        name="Acme",
        admin_email=manager,
        admin_name="Manager",
        zone="America/New_York",
        now=now,
    )
    stack.rep_id = add_rep(
        stack.database,
        org_id=stack.org_id,
        manager_id=stack.manager_id,
        email=rep,
        name="Rep",
        zone="America/New_York",
        now=now,
    )
    if stack.provider is Provider.CALDAV:
        stack.calendar_name = f"work-{uuid.uuid4().hex[:8]}"  # Radicale outlives the stack
    grants = {
        Provider.GOOGLE: lambda email: blob_for(stack.google, email),
        Provider.MICROSOFT: lambda email: sign_in(stack.graph, email),
        Provider.CALDAV: lambda email: _caldav_grant(stack, email),
    }

    def connect(person_id: str, email: str) -> str:
        return save_connection(
            stack.database,
            TokenCipher(settings.token_keys),
            org_id=stack.org_id,
            person_id=person_id,
            provider=stack.provider,
            account_email=email,
            grant=grants[stack.provider](email),
            now=now,
        )

    stack.connection_id = connect(stack.manager_id, manager)
    if stack.provider is Provider.CALDAV:
        stack.rep_connection_id = connect(stack.rep_id, rep)


def _caldav_grant(stack: Stack, email: str) -> bytes:
    """A new calendar of this stack's in ``email``'s Radicale account, and its credentials."""
    assert stack.radicale is not None
    login = CALDAV_LOGINS[email]
    stack.radicale.make_calendar(login, stack.calendar_name, stack.calendar_name)
    credentials = CalDAVCredentials(
        url=stack.radicale.url,
        username=login,
        password=CALDAV_PASSWORD,
        email=email,
        calendar=stack.calendar_name,
    )
    return credentials.to_blob()
