"""Webhook answer times at a steady rate, and how long a change made in the calendar takes
to reach the session, in both modes: embedded (no Redis: a webhook's sync runs on the web
process's background thread) and with Redis and RQ workers.

A real deployment on 127.0.0.1 per mode: gunicorn serving ``web.wsgi:app`` over TLS (the
Procfile's web process, two workers), PostgreSQL (a schema of its own in ``test``), the
Google emulator whose push channels POST to the app's webhook, and for ``rq`` a private
``redis-server`` and ``python -m scheduler.jobs worker`` processes.

1. Webhook: ``--notifications`` genuine notifications for one channel sent at ``--rate`` per
   second (open loop: each is due at its time, whatever the answers before it took) on
   ``--concurrency`` keep-alive connections by ``bench.loadgen``, a client in a process of
   its own; p50 / p95 / p99 of the answer times, each from when it was due. They coalesce
   into a few syncs. Targets: p99 <= 50 ms at 400 notifications/s.
2. Change -> session: ``--managers`` managers each with a booked, watched series; in each of
   ``--rounds`` rounds every rep answers one week at the same moment, and the time from the
   emulator's change to the session's new answer in PostgreSQL is measured (polled every
   5 ms). Target: p95 <= 2 s.

    python -m bench.sync [--modes embedded rq] [--rate 400] [--notifications 4000]
                         [--concurrency 16] [--managers 4] [--rounds 8] [--threads 4]
                         [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bench import loadgen
from scheduler import jobs
from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.jobs import tasks
from scheduler.jobs.runtime import Runtime
from scheduler.models import CalendarConnection, Person, Provider, Series, SeriesStatus, Session
from scheduler.settings import Settings
from scheduler.usecases.connections import save_connection
from scheduler.usecases.directory import add_rep, create_organization
from tests.e2e.stack import ROOT, RedisServer, WorkerProcess, free_port, wait_until
from tests.emulators.google import GoogleEmulator
from tests.emulators.tls import LocalCA
from tests.integrations.test_google_calendar import blob_for

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MODES = ("embedded", "rq")


class ServingCA(LocalCA):
    """The emulators' CA, also writing the app's certificate for gunicorn."""

    def server_pem(self, folder: Path) -> str:
        path = folder / "server.pem"
        self._server_cert.private_key_and_cert_chain_pem.write_to_path(str(path))
        return str(path)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--rate", type=float, default=400.0, help="notifications per second")
    parser.add_argument("--notifications", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--managers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--threads", type=int, default=4, help="gunicorn threads per web worker (Procfile's)"
    )
    parser.add_argument("--workers", type=int, default=1, help="RQ workers (rq mode)")
    args = parser.parse_args()
    for mode in args.modes:
        with deployment(mode, args) as (database, settings, google, ca, runtime):
            spare, *connections = seed(database, settings, google, runtime, args.managers + 1)
            sent, rate, took = webhook_times(database, settings, ca, spare, args)
            print(
                f"{mode}: webhook at {rate:,.0f} notifications/s ({sent} from "
                f"{args.concurrency} connections): p50 {ms(percentile(took, 0.5))}, "
                f"p95 {ms(percentile(took, 0.95))}, p99 {ms(percentile(took, 0.99))}",
                flush=True,
            )
            changes = latency(database, google, connections, range(args.rounds), "declined")
            print(
                f"{mode}: change -> session p50 {ms(percentile(changes, 0.5))}, "
                f"p95 {ms(percentile(changes, 0.95))} ({len(changes)} changes"
                + (f", {args.workers} worker(s))" if mode == "rq" else ", background thread)"),
                flush=True,
            )


@dataclass
class Processes:
    web: subprocess.Popen[bytes] | None = None
    workers: tuple[WorkerProcess, ...] = ()


@contextmanager
def deployment(
    mode: str, args: argparse.Namespace
) -> Iterator[tuple[Database, Settings, GoogleEmulator, LocalCA, Runtime]]:
    """One mode's deployment, torn down after: database schema, emulator, web (and workers)."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = Database(POSTGRES)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    database = Database(url)
    database.create_schema()
    ca = ServingCA()
    redis = RedisServer().start() if mode == "rq" else None
    # One more manager than measured: the webhook run's made-up message numbers stay on a
    # channel of its own (Google's later, lower numbers would read as replays there).
    people = {f"m{i}@acme.test": f"M{i}" for i in range(args.managers + 1)}
    people |= {f"r{i}@acme.test": f"R{i}" for i in range(args.managers + 1)}
    google = GoogleEmulator(people, ca=ca).start()
    running = Processes()
    try:
        port = free_port()
        g = google.settings()
        env = {
            "CADENCE_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "CADENCE_TOKEN_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": url,
            "CADENCE_BASE_URL": f"https://127.0.0.1:{port}",
            "GOOGLE_CLIENT_ID": g.client_id,
            "GOOGLE_CLIENT_SECRET": g.client_secret,
            "GOOGLE_API_ENDPOINT": g.api_endpoint,
            "GOOGLE_AUTH_URI": g.auth_uri,
            "GOOGLE_TOKEN_URI": g.token_uri,
            "GOOGLE_REVOKE_URI": g.revoke_uri,
            "GOOGLE_USERINFO_URI": g.userinfo_uri,
            "GOOGLE_CA_BUNDLE": google.ca_bundle,
            **({"REDIS_URL": redis.url} if redis is not None else {}),
        }
        settings = Settings.from_env(env)
        pem = ca.server_pem(Path(ca.bundle_path).parent)
        environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        running.web = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "2", "--threads", str(args.threads)),
                *("--certfile", pem, "--keyfile", pem, "--log-level", "warning", "web.wsgi:app"),
            ],
            cwd=ROOT,
            env={**environment, **env},
        )
        wait_until(
            lambda: requests.get(f"{settings.base_url}/healthz", verify=ca.bundle_path).ok, 20
        )
        if redis is not None:
            log = Path(ca.bundle_path).parent / "worker.log"
            running.workers = tuple(WorkerProcess(env, log).start() for _ in range(args.workers))
        # Embedded, the seeding jobs run inline here; with Redis, on the workers.
        runtime = jobs.build(settings, link=lambda o, s: "https://x", database=database)
        yield database, settings, google, ca, runtime
    finally:
        for worker in running.workers:
            worker.stop()
        if running.web is not None:
            running.web.terminate()
            running.web.wait(timeout=10)
        google.stop()
        if redis is not None:
            redis.close()
        database.engine.dispose()
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        ca.close()


# (organisation id, connection id, manager's email, rep's email)
Watched = tuple[str, str, str, str]


def seed(
    database: Database,
    settings: Settings,
    google: GoogleEmulator,
    runtime: Runtime,
    managers: int,
) -> list[Watched]:
    """Managers, reps and Google connections; each series booked and watched by a worker."""
    now = datetime.now(UTC)
    cipher = TokenCipher(settings.token_keys)
    org_id, admin_id = create_organization(
        database,
        name="Bench",
        admin_email="admin@acme.test",
        admin_name="A",
        zone="America/New_York",
        now=now,
    )
    first_day = (now + timedelta(days=1)).date().isoformat()
    found = []
    for i in range(managers):
        manager_id = add_rep(
            database,
            org_id=org_id,
            manager_id=admin_id,
            email=f"m{i}@acme.test",
            name=f"M{i}",
            zone="America/New_York",
            now=now,
        )
        with database.session() as db:
            db.get(Person, manager_id).is_manager = True
        rep_id = add_rep(
            database,
            org_id=org_id,
            manager_id=manager_id,
            email=f"r{i}@acme.test",
            name=f"R{i}",
            zone="America/New_York",
            now=now,
        )
        connection_id = save_connection(
            database,
            cipher,
            org_id=org_id,
            person_id=manager_id,
            provider=Provider.GOOGLE,
            account_email=f"m{i}@acme.test",
            grant=blob_for(google, f"m{i}@acme.test"),
            now=now,
        )
        runtime.dispatcher.enqueue(
            tasks.book_series,
            org_id,
            manager_id,
            rep_id,
            connection_id,
            1,
            "10:00",
            30,
            "America/New_York",
            first_day,
        )
        runtime.dispatcher.enqueue(tasks.keep_channel_open, org_id, connection_id)
        found.append((org_id, connection_id, f"m{i}@acme.test", f"r{i}@acme.test"))

    def ready() -> bool:
        with database.session() as db:
            series = db.scalars(select(Series)).all()
            rows = db.scalars(select(CalendarConnection)).all()
        return (
            len(series) == managers
            and all(s.status == SeriesStatus.ACTIVE for s in series)
            and all(r.channel_id and r.sync_cursor for r in rows)
        )

    wait_until(ready, 60)
    return found


def webhook_times(
    database: Database,
    settings: Settings,
    ca: LocalCA,
    connection: Watched,
    args: argparse.Namespace,
) -> tuple[int, float, list[float]]:
    """Notifications sent at ``args.rate`` per second: how many, the rate achieved, and each
    one's answer time (seconds)."""
    _, connection_id, _, _ = connection
    with database.session() as db:
        row = db.get(CalendarConnection, connection_id)
        channel_id = row.channel_id
        token = TokenCipher(settings.token_keys).decrypt(row.channel_secret).decode()
    headers = {"X-Goog-Channel-ID": channel_id, "X-Goog-Channel-Token": token}
    headers["X-Goog-Resource-State"] = "exists"
    host = settings.base_url.removeprefix("https://")
    answers = loadgen.run(
        loadgen.Load(
            host="127.0.0.1",
            port=int(host.rsplit(":", 1)[1]),
            ca_bundle=ca.bundle_path,
            requests=tuple(
                loadgen.request_bytes(
                    "POST",
                    host,
                    "/webhooks/google",
                    headers | {"X-Goog-Message-Number": str(1000 + n)},
                )
                for n in range(args.notifications)
            ),
            rate=args.rate,
            concurrency=args.concurrency,
        )
    )
    assert set(answers.statuses) == {204}, sorted(set(answers.statuses))
    return args.notifications, answers.rate, list(answers.seconds)


def latency(
    database: Database,
    google: GoogleEmulator,
    connections: list[Watched],
    weeks: range,
    answer: str,
) -> list[float]:
    """Seconds from each rep's answer in the emulator to the session showing it."""
    took: list[float] = []
    for week in weeks:
        pending = {}
        for _org_id, connection_id, manager, rep in connections:
            with database.session() as db:
                series = db.scalar(select(Series).where(Series.connection_id == connection_id))
                session = db.scalars(
                    select(Session)
                    .where(Session.series_id == series.id)
                    .order_by(Session.scheduled_start)
                    .offset(week)
                    .limit(1)
                ).one()
            google.respond(
                rep,
                manager,
                series.provider_event_id,
                answer,
                original_start=session.scheduled_start,
            )
            pending[session.id] = time.perf_counter()
        deadline = time.perf_counter() + 30
        while pending and time.perf_counter() < deadline:
            with database.session() as db:
                done = db.scalars(
                    select(Session.id).where(
                        Session.id.in_(list(pending)), Session.rep_response == answer
                    )
                ).all()
            now = time.perf_counter()
            for session_id in done:
                took.append(now - pending.pop(session_id))
            time.sleep(0.005)
        if pending:
            raise SystemExit(f"{len(pending)} changes never reached their sessions")
    return took


if __name__ == "__main__":
    main()
