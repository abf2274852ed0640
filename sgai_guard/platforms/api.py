"""A paginated REST client for the platform listings: a base URL only the person running the
tool chooses (option or environment, https or loopback http), the token from the
environment (sent only to that origin, never shown), and both rate limits honoured: the
primary limit's reset time and the secondary limit's Retry-After, each wait bounded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sgai_guard.errors import ExitCode, GuardError, UsageError, say
from sgai_guard.loopback import is_loopback

if TYPE_CHECKING:
    import httpx

ATTEMPTS = 6  # requests per page before giving up, rate limits included


MAX_PAGES = 10_000  # a million repositories at 100 a page
MAX_PAGE_BYTES = 64 << 20


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
    if limited and headers.get("retry-after", "").strip().isdigit():
        return float(headers["retry-after"])
    for remaining, reset in (
        ("x-ratelimit-remaining", "x-ratelimit-reset"),
        ("ratelimit-remaining", "ratelimit-reset"),
    ):
        if headers.get(remaining) == "0" and headers.get(reset, "").strip().isdigit():
            return max(float(headers[reset]) - now, 0.0) + 1.0
    return 60.0 if response.status_code == 429 else None


class Api:
    def __init__(self, base: str, headers: Mapping[str, str], max_wait: float) -> None:
        import httpx  # noqa: PLC0415 - only the listing commands reach the network

        self.base = base
        self.max_wait = max_wait
        self.client = httpx.Client(headers=dict(headers), timeout=30.0, follow_redirects=False)
        self.sleep: Callable[[float], None] = time.sleep

    def get(self, url: str) -> httpx.Response:
        """GET ``url`` (on the base URL's origin only), waiting out rate limits."""
        if _origin(url) != _origin(self.base):
            raise ApiError(f"the API sent a next page on another origin: {urlsplit(url).netloc}")
        for _ in range(ATTEMPTS):
            response = self._request(url)
            wait = wait_for(response, time.time())
            if response.status_code < 400 or wait is None:
                return response
            if wait > self.max_wait:
                raise ApiError(
                    f"{urlsplit(url).netloc}: rate limited for {wait:.0f} s, longer than "
                    f"--max-wait {self.max_wait:g} s: try again later"
                )
            say(f"sgai-guard: {urlsplit(url).netloc}: rate limit reached, waiting {wait:.0f} s")
            self.sleep(wait)
        raise ApiError(f"{urlsplit(url).netloc}: still rate limited after {ATTEMPTS} attempts")

    def _request(self, url: str) -> httpx.Response:
        import httpx  # noqa: PLC0415

        try:
            return self.client.get(url)
        except httpx.HTTPError as exc:
            raise ApiError(f"{urlsplit(url).netloc}: {type(exc).__name__}: {exc}") from exc

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
            response = self.get(url)
            yield from (item for item in _page(response, url) if isinstance(item, dict))
            url = next_url(response) or ""
            wait = wait_for(response, time.time()) if url else None
            if wait:
                self._pause(wait, url)

    def _pause(self, wait: float, url: str) -> None:
        if wait > self.max_wait:
            raise ApiError(f"{urlsplit(url).netloc}: rate limited for {wait:.0f} s")
        say(f"sgai-guard: {urlsplit(url).netloc}: rate limit reached, waiting {wait:.0f} s")
        self.sleep(wait)

    def close(self) -> None:
        self.client.close()


def _page(response: httpx.Response, url: str) -> list[Any]:
    """The items of one page, or an ApiError saying why there are none."""
    where = urlsplit(url).netloc
    if len(response.content) > MAX_PAGE_BYTES:
        raise ApiError(f"{where}: a page larger than {MAX_PAGE_BYTES} bytes")
    if response.status_code == 404:
        raise NotFoundError(f"{where}: HTTP 404 (no such organisation or group?)")
    if response.status_code >= 400:
        raise ApiError(f"{where}: HTTP {response.status_code}")
    items = response.json()
    if not isinstance(items, list):
        raise ApiError(f"{where}: the answer is not a list")
    return items
