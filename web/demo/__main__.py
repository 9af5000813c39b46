"""``bin/demo``: Cadence on its embedded default, with a seeded organisation, on 127.0.0.1.

SQLite in the data folder, jobs inline (no Redis), and a local Radicale CalDAV server whose
storage is kept in ``<data>/radicale``. The first start seeds the demo organisation; later
starts reuse it. Ctrl-C stops the app and Radicale.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from cryptography.fernet import Fernet

from scheduler.crypto import TokenCipher
from scheduler.db import Database
from scheduler.settings import Settings
from web.agenda_links import agenda_link_builder
from web.app import create_app
from web.demo.people import PASSWORD, PEOPLE, radicale_users
from web.demo.radicale import RadicaleServer, first_free_port, radicale_url, running_radicale
from web.demo.seed import HalfSeeded, find_demo_org, point_connections_at, seed
from web.demo.signin import DemoInfo, DemoSignInRefused, describe_demo, enable_demo_signin
from web.webhooks import start_embedded_timer

RADICALE_PORT = 5232
# Written once the seed has finished: its absence beside existing data means an interrupted
# seed, which is never resumed halfway.
_SEEDED_MARKER = "demo-seeded"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bin/demo", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000, help="Cadence's port (5000)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="bind address; the demo refuses anything but loopback"
    )
    parser.add_argument("--data", default="instance", help="folder for SQLite, keys and Radicale")
    parser.add_argument(
        "--radicale-port",
        type=int,
        default=None,
        help=f"Radicale's port (default {RADICALE_PORT}, or the next free one)",
    )
    return parser.parse_args(argv)


def demo_settings(
    data: Path, host: str, port: int, env: dict[str, str], radicale_url: str = ""
) -> Settings:
    """The demo's settings: its own keys kept beside its data, SQLite there, demo on, no Redis,
    and CalDAV allowed on loopback for its local Radicale (at ``radicale_url``) only."""
    env = dict(env)
    # Kept beside the data, so a restart can still read what it stored.
    env.setdefault("CADENCE_SECRET_KEY", _kept(data / "secret_key", lambda: secrets.token_hex(32)))
    env.setdefault(
        "CADENCE_TOKEN_KEYS", _kept(data / "token_key", lambda: Fernet.generate_key().decode())
    )
    # The embedded default whatever the shell says: SQLite in the data folder, jobs inline.
    env["DATABASE_URL"] = f"sqlite:///{(data / 'cadence.db').resolve()}"
    env["CADENCE_BASE_URL"] = f"http://{url_host(host)}:{port}"
    env["CADENCE_DEMO"] = "1"
    env["CADENCE_CALDAV_PRIVATE_ORIGINS"] = radicale_url
    env.pop("REDIS_URL", None)
    return Settings.from_env(env)


def url_host(host: str) -> str:
    """``host`` as a URL spells it: an IPv6 address in brackets (``[::1]``)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # "[::1]" and "::1" name the same address; sockets want it bare, URLs bracketed.
    args.host = args.host.strip().removeprefix("[").removesuffix("]")
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    radicale_port = args.radicale_port or first_free_port(RADICALE_PORT)
    settings = demo_settings(
        data, args.host, args.port, dict(os.environ), radicale_url(radicale_port)
    )
    database = Database(settings.database_url)
    database.create_schema()
    cipher = TokenCipher(settings.token_keys)
    app = create_app(settings, database=database)
    # Refused here, before anything starts, unless demo and loopback.
    try:
        enable_demo_signin(app, host=args.host)
    except DemoSignInRefused as refused:
        print(f"bin/demo: {refused}", file=sys.stderr)
        return 2

    if not _port_free(args.host, args.port):
        # macOS's AirPlay receiver takes 5000, for one.
        print(f"bin/demo: port {args.port} is taken; try bin/demo --port 8000", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # Ctrl-C works even when started from a script that ignores SIGINT (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with running_radicale(
            radicale_users(), folder=data / "radicale", port=radicale_port
        ) as server:
            org_id = _seeded_org(database, cipher, server, settings, data)
            describe_demo(app, DemoInfo(org_id, server.url, PASSWORD))
            _tell(settings.base_url, server)
            start_embedded_timer(app)  # periodic jobs (sync, agendas, reports) on a thread
            # Werkzeug returns from serve_forever on Ctrl-C; the with-block stops Radicale.
            app.run(host=args.host, port=args.port, debug=False, use_reloader=False)
    except KeyboardInterrupt:  # Ctrl-C before serving (while seeding): Radicale is stopped
        print("Stopped before the demo was ready.", file=sys.stderr)
        return 130
    except HalfSeeded as problem:
        print(f"bin/demo: {problem}", file=sys.stderr)
        return 1
    print("Cadence and Radicale stopped.", flush=True)
    return 0


def _seeded_org(
    database: Database, cipher: TokenCipher, server: RadicaleServer, settings: Settings, data: Path
) -> str:
    """The demo organisation: seeded now on the first start, reused afterwards."""
    marker = data / _SEEDED_MARKER
    org_id = find_demo_org(database)
    if org_id is not None and marker.exists():
        moved = point_connections_at(database, cipher, org_id, server)
        print(f"Reusing the demo organisation in {data}/" + (" (Radicale moved)" if moved else ""))
        return org_id
    if org_id is not None or marker.exists():
        raise HalfSeeded(f"{data}/ holds part of a demo (an interrupted seed?): remove it")
    print("Seeding the demo organisation (first start only, about 15 seconds)...", flush=True)
    link = agenda_link_builder(settings.secret_key, settings.base_url)
    seeded = seed(database, cipher, server, link, settings=settings, now=datetime.now(UTC))
    marker.write_text(seeded.org_id + "\n")
    return seeded.org_id


def _tell(base_url: str, server: RadicaleServer) -> None:
    lines = [
        "",
        f"Cadence is running at {base_url}/",
        f"Sign in as any demo person (one click, no password): {base_url}/demo/",
        "",
    ]
    lines += [f"  {person.role:<8} {person.name:<16} {person.email}" for person in PEOPLE]
    lines += [
        "",
        f"Their calendars (any CalDAV client): {server.url}  "
        f"user = the name before the @ (e.g. patrick), password = {PASSWORD}",
        "Ctrl-C stops Cadence and Radicale.",
        "",
    ]
    print("\n".join(lines), flush=True)


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    # SIGTERM ends the demo the way Ctrl-C does: through the cleanup of every with-block.
    raise SystemExit(128 + signum)


def _kept(path: Path, make: Callable[[], str]) -> str:
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


if __name__ == "__main__":
    sys.exit(main())
