"""A small asyncio HTTP/1.1 load client: keep-alive connections, one per simulated user.

Written here rather than taken from a library because the benchmark needs each
virtual user to keep its own cookie and CSRF token across requests while the
client stays cheap enough not to steal the server's CPU on a 2-core machine
(an asyncio client with raw streams costs a fraction of requests/httpx).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Response:
    """Status, headers (lower-case names) and body of one response."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Connection:
    """One keep-alive connection with its own cookies."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        """Send one request and read the whole response (Content-Length or chunked)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            self.writer = None
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        response_headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                self.cookies[key] = val
            response_headers[name] = value
        if response_headers.get("transfer-encoding") == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(chunks)
        else:
            data = await self.reader.readexactly(int(response_headers.get("content-length", 0)))
        if response_headers.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = None
        return Response(status, response_headers, data)

    def close(self) -> None:
        """Close the socket."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@dataclass
class Figures:
    """Latencies (seconds) and outcome counts of one load run."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, status: int, latency: float) -> None:
        """Record one request."""
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def summary(self) -> dict[str, float]:
        """Requests per second, p50/p95/p99 in ms, and the error share."""
        total = len(self.latencies)
        errors = sum(n for status, n in self.statuses.items() if status >= 400)
        return {
            "requests": total,
            "per_s": total / self.seconds if self.seconds else 0.0,
            "p50": self.percentile(50),
            "p95": self.percentile(95),
            "p99": self.percentile(99),
            "mean": statistics.fmean(self.latencies) * 1000 if self.latencies else 0.0,
            "error_share": errors / total if total else 0.0,
        }


async def timed(
    connection: Connection,
    figures: Figures,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Response:
    """Send one request and record its latency and status."""
    start = time.perf_counter()
    response = await connection.request(method, path, body, headers)
    figures.add(response.status, time.perf_counter() - start)
    return response
