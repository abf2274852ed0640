"""What a live check makes of answers that are not the provider's own: a web firewall's or
CDN's page, and compressed answers. Found by session 16's review of `--verify`."""

from __future__ import annotations

import gzip
import random
import resource
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from sgai_guard.models import Verdict
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo
from tests.standin_providers import (
    SGAI_V1,
    Behaviour,
    StandIn,
    standin_fixture,  # noqa: F401 - the fixture
)
from tests.standin_providers import (
    verify_one as one,
)

HTML = b"<html><body>Access denied by the web application firewall</body></html>"
FIREWALL = ("Content-Type", "text/html")
ROOT = Path(__file__).resolve().parent.parent


def test_an_html_403_from_a_firewall_is_no_verdict_on_a_scrapegraphai_key(
    standin: StandIn, rng: random.Random
) -> None:
    """A v2 403 without ScrapeGraphAI's auth_invalid_key code is not the service's refusal:
    not "dead", and the legacy surface is not asked on its account."""
    key = keys.sgai_uuid(rng)
    standin.sgai(key, Behaviour((403,), body=HTML), v1=Behaviour((403,), body=HTML))
    got = one(standin, key)
    assert got.verdict is Verdict.UNKNOWN and "firewall" in got.reason, got
    assert not [r for r in standin.received if r.path == SGAI_V1]


GATEWAYS = [  # what API gateways, authorizers and firewalls answer, as JSON
    b'{"message": "Forbidden"}',  # AWS API Gateway, AWS WAF
    b'{"message": "Unauthorized"}',  # a Lambda authorizer
    b'{"message": "No API key found in request"}',  # Kong
    b'{"error": "1020 Access denied"}',
    b'{"error": "invalid_token", "error_description": "Invalid token issuer https://keycloak.corp"}',
    b"{}",
    b'\xef\xbb\xbf{"a": NaN}',
    b'{"detail": "' + b"invalid key " * 30_000 + b'"}',  # over the 256 KiB an answer may have
]


@pytest.mark.parametrize("body", [HTML, b"", b"Unauthorized", b"[1, 2]", *GATEWAYS])
def test_a_refusal_that_does_not_name_the_key_invalid_is_no_verdict(
    standin: StandIn, rng: random.Random, body: bytes
) -> None:
    """Tavily's 401 and the legacy surface's 401/403 say "dead" only as a JSON text naming
    the key invalid, revoked or expired: not as a page, nor as a gateway's JSON refusal."""
    tavily, legacy = keys.tavily_current(rng), keys.sgai_uuid(rng)
    standin.tavily(tavily, Behaviour((401,), body=body))
    standin.sgai(legacy, Behaviour((403,)), v1=Behaviour((401,), body=body))
    for key in (tavily, legacy):
        got = one(standin, key)
        assert got.verdict is Verdict.UNKNOWN and "not known" in got.reason, got
    standin.tavily(tavily, Behaviour((401,)))  # the stand-in's own JSON error
    assert one(standin, tavily).verdict is Verdict.DEAD
    standin.sgai(
        legacy, Behaviour((403,)), v1=Behaviour((401,), body=b'{"detail": "Invalid API key"}')
    )
    assert one(standin, legacy).verdict is Verdict.DEAD


def test_a_firewall_page_cannot_let_a_live_key_pass_a_repositorys_fail_on(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    """The scanned repository may set `fail-on = ["live", "unknown"]`: a key the firewall
    answered for was "dead", so it stopped blocking (exit 0), with "nothing to revoke"."""
    repo = Repo(tmp_path / "repo")
    key = keys.sgai_uuid(rng)
    standin.sgai(key, Behaviour((403,), body=HTML, headers=(FIREWALL,)))
    repo.write("app.env", f"SGAI_API_KEY={key}\n")
    repo.write(".sgai-guard.toml", 'fail-on = ["live", "unknown"]\n')
    repo.commit("a key")
    url = standin.endpoints()
    env = {
        "SGAI_GUARD_VERIFY_SGAI_URL": url.sgai,
        "SGAI_GUARD_VERIFY_SGAI_V1_URL": url.sgai_v1,
    }
    proc = run_cli("scan", ".", "--verify", cwd=repo.path, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "nothing to revoke" not in out and "0 dead, 1 unknown" in out, out
    assert key not in out


def _bomb(layers: int) -> bytes:
    """Zeros gzipped ``layers`` times: about a KiB, a GiB or more once inflated."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = b"".join(squeeze.compress(bytes(1 << 20)) for _ in range(1024)) + squeeze.flush()
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


def test_a_compressed_answer_is_not_asked_for_nor_inflated(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    """`Content-Encoding: gzip, gzip` on a 1 KiB answer was inflated layer by layer before
    any size check (1.6 GB for one key): under a 1.5 GiB address-space limit the scan died
    (exit 3, no report). Identity is asked for, and a compressed answer is judged as sent."""
    key = keys.tavily_current(rng)
    bomb = _bomb(3)
    assert len(bomb) < 64 * 1024
    encoding = ("Content-Encoding", "gzip, gzip, gzip")
    standin.tavily(key, Behaviour((200,), body=bomb, headers=(encoding,)))
    (tmp_path / "k.env").write_text(f"TAVILY_API_KEY={key}\n")

    def small() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29))

    url = standin.endpoints().tavily
    env = {"SGAI_GUARD_VERIFY_TAVILY_URL": url, "SGAI_GUARD_NO_HYPERSCAN": "1"}
    proc = run_cli("scan", ".", "--verify", cwd=tmp_path, env=env, preexec_fn=small)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "malformed answer" in out and "1 unknown" in out, out
    asked = [r.header("accept-encoding") for r in standin.received]
    assert asked == ["identity"], asked


RESOLVER = """
import random, socket, sys, time
def slow(*args, **kwargs):
    time.sleep(30)
    raise socket.gaierror("no answer")
socket.getaddrinfo = slow
from sgai_guard.verify import Endpoints, VerifyOptions, verify
from tests.keys import tavily_current
from tests.standin_providers import findings
options = VerifyOptions(Endpoints(tavily="https://resolver.invalid/usage"), timeout=1, deadline=2)
outcome = verify(findings(tavily_current(random.Random(1))), options)
print([v.reason for v in outcome.verdicts.values()])
"""


def test_a_resolver_that_never_answers_holds_no_run_past_its_deadline() -> None:
    """Name resolution runs on a thread; asyncio.run waited for it without a limit once the
    checks were over, so a resolver answering after 30 s held the run for 30 s."""
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", RESOLVER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['timed out']", proc.stdout
    assert time.monotonic() - start < 15
