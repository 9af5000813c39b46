"""How fast the manager's series and slots pages answer on the demo, with fresh availability.

The demo as ``bin/demo`` seeds it (Northwind Sales: three managers, twelve reps, everyone's
own calendar in a local Radicale, twelve weeks of history) on a fresh SQLite, then the
periodic refresh reads everyone's busy time once, as the running demo's timer does. Each
manager's series pages and slot proposals (a new weekly time for each booked rep) are then
requested ``--rounds`` times through the app (the Flask test client: the whole request,
templates included, without a network), and the provider calls they made are counted: with
fresh availability there must be none. For contrast, each page once more with the stored
time 45 minutes old (read again first).

    python -m bench.pages [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from sqlalchemy import select

from bench import sign_in_as
from bench.api_calls import CalDAVCounter
from scheduler import jobs
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.jobs import tasks
from scheduler.models import LIVE_SERIES, Person, Series
from scheduler.settings import Settings, origin_of
from web.app import create_app
from web.demo.people import MANAGERS, radicale_users
from web.demo.radicale import running_radicale
from web.demo.seed import seed


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(client: FlaskClient, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert answer.status_code == 200, (path, answer.status_code)
    return elapsed


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:<34} n={len(values):>4}  p50 {statistics.median(values):6.1f} ms"
        f"  p95 {percentile(values, 0.95):6.1f} ms  max {max(values):6.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    counter = CalDAVCounter()
    with tempfile.TemporaryDirectory(prefix="cadence-pages-") as scratch:
        folder = Path(scratch)
        database = Database(f"sqlite:///{folder / 'cadence.db'}")
        database.create_schema()
        key = Fernet.generate_key().decode()
        with running_radicale(radicale_users(), folder=folder / "radicale") as server:
            clock = Clock(datetime.now(UTC))
            started = time.perf_counter()
            seeded = seed(
                database,
                TokenCipher([key]),
                server,
                lambda org, session: f"http://127.0.0.1:5000/agenda/{session}",
                now=clock.now,
            )
            print(f"demo seeded in {time.perf_counter() - started:.1f} s", flush=True)
            settings = Settings.from_env(
                {
                    "CADENCE_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
                    "CADENCE_TOKEN_KEYS": key,
                    "DATABASE_URL": database.url,
                    "CADENCE_CALDAV_PRIVATE_ORIGINS": origin_of(server.url) or "",
                }
            )
            runtime = jobs.build(
                settings, link=lambda org, session: "", database=database, clock=clock
            )
            started = time.perf_counter()
            tasks.refresh_stale_availability.job.perform(runtime)
            print(
                f"everyone's busy time read once in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            app = create_app(settings, database=database, clock=clock)
            pages = _pages(database, seeded.org_id)
            counter.install()
            try:
                _measure(app.test_client, database, pages, args.rounds, counter, clock)
            finally:
                counter.remove()


def _pages(database: Database, org_id: str) -> dict[str, list[tuple[str, str]]]:
    """Per manager id: (kind, path) of each of their series and slot-proposal pages."""
    pages: dict[str, list[tuple[str, str]]] = {}
    with database.session() as db:
        managers = db.scalars(
            select(Person).where(
                Person.organization_id == org_id,
                Person.email.in_([m.email for m in MANAGERS]),
            )
        ).all()
        for manager in managers:
            for series in db.scalars(
                select(Series).where(
                    Series.manager_id == manager.id, Series.status.in_(LIVE_SERIES)
                )
            ):
                pages.setdefault(manager.id, []).extend(
                    [
                        ("series page", f"/manager/series/{series.id}"),
                        ("slots page", f"/manager/reps/{series.rep_id}/slots?change=1"),
                    ]
                )
            pages[manager.id + ":org"] = [("org", manager.organization_id)]
    return pages


def _measure(
    make_client: Callable[[], FlaskClient],
    database: Database,
    pages: dict[str, list[tuple[str, str]]],
    rounds: int,
    counter: CalDAVCounter,
    clock: Clock,
) -> None:
    times: dict[str, list[float]] = {"series page": [], "slots page": []}
    stale: dict[str, list[float]] = {"series page": [], "slots page": []}
    clients = {}
    for manager_id, paths in pages.items():
        if manager_id.endswith(":org"):
            continue
        client = make_client()
        sign_in_as(client, database, manager_id, clock.now)
        clients[manager_id] = (client, paths)
        for _, path in paths:  # warm: templates compiled, connections pooled
            timed(client, path)
    before = counter.count
    for _ in range(rounds):
        for client, paths in clients.values():
            for kind, path in paths:
                times[kind].append(timed(client, path))
    fresh_calls = counter.count - before
    clock.now += timedelta(minutes=45)
    before = counter.count
    for client, paths in clients.values():
        for kind, path in paths:
            stale[kind].append(timed(client, path))
    stale_calls = counter.count - before
    for kind, values in times.items():
        report(f"{kind}, fresh availability", values)
    print(f"provider calls during the fresh views: {fresh_calls}")
    for kind, values in stale.items():
        report(f"{kind}, read again (45 min old)", values)
    print(f"provider calls during the stale views: {stale_calls}")


if __name__ == "__main__":
    main()
