"""A loopback HTTP server playing Tavily and ScrapeGraphAI for live-check tests and benches.

It answers by the key it receives (a table of key -> behaviour) and records every byte of
every connection, so tests can prove where each key went and that nothing else was sent.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, NamedTuple

import pytest

from sgai_guard.detection.detect import Detector
from sgai_guard.detection.fingerprint import DEFAULT_SALT
from sgai_guard.engine.scan import to_finding
from sgai_guard.models import Blob, Finding, Verification
from sgai_guard.verify import Endpoints, VerifyOptions, verify

TAVILY, SGAI, SGAI_V1 = "/usage", "/api/credits", "/v1/credits"
KEY_HEADER = {TAVILY: "authorization", SGAI: "sgai-apikey", SGAI_V1: "sgai-apikey"}
UNKNOWN_KEY = {TAVILY: 401, SGAI: 403, SGAI_V1: 401}  # what the real services say
BODIES = {
    TAVILY: {"key": {"usage": 3, "limit": None}, "account": {"current_plan": "Researcher"}},
    SGAI: {"remaining_credits": 100, "total_credits_used": 4},
    SGAI_V1: {"remaining_credits": 7, "total_credits_used": 1},
}


class Behaviour(NamedTuple):
    statuses: tuple[int, ...] = (
        200,
    )  # the n-th request with the key gets statuses[n] (or the last)
    delay: float = 0.0  # seconds before answering
    retry_after: str | None = None  # sent with every answer when set
    body: bytes | None = None  # instead of a JSON body fitting the status
    close: bool = False  # drop the connection without a word
    location: str | None = None  # sent with 3xx answers
    headers: tuple[tuple[str, str], ...] = ()  # sent as well (Content-Encoding, say)


class Received(NamedTuple):
    connection: int
    request_line: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class _Tee:
    """The request stream, copying each byte read into the connection's record."""

    def __init__(self, raw: IO[bytes], record: bytearray) -> None:
        self.raw, self.record = raw, record

    def readline(self, limit: int = -1) -> bytes:
        data = self.raw.readline(limit)
        self.record += data
        return data

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.record += data
        return data

    def close(self) -> None:
        self.raw.close()


class StandIn:
    """``with StandIn() as server:`` serves on 127.0.0.1 at a free port until the block ends."""

    def __init__(self, latency: float = 0.0, rate_limit: int | None = None) -> None:
        self.latency = latency  # added to every answer (benchmarks)
        self.rate_limit = rate_limit  # requests per second per provider before 429s
        self.keys: dict[str, dict[str, Behaviour]] = {TAVILY: {}, SGAI: {}, SGAI_V1: {}}
        self.received: list[Received] = []
        self.streams: list[bytearray] = []  # every byte of every connection, in order
        self.throttled = 0
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.peak: collections.Counter[str] = collections.Counter()  # most in flight at once
        self._seen: collections.Counter[tuple[str, str]] = collections.Counter()
        self._recent: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.standin = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def endpoints(self) -> Endpoints:
        return Endpoints(self.url + TAVILY, self.url + SGAI, self.url + SGAI_V1)

    def tavily(self, key: str, behaviour: Behaviour) -> None:
        self.keys[TAVILY][key] = behaviour

    def sgai(self, key: str, behaviour: Behaviour, v1: Behaviour | None = None) -> None:
        self.keys[SGAI][key] = behaviour
        if v1 is not None:
            self.keys[SGAI_V1][key] = v1

    def all_bytes(self) -> bytes:
        with self._lock:
            return b"".join(bytes(s) for s in self.streams)

    def new_stream(self) -> tuple[int, bytearray]:
        with self._lock:
            self.streams.append(bytearray())
            return len(self.streams) - 1, self.streams[-1]

    def decide(self, request: Received) -> tuple[int, Behaviour]:
        """The status and behaviour for one request, counting it against the rate limit."""
        with self._lock:
            self.received.append(request)
            if self._throttle(request.path):
                return 429, Behaviour(statuses=(429,), retry_after="1")
            key = _key(request)
            table = self.keys.get(request.path)
            if table is None:
                return 404, Behaviour()
            behaviour = table.get(key or "")
            if key is None or behaviour is None:
                missing = key is None and request.path != TAVILY
                return (401 if missing else UNKNOWN_KEY[request.path]), Behaviour()
            n = self._seen[request.path, key]
            self._seen[request.path, key] += 1
            return behaviour.statuses[min(n, len(behaviour.statuses) - 1)], behaviour

    def busy(self, path: str, step: int) -> None:
        with self._lock:
            self.in_flight[_provider(path)] += step
            peak = max(self.peak[_provider(path)], self.in_flight[_provider(path)])
            self.peak[_provider(path)] = peak

    def _throttle(self, path: str) -> bool:
        if self.rate_limit is None:
            return False
        provider = _provider(path)
        now, recent = time.monotonic(), self._recent[provider]
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= self.rate_limit:
            self.throttled += 1
            return True
        recent.append(now)
        return False


def _provider(path: str) -> str:
    return "tavily" if path == TAVILY else "sgai"


def _key(request: Received) -> str | None:
    value = request.header(KEY_HEADER.get(request.path, "sgai-apikey"))
    if value is not None and request.path == TAVILY:
        scheme, _, token = value.partition(" ")
        return token if scheme == "Bearer" and token else None
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that went away (timeouts, Ctrl-C tests) is expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the providers do
    # Headers and body go out in two writes: with Nagle's algorithm the body would wait for
    # the client's delayed ACK, adding 40 ms to every answer.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.standin: StandIn = self.server.standin  # type: ignore[attr-defined]
        self.stream_id, record = self.standin.new_stream()
        self.rfile = _Tee(self.rfile, record)  # type: ignore[arg-type,assignment]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # every method lands here: a check must only ever GET
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Received(
            self.stream_id,
            self.requestline,
            self.path,
            tuple(self.headers.items()),
            body,
        )
        self.standin.busy(self.path, 1)
        try:
            status, behaviour = self.standin.decide(request)
            self.standin.stopping.wait(self.standin.latency + behaviour.delay)
            if behaviour.close:
                self.close_connection = True
                return
            self._answer(status, behaviour, request.path)
        finally:
            self.standin.busy(self.path, -1)

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET  # noqa: N815 - the base class names them

    def _answer(self, status: int, behaviour: Behaviour, path: str) -> None:
        body = behaviour.body
        if body is None:
            body = json.dumps(
                BODIES.get(path, {}) if status == 200 else _error(path, status)
            ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if behaviour.retry_after is not None:
            self.send_header("Retry-After", behaviour.retry_after)
        if behaviour.location is not None:
            self.send_header("Location", behaviour.location)
        for name, value in behaviour.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(name="standin")
def standin_fixture() -> Iterator[StandIn]:
    """Both providers on loopback, with no added latency and no rate limit."""
    with StandIn() as server:
        yield server


def findings(*keys: str, copies: int = 1) -> list[Finding]:
    """Real findings, as a scan makes them, for each key in a file, ``copies`` times over."""
    text = "".join(f'value_{n} = "{key}"\n' for key in keys for n in range(copies))
    blob = Blob("settings.py", text.encode())
    found = Detector(allow_hyperscan=False).detect(blob.data)
    made = [to_finding(c, blob, DEFAULT_SALT, blob.status) for c in found if c.filler is None]
    assert sorted({f.secret for f in made}) == sorted(set(keys)), "a test key was not found"
    return made


def verify_one(server: StandIn, key: str, **options: Any) -> Verification:
    """The verdict on one key, asked of ``server``; its reason and endpoint never hold it."""
    outcome = verify(findings(key), VerifyOptions(server.endpoints())._replace(**options))
    [verification] = outcome.verdicts.values()
    assert key not in verification.reason and key not in verification.endpoint
    return verification


def _error(path: str, status: int) -> dict[str, object]:
    """A refusal as the services word one: ScrapeGraphAI's v2 names the code of a key it
    does not know (KEY-FORMATS.md); Tavily and the legacy surface say the key is invalid."""
    if path == SGAI and status == 403:
        return {"error": {"code": "auth_invalid_key", "message": "invalid API key"}}
    if status in (401, 403):
        return {"detail": {"error": "Unauthorized: missing or invalid API key."}}
    return {"detail": status}
