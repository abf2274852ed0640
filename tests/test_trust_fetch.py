"""The one network operation, deepening a CI clone, and the audit's history walk: a planted
program never runs. Each vector is first shown to run with plain git in the same setup."""

from __future__ import annotations

import random
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo, git_env
from tests.hostile import add_signed_commit, origin_with_feature, shallow_clone
from tests.traps import Traps


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Case:
    """How a vector is planted, what plain git does to fire it, and what sgai-guard runs."""

    plant: Callable[[Repo, Traps], dict[str, str]]  # returns extra environment
    plain: list[str]  # plain git arguments that run the trap
    scan: list[str]  # sgai-guard arguments; ORIGIN, BASE and GIT_URL are filled in
    exit_codes: tuple[int, ...]
    plain_config: list[str] = field(default_factory=list)  # what a permissive git user has


def _ext_remote(work: Repo, traps: Traps) -> dict[str, str]:
    work.git("remote", "set-url", "origin", f"ext::{traps.make('ext')} %S")
    return {}


def _upload_pack(work: Repo, traps: Traps) -> dict[str, str]:
    work.git("config", "remote.origin.uploadpack", traps.make("uploadpack"))
    return {}


def _git_proxy(work: Repo, traps: Traps) -> dict[str, str]:
    work.git("config", "core.gitProxy", traps.make("gitproxy"))
    return {}


def _insteadof(work: Repo, traps: Traps) -> dict[str, str]:
    origin = work.git("remote", "get-url", "origin").strip()
    work.git("config", f"url.ext::{traps.make('insteadof')} %S.insteadOf", origin)
    return {}


def _alternate_refs(work: Repo, traps: Traps) -> dict[str, str]:
    other = work.path.parent / "origin" / ".git" / "objects"
    (work.path / ".git" / "objects" / "info" / "alternates").write_text(f"{other}\n")
    work.git("config", "core.alternateRefsCommand", traps.make("alternaterefs"))
    return {}


def _exec_path(work: Repo, traps: Traps) -> dict[str, str]:
    folder = work.path.parent / "exec-path"
    folder.mkdir()
    traps.make("git-upload-pack", folder)
    return {"GIT_EXEC_PATH": str(folder)}


def _proxy_variable(work: Repo, traps: Traps) -> dict[str, str]:
    return {"GIT_PROXY_COMMAND": traps.make("proxy-variable")}


def _protocol_allowed(work: Repo, traps: Traps) -> dict[str, str]:
    work.git("config", "protocol.ext.allow", "always")
    work.git("remote", "set-url", "origin", f"ext::{traps.make('ext-allowed')} %S")
    return {}


def _remote_helper(work: Repo, traps: Traps) -> dict[str, str]:
    traps.make("git-remote-evil")
    work.git("remote", "set-url", "origin", "evil::somewhere")
    work.git("config", "protocol.evil.allow", "always")
    return {"PATH": f"{traps.bin}:/usr/bin:/bin"}


def _relative_path_ssh(work: Repo, traps: Traps) -> dict[str, str]:
    """An `ssh` the checkout holds, and a relative entry in PATH (found by an attacker
    review: git runs ssh by name, in the repository)."""
    traps.make("ssh", work.path)
    work.git("remote", "set-url", "origin", "ssh://example.invalid/x.git")
    return {"PATH": ".:/usr/bin:/bin"}


CI = ["ci", "--base", "BASE", "--head", "HEAD"]
CASES = {
    "ext:: remote URL": Case(_ext_remote, ["fetch", "origin"], CI, (2,), ["protocol.allow=always"]),
    "remote.<name>.uploadpack": Case(
        _upload_pack, ["fetch", "origin"], [*CI, "--remote-url", "ORIGIN"], (1,)
    ),
    "core.gitProxy": Case(_git_proxy, ["fetch", "GIT_URL"], [*CI, "--remote-url", "GIT_URL"], (3,)),
    "url.<base>.insteadOf to ext::": Case(
        _insteadof, ["fetch", "origin"], CI, (2,), ["protocol.allow=always"]
    ),
    "core.alternateRefsCommand": Case(
        _alternate_refs, ["fetch", "origin"], [*CI, "--remote-url", "ORIGIN"], (1,)
    ),
    "GIT_EXEC_PATH": Case(_exec_path, ["fetch", "origin"], [*CI, "--remote-url", "ORIGIN"], (1,)),
    "GIT_PROXY_COMMAND": Case(
        _proxy_variable, ["fetch", "GIT_URL"], [*CI, "--remote-url", "GIT_URL"], (3,)
    ),
    "protocol.ext.allow in the repository": Case(_protocol_allowed, ["fetch", "origin"], CI, (2,)),
    "a remote helper (evil::)": Case(_remote_helper, ["fetch", "origin"], CI, (2,)),
    "ssh through a relative PATH entry": Case(_relative_path_ssh, ["fetch", "origin"], CI, (3,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fetch_vector_is_live_with_git_and_dead_with_sgai_guard(
    name: str, tmp_path: Path, rng: random.Random
) -> None:
    case = CASES[name]
    origin, base, _, _ = origin_with_feature(tmp_path, rng)
    work = shallow_clone(origin, tmp_path / "work")
    traps = Traps(tmp_path)
    extra = case.plant(work, traps)
    fill = {"ORIGIN": origin.path.as_uri(), "BASE": base}
    fill["GIT_URL"] = f"git://127.0.0.1:{_closed_port()}/repo"
    plain = [a for c in case.plain_config for a in ("-c", c)] + [fill.get(a, a) for a in case.plain]
    subprocess.run(
        ["git", *plain],
        cwd=work.path,
        env={**git_env(), **extra},
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert traps.fired(), f"{name}: plain git did not run the trap"
    traps.reset()
    proc = run_cli(*(fill.get(a, a) for a in case.scan), cwd=work.path, env=extra)
    assert traps.fired() == [], proc.stdout + proc.stderr
    assert proc.returncode in case.exit_codes, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_refused_transport_is_named(tmp_path: Path, rng: random.Random) -> None:
    origin, base, _, _ = origin_with_feature(tmp_path, rng)
    work = shallow_clone(origin, tmp_path / "work")
    proc = run_cli(*CI[:-2], "--head", "HEAD", "--base", base, cwd=work.path)
    assert proc.returncode == 2
    assert "the remote 'origin' uses the file transport" in proc.stderr
    assert "--remote-url" in proc.stderr
    given = run_cli(*CI[:1], "--base", base, "--remote-url", "fd::3", cwd=work.path)
    assert given.returncode == 2 and "fd:: transport" in given.stderr


def test_audit_never_runs_gpg_for_signed_commits(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "one\n")
    repo.write("k.env", f"K={keys.sgai_uuid(rng)}\n")  # a finding: the audit walks history
    repo.commit("root")
    add_signed_commit(repo)
    traps = Traps(tmp_path)
    repo.git("config", "log.showSignature", "true")
    repo.git("config", "gpg.program", traps.make("gpg"))
    repo.git("log", "-1", "--format=%H", check=False)
    assert traps.fired() == ["gpg"]
    traps.reset()
    for args in (["audit", "."], ["scan", "--range", "HEAD~1..HEAD"]):
        proc = run_cli(*args, cwd=repo.path)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        assert traps.fired() == []


def test_repository_proxy_and_url_sections_cannot_redirect_the_fetch(
    tmp_path: Path, rng: random.Random
) -> None:
    origin, base, _, _ = origin_with_feature(tmp_path, rng)
    ci = ["ci", "--base", base, "--head", "HEAD"]  # an id the clone lacks: it is fetched
    work = shallow_clone(origin, tmp_path / "work")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(30)  # a loaded CI machine starts git slowly (0.5 s was too short)
        proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
        work.git("remote", "set-url", "origin", "https://example.invalid/x.git")
        work.git("config", "http.https://example.invalid.proxy", proxy)
        work.git("config", "remote.origin.proxy", proxy)
        plain = subprocess.Popen(
            ["git", "fetch", "origin"], cwd=work.path, env=git_env(), stderr=subprocess.DEVNULL
        )
        listener.accept()[0].close()  # plain git goes to the planted proxy
        plain.wait(timeout=30)
        proc = run_cli(*ci, cwd=work.path, env={"SGAI_GUARD_GIT_TIMEOUT": "20"})
        assert proc.returncode == 3, proc.stdout + proc.stderr
        listener.settimeout(0.5)  # the run is over: a connection would be waiting already
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing connected to the planted proxy
    other = tmp_path / "elsewhere"
    work.git("config", f"remote.{origin.path.as_uri()}.url", other.as_uri())
    proc = run_cli(*ci, "--remote-url", origin.path.as_uri(), cwd=work.path)
    assert proc.returncode == 2 and "remote named like the URL" in proc.stderr
