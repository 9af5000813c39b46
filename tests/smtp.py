"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a port the system picks.

``SmtpInbox`` keeps what it received; ``refuse`` makes it answer the next messages with a
temporary failure (451), as a busy server would. With a certificate it speaks STARTTLS or TLS
from the first byte, and with ``login`` it asks for that user name and password.
"""

from __future__ import annotations

import ssl
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SmtpInbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals = 0
        self.logins: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        with self._lock:
            if self.refusals:
                self.refusals -= 1
                return "451 4.3.0 Try again later"
            message = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
        return "250 OK"

    def refuse(self, count: int) -> None:
        with self._lock:
            self.refusals = count

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def text(self, message: EmailMessage) -> str:
        body = message.get_body(("plain",))
        assert isinstance(body, EmailMessage)
        return str(body.get_content())

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


class _PortZero(Controller):  # type: ignore[misc]
    """aiosmtpd's controller on port 0: it learns the port the system gave it before its
    own readiness check connects."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    def __init__(
        self,
        *,
        tls: str = "",  # "", "starttls" or "smtps"
        context: ssl.SSLContext | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.inbox = SmtpInbox()
        self.tls = tls
        options: dict[str, Any] = {}
        if tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        if tls == "smtps":
            # aiosmtpd counts only STARTTLS as TLS for AUTH; here TLS is there from the start.
            options.update(ssl_context=context, auth_require_tls=False)
        if login:
            options.update(authenticator=self._authenticator(login), auth_required=True)
        self._controller = _PortZero(self.inbox, hostname="127.0.0.1", port=0, **options)

    def _authenticator(self, login: tuple[str, str]) -> Any:
        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            ok = (
                isinstance(data, LoginPassword)
                and (
                    data.login.decode(),
                    data.password.decode(),
                )
                == login
            )
            if ok:
                self.inbox.logins.append(data.login.decode())
            return AuthResult(success=ok)

        return check

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def url(self, credentials: str = "") -> str:
        scheme = {"": "smtp", "starttls": "smtp+starttls", "smtps": "smtps"}[self.tls]
        at = f"{credentials}@" if credentials else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}"
