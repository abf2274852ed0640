"""`--verify` end to end: the real CLI against the providers' stand-in on loopback."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo
from tests.standin_providers import (
    Behaviour,
    StandIn,
    standin_fixture,  # noqa: F401 - the fixture
)


def _env(standin: StandIn) -> dict[str, str]:
    endpoints = standin.endpoints()
    return {
        "SGAI_GUARD_VERIFY_TAVILY_URL": endpoints.tavily,
        "SGAI_GUARD_VERIFY_SGAI_URL": endpoints.sgai,
        "SGAI_GUARD_VERIFY_SGAI_V1_URL": endpoints.sgai_v1,
    }


def _repo(tmp_path: Path, rng: random.Random, standin: StandIn) -> tuple[Repo, str, str]:
    """One key the stand-in accepts (Tavily) and one it rejects on both surfaces (sgai)."""
    repo = Repo(tmp_path)
    live, dead = keys.tavily_current(rng), keys.sgai_uuid(rng)
    standin.tavily(live, Behaviour((200,)))
    standin.sgai(dead, Behaviour((403,)), v1=Behaviour((401,)))
    repo.write("a_dead.env", f"SGAI_API_KEY={dead}\n")
    repo.write("b_live.py", f"TAVILY_API_KEY = '{live}'\n")
    repo.write("c_live.py", f"# the same key again\nTAVILY_API_KEY = '{live}'\n")
    repo.commit("two keys")
    return repo, live, dead


def test_audit_verify_shows_live_and_dead_everywhere(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    repo, live, dead = _repo(tmp_path, rng, standin)
    env = _env(standin)
    text = run_cli("audit", ".", "--verify", cwd=repo.path, env=env)
    assert text.returncode == 1, text.stderr
    assert "LIVE: the provider accepts this key" in text.stdout
    assert "dead: the provider rejects this key" in text.stdout
    # the dead ScrapeGraphAI key's steps say it needs no revoking; the live Tavily key's not
    sgai_steps = text.stdout.split("What to do (ScrapeGraphAI)")[1]
    said = "so it needs no revoking"
    assert text.stdout.count(said) == 1 and said in sgai_steps
    assert "verified 2 keys: 1 live, 1 dead, 0 unknown" in text.stderr
    data = json.loads(
        run_cli("audit", ".", "--verify", "--format", "json", cwd=repo.path, env=env).stdout
    )
    verdicts = [f["verification"]["verdict"] for f in data["findings"]]
    assert verdicts == ["live", "live", "dead"]  # live keys first
    sarif = json.loads(
        run_cli("audit", ".", "--verify", "--format", "sarif", cwd=repo.path, env=env).stdout
    )
    assert sorted(r["properties"]["verdict"] for r in sarif["runs"][0]["results"]) == [
        "dead",
        "live",
        "live",
    ]
    tavily = [r for r in standin.received if "/usage" in r.path]
    assert len({r.header("authorization") for r in tavily}) == 1  # one check per distinct key
    for out in (text.stdout, text.stderr, json.dumps(data), json.dumps(sarif)):
        assert live not in out and dead not in out


def test_fail_on_blocks_only_the_verdicts_asked_for(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    repo, _, _ = _repo(tmp_path, rng, standin)
    (repo.path / "b_live.py").unlink()
    (repo.path / "c_live.py").unlink()
    repo.git("add", "-A")
    repo.commit("only the dead key is left")
    env = _env(standin)
    assert run_cli("scan", ".", "--verify", cwd=repo.path, env=env).returncode == 1
    only = run_cli("scan", ".", "--verify", "--fail-on", "live,unknown", cwd=repo.path, env=env)
    assert only.returncode == 0, only.stdout  # a dead key is reported, but does not block
    assert "dead: the provider rejects" in only.stdout
    (repo.path / ".sgai-guard.toml").write_text('fail-on = ["live", "unknown"]\n')
    assert run_cli("scan", ".", "--verify", cwd=repo.path, env=env).returncode == 0
    assert run_cli("scan", ".", cwd=repo.path, env=env).returncode == 1  # no --verify: blocks
    alone = run_cli("scan", ".", "--fail-on", "live,unknown", cwd=repo.path)
    assert alone.returncode == 2 and "go with --verify" in alone.stderr


def test_a_repository_cannot_redirect_the_checks(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    repo, _, _ = _repo(tmp_path, rng, standin)
    (repo.path / ".sgai-guard.toml").write_text(f'verify-endpoint = "tavily={standin.url}/x"\n')
    proc = run_cli("scan", ".", "--verify", cwd=repo.path)
    assert proc.returncode == 2 and "unknown key" in proc.stderr
    assert standin.received == []


def test_bad_endpoints_are_refused_before_scanning(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "k.env").write_text(f"K={keys.tavily_current(rng)}\n")
    for url in ("http://example.com/usage", "ftp://127.0.0.1/usage", "https://u:p@example.com/"):
        proc = run_cli("scan", ".", "--verify", "--verify-endpoint", f"tavily={url}", cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert url not in proc.stderr and "Scanned" not in proc.stderr + proc.stdout


def test_the_commit_hook_never_verifies(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    repo, _, _ = _repo(tmp_path, rng, standin)
    repo.write("c.env", f"K={keys.tavily_current(rng)}\n")
    repo.add("c.env")
    proc = run_cli("hook", cwd=repo.path, env=_env(standin))
    assert proc.returncode == 1 and standin.received == []


def test_ctrl_c_during_checks_reports_what_was_verified(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.gitrepo import git_env

    repo, live, dead = _repo(tmp_path, rng, standin)
    standin.tavily(live, Behaviour((200,), delay=30.0))  # hangs until interrupted
    env = {**git_env(), **_env(standin)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sgai_guard", "scan", ".", "--verify", "--format", "json"],
        cwd=repo.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not any("/usage" in r.path for r in standin.received) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the sgai check (no delay) is answered by now
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    verdicts = {f["path"]: f["verification"] for f in json.loads(out)["findings"]}
    assert verdicts["a_dead.env"]["verdict"] == "dead"
    assert verdicts["b_live.py"]["verdict"] == "unknown"
    assert "interrupt" in verdicts["b_live.py"]["reason"]
    assert live not in out + err and dead not in out + err


def test_fail_on_must_keep_live_keys_blocking(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "k.env").write_text(f"K={keys.tavily_current(rng)}\n")
    for verdicts in ("dead", "live", "live,dead"):  # unknown: no check could be made
        proc = run_cli("scan", ".", "--verify", "--fail-on", verdicts, cwd=tmp_path)
        assert proc.returncode == 2 and "must include live and unknown" in proc.stderr
    (tmp_path / ".sgai-guard.toml").write_text('fail-on = ["dead"]\n')
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "fail-on" in proc.stderr


def test_a_dead_key_not_blocking_says_so(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    repo, _, _ = _repo(tmp_path, rng, standin)
    (repo.path / "b_live.py").unlink()
    (repo.path / "c_live.py").unlink()
    env = _env(standin)
    proc = run_cli("scan", ".", "--verify", "--fail-on", "live,unknown", cwd=repo.path, env=env)
    assert (
        proc.returncode == 0 and "not blocking" in proc.stdout and "new: blocks" not in proc.stdout
    )
    # the steps say no revoking is needed, before "1. Revoke the key first" (a newcomer review)
    assert "is dead (the live check), so it needs no revoking" in proc.stdout, proc.stdout


def test_a_fleet_run_keeps_no_verdict_made_under_other_settings(
    tmp_path: Path, rng: random.Random, standin: StandIn
) -> None:
    """Found by an attacker review: a dead verdict, and the non-blocking finding it made
    under --fail-on, were written with the result; a later run without them reused it, and
    a key a plain audit blocks passed with exit 0."""
    repo = Repo(tmp_path / "repo")
    dead = keys.sgai_uuid(rng)
    standin.sgai(dead, Behaviour((403,)), v1=Behaviour((401,)))
    repo.write("a_dead.env", f"SGAI_API_KEY={dead}\n")
    repo.commit("a dead key")
    out = tmp_path / "out"
    fleet = ("audit", str(repo.path), "--out", str(out))
    env = _env(standin)
    lenient = run_cli(*fleet, "--verify", "--fail-on", "live,unknown", cwd=tmp_path, env=env)
    assert lenient.returncode == 0, lenient.stderr
    assert "0 blocking" in lenient.stderr  # the count after the checks, as the exit code says
    plain = run_cli(*fleet, cwd=tmp_path)
    assert plain.returncode == 1, plain.stderr
    assert "1 audited, 0 unchanged" in plain.stderr
    again = run_cli(*fleet, cwd=tmp_path)
    assert again.returncode == 1 and "0 audited, 1 unchanged" in again.stderr
    elsewhere = {**env, "SGAI_GUARD_VERIFY_SGAI_URL": f"{standin.url}/other"}
    moved = run_cli(*fleet, "--verify", "--fail-on", "live,unknown", cwd=tmp_path, env=elsewhere)
    assert "1 audited, 0 unchanged" in moved.stderr, moved.stderr  # another endpoint: again
    for text in (lenient.stderr, plain.stdout, moved.stdout, moved.stderr):
        assert dead not in text
