"""A real Radicale CalDAV server on 127.0.0.1, for the offline demo and the tests.

``running_radicale(users)`` starts ``python -m radicale`` in a subprocess on a loopback
port, with htpasswd users and its storage in a folder (temporary unless given), waits
(bounded) until it accepts connections, and stops it on exit. Radicale's default rights
apply: each user reads and writes only their own collections, as on a hosted CalDAV account.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from caldav.davclient import DAVClient

_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class RadicaleServer:
    """A running Radicale: its base URL and the users it knows (name -> password)."""

    url: str
    users: Mapping[str, str]
    folder: Path

    def client(self, user: str) -> DAVClient:
        """A plain ``caldav`` client logged in as ``user`` (what another app would use)."""
        return DAVClient(
            url=self.url, username=user, password=self.users[user], enable_rfc6764=False
        )

    def make_calendar(self, user: str, calendar_id: str, display_name: str = "") -> str:
        """Create a calendar in ``user``'s home and return its URL."""
        with self.client(user) as client:
            calendar = client.principal().make_calendar(
                name=display_name or calendar_id, cal_id=calendar_id
            )
            return str(calendar.url)


def radicale_url(port: int) -> str:
    """The URL of a Radicale this module runs on ``port``."""
    return f"http://127.0.0.1:{port}/"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def first_free_port(preferred: int, tries: int = 20) -> int:
    """``preferred`` if nothing listens on it, else the next free port above it."""
    for port in range(preferred, preferred + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {preferred}..{preferred + tries - 1} on 127.0.0.1")


def _write_config(folder: Path, port: int, users: Mapping[str, str]) -> Path:
    htpasswd = folder / "users"
    htpasswd.write_text("".join(f"{user}:{password}\n" for user, password in users.items()))
    config = folder / "config"
    config.write_text(
        f"""[server]
hosts = 127.0.0.1:{port}

[auth]
type = htpasswd
htpasswd_filename = {htpasswd}
htpasswd_encryption = plain
# Radicale sleeps after a wrong password to slow guessing; tests check wrong passwords.
delay = 0

[storage]
filesystem_folder = {folder / "collections"}

[logging]
level = warning
"""
    )
    return config


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"radicale exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"radicale did not listen on port {port} within {_START_TIMEOUT}s")


@contextmanager
def running_radicale(
    users: Mapping[str, str], folder: Path | None = None, port: int | None = None
) -> Iterator[RadicaleServer]:
    """Run Radicale with ``users`` (name -> password) until the ``with`` block ends.

    Storage lives in ``folder`` if given (the demo keeps it), else in a temporary folder
    removed afterwards. ``port`` defaults to a free one.
    """
    with tempfile.TemporaryDirectory(prefix="radicale-") as scratch:
        root = folder or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        config = _write_config(root, port, users)
        # A log file, not a pipe: nobody reads a pipe, and a full one would block Radicale.
        log = (root / "radicale.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_listening(process, port)
            yield RadicaleServer(url=radicale_url(port), users=dict(users), folder=root)
        finally:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=_STOP_TIMEOUT)
            log.close()
