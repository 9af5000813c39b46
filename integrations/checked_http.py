"""An HTTP session (niquests, the ``caldav`` library's client) that holds to an
``OutboundPolicy``: each request's URL is checked before it is sent, redirects included, and
each connection goes to the addresses the policy checked, from the one lookup it made."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import niquests

# niquests names its urllib3 (urllib3-future) by this alias, which has no stubs.
from niquests.packages.urllib3.contrib.resolver.system import SystemResolver

from integrations.outbound import OutboundPolicy


class _CheckedResolver(SystemResolver):  # type: ignore[misc]
    """Name lookups through the policy: the socket connects only to the addresses checked."""

    def __init__(self, policy: OutboundPolicy):
        super().__init__()
        self._policy = policy

    def recycle(self) -> _CheckedResolver:
        return self

    def getaddrinfo(
        self,
        host: bytes | str | None,
        port: str | int | None,
        family: socket.AddressFamily,
        type: socket.SocketKind,
        proto: int = 0,
        flags: int = 0,
        *,
        quic_upgrade_via_dns_rr: bool = False,
    ) -> list[tuple[Any, ...]]:
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        number = int(port or 0)
        records: list[tuple[Any, ...]] = []
        for address in self._policy.addresses(name, number):
            if isinstance(address, ipaddress.IPv6Address):
                if family == socket.AF_INET:
                    continue
                records.append((socket.AF_INET6, type, proto, "", (str(address), number, 0, 0)))
            elif family != socket.AF_INET6:
                records.append((socket.AF_INET, type, proto, "", (str(address), number)))
        return records


class _CheckedSession(niquests.Session):
    """A session whose every request, redirects included, is checked against the policy."""

    def __init__(self, policy: OutboundPolicy):
        # No HTTP/3: it would follow Alt-Svc answers to other ports over UDP.
        super().__init__(resolver=_CheckedResolver(policy), disable_http3=True)
        # No proxy or .netrc from the environment: requests go where the policy checked.
        self.trust_env = False
        self._policy = policy

    def send(self, request: Any, **kwargs: Any) -> Any:
        self._policy.check_url(str(request.url))
        return super().send(request, **kwargs)


def checked_session(policy: OutboundPolicy) -> niquests.Session:
    """An HTTP session that sends only what ``policy`` allows, to the addresses it checked."""
    return _CheckedSession(policy)
