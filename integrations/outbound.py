"""Where Cadence's server may send requests on a person's behalf (a CalDAV server URL).

A URL typed into a form makes the server send requests, so it must never become a way into
the server's own network. Only https, and only to public addresses: every address a name
resolves to is checked, the connection is made to the addresses that were checked (no second
lookup that a changed DNS answer could turn elsewhere), and every redirect is checked the
same way. An operator may trust a few origins (a self-hosted server on the private network,
the demo's local Radicale): those may resolve to private or loopback addresses and use http.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from integrations.base import ReconnectRequired
from scheduler.settings import origin_of

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> every address the host resolves to, as text.
Resolve = Callable[[str, int], Sequence[str]]


class OutboundRefused(ReconnectRequired):
    """Cadence will not send a request there; the message says why, in plain words.

    A ``ReconnectRequired``: a saved connection refused this way needs a person to connect
    again with an address Cadence may use (retrying changes nothing).
    """


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as failure:
        raise OutboundRefused(f"The name {host} does not resolve to any address.") from failure
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _embedded(address: IPAddress) -> list[IPAddress]:
    """Any IPv4 address ``address`` carries (mapped, 6to4, Teredo), then ``address``."""
    found: list[IPAddress] = []
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour, *(address.teredo or ())):
            if inner is not None:
                found.append(inner)
    return [*found, address]


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public address Cadence may connect to, or None if it is."""
    for each in _embedded(address):
        for kind, matches in (
            ("a loopback address", each.is_loopback),
            ("an unspecified address", each.is_unspecified),
            ("a link-local address", each.is_link_local),
            ("a multicast address", each.is_multicast),
            ("a reserved address", each.is_reserved),
            ("a private network address", each.is_private),
            ("not a public address", not each.is_global),
        ):
            if matches:
                return kind
    return None


@dataclass(frozen=True)
class OutboundPolicy:
    """The rule every outbound request of an adapter holds to.

    ``trusted_origins`` (``scheme://host:port``, as ``origin_of`` spells them) may resolve to
    any address and use http; any other origin must be https on public addresses only.
    ``resolve`` is the name lookup (the system's; tests give their own names).
    """

    trusted_origins: frozenset[str] = frozenset()
    resolve: Resolve = field(default=system_resolve, compare=False)

    @classmethod
    def trusting(cls, urls: Iterable[str], resolve: Resolve = system_resolve) -> OutboundPolicy:
        """A policy trusting the origins of ``urls`` (each must be an http(s) URL)."""
        origins = {origin_of(url) for url in urls}
        if None in origins:
            raise ValueError("trusted origins must be http:// or https:// URLs with a host")
        return cls(frozenset(o for o in origins if o is not None), resolve)

    def check_url(self, url: str) -> None:
        """Refuse ``url`` unless it is https or its origin is trusted."""
        origin = origin_of(url)
        if origin is None:
            raise OutboundRefused("Give the server's full address, starting with https://.")
        if origin in self.trusted_origins:
            return
        if not origin.startswith("https://"):
            raise OutboundRefused(
                "Use the server's https:// address: Cadence does not send calendar "
                "passwords over plain http."
            )

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, once all of them are found allowed."""
        host = host.strip("[]").lower()
        trusted = any(
            origin_of(f"{scheme}://{_url_host(host)}:{port}") in self.trusted_origins
            for scheme in ("http", "https")
        )
        found = [ipaddress.ip_address(text.split("%")[0]) for text in self.resolve(host, port)]
        if not found:
            raise OutboundRefused(f"The name {host} does not resolve to any address.")
        if not trusted:
            for address in found:
                kind = address_refusal(address)
                if kind is not None:
                    where = host if host == str(address) else f"{host} ({address})"
                    raise OutboundRefused(
                        f"Cadence does not connect to {where}: it is {kind}. Use the calendar "
                        "server's public address; an administrator can allow a self-hosted "
                        "server (see the security notes)."
                    )
        return found


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
