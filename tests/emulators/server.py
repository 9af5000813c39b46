"""A tiny threaded HTTP(S) server on 127.0.0.1 for emulators and webhook receivers.

An emulator is a function from ``Request`` to ``Response``; ``LocalServer`` runs it on a
random free port in a daemon thread and shuts it down on ``stop()`` (or leaving a ``with``).
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Set to drop the connection without answering (an injected timeout).
    hang_up: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
        )


Handler = Callable[[Request], Response]


class LocalServer:
    """Serve ``handler`` on ``127.0.0.1:<free port>``, over TLS when given an SSL context."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None):
        self._handler = handler
        self._ssl_context = ssl_context
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``scheme://127.0.0.1:port`` (no trailing slash)."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> LocalServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_request_handler(self._handler))
        httpd.daemon_threads = True
        if self._ssl_context is not None:
            httpd.socket = self._ssl_context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_request_handler(handler: Handler) -> type[BaseHTTPRequestHandler]:
    class _RequestHandler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a hung-up request never poisons the next.
        protocol_version = "HTTP/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            response = handler(request)
            if response.hang_up:
                self.close_connection = True
                return
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.body:
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: tests read the emulator's own call log instead

        def handle(self) -> None:
            # The client may give up first (timeouts are injected on purpose).
            with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
                super().handle()

    return _RequestHandler
