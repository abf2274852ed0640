"""A paginated REST client for the platform listings: a base URL only the person running the
tool chooses (option or environment, https or loopback http), the token from the
environment (sent only to that origin, never shown), and both rate limits honoured: the
primary limit's reset time and the secondary limit's Retry-After, each wait bounded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from sgai_guard.errors import ExitCode, GuardError, UsageError, say
from sgai_guard.loopback import is_loopback

if TYPE_CHECKING:
    import httpx

ATTEMPTS = 6  # requests per page before giving up, rate limits included


MAX_PAGES = 10_000  # a million repositories at 100 a page
MAX_PAGE_BYTES = 64 << 20  # counted as it comes (decoded): a larger page is never held
PAGE_SECONDS = 120.0  # for one page, first byte to last: httpx's timeout bounds each read only


class Page(NamedTuple):
    """One answer: its status and headers, and its body, read within the limits above."""

    response: httpx.Response
    body: bytes


class ApiError(GuardError):
    """The platform refused or failed: the listing is not complete."""

    exit_code = ExitCode.INCOMPLETE


class NotFoundError(ApiError):
    """HTTP 404 on the first page: no such organisation or group (or no access to it)."""


def base_url(given: str | None, environ: Mapping[str, str], variable: str, default: str) -> str:
    """The API root: ``--api-url``, else the environment variable, else the public one."""
    url = (given or environ.get(variable) or default).rstrip("/")
    where = "--api-url" if given else (variable if environ.get(variable) else "the default")
    problem = _problem(url)
    if problem:
        raise UsageError(f"{where}: {problem}")  # never the URL: it may hold a password
    return url


def _problem(url: str) -> str:
    parts = urlsplit(url)
    if "@" in parts.netloc or not parts.hostname or parts.query or parts.fragment:
        return "give the API root as scheme://host[:port]/path only"
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)):
        return ""
    return "only https:// URLs, or http:// to a loopback address"


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def wait_for(response: httpx.Response, now: float) -> float | None:
    """Seconds to wait before asking again, when the response says a limit was hit."""
    headers = response.headers
    limited = response.status_code in (403, 429)
    if limited and _digits(headers.get("retry-after", "")):
        return float(headers["retry-after"])
    for remaining, reset in (
        ("x-ratelimit-remaining", "x-ratelimit-reset"),
        ("ratelimit-remaining", "ratelimit-reset"),
    ):
        if headers.get(remaining) == "0" and _digits(headers.get(reset, "")):
            return max(float(headers[reset]) - now, 0.0) + 1.0
    return 60.0 if response.status_code == 429 else None


def _digits(text: str) -> bool:
    """ASCII digits only ("²".isdigit() is true, and float() refuses it)."""
    text = text.strip()
    return text.isascii() and text.isdigit()


class Api:
    def __init__(self, base: str, headers: Mapping[str, str], max_wait: float) -> None:
        import httpx  # noqa: PLC0415 - only the listing commands reach the network

        self.base = base
        self.max_wait = max_wait
        # identity: a compressed page could inflate far past MAX_PAGE_BYTES before it is counted
        wanted = {"Accept-Encoding": "identity", **headers}
        self.client = httpx.Client(headers=wanted, timeout=30.0, follow_redirects=False)
        self.sleep: Callable[[float], None] = time.sleep
        self.skips = 0  # items listed but left out: the listing is then incomplete (exit 3)

    def skipped(self, why: str) -> None:
        say(f"sgai-guard: skipping a repository the API listed: {why}")
        self.skips += 1

    def complete(self) -> None:
        """Raise when anything listed was left out: a targets file that silently lacks a
        repository would pass an audit of the organisation that never saw it."""
        if self.skips:
            raise ApiError(
                f"{self.skips} listed item(s) were left out (said above): the list printed "
                "is incomplete"
            )

    def get(self, url: str) -> Page:
        """GET ``url`` (on the base URL's origin only), waiting out rate limits."""
        if _origin(url) != _origin(self.base):
            raise ApiError(f"the API sent a next page on another origin: {urlsplit(url).netloc}")
        for _ in range(ATTEMPTS):
            page = self._request(url)
            wait = wait_for(page.response, time.time())
            if page.response.status_code < 400 or wait is None:
                return page
            if wait > self.max_wait:
                raise ApiError(
                    f"{urlsplit(url).netloc}: rate limited for {wait:.0f} s, longer than "
                    f"--max-wait {self.max_wait:g} s: try again later"
                )
            say(f"sgai-guard: {urlsplit(url).netloc}: rate limit reached, waiting {wait:.0f} s")
            self.sleep(wait)
        raise ApiError(f"{urlsplit(url).netloc}: still rate limited after {ATTEMPTS} attempts")

    def _request(self, url: str) -> Page:
        """One GET, its body read as it comes: over MAX_PAGE_BYTES or PAGE_SECONDS, it is an
        error (a server dripping a byte at a time, or sending gigabytes, ends here). Only
        the error's kind is said: its text can hold a header, the token with it."""
        import httpx  # noqa: PLC0415

        where = urlsplit(url).netloc
        deadline = time.monotonic() + PAGE_SECONDS
        try:
            with self.client.stream("GET", url) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_PAGE_BYTES:
                        raise ApiError(f"{where}: a page larger than {MAX_PAGE_BYTES} bytes")
                    if time.monotonic() > deadline:
                        raise ApiError(f"{where}: a page took more than {PAGE_SECONDS:g} s")
                return Page(response, bytes(body))
        except httpx.HTTPError as exc:
            raise ApiError(f"{where}: {type(exc).__name__} (the request failed)") from None

    def pages(self, url: str, next_url: Callable[[httpx.Response], str | None]) -> Iterator[Any]:
        """Every item (an object) of every page, following ``next_url``; a limit reached on a
        successful page is waited out before the next one. A page asked for twice, more than
        MAX_PAGES pages or a page over MAX_PAGE_BYTES is an error: a server cannot keep the
        listing going forever."""
        seen: set[str] = set()
        while url:
            if url in seen or len(seen) >= MAX_PAGES:
                raise ApiError(f"{urlsplit(url).netloc}: the pages do not end (asked {url!r})")
            seen.add(url)
            page = self.get(url)
            for item in _page(page, url):
                if isinstance(item, dict):
                    yield item
                else:
                    self.skipped("an item of a page is not a repository record")
            url = next_url(page.response) or ""
            wait = wait_for(page.response, time.time()) if url else None
            if wait:
                self._pause(wait, url)

    def _pause(self, wait: float, url: str) -> None:
        if wait > self.max_wait:
            raise ApiError(f"{urlsplit(url).netloc}: rate limited for {wait:.0f} s")
        say(f"sgai-guard: {urlsplit(url).netloc}: rate limit reached, waiting {wait:.0f} s")
        self.sleep(wait)

    def close(self) -> None:
        self.client.close()


def _page(page: Page, url: str) -> list[Any]:
    """The items of one page, or an ApiError saying why there are none. Only a 200 is a
    page: a redirect (never followed) or a 204 with a body of [] is no empty organisation."""
    import json  # noqa: PLC0415

    where, status = urlsplit(url).netloc, page.response.status_code
    if status == 404:
        raise NotFoundError(f"{where}: HTTP 404 (no such organisation or group?)")
    if status != 200:
        raise ApiError(f"{where}: HTTP {status}, not a page of the listing")
    try:
        items = json.loads(page.body)
    except ValueError:  # JSONDecodeError, or bytes that are no text
        raise ApiError(f"{where}: the answer is not JSON") from None
    if not isinstance(items, list):
        raise ApiError(f"{where}: the answer is not a list")
    return items
