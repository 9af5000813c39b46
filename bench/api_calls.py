"""Provider calls per operation, next to the fewest each provider's API allows.

Each operation runs the way Cadence runs it — pages through the Flask app, jobs through the
inline pipeline, the adapters through their real client libraries — against the project's
Google and Graph emulators (``tests/emulators``) and a real Radicale for CalDAV. A manager and
eight reps in New York and London; the reps read through the manager's connection on Google
and Graph, through their own CalDAV accounts on CalDAV (a CalDAV account reads only itself).
Calls are counted where they arrive: the emulators' own counters (OAuth token requests
included), and every HTTP request the CalDAV client sends.

    python -m bench.api_calls [--trace]
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from caldav.davclient import DAVClient
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from bench import sign_in_as
from integrations.caldav import CalDAVCredentials, checked_credentials
from integrations.factory import connection_calendars, push_channels
from integrations.outbound import OutboundPolicy
from scheduler import jobs
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.jobs import tasks
from scheduler.models import (
    CalendarConnection,
    Provider,
    Series,
    Session,
    StoredBusyTime,
)
from scheduler.settings import Settings
from scheduler.usecases.connections import save_connection
from scheduler.usecases.directory import add_rep, create_organization
from scheduler.usecases.push_channels import keep_channel_open
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.emulators.tls import LocalCA
from tests.integrations import outlook_support
from tests.integrations.test_google_calendar import blob_for
from web.app import create_app
from web.demo.radicale import running_radicale

MANAGER, MANAGER_NAME = "pat@acme.test", "Pat"
REPS = [(f"rep{n}@acme.test", f"Rep {n}") for n in range(1, 9)]
ZONES = ("America/New_York", "Europe/London")

TRACE = "--trace" in sys.argv[1:]  # print each operation's requests (Graph, CalDAV)

OPERATIONS = (
    "proposals, 1 rep",
    "proposals, 8 reps",
    "booking",
    "series page, fresh",
    "series page, stale",
    "incremental sync",
    "full sync",
    "agenda refresh",
    "channel renewal",
)

# The fewest calls each API allows for each operation, and why.
MINIMUM: dict[str, dict[str, tuple[int, str]]] = {
    "google": {
        "proposals, 1 rep": (2, "freeBusy spans at most 90 days: 13 weeks and a day each side"),
        "proposals, 8 reps": (2, "the same two freeBusy calls: 50 calendars per call"),
        "booking": (1, "one events.insert with the attendee and the agenda"),
        "series page, fresh": (0, "answered from the stored busy time"),
        "series page, stale": (2, "two freeBusy spans for the manager and the rep"),
        "incremental sync": (1, "one events.list with the sync token"),
        "full sync": (1, "one events.list page"),
        "agenda refresh": (1, "one events.patch of the occurrence"),
        "channel renewal": (2, "channels cannot be extended: watch a new one, stop the old"),
    },
    "microsoft": {
        "proposals, 1 rep": (1, "one $batch of two getSchedule spans (62 days each)"),
        "proposals, 8 reps": (1, "the same $batch: 100 schedules per getSchedule"),
        "booking": (3, "create the event, attach the agenda, then add the attendee"),
        "series page, fresh": (0, "answered from the stored busy time"),
        "series page, stale": (1, "one $batch of two getSchedule spans"),
        "incremental sync": (1, "one calendarView delta round"),
        "full sync": (2, "a delta round from the start: the items, then the deltaLink page"),
        "agenda refresh": (3, "find the occurrence, patch its body, replace its attachment"),
        "channel renewal": (1, "one PATCH of the subscription's expiry"),
    },
    "caldav": {
        "proposals, 1 rep": (2, "one calendar-query per account: each reads only itself"),
        "proposals, 8 reps": (9, "one calendar-query per account: the manager and 8 reps"),
        "booking": (1, "one PUT of the series"),
        "series page, fresh": (0, "answered from the stored busy time"),
        "series page, stale": (2, "one calendar-query per account"),
        "incremental sync": (1, "one sync-collection REPORT"),
        "full sync": (1, "one calendar-query of the tagged events"),
        "agenda refresh": (2, "read the series, PUT it back with the occurrence's agenda"),
        "channel renewal": (0, "CalDAV has no push: polled"),
    },
}

# Why an operation costs more than its minimum, where it does.
ABOVE: dict[tuple[str, str], str] = {
    ("google", "incremental sync"): (
        "+2 freeBusy: a notified calendar's owner's busy time is read again (two 90-day"
        " spans), so the pages that follow make no call"
    ),
    ("google", "full sync"): "+2 freeBusy: the owner's busy time, as after every notified sync",
    ("microsoft", "incremental sync"): (
        "+1 getSchedule $batch: a notified calendar's owner's busy time is read again"
    ),
    ("microsoft", "full sync"): "+1 getSchedule $batch: the owner's busy time",
    ("caldav", "booking"): (
        "+1 REPORT: the series' UID is looked up first, so a retry never books twice"
    ),
    ("caldav", "full sync"): "+1 REPORT: a new sync token after the listing",
}


# Per provider and operation, how many of the calls went to the identity platform.
IDENTITY: dict[str, dict[str, int]] = {}


def _note(provider: str, operation: str, calls: int) -> str:
    least, why = MINIMUM[provider][operation]
    identity = IDENTITY.get(provider, {}).get(operation, 0)
    reasons = []
    if identity:
        reasons.append(
            f"+{identity} identity platform (OpenID metadata): each opened Microsoft"
            " connection builds an MSAL application that fetches it"
        )
    if calls - identity > least:
        reasons.append(ABOVE.get((provider, operation), f"above the minimum ({why})"))
    return "; ".join(reasons) or why


# ---------------------------------------------------------------------------- counting


class CalDAVCounter:
    """Every HTTP request the CalDAV client library sends, counted."""

    def __init__(self) -> None:
        self.count = 0
        self.seen: list[tuple[str, str]] = []
        self._original = DAVClient.request

    def install(self) -> None:
        counter = self

        def counted(client: DAVClient, *args: Any, **kwargs: Any) -> Any:
            counter.count += 1
            url = str(args[0] if args else kwargs.get("url", ""))
            method = str(args[1] if len(args) > 1 else kwargs.get("method", "GET"))
            counter.seen.append((method, url.split("/", 3)[-1]))
            return counter._original(client, *args, **kwargs)

        DAVClient.request = counted  # type: ignore[method-assign]

    def remove(self) -> None:
        DAVClient.request = self._original  # type: ignore[method-assign]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """One provider's organisation, app and pipeline, and how to count its calls."""

    provider: str
    database: Database
    settings: Settings
    count: Callable[[], int]
    grant: Callable[[str], bytes]
    own_connections: bool
    clock: Clock = field(default_factory=lambda: Clock(datetime.now(UTC)))
    callback_url: str = "https://cadence.test/webhooks/x"
    trace: Callable[[], list[Any]] | None = None
    # Of ``count``, the requests to the identity platform (OpenID metadata, tokens).
    identity: Callable[[], int] = lambda: 0
    ids: dict[str, str] = field(default_factory=dict)


def _settings(folder: Path, **changes: Any) -> Settings:
    base = Settings.from_env(
        {
            "CADENCE_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "CADENCE_TOKEN_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": f"sqlite:///{folder / 'cadence.db'}",
        }
    )
    return replace(base, **changes)


def _populate(world: World) -> None:
    cipher = TokenCipher(world.settings.token_keys)
    now = world.clock.now
    org_id, manager_id = create_organization(
        world.database,
        name="Acme",
        admin_email=MANAGER,
        admin_name=MANAGER_NAME,
        zone=ZONES[0],
        now=now,
    )
    world.ids.update(org=org_id, manager=manager_id)
    provider = Provider(world.provider)
    world.ids["connection"] = save_connection(
        world.database,
        cipher,
        org_id=org_id,
        person_id=manager_id,
        provider=provider,
        account_email=MANAGER,
        grant=world.grant(MANAGER),
        now=now,
    )
    for n, (email, name) in enumerate(REPS):
        rep_id = add_rep(
            world.database,
            org_id=org_id,
            manager_id=manager_id,
            email=email,
            name=name,
            zone=ZONES[n % 2],
            now=now,
        )
        world.ids[email] = rep_id
        if world.own_connections:
            save_connection(
                world.database,
                cipher,
                org_id=org_id,
                person_id=rep_id,
                provider=provider,
                account_email=email,
                grant=world.grant(email),
                now=now,
            )


# ---------------------------------------------------------------------------- the operations


def _csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _forget_busy_time(world: World) -> None:
    with world.database.session() as db:
        db.execute(delete(StoredBusyTime))


def measure(world: World) -> dict[str, int]:
    """Calls per operation for one provider."""
    database, clock = world.database, world.clock
    app = create_app(world.settings, database=database, clock=clock)
    runtime = jobs.build(
        world.settings,
        link=lambda org, session: f"https://cadence.test/agenda/{session}",
        database=database,
        calendars=connection_calendars(
            world.settings, database, TokenCipher(world.settings.token_keys)
        ),
        clock=clock,
    )
    client = app.test_client()
    sign_in_as(client, database, world.ids["manager"], clock.now)
    org_id, connection_id = world.ids["org"], world.ids["connection"]
    rep = world.ids[REPS[0][0]]
    found: dict[str, int] = {}

    def counted(operation: str, action: Callable[[], object]) -> object:
        before, identity_before = world.count(), world.identity()
        traced = len(world.trace()) if world.trace else 0
        result = action()
        found[operation] = world.count() - before
        IDENTITY.setdefault(world.provider, {})[operation] = world.identity() - identity_before
        if TRACE and world.trace is not None:
            print(operation, world.trace()[traced:])
        return result

    counted("proposals, 8 reps", lambda: client.get("/manager/team/proposals"))
    _forget_busy_time(world)
    page = counted("proposals, 1 rep", lambda: client.get(f"/manager/reps/{rep}/slots"))
    text = page.get_data(as_text=True)  # type: ignore[attr-defined]
    form = text[text.index(f'action="/manager/reps/{rep}/book"') :]
    fields = dict(
        re.findall(r'name="(weekday|local_time|minutes|zone|first_day)" value="([^"]*)"', form)[:5]
    )
    token = _csrf(client, "/manager/team")
    booked = counted(
        "booking",
        lambda: client.post(f"/manager/reps/{rep}/book", data={"csrf_token": token, **fields}),
    )
    series_url = booked.headers["Location"]  # type: ignore[attr-defined]
    counted("series page, fresh", lambda: client.get(series_url))
    clock.now += timedelta(hours=1)
    counted("series page, stale", lambda: client.get(series_url))

    with database.session() as db:
        row = db.get(CalendarConnection, connection_id)
        assert row is not None
    calendar = runtime.calendar(row)
    push = push_channels(calendar)
    if push is not None:  # watched, as a notified connection is
        keep_channel_open(
            database,
            push,
            runtime.cipher,
            org_id=org_id,
            connection_id=connection_id,
            callback_url=world.callback_url,
            now=clock.now,
            renew_within=timedelta(hours=24),
        )
    tasks.sync_connection.job.perform(runtime, org_id, connection_id)  # sets the cursor
    counted(
        "incremental sync",
        lambda: tasks.sync_connection.job.perform(runtime, org_id, connection_id),
    )
    counted(
        "full sync",
        lambda: tasks.sync_connection.job.perform(runtime, org_id, connection_id, full=True),
    )
    with database.session() as db:
        series = db.scalar(select(Series))
        assert series is not None
        second = db.scalars(
            select(Session).where(Session.series_id == series.id).order_by(Session.scheduled_start)
        ).all()[1]
    clock.now = second.scheduled_start - timedelta(hours=12)
    counted(
        "agenda refresh",
        lambda: tasks.refresh_agenda.job.perform(runtime, org_id, second.id),
    )
    if push is None:
        found["channel renewal"] = 0
    else:
        counted(
            "channel renewal",
            lambda: keep_channel_open(
                database,
                push,
                runtime.cipher,
                org_id=org_id,
                connection_id=connection_id,
                callback_url=world.callback_url,
                now=clock.now,
                renew_within=timedelta(hours=24),
                force=True,
            ),
        )
    return found


# ---------------------------------------------------------------------------- the worlds


@contextmanager
def google_world(folder: Path, ca: LocalCA) -> Iterator[World]:
    people = {MANAGER: MANAGER_NAME} | dict(REPS)
    with GoogleEmulator(people, ca=ca) as emulator:
        world = World(
            "google",
            Database(f"sqlite:///{folder / 'google.db'}"),
            _settings(folder, google=emulator.settings()),
            count=lambda: sum(emulator.calls.values()),
            grant=lambda email: blob_for(emulator, email),
            own_connections=False,
        )
        world.database.create_schema()
        _populate(world)
        yield world


@contextmanager
def graph_world(folder: Path) -> Iterator[World]:
    with GraphEmulator() as graph, outlook_support.Webhook() as webhook:
        graph.add_mailbox(MANAGER, MANAGER_NAME)
        for email, name in REPS:
            graph.add_mailbox(email, name, "Eastern Standard Time")
        graph.register_app(
            outlook_support.CLIENT_ID, outlook_support.CLIENT_SECRET, outlook_support.REDIRECT_URI
        )
        identity = _count_identity(graph)
        world = World(
            "microsoft",
            Database(f"sqlite:///{folder / 'graph.db'}"),
            _settings(folder, microsoft=outlook_support.settings_for(graph)),
            count=lambda: graph.count() + identity[0],
            identity=lambda: identity[0],
            grant=lambda email: outlook_support.sign_in(graph, email),
            own_connections=False,
            callback_url=webhook.url,
            trace=lambda: [(c.method, c.path, c.status, c.in_batch) for c in graph.calls],
        )
        world.database.create_schema()
        _populate(world)
        yield world


def _count_identity(graph: GraphEmulator) -> list[int]:
    """Requests to the identity platform (OpenID metadata, tokens), counted in a box."""
    seen = [0]
    original = graph.identity.handle

    def counted(request: Any) -> Any:
        answer = original(request)
        seen[0] += answer is not None
        return answer

    graph.identity.handle = counted  # type: ignore[method-assign]
    return seen


@contextmanager
def caldav_world(folder: Path) -> Iterator[World]:
    users = {email.split("@")[0]: "bench-password" for email in [MANAGER, *dict(REPS)]}
    counter = CalDAVCounter()
    with running_radicale(users, folder=folder / "radicale") as radicale:
        for user in users:
            radicale.make_calendar(user, "work", "Work")
        world = World(
            "caldav",
            Database(f"sqlite:///{folder / 'caldav.db'}"),
            _settings(folder, caldav_private_origins=frozenset({_origin(radicale.url)})),
            count=lambda: counter.count,
            # Checked and saved as the account page does: with where the calendar is.
            grant=lambda email: checked_credentials(
                CalDAVCredentials(
                    radicale.url, email.split("@")[0], "bench-password", email, "Work"
                ),
                OutboundPolicy.trusting([radicale.url]),
            ).to_blob(),
            own_connections=True,
            trace=lambda: counter.seen,
        )
        world.database.create_schema()
        _populate(world)
        counter.install()
        try:
            yield world
        finally:
            counter.remove()


def _origin(url: str) -> str:
    from scheduler.settings import origin_of

    origin = origin_of(url)
    assert origin is not None
    return origin


# ---------------------------------------------------------------------------- report


def table(results: dict[str, dict[str, int]]) -> str:
    names = {"google": "Google", "microsoft": "Graph", "caldav": "CalDAV"}
    providers = list(results)
    lines = [
        "| operation | " + " | ".join(f"{names[p]} (min)" for p in providers) + " |",
        "| --- | " + " | ".join("---:" for _ in providers) + " |",
    ]
    for operation in OPERATIONS:
        cells = [
            f"{results[p][operation]} ({MINIMUM[p][operation][0]})"
            + (" ⚠" if results[p][operation] > MINIMUM[p][operation][0] else "")
            for p in providers
        ]
        lines.append(f"| {operation} | " + " | ".join(cells) + " |")
    notes = [
        f"- {names[p]}, {operation}: {results[p][operation]}, "
        + _note(p, operation, results[p][operation])
        for p in providers
        for operation in OPERATIONS
        if results[p][operation] > MINIMUM[p][operation][0]
    ]
    return "\n".join(lines + (["", *notes] if notes else []))


def main() -> None:
    results: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="cadence-api-calls-") as scratch, ExitStack() as stack:
        folder = Path(scratch)
        ca = LocalCA()
        stack.callback(ca.close)
        for name, world in (
            ("google", lambda: google_world(folder, ca)),
            ("microsoft", lambda: graph_world(folder)),
            ("caldav", lambda: caldav_world(folder)),
        ):
            with world() as built:
                results[name] = measure(built)
            print(f"{name}: {results[name]}", flush=True)
    print()
    print(table(results))


if __name__ == "__main__":
    main()
