"""A throwaway certificate authority for local emulators (the ``trustme`` package).

Emulators serve HTTPS with a certificate for ``127.0.0.1`` issued by this CA, and clients are
given the CA bundle *explicitly* (``GoogleSettings.ca_bundle`` -> httplib2 ``ca_certs``,
``requests``' ``verify=``), so no test has to relax TLS checks or set environment variables.
"""

from __future__ import annotations

import ssl
import tempfile
from functools import cached_property
from pathlib import Path

import trustme


class LocalCA:
    """One CA per test session: a PEM bundle on disk plus server and client SSL contexts."""

    def __init__(self) -> None:
        self._ca = trustme.CA()
        self._server_cert = self._ca.issue_cert("127.0.0.1", "localhost")
        self._dir = tempfile.TemporaryDirectory(prefix="cadence-ca-")

    @cached_property
    def bundle_path(self) -> str:
        """Path of the CA certificate (PEM) that clients should trust."""
        path = Path(self._dir.name) / "ca.pem"
        self._ca.cert_pem.write_to_path(str(path))
        return str(path)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def close(self) -> None:
        self._dir.cleanup()
