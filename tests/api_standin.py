"""A loopback stand-in for GitHub's and GitLab's repository listings: pages, Link and
X-Next-Page headers, and both kinds of rate limit, on a ThreadingHTTPServer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Plan:
    """What the stand-in serves, and what it saw."""

    def __init__(self, items: list[dict[str, Any]], per_page: int = 2) -> None:
        self.items = items
        self.per_page = per_page
        self.primary_on: set[int] = set()  # pages answered once with the primary limit hit
        self.secondary_on: set[int] = set()  # pages answered once with Retry-After
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.base = ""
        self.loop = False  # every page says the next one is itself: a listing that never ends
        self.status = 200  # what every page is answered with (a 302 or 204 is no page)
        self.padding = 0  # spaces after each page's JSON (a page too large to hold)
        self.drip = 0.0  # seconds between the bytes of each page (a page that never ends)
        self.sent = 0  # bytes of pages the client took


def _handler(plan: Plan, gitlab: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            plan.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            page = int(query.get("page", "1"))
            if not parts.path.endswith(("/repos", "/projects")) or "/users/" in parts.path:
                return self._send(404, {"message": "Not Found"})
            if page in plan.primary_on:
                plan.primary_on.discard(page)
                reset = str(int(time.time()) + 1)
                return self._send(
                    403,
                    {"message": "API rate limit exceeded"},
                    {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
                )
            if page in plan.secondary_on:
                plan.secondary_on.discard(page)
                return self._send(
                    429 if gitlab else 403, {"message": "slow down"}, {"Retry-After": "1"}
                )
            items = [
                i
                for i in plan.items
                if not (query.get("archived") == "false" and i.get("archived"))
            ]
            start = (page - 1) * plan.per_page
            chunk = items[start : start + plan.per_page]
            more = plan.loop or start + plan.per_page < len(items)
            return self._send(plan.status, chunk, self._paging(parts, query, page, more))

        def _paging(
            self, parts: Any, query: dict[str, str], page: int, more: bool
        ) -> dict[str, str]:
            if not more:
                return {"X-Next-Page": ""} if gitlab else {}
            if gitlab:
                return {"X-Next-Page": str(page + 1)}
            following = page if plan.loop else page + 1
            nxt = "&".join(f"{k}={v}" for k, v in {**query, "page": str(following)}.items())
            return {"Link": f'<{plan.base}{parts.path}?{nxt}>; rel="next"'}

        def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() + b" " * plan.padding
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if not plan.drip:
                for at in range(0, len(data), 1 << 16):
                    try:
                        self.wfile.write(data[at : at + (1 << 16)])
                    except OSError:  # the client stopped reading
                        return
                    plan.sent += len(data[at : at + (1 << 16)])
                return
            for byte in data:  # until the client gives up
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(plan.drip)

    return Handler


@contextmanager
def serving(plan: Plan, *, gitlab: bool = False) -> Iterator[str]:
    """The stand-in's base URL while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(plan, gitlab))
    plan.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield plan.base + ("/api/v4" if gitlab else "")
    finally:
        server.shutdown()
        server.server_close()
