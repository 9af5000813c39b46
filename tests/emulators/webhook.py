"""A webhook receiver for push-notification tests: records each POST, answers 200."""

from __future__ import annotations

import queue

from tests.emulators.server import LocalServer, Request, Response
from tests.emulators.tls import LocalCA


class WebhookReceiver:
    """An https endpoint on 127.0.0.1 whose received requests wait in a queue."""

    def __init__(self, ca: LocalCA, path: str = "/hooks/google"):
        self.path = path
        self._received: queue.Queue[Request] = queue.Queue()
        self._server = LocalServer(self._record, ca.server_context())

    @property
    def url(self) -> str:
        return self._server.base_url + self.path

    def _record(self, request: Request) -> Response:
        self._received.put(request)
        return Response(200)

    def next(self, timeout: float = 5.0) -> Request:
        """The next notification received (raises ``queue.Empty`` after ``timeout``)."""
        return self._received.get(timeout=timeout)

    def pending(self) -> int:
        return self._received.qsize()

    def __enter__(self) -> WebhookReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
