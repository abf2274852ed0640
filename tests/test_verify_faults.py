"""Live verification under faults and load: timeouts, 429s, dropped connections, redirects,
TLS, the overall deadline, per-provider concurrency and Ctrl-C."""

from __future__ import annotations

import email.utils
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgai_guard.models import Verdict
from sgai_guard.verify import VerifyOptions, verify
from sgai_guard.verify.client import retry_delay
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

UNKNOWN = Verdict.UNKNOWN
ROOT = Path(__file__).resolve().parent.parent


def test_a_slow_answer_times_out(standin: StandIn, rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    standin.tavily(key, Behaviour(delay=3))
    start = time.monotonic()
    got = one(standin, key, timeout=0.3)
    assert (got.verdict, got.reason) == (UNKNOWN, "timed out")
    assert time.monotonic() - start < 2


def test_a_429_is_retried_after_the_time_retry_after_gives(
    standin: StandIn, rng: random.Random
) -> None:
    key = keys.sgai_uuid(rng)
    standin.sgai(key, Behaviour(statuses=(429, 200), retry_after="1"))
    start = time.monotonic()
    assert one(standin, key).verdict is Verdict.LIVE
    assert time.monotonic() - start >= 0.9
    assert len(standin.received) == 2


def test_a_429_with_an_http_date_is_honoured(standin: StandIn, rng: random.Random) -> None:
    key = keys.tavily_legacy(rng)
    soon = email.utils.formatdate(time.time() + 1, usegmt=True)
    standin.tavily(key, Behaviour(statuses=(429, 432), retry_after=soon))
    assert one(standin, key).verdict is Verdict.LIVE


def test_a_429_that_never_ends_gives_up_after_the_retries(
    standin: StandIn, rng: random.Random
) -> None:
    key = keys.tavily_current(rng)
    standin.tavily(key, Behaviour(statuses=(429,), retry_after="0"))
    got = one(standin, key, retries=3)
    assert (got.verdict, got.reason) == (UNKNOWN, "HTTP 429: rate limited")
    assert len(standin.received) == 4


def test_a_retry_after_beyond_the_cap_is_not_waited_for(
    standin: StandIn, rng: random.Random
) -> None:
    key = keys.sgai_uuid(rng)
    standin.sgai(key, Behaviour(statuses=(429, 200), retry_after="3600"))
    start = time.monotonic()
    assert one(standin, key).reason == "HTTP 429: rate limited"
    assert time.monotonic() - start < 2 and len(standin.received) == 1


@pytest.mark.parametrize(
    ("value", "attempt", "low", "high"),
    [("7", 0, 7, 7), (None, 0, 1, 1), (None, 2, 4, 4), ("soon", 1, 2, 2), ("0", 3, 0, 0)],
)
def test_retry_after_forms(value: str | None, attempt: int, low: float, high: float) -> None:
    assert low <= retry_delay(value, attempt) <= high


def test_retry_after_as_a_date() -> None:
    assert 8 <= retry_delay(email.utils.formatdate(time.time() + 10, usegmt=True), 0) <= 10
    assert retry_delay(email.utils.formatdate(time.time() - 60, usegmt=True), 0) == 0


def test_a_dropped_connection_is_unknown(standin: StandIn, rng: random.Random) -> None:
    tavily, sgai = keys.tavily_current(rng), keys.sgai_uuid(rng)
    standin.tavily(tavily, Behaviour(close=True))
    standin.sgai(sgai, Behaviour(close=True))
    for key in (tavily, sgai):
        got = one(standin, key)
        assert (got.verdict, got.reason) == (UNKNOWN, "connection closed without a complete answer")


def test_a_redirect_to_another_host_is_not_followed(standin: StandIn, rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    with StandIn() as elsewhere:
        for status in (301, 302, 303, 307, 308):
            standin.tavily(key, Behaviour(statuses=(status,), location=elsewhere.url + "/usage"))
            got = one(standin, key)
            assert (got.verdict, got.reason) == (UNKNOWN, f"HTTP {status}: redirect refused")
        assert elsewhere.received == [] and elsewhere.all_bytes() == b""


def test_tls_is_required_for_https(standin: StandIn, rng: random.Random) -> None:
    key = keys.tavily_legacy(rng)
    endpoints = standin.endpoints()._replace(tavily=standin.url.replace("http:", "https:"))
    outcome = verify(findings(key), VerifyOptions(endpoints))
    [got] = outcome.verdicts.values()
    assert (got.verdict, got.reason) == (UNKNOWN, "TLS error (handshake or certificate)")
    assert key.encode() not in standin.all_bytes()  # the handshake failed before any header


def test_the_deadline_ends_the_run(standin: StandIn, rng: random.Random) -> None:
    fast, slow = keys.tavily_current(rng), [keys.sgai_uuid(rng) for _ in range(3)]
    standin.tavily(fast, Behaviour())
    for key in slow:
        standin.sgai(key, Behaviour(delay=20))
    start = time.monotonic()
    outcome = verify(findings(fast, *slow), VerifyOptions(standin.endpoints(), deadline=1.0))
    assert time.monotonic() - start < 4
    reasons = sorted(v.reason for v in outcome.verdicts.values())
    assert reasons == ["HTTP 200: key accepted"] + ["deadline reached"] * 3
    assert (outcome.live, outcome.unknown, outcome.interrupted) == (1, 3, False)


def test_concurrency_is_bounded_per_provider(standin: StandIn, rng: random.Random) -> None:
    tavily = [keys.tavily_current(rng) for _ in range(12)]
    sgai = [keys.sgai_uuid(rng) for _ in range(12)]
    for t, s in zip(tavily, sgai, strict=True):
        standin.tavily(t, Behaviour(delay=0.15))
        standin.sgai(s, Behaviour(delay=0.15))
    outcome = verify(findings(*tavily, *sgai), VerifyOptions(standin.endpoints(), concurrency=3))
    assert outcome.live == 24
    assert standin.peak == {"tavily": 3, "sgai": 3}


def test_a_rate_limited_provider_pauses_all_its_requests(
    rng: random.Random,
) -> None:
    tavily = [keys.tavily_current(rng) for _ in range(10)]
    with StandIn(rate_limit=4) as server:
        for key in tavily:
            server.tavily(key, Behaviour())
        options = VerifyOptions(server.endpoints(), concurrency=8, retries=6)
        outcome = verify(findings(*tavily), options)
    assert outcome.live == 10  # every 429 said "Retry-After: 1" and was honoured
    assert server.throttled <= 12  # each 429 paused the provider, not just one request


SCRIPT = """
import json, os, sys
from sgai_guard.verify import VerifyOptions, endpoints_from_environment, verify
from tests.standin_providers import findings
keys = json.loads(os.environ["TEST_KEYS"])
found = findings(*keys)
options = VerifyOptions(endpoints_from_environment(os.environ))
outcome = verify(found, options)
by_key = {f.redacted: outcome.verdicts[f.fingerprint] for f in found}
print(json.dumps({k: [v.verdict.value, v.reason] for k, v in by_key.items()}))
print(outcome.summary())
sys.exit(130 if outcome.interrupted else 0)
"""


def test_ctrl_c_stops_cleanly_and_reports_what_was_verified(
    standin: StandIn, rng: random.Random
) -> None:
    fast, slow = keys.tavily_current(rng), [keys.sgai_uuid(rng) for _ in range(2)]
    standin.tavily(fast, Behaviour())
    for key in slow:
        standin.sgai(key, Behaviour(delay=30))
    env = {**os.environ, "TEST_KEYS": json.dumps([fast, *slow])}
    for field, var in (("tavily", "TAVILY"), ("sgai", "SGAI"), ("sgai_v1", "SGAI_V1")):
        env[f"SGAI_GUARD_VERIFY_{var}_URL"] = getattr(standin.endpoints(), field)
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    limit = time.monotonic() + 20
    while len(standin.received) < 3:
        assert time.monotonic() < limit and child.poll() is None, "the checks never started"
        time.sleep(0.02)
    time.sleep(0.5)  # time for the fast answer to be read: the slow ones take 30 s
    start = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=15)
    assert time.monotonic() - start < 5
    assert child.returncode == 130, err
    verdicts = json.loads(out.decode().splitlines()[0])
    assert sorted(map(tuple, verdicts.values())) == [
        ("live", "HTTP 200: key accepted"),
        ("unknown", "interrupted"),
        ("unknown", "interrupted"),
    ]
    assert (
        out.decode().splitlines()[1] == "verified 3 keys: 1 live, 0 dead, 2 unknown (interrupted)"
    )
    assert b"Traceback" not in err
    for key in (fast, *slow):
        assert key.encode() not in out + err


@given(st.one_of(st.none(), st.text(max_size=40)), st.integers(0, 5))
def test_any_retry_after_gives_a_delay(value: str | None, attempt: int) -> None:
    assert retry_delay(value, attempt) >= 0
