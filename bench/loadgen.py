"""An open-loop HTTP/1.1 load generator in its own process, light enough to leave the cores
to the server it measures.

The webhook benchmark sends hundreds of requests a second to a server on the same 2-core
machine. A client built on ``requests`` threads spends about a millisecond of CPU per
request and shares the GIL with whatever else runs in the benchmark's process (the
calendar emulator): the answer times it reports then grow with the client's own queueing.
This one runs in a child process on asyncio: requests are encoded once up front, each of
``concurrency`` keep-alive TLS connections writes one and reads its answer (status line,
headers and a ``Content-Length`` body).

Open loop: request ``n`` is due at ``start + n / rate``, whatever the answers before it
took. Its time is counted from when it was due, not from when a connection was free to
send it, so a server that falls behind shows it (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    host: str
    port: int
    ca_bundle: str
    requests: tuple[bytes, ...]  # each a whole HTTP/1.1 request, keep-alive
    rate: float  # requests per second
    concurrency: int  # connections


@dataclass(frozen=True)
class Answers:
    statuses: tuple[int, ...]
    seconds: tuple[float, ...]  # each request's time, from when it was due to its answer
    elapsed: float  # from the first due time to the last answer

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.elapsed


def request_bytes(method: str, host: str, path: str, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 request without a body, for ``Load.requests``."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Content-Length: 0"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def run(load: Load) -> Answers:
    """Send ``load`` from a child process (spawned: it shares nothing with this one)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_run_in_child, (load,))


def _run_in_child(load: Load) -> Answers:
    return asyncio.run(_send_all(load))


async def _send_all(load: Load) -> Answers:
    context = ssl.create_default_context(cafile=load.ca_bundle)
    loop = asyncio.get_running_loop()
    # Connected and warmed up before the first request is due: each connection's TLS
    # handshake and one health check are done at once (a server with fewer threads than
    # connections hands each its thread once it has answered).
    streams = await asyncio.gather(
        *(_warm_connection(load, context) for _ in range(load.concurrency))
    )
    due: asyncio.Queue[tuple[float, int] | None] = asyncio.Queue()
    count = len(load.requests)
    statuses, seconds = [0] * count, [0.0] * count
    start = loop.time() + 0.2

    async def schedule() -> None:
        for n in range(count):
            at = start + n / load.rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait((at, n))
        for _ in streams:
            due.put_nowait(None)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (item := await due.get()) is not None:
            at, n = item
            writer.write(load.requests[n])
            statuses[n] = await _read_answer(reader)
            seconds[n] = loop.time() - at
        writer.close()

    await asyncio.gather(schedule(), *(connection(r, w) for r, w in streams))
    return Answers(tuple(statuses), tuple(seconds), loop.time() - start)


async def _warm_connection(
    load: Load, context: ssl.SSLContext
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(load.host, load.port, ssl=context)
    writer.write(request_bytes("GET", f"{load.host}:{load.port}", "/healthz", {}))
    await _read_answer(reader)
    return reader, writer


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(status_line.split(" ", 2)[1])


def percentile(values: tuple[float, ...] | list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
