"""The pieces of a real deployment, on 127.0.0.1, owned and stopped by the tests.

``RedisServer`` is a private ``redis-server`` (never the shared one), ``TcpProxy`` a
forwarder to PostgreSQL the test can cut, ``WorkerProcess`` the Procfile's worker command in a
process group of its own, ``AppServer`` the Flask app over TLS in a thread. ``ShiftedClock``
is the system clock plus an offset kept in a file, so that the test, the app and the worker
processes read the same moved time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], object], timeout: float, every: float = 0.02) -> float:
    """Seconds until ``check()`` was truthy; ``TimeoutError`` after ``timeout``."""
    start = time.monotonic()
    while True:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not true after {timeout}s: {check}")
        time.sleep(every)


class ShiftedClock:
    """UTC now plus the offset in ``path`` (seconds; none yet: the real time). Every process
    given the path (``CLOCK_FILE`` in its environment) reads the same time; ``move_to``
    moves it for all of them at once."""

    ENV = "CADENCE_E2E_CLOCK_FILE"

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def from_env(cls) -> ShiftedClock | None:
        path = os.environ.get(cls.ENV)
        return cls(Path(path)) if path else None

    def __call__(self) -> datetime:
        try:
            offset = float(self.path.read_text())
        except (FileNotFoundError, ValueError):
            offset = 0.0
        return datetime.fromtimestamp(time.time() + offset, UTC)

    def move_to(self, instant: datetime) -> None:
        fresh = self.path.with_suffix(".new")
        fresh.write_text(str(instant.timestamp() - time.time()))
        fresh.replace(self.path)  # atomic: a reader never sees half a number


class RedisServer:
    """``redis-server`` on a random port; ``restart`` saves and reloads its data, as a
    production Redis with persistence does."""

    def __init__(self) -> None:
        self.port = free_port()
        self._dir = tempfile.mkdtemp(prefix="cadence-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self._process = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self._dir),
                *("--dbfilename", "dump.rdb"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=5)
        return self

    def _answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self, *, save: bool = False) -> None:
        if self._process is None:
            return
        if save:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"SHUTDOWN SAVE\r\n")
                with contextlib.suppress(OSError):
                    sock.recv(16)
        else:
            self._process.kill()
        self._process.wait(timeout=5)
        self._process = None

    def restart(self, *, down_for: float = 0.5) -> None:
        self.stop(save=True)
        time.sleep(down_for)
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``cut()`` drops every connection and refuses
    new ones until ``restore()`` — a database that is briefly unavailable."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
            self._open.clear()

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closing.set()
        self.cut()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.1)
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            if self._cut.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.close()
            with self._lock:
                self._open.discard(sock)


class WorkerProcess:
    """``python -m scheduler.jobs worker`` (the Procfile's worker, or its ``scheduler``);
    ``module`` runs the same through another entry point (``tests.e2e.tuned_process``)."""

    def __init__(
        self,
        env: Mapping[str, str],
        log: Path,
        process: str = "worker",
        module: str = "scheduler.jobs",
    ):
        self._env = {**os.environ, **env}
        self._log = log
        self._kind = process
        self._module = module
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> WorkerProcess:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", self._module, self._kind],
                cwd=ROOT,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the work horse dies with it
            )
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its work horse, as a machine losing power would."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=5)
            self._process = None

    def stop(self) -> None:
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
            self._process = None


class AppServer:
    """The Flask app on a thread, over TLS when given a context (Google only calls https)."""

    def __init__(self, app: Flask, port: int, context: ssl.SSLContext | None):
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, app, threaded=True, ssl_context=context, request_handler=_Quiet
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> AppServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass
