"""How many notifications the webhook accepts per second, and how long a change made in the
calendar takes to reach the session, with one and with two RQ workers.

A real deployment on 127.0.0.1: gunicorn serving ``web.wsgi:app`` over TLS (the Procfile's
web process, two workers), PostgreSQL (a schema of its own in ``test``), a private
``redis-server``, ``python -m scheduler.jobs worker`` processes, and the Google emulator
whose push channels POST to the app's webhook.

1. Throughput: ``--notifications`` genuine notifications for one channel from
   ``--concurrency`` client threads (they coalesce into a sync or two).
2. Latency: ``--managers`` managers each with a booked, watched series; in each of
   ``--rounds`` rounds every rep answers one week at the same moment (declines with one worker,
   accepts again with two), and the time from the emulator's change to the session's new
   answer in PostgreSQL is measured (polled every 5 ms).

    python -m bench.sync [--notifications 2000] [--concurrency 8] [--managers 4] [--rounds 8]
                         [--threads 4]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from sqlalchemy import select, text

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


class ServingCA(LocalCA):
    """The emulators' CA, also writing the app's certificate for gunicorn."""

    def server_pem(self, folder: Path) -> str:
        path = folder / "server.pem"
        self._server_cert.private_key_and_cert_chain_pem.write_to_path(str(path))
        return str(path)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--managers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--threads", type=int, default=4, help="gunicorn threads per web worker (Procfile's)"
    )
    args = parser.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = Database(POSTGRES)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    database = Database(url)
    database.create_schema()
    ca = ServingCA()
    redis = RedisServer().start()
    # One more manager than measured: the throughput run's made-up message numbers stay on
    # a channel of its own (Google's later, lower numbers would read as replays there).
    people = {f"m{i}@acme.test": f"M{i}" for i in range(args.managers + 1)}
    people |= {f"r{i}@acme.test": f"R{i}" for i in range(args.managers + 1)}
    google = GoogleEmulator(people, ca=ca).start()
    workers: list[WorkerProcess] = []
    web = None
    try:
        port = free_port()
        g = google.settings()
        env = {
            "CADENCE_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "CADENCE_TOKEN_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": url,
            "REDIS_URL": redis.url,
            "CADENCE_BASE_URL": f"https://127.0.0.1:{port}",
            "GOOGLE_CLIENT_ID": g.client_id,
            "GOOGLE_CLIENT_SECRET": g.client_secret,
            "GOOGLE_API_ENDPOINT": g.api_endpoint,
            "GOOGLE_AUTH_URI": g.auth_uri,
            "GOOGLE_TOKEN_URI": g.token_uri,
            "GOOGLE_REVOKE_URI": g.revoke_uri,
            "GOOGLE_USERINFO_URI": g.userinfo_uri,
            "GOOGLE_CA_BUNDLE": google.ca_bundle,
        }
        settings = Settings.from_env(env)
        pem = ca.server_pem(Path(ca.bundle_path).parent)
        web = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "2", "--threads", str(args.threads)),
                *("--certfile", pem, "--keyfile", pem, "--log-level", "warning", "web.wsgi:app"),
            ],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        wait_until(
            lambda: requests.get(f"{settings.base_url}/healthz", verify=ca.bundle_path).ok, 20
        )
        log = Path(ca.bundle_path).parent / "worker.log"
        workers.append(WorkerProcess(env, log).start())
        runtime = jobs.build(settings, link=lambda o, s: "https://x", database=database)

        spare, *connections = seed(database, settings, google, runtime, args.managers + 1)
        rate, p50, p95 = throughput(database, settings, ca, spare, args)
        print(
            f"webhook: {rate:,.0f} notifications/s accepted "
            f"({args.notifications} from {args.concurrency} threads; "
            f"per request p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms)"
        )
        for count in (1, 2):
            while len(workers) < count:
                workers.append(WorkerProcess(env, log).start())
                time.sleep(2)  # let it import and start listening
            # The first run declines weeks, the second accepts the same weeks again.
            answer = "declined" if count == 1 else "accepted"
            took = latency(database, google, connections, range(args.rounds), answer)
            print(
                f"{count} worker{'s' if count > 1 else ''}: change -> session "
                f"p50 {percentile(took, 0.5) * 1000:.0f} ms, "
                f"p95 {percentile(took, 0.95) * 1000:.0f} ms ({len(took)} changes)"
            )
    finally:
        for worker in workers:
            worker.stop()
        if web is not None:
            web.terminate()
            web.wait(timeout=10)
        google.stop()
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


def throughput(
    database: Database,
    settings: Settings,
    ca: LocalCA,
    connection: Watched,
    args: argparse.Namespace,
) -> tuple[float, float, float]:
    """Notifications per second accepted, and the per-request p50 and p95 (seconds)."""
    _, connection_id, _, _ = connection
    with database.session() as db:
        row = db.get(CalendarConnection, connection_id)
        channel_id = row.channel_id
        token = TokenCipher(settings.token_keys).decrypt(row.channel_secret).decode()
    numbers = iter(range(1000, 1000 + args.notifications))
    lock = threading.Lock()
    local = threading.local()
    took: list[float] = []

    def send(_: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        with lock:
            number = next(numbers)
        start = time.perf_counter()
        answer = local.session.post(
            f"{settings.base_url}/webhooks/google",
            headers={
                "X-Goog-Channel-ID": channel_id,
                "X-Goog-Channel-Token": token,
                "X-Goog-Resource-State": "exists",
                "X-Goog-Message-Number": str(number),
            },
            verify=ca.bundle_path,
        )
        took.append(time.perf_counter() - start)
        assert answer.status_code == 204, answer.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(send, range(args.notifications)))
    elapsed = time.perf_counter() - started
    return args.notifications / elapsed, percentile(took, 0.5), percentile(took, 0.95)


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
