"""A provider is one unit of data: a third, made-up provider defined here and nowhere else is
found in every encoding, stays silent for placeholders and renders in every format."""

from __future__ import annotations

import base64
import random
import string

import pytest

from sgai_guard.detection.detect import Detector
from sgai_guard.detection.providers import PROVIDERS
from sgai_guard.detection.rules import all_rules
from sgai_guard.engine.scan import scan
from sgai_guard.models import Blob, Confidence, KeyShape, Provider, ScanResult, SuppressReason
from sgai_guard.report import Format, RenderOptions, renderer
from tests import keys

ACME = Provider(
    id="acme",
    name="Acme Cloud",
    env_var="ACME_API_KEY",
    dashboard="https://acme.invalid/console",
    remediation=("Revoke it in the Acme console.", "Read it from ACME_API_KEY instead."),
    docs="https://acme.invalid/docs/keys",
    prefix="acme_",
    tags=("live_", "test_"),
    shapes=(
        KeyShape("Acme Cloud API key", rb"(?:(?:live|test)_)?[A-Za-z0-9]{40}", Confidence.HIGH),
    ),
    names=rb"acme[_-]?(?:cloud[_-]?)?api[_-]?key",
    bare=rb"(?:(?:live|test)_)?[A-Za-z0-9]{40}",
    name_keywords=(b"ACME", b"acme", b"Acme"),
)
EVERYONE = (*PROVIDERS, ACME)


def _key(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(rng.choice(alphabet) for _ in range(40))
        key = f"acme_live_{body}"
        if _scan({"k": f"k = '{key}'\n"}).findings:  # about 1 draw in 1,000 looks like filler
            return key


def _scan(files: dict[str, str | bytes]) -> ScanResult:
    blobs = [
        Blob(path, data if isinstance(data, bytes) else data.encode())
        for path, data in files.items()
    ]
    return scan(blobs, detector=Detector(all_rules(EVERYONE), allow_hyperscan=False))


@pytest.fixture
def key(rng: random.Random) -> str:
    return _key(rng)


def test_found_in_every_form(key: str) -> None:
    body = key.removeprefix("acme_live_")
    encoded = base64.b64encode(f'{{"token": "{key}"}}'.encode()).decode()
    found = _scan(
        {
            "plain.py": f"client = Acme('{key}')\n",
            "utf16.txt": f"token={key}\n".encode("utf-16"),
            "b64.yaml": f"blob: {encoded}\n",
            "split.js": f"const k = 'acme_live_{body[:20]}' + '{body[20:]}';\n",
            "assigned.env": f"ACME_API_KEY={body}\n",
        }
    ).findings
    assert {f.path: f.rule.id for f in found} == {
        "plain.py": "acme-api-key",
        "utf16.txt": "acme-api-key",
        "b64.yaml": "acme-api-key-base64",
        "split.js": "acme-api-key-split",
        "assigned.env": "acme-api-key-assigned",
    }
    assert all(f.rule.provider is ACME and f.redacted.endswith(f"****{key[-4:]}") for f in found)
    shown = {f.redacted for f in found if f.secret.startswith("acme_")}
    assert shown == {f"acme_live_****{key[-4:]}"}  # its own prefix and tag, as for the others


def test_placeholders_are_silent(key: str) -> None:
    result = _scan(
        {"docs.md": "k = 'acme_live_" + "x" * 40 + "'\nk = 'acme_" + "1234567890" * 4 + "'\n"}
    )
    assert not result.findings
    assert {s.reason for s in result.suppressed} == {SuppressReason.PLACEHOLDER}


def test_keys_back_to_back_end_at_each_prefix(key: str, rng: random.Random) -> None:
    tavily = keys.tavily_current(rng)
    found = _scan({"x": f"{key}{tavily}\n"}).findings
    assert sorted(f.secret for f in found) == sorted([key, tavily])


@pytest.mark.parametrize("fmt", list(Format))
def test_renders_in_every_format(key: str, fmt: Format) -> None:
    result = _scan({"app.py": f"ACME = '{key}'\n"})
    text = renderer(fmt)(result, RenderOptions(commit="0" * 40))
    assert key not in text
    assert f"acme_live_****{key[-4:]}" in text or (fmt is Format.GITHUB and "acme_live_" in text)
    assert "acme" in text.lower()
