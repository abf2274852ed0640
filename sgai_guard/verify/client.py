"""One HTTP exchange: bounded time and size, no redirects, Retry-After honoured on 429."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from sgai_guard import __version__
from sgai_guard.models import Verification
from sgai_guard.verify.options import VerifyOptions, proxy_for
from sgai_guard.verify.verdicts import RATE_LIMITED, failure, unknown

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"sgai-guard/{__version__}"
MAX_BODY = 256 * 1024  # a credits or usage answer is a few hundred bytes


class Answer(NamedTuple):
    status: int
    body: bytes
    retry_after: str | None


class Gate:
    """One provider's share: how many requests may be in flight, and when the next may
    start (a 429's Retry-After pauses every request to that provider, not just one)."""

    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(max(1, concurrency))
        self.resume_at = 0.0


class Session(NamedTuple):
    client: httpx.AsyncClient
    options: VerifyOptions
    deadline: float  # loop time after which nothing new starts


def make_client(options: VerifyOptions) -> httpx.AsyncClient:
    """A client that verifies TLS, follows no redirect, reads nothing from the environment
    (proxies, .netrc, certificates) beyond the user's proxy, which ``options`` carries."""
    import httpx  # noqa: PLC0415 - only under --verify

    # Each provider's Gate bounds its requests in flight; a pool limit here would make
    # providers sharing a host (a stand-in, a user's mirror) wait for each other.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    mounts = {
        _origin(url): httpx.AsyncHTTPTransport(
            verify=True, trust_env=False, limits=limits, proxy=proxy_for(url, options)
        )
        for url in options.endpoints
    }
    return httpx.AsyncClient(
        mounts=mounts,
        follow_redirects=False,
        trust_env=False,
        verify=True,
        timeout=options.timeout,
        # a compressed answer is not asked for, and not inflated when sent anyway: each layer
        # of "Content-Encoding: gzip, gzip" multiplies it by a thousand before any size check
        # (found by a review: a 980-byte answer took 1.6 GB)
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def ask(
    session: Session, gate: Gate, url: str, headers: dict[str, str]
) -> Answer | Verification:
    """The answer to one GET, retried after 429s; a Verification when there is none."""
    options = session.options
    loop = asyncio.get_running_loop()
    for attempt in range(options.retries + 1):
        await asyncio.sleep(max(0.0, gate.resume_at - loop.time()))
        async with gate.slots:
            try:
                answer = await _bounded(session, url, headers)
            except Exception as exc:  # CancelledError (a BaseException) passes through
                return unknown(failure(exc), url)
        if answer.status != 429:
            return answer
        delay = retry_delay(answer.retry_after, attempt)
        too_long = delay > options.max_retry_after or loop.time() + delay > session.deadline
        if attempt == options.retries or too_long:
            break
        gate.resume_at = max(gate.resume_at, loop.time() + delay)
    return unknown(f"HTTP 429: {RATE_LIMITED}", url)


async def _bounded(session: Session, url: str, headers: dict[str, str]) -> Answer:
    """``_get`` within the per-request timeout, from connecting to the last byte (httpx's
    own timeouts bound each read, so a server dripping bytes could go on for ever)."""
    seconds = session.options.timeout
    if sys.version_info >= (3, 11):  # no extra task per request: 10% of the client's time
        async with asyncio.timeout(seconds):
            return await _get(session, url, headers)
    return await asyncio.wait_for(_get(session, url, headers), seconds)  # pragma: no cover


async def _get(session: Session, url: str, headers: dict[str, str]) -> Answer:
    async with session.client.stream("GET", url, headers=headers) as response:
        body = bytearray()
        async for chunk in response.aiter_raw():  # as sent: a compressed answer is no JSON
            body += chunk
            if len(body) > MAX_BODY:  # too big for a credits answer or a refusal
                body = bytearray()  # judged as no answer at all: malformed, or not the provider
                break
        return Answer(response.status_code, bytes(body), response.headers.get("retry-after"))


def retry_delay(value: str | None, attempt: int) -> float:
    """Seconds to wait before the next try: Retry-After in seconds or as an HTTP date, or
    1, 2, 4... seconds when the server gave none (or nonsense)."""
    import email.utils  # noqa: PLC0415
    import time  # noqa: PLC0415

    fallback = float(2**attempt)
    text = (value or "").strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
        seconds = when.timestamp() - time.time() if when.tzinfo else fallback
    except (TypeError, ValueError, IndexError, OverflowError):
        return fallback
    return max(0.0, seconds)
