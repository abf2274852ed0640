"""What each provider's answer means: status tables and fixed texts for failures."""

# Reasons are fixed text plus a status code: never the key, a header, a URL, or anything the
# server or an exception said.

from __future__ import annotations

import json
import re

from sgai_guard.models import Verdict, Verification

LIVE, DEAD, UNKNOWN = Verdict.LIVE, Verdict.DEAD, Verdict.UNKNOWN
Table = dict[int, tuple[Verdict, str]]

TAVILY: Table = {
    200: (LIVE, "HTTP 200: key accepted"),
    432: (LIVE, "HTTP 432: live key, plan limit reached"),
    433: (LIVE, "HTTP 433: live key, pay-as-you-go limit reached"),
    401: (DEAD, "HTTP 401: invalid, expired or revoked key"),
    403: (UNKNOWN, "HTTP 403: forbidden, which Tavily does not use for invalid keys"),
}
SGAI_V2: Table = {
    200: (LIVE, "HTTP 200: key accepted"),
    402: (LIVE, "HTTP 402: live key, out of credits"),
    401: (UNKNOWN, "HTTP 401: key header not sent (a bug in sgai-guard)"),
}
SGAI_V1: Table = {
    200: (LIVE, "HTTP 200: legacy v1 key accepted"),
    401: (DEAD, "HTTP 401: invalid or revoked key (v2 and legacy v1)"),
    403: (DEAD, "HTTP 403: invalid or revoked key (v2 and legacy v1)"),
}

DEADLINE = "deadline reached"
INTERRUPTED = "interrupted"
RATE_LIMITED = "rate limited"


def unknown(reason: str, endpoint: str = "") -> Verification:
    return Verification(UNKNOWN, reason, endpoint)


NOT_THE_PROVIDER = (
    "HTTP {status} without the provider's JSON error naming the key invalid: a proxy, "
    "firewall or gateway may have answered, so the key's state is not known"
)
SGAI_INVALID = "auth_invalid_key"  # the v2 error code of a key it does not know


def judge(table: Table, status: int, body: bytes, endpoint: str) -> Verification:
    """The verdict ``table`` gives an answer. A 200 must be a JSON object to count, and a
    refusal counts as "dead" only as a JSON object whose text names the key invalid, revoked
    or expired. A web firewall's HTML page, or a gateway's JSON (`{"message": "Forbidden"}`,
    `{"message": "Unauthorized"}`) says nothing of the key (found by two reviews: each made
    a live key "dead, nothing to revoke", and let it pass a repository's `fail-on`)."""
    if status == 200 and _json_object(body) is None:
        return unknown("HTTP 200 with a malformed answer (not a JSON object)", endpoint)
    if status in table:
        verdict, reason = table[status]
        if verdict is DEAD and not says_key_invalid(body):
            return unknown(NOT_THE_PROVIDER.format(status=status), endpoint)
        return Verification(verdict, reason, endpoint)
    return unknown(_other(status), endpoint)


def names_code(body: bytes, code: str) -> bool:
    """Whether ``body`` is a JSON object holding the string ``code`` as a value, at most a
    few levels down (``{"error": {"code": ...}}`` and its kin)."""
    return any(text == code for text in _texts(body))


def says_key_invalid(body: bytes) -> bool:
    """Whether ``body`` is a JSON object with a text, a few levels down, that names an API
    key invalid, revoked or expired ("Invalid API key", "Unauthorized: missing or invalid
    API key.", the code "auth_invalid_key")."""
    words = [text.replace("_", " ") for text in _texts(body)]  # codes: "auth_invalid_key"
    return any(_KEY.search(text) and _INVALID.search(text) for text in words)


def _texts(body: bytes) -> list[str]:
    """The strings a JSON object holds as values, at most a few levels and items down."""
    found = _json_object(body)
    todo: list[tuple[object, int]] = [(found, 0)] if found is not None else []
    texts: list[str] = []
    while todo:
        value, depth = todo.pop()
        if isinstance(value, str):
            texts.append(value[:_TEXT])
        elif depth < _CODE_DEPTH and isinstance(value, dict):
            todo += [(item, depth + 1) for item in list(value.values())[:_CODE_ITEMS]]
        elif depth < _CODE_DEPTH and isinstance(value, list):
            todo += [(item, depth + 1) for item in value[:_CODE_ITEMS]]
    return texts


# whole words: "keycloak" is no key (found by a review); "invalid_token" names no key
_KEY = re.compile(r"(?<![A-Za-z0-9])(?:api[ -]?)?keys?(?![A-Za-z0-9])", re.IGNORECASE)
_INVALID = re.compile(r"(?<![A-Za-z0-9])(?:invalid|revoked|expired)(?![A-Za-z0-9])", re.I)
_TEXT = 512  # of each text, looked at


_CODE_DEPTH = 4
_CODE_ITEMS = 16


def _other(status: int) -> str:
    if status == 429:
        return f"HTTP 429: {RATE_LIMITED}"
    if 300 <= status < 400:
        return f"HTTP {status}: redirect refused"
    if status >= 500:
        return f"HTTP {status}: provider error"
    return f"HTTP {status}: unexpected answer"


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, [[[[...
        return None
    return parsed if isinstance(parsed, dict) else None


def failure(exc: BaseException) -> str:
    """Fixed text for a request that got no answer: exception messages can hold URLs and
    headers, so only the exception's type is looked at."""
    import asyncio  # noqa: PLC0415
    import ssl  # noqa: PLC0415

    import httpx  # noqa: PLC0415 - only under --verify

    chain = _chain(exc)
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "TLS error (handshake or certificate)"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused"
    if isinstance(exc, (httpx.TimeoutException, TimeoutError, asyncio.TimeoutError)):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect (name resolution or network)"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return "connection closed without a complete answer"
    if isinstance(exc, httpx.HTTPError):
        return f"request failed ({type(exc).__name__})"
    return f"internal error during the check ({type(exc).__name__})"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen
