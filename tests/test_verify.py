"""Live verification against a real loopback server playing both providers: every verdict."""

from __future__ import annotations

import random
import socket

import pytest

from sgai_guard.models import Verdict
from sgai_guard.verify import Endpoints, VerifyOptions, VerifyOutcome, apply, verify
from tests import keys
from tests.standin_providers import (
    Behaviour,
    StandIn,
    findings,
    standin_fixture,  # noqa: F401 - the fixture
)
from tests.standin_providers import (
    verify_one as one,
)

LIVE, DEAD, UNKNOWN = Verdict.LIVE, Verdict.DEAD, Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("status", "verdict", "words"),
    [
        (200, LIVE, "accepted"),
        (432, LIVE, "plan limit"),
        (433, LIVE, "pay-as-you-go"),
        (401, DEAD, "revoked"),
        (403, UNKNOWN, "does not use for invalid keys"),
        (500, UNKNOWN, "HTTP 500: provider error"),
        (503, UNKNOWN, "HTTP 503"),
        (404, UNKNOWN, "unexpected answer"),
        (302, UNKNOWN, "redirect refused"),
    ],
)
def test_tavily_status_decides_the_verdict(
    standin: StandIn, rng: random.Random, status: int, verdict: Verdict, words: str
) -> None:
    key = keys.tavily_current(rng)
    standin.tavily(key, Behaviour(statuses=(status,)))
    got = one(standin, key)
    assert (got.verdict, got.endpoint) == (verdict, standin.url + "/usage")
    assert words in got.reason


@pytest.mark.parametrize("make", [keys.tavily_legacy, keys.tavily_current])
def test_a_key_tavily_does_not_know_is_dead(
    standin: StandIn, rng: random.Random, make: object
) -> None:
    assert callable(make)
    assert one(standin, make(rng)).verdict is DEAD


@pytest.mark.parametrize("body", [b"<html>busy</html>", b"[]", b"", b"\xff\xfe", b'{"key": '])
def test_a_200_that_is_not_a_json_object_is_unknown(
    standin: StandIn, rng: random.Random, body: bytes
) -> None:
    tavily, sgai = keys.tavily_legacy(rng), keys.sgai_uuid(rng)
    standin.tavily(tavily, Behaviour(body=body))
    standin.sgai(sgai, Behaviour(body=body))
    for key in (tavily, sgai):
        got = one(standin, key)
        assert (got.verdict, got.reason) == (UNKNOWN, got.reason)
        assert "malformed answer" in got.reason


@pytest.mark.parametrize(
    ("status", "verdict", "words"),
    [
        (200, LIVE, "accepted"),
        (402, LIVE, "out of credits"),
        (401, UNKNOWN, "header not sent"),
        (500, UNKNOWN, "provider error"),
        (429, UNKNOWN, "rate limited"),
        (307, UNKNOWN, "redirect refused"),
    ],
)
def test_scrapegraphai_v2_status_decides_the_verdict(
    standin: StandIn, rng: random.Random, status: int, verdict: Verdict, words: str
) -> None:
    key = keys.sgai_uuid(rng)
    standin.sgai(key, Behaviour(statuses=(status,), retry_after="0"))
    got = one(standin, key, retries=0)
    assert (got.verdict, got.endpoint) == (verdict, standin.url + "/api/credits")
    assert words in got.reason
    assert all(r.path == "/api/credits" for r in standin.received)  # no v1 after non-403


@pytest.mark.parametrize(
    ("v1", "verdict", "words"),
    [
        (200, LIVE, "legacy v1 key accepted"),
        (401, DEAD, "invalid or revoked"),
        (403, DEAD, "invalid or revoked"),
        (500, UNKNOWN, "v2 refused the key (HTTP 403); legacy v1: HTTP 500"),
        (404, UNKNOWN, "legacy v1: HTTP 404: unexpected answer"),
    ],
)
def test_a_v2_403_asks_the_legacy_v1_surface(
    standin: StandIn, rng: random.Random, v1: int, verdict: Verdict, words: str
) -> None:
    key = keys.sgai_uuid(rng)
    standin.sgai(key, Behaviour(statuses=(403,)), v1=Behaviour(statuses=(v1,)))
    got = one(standin, key)
    assert (got.verdict, got.endpoint) == (verdict, standin.url + "/v1/credits")
    assert words in got.reason
    assert [r.path for r in standin.received] == ["/api/credits", "/v1/credits"]


def test_a_legacy_only_key_is_live_and_an_unknown_key_dead(
    standin: StandIn, rng: random.Random
) -> None:
    legacy, stranger = keys.sgai_uuid(rng), keys.sgai_uuid(rng)
    standin.keys["/v1/credits"][legacy] = Behaviour()  # v2 has never heard of it
    outcome = verify(findings(legacy, stranger), VerifyOptions(standin.endpoints()))
    by_key = {f.secret: outcome.verdicts[f.fingerprint] for f in findings(legacy, stranger)}
    assert by_key[legacy].verdict is LIVE
    assert by_key[stranger].verdict is DEAD


def test_each_distinct_secret_is_checked_once(standin: StandIn, rng: random.Random) -> None:
    live, dead, legacy = keys.tavily_current(rng), keys.tavily_legacy(rng), keys.sgai_uuid(rng)
    standin.tavily(live, Behaviour())
    standin.sgai(legacy, Behaviour(statuses=(403,)), v1=Behaviour())
    many = findings(live, dead, legacy, copies=12)
    assert len(many) == 36
    outcome = verify(many, VerifyOptions(standin.endpoints()))
    assert len(standin.received) == 4  # one each, plus the v1 question for the legacy key
    assert (outcome.checked, outcome.live, outcome.dead, outcome.unknown) == (3, 2, 1, 0)
    verified = apply(many, outcome.verdicts)
    assert all(f.verification is not None for f in verified)
    assert {f.secret: f.verification.verdict for f in verified if f.verification} == {
        live: LIVE,
        dead: DEAD,
        legacy: LIVE,
    }
    assert not outcome.all_failed and outcome.failure_message() is None
    assert outcome.summary() == "verified 3 keys: 2 live, 1 dead, 0 unknown"


def test_a_finding_without_a_verdict_is_left_alone(rng: random.Random) -> None:
    [finding] = findings(keys.sgai_uuid(rng))
    assert apply([finding], {}) == (finding,)


def test_a_prefixless_value_assigned_to_a_provider_name_is_sent_with_its_prefix(
    standin: StandIn, rng: random.Random
) -> None:
    key = keys.sgai_uuid(rng)
    standin.sgai(key, Behaviour())
    text = f'SGAI_API_KEY = "{key.removeprefix("sgai-")}"\n'
    from sgai_guard.detection.detect import Detector
    from sgai_guard.detection.fingerprint import DEFAULT_SALT
    from sgai_guard.engine.scan import to_finding
    from sgai_guard.models import Blob

    blob = Blob(".env", text.encode())
    found = [to_finding(c, blob, DEFAULT_SALT, blob.status) for c in Detector().detect(blob.data)]
    assert found and all(not f.secret.startswith("sgai-") for f in found)
    outcome = verify(found, VerifyOptions(standin.endpoints()))
    assert {v.verdict for v in outcome.verdicts.values()} == {LIVE}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_verification_failing_is_said_plainly(rng: random.Random) -> None:
    port = _closed_port()
    endpoints = Endpoints(
        *(f"http://127.0.0.1:{port}/{p}" for p in ("usage", "api/credits", "v1/credits"))
    )
    found = findings(keys.tavily_current(rng), keys.sgai_uuid(rng))
    outcome = verify(found, VerifyOptions(endpoints))
    assert {v.reason for v in outcome.verdicts.values()} == {"connection refused"}
    assert outcome.all_failed and not outcome.interrupted
    message = outcome.failure_message()
    assert message is not None
    assert "every verification failed" in message and "connection refused (2)" in message
    assert "unknown, not dead" in message


def test_nothing_to_verify_asks_nothing(standin: StandIn) -> None:
    outcome = verify([], VerifyOptions(standin.endpoints()))
    assert outcome == VerifyOutcome({}, False)
    assert not outcome.all_failed and standin.received == []
