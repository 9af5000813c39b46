"""``bin/demo``: Cadence on its embedded default (SQLite, inline jobs) on 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from scheduler.db import Database
from scheduler.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--data", default="instance", help="folder for the demo's SQLite file")
    args = parser.parse_args()

    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # The demo keeps its own keys beside its data, so a restart can still read what it stored.
    env.setdefault("CADENCE_SECRET_KEY", _kept(data / "secret_key", lambda: secrets.token_hex(32)))
    env.setdefault(
        "CADENCE_TOKEN_KEYS", _kept(data / "token_key", lambda: Fernet.generate_key().decode())
    )
    env.setdefault("DATABASE_URL", f"sqlite:///{(data / 'cadence.db').resolve()}")
    env.setdefault("CADENCE_BASE_URL", f"http://127.0.0.1:{args.port}")
    env["CADENCE_DEMO"] = "1"
    env.pop("REDIS_URL", None)
    settings = Settings.from_env(env)
    Database(settings.database_url).create_schema()

    from web.app import create_app

    app = create_app(settings)
    print(f"Cadence is running at {settings.base_url}/  (Ctrl-C stops it)", flush=True)
    app.run(host="127.0.0.1", port=args.port, debug=False, use_reloader=False)


def _kept(path: Path, make) -> str:  # type: ignore[no-untyped-def]
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


if __name__ == "__main__":
    main()
