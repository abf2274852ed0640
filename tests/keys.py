"""Test keys, generated at run time so that no credential-shaped literal sits in the repository."""

from __future__ import annotations

import random
import string
import uuid

from sgai_guard.detection.entropy import filler_reason
from sgai_guard.detection.providers import SCRAPEGRAPHAI, TAVILY

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def _body(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _until_random(make: object, check: str, rng: random.Random) -> str:
    """Draw until the key passes the filler checks (about 1 in 100,000 draws does not)."""
    assert callable(make)
    while True:
        key = make(rng)
        assert isinstance(key, str)
        if filler_reason(key, {"tavily": TAVILY, "hex": SCRAPEGRAPHAI}[check]) is None:
            return key


def tavily_current(rng: random.Random, tag: str = "dev", seg: int = 5, body: int = 42) -> str:
    return _until_random(
        lambda r: f"tvly-{tag}-{_body(r, ALNUM, seg)}-{_body(r, ALNUM, body)}", "tavily", rng
    )


def tavily_legacy(rng: random.Random, tag: str | None = None) -> str:
    prefix = f"tvly-{tag}-" if tag else "tvly-"
    return _until_random(lambda r: prefix + _body(r, ALNUM, 32), "tavily", rng)


def sgai_uuid(rng: random.Random) -> str:
    return _until_random(
        lambda r: "sgai-" + str(uuid.UUID(int=r.getrandbits(128), version=4)), "hex", rng
    )


def sgai_hex(rng: random.Random) -> str:
    return _until_random(lambda r: "sgai-" + _body(r, HEX, 32), "hex", rng)


def any_key(rng: random.Random) -> str:
    makers = [tavily_current, tavily_legacy, sgai_uuid]
    return rng.choice(makers)(rng)


def placeholders() -> list[str]:
    """Every placeholder, mask and filler KEY-FORMATS.md lists: each must stay silent."""
    zeros_uuid = "-".join("0" * n for n in (8, 4, 4, 4, 12))
    return [
        "tvly-YOUR_API_KEY",
        "tvly-...",
        "tvly-dev-...",
        "tvly-xxx",
        "tvly-your-api-key",
        "sgai-" + "-".join("x" * n for n in (8, 4, 4, 4, 12)),
        "sgai-your-api-key-here",
        "sgai-<your-api-key>",
        "sgai-***",
        "tvly-dev-10wFT...gYDq",
        "tvly-abc123****wxyz",
        "tvly-prod-5...",
        "tvly-" + "x" * 32,
        "sgai-" + zeros_uuid,
        "sgai-12345678-1234-1234-1234-123456789abc",
        "tvly-" + "AbCdEfGhIjKlMnOpQrStUvWxYz" + "AbCdEf",
        "tvly-prod-" + "1234567890abcdef" * 2,
        "tvly-dev-ABCDE-" + "aBcDeFgHiJ" * 4 + "xy",
        "tvly-mini",
        "tvly-pro",
        "sgai-hero",
        "sgai-oss-tracing",
        "dsgai-2026",
        "sgai-worker",
        "SGAI-APIKEY",
        "sgai-apikey",
        "TAVILY_PROJECT=proj-1",
        "TAVILY_API_KEY=your_tavily_api_key_here",
        'TAVILY_API_KEY=os.environ["TAVILY_API_KEY"]',
        "SGAI_API_KEY=${SGAI_API_KEY}",
        "tavily_api_key=tavily_api_key",
    ]
