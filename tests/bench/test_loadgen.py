"""The webhook benchmark's load generator, against a small HTTPS server on 127.0.0.1: it
reads every answer (bodies included) on keep-alive connections, and counts a request's time
from when it was due, so a server that falls behind shows in the requests queued behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import loadgen
from tests.emulators.tls import LocalCA

SLOW_SECONDS = 1.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:  # the generator's warm-up: a body to read
        self._answer(200, b"ok")

    def do_POST(self) -> None:
        if self.headers["X-N"] == "3":
            time.sleep(SLOW_SECONDS)
        self._answer(204 if self.headers["X-N"] != "5" else 409, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[int, str]]:
    ca = LocalCA()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = ca.server_context().wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd.server_address[1], ca.bundle_path
    httpd.shutdown()
    thread.join(10)
    httpd.server_close()
    ca.close()


def test_each_answer_is_read_and_timed_from_when_it_was_due(server) -> None:
    port, bundle = server
    host = f"127.0.0.1:{port}"
    answers = loadgen.run(
        loadgen.Load(
            host="127.0.0.1",
            port=port,
            ca_bundle=bundle,
            requests=tuple(
                loadgen.request_bytes("POST", host, "/hook", {"X-N": str(n)}) for n in range(8)
            ),
            rate=50.0,  # one due every 20 ms
            concurrency=1,
        )
    )
    assert answers.statuses == (204, 204, 204, 204, 204, 409, 204, 204)
    # Request 4 was due 20 ms after 3, which kept the only connection for a second: its
    # time counts that wait.
    assert answers.seconds[3] >= SLOW_SECONDS
    assert answers.seconds[4] >= SLOW_SECONDS - 0.05
    assert answers.elapsed >= SLOW_SECONDS
    assert answers.rate == pytest.approx(8 / answers.elapsed)
