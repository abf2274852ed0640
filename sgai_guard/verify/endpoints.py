"""Where live checks go: fixed URLs, overridable only by the person running the tool."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit

from sgai_guard.errors import UsageError
from sgai_guard.loopback import is_loopback

TAVILY_USAGE = "https://api.tavily.com/usage"
SGAI_V2_CREDITS = "https://v2-api.scrapegraphai.com/api/credits"
SGAI_V1_CREDITS = "https://api.scrapegraphai.com/v1/credits"


class Endpoints(NamedTuple):
    """The read-only, non-billing URL each check asks; no key ever goes in one."""

    tavily: str = TAVILY_USAGE
    sgai: str = SGAI_V2_CREDITS
    sgai_v1: str = SGAI_V1_CREDITS


# Environment variables: set by the person running the tool, never read from a repository.
ENVIRONMENT = {
    "tavily": "SGAI_GUARD_VERIFY_TAVILY_URL",
    "sgai": "SGAI_GUARD_VERIFY_SGAI_URL",
    "sgai_v1": "SGAI_GUARD_VERIFY_SGAI_V1_URL",
}
# Names accepted on the command line (``--verify-endpoint NAME=URL``).
OPTION_NAMES = {
    "tavily": "tavily",
    "sgai": "sgai",
    "scrapegraphai": "sgai",
    "sgai-v1": "sgai_v1",
    "scrapegraphai-v1": "sgai_v1",
}


def checked_url(url: str, origin: str) -> str:
    """``url`` if keys may be sent to it; otherwise a UsageError naming ``origin`` (never
    echoing the URL, which the user may have pasted a key into)."""
    problem = _problem(url)
    if problem:
        raise UsageError(f"{origin}: {problem}")
    return url


def _problem(url: str) -> str | None:
    if not url.isprintable() or any(c.isspace() for c in url):
        return "the URL holds spaces or control characters"
    parts = urlsplit(url)
    return _shape_problem(url, parts) or _scheme_problem(parts)


def _shape_problem(url: str, parts: SplitResult) -> str | None:
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "the URL's port is not a number from 0 to 65535"
    if "@" in parts.netloc:
        return "a user name or password in the URL is refused"
    if not parts.hostname:
        return "the URL has no host"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "a query or fragment in the URL is refused"
    return None


def _scheme_problem(parts: SplitResult) -> str | None:
    host = parts.hostname or ""
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
        return None
    return "only https:// URLs are accepted, or http:// to a loopback address"


def endpoints_from_environment(
    environ: Mapping[str, str], base: Endpoints | None = None
) -> Endpoints:
    """``base`` (the fixed endpoints) with the overrides the user's environment sets."""
    given = {
        field: checked_url(environ[var], var)
        for field, var in ENVIRONMENT.items()
        if environ.get(var)
    }
    return (base or Endpoints())._replace(**given)


def parse_endpoint_option(text: str) -> tuple[str, str]:
    """``NAME=URL`` from the command line as (Endpoints field, URL); UsageError if invalid."""
    name, sep, url = text.partition("=")
    field = OPTION_NAMES.get(name.strip().lower())
    if not sep or field is None:
        names = ", ".join(OPTION_NAMES)
        raise UsageError(f"--verify-endpoint: expected NAME=URL with NAME one of {names}")
    return field, checked_url(url.strip(), f"--verify-endpoint {name.strip()}")


def endpoints_from_options(values: Iterable[str], base: Endpoints | None = None) -> Endpoints:
    """``base`` with every ``--verify-endpoint NAME=URL`` applied (later ones win)."""
    return (base or Endpoints())._replace(**dict(parse_endpoint_option(v) for v in values))
