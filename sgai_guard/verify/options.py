"""How a verification run behaves: limits, endpoints and the user's own proxy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from sgai_guard.errors import UsageError
from sgai_guard.loopback import is_loopback
from sgai_guard.verify.endpoints import Endpoints


class VerifyOptions(NamedTuple):
    endpoints: Endpoints = Endpoints()
    concurrency: int = 8  # requests in flight per provider
    timeout: float = 10.0  # seconds for one request, connection to last byte
    deadline: float = 120.0  # seconds for the whole run; unfinished checks become unknown
    retries: int = 2  # further tries after a 429
    max_retry_after: float = 30.0  # a longer Retry-After gives up at once: "rate limited"
    proxy: str | None = None  # for https endpoints only; from the user's environment
    no_proxy: tuple[str, ...] = ()  # hosts (and their subdomains) reached directly


def proxy_from_environment(
    environ: Mapping[str, str], options: VerifyOptions | None = None
) -> VerifyOptions:
    """``options`` with the proxy the user's environment names (https_proxy, HTTPS_PROXY,
    all_proxy, ALL_PROXY, and no_proxy/NO_PROXY).

    Only an https request goes through it, as a CONNECT tunnel: TLS is verified end to end,
    so the proxy sees the host name but never the key. Nothing else of the environment
    applies (no .netrc, no SSL_CERT_FILE) and nothing comes from git or a repository.
    """
    names = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
    proxy = next((environ[n] for n in names if environ.get(n)), None)
    if proxy is not None:
        _check_proxy(proxy)
    raw = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    hosts = tuple(h.strip().lstrip(".").lower() for h in raw.split(",") if h.strip())
    return (options or VerifyOptions())._replace(proxy=proxy, no_proxy=hosts)


def _check_proxy(proxy: str) -> None:
    """A proxy URL the client can use, or a usage error that does not repeat it (it may hold
    a password). Found by a review: a port that is no number ended the scan as an internal
    error (exit 3, no report)."""
    import httpx  # noqa: PLC0415 - only under --verify

    try:
        parts = urlsplit(proxy)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
        httpx.Proxy(url=proxy)
    except (ValueError, httpx.InvalidURL):
        usable = False
    if not usable:
        raise UsageError(
            "HTTPS_PROXY (or ALL_PROXY) is not an http:// or https:// URL with a host (and a "
            "numeric port, if it names one): fix it, or unset it for sgai-guard"
        )


def proxy_for(url: str, options: VerifyOptions) -> str | None:
    """The proxy a request to ``url`` goes through, if any: never for plain http, which
    only ever reaches loopback, and never for a host no_proxy names."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if options.proxy is None or parts.scheme != "https" or is_loopback(host):
        return None
    if any(n in ("*", host) or host.endswith("." + n) for n in options.no_proxy):
        return None
    return options.proxy
