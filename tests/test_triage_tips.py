"""Where a key was last held, read by object id (sources.objectread): a path holding a newline
on a branch tip, two branches holding one key, and a tag holding it."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo
from tests.html_sample import commit


def _audit(repo: Repo) -> list[dict[str, Any]]:
    proc = run_cli("audit", ".", "--format", "json", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)["findings"]  # type: ignore[no-any-return]


def test_newline_path_on_a_branch_tip(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("a\nb.env", f"K={keys.tavily_current(rng)}\n")
    commit(repo, "add the key", "2025-01-01T10:00:00Z")
    repo.write("other.txt", "x\n")
    tip = commit(repo, "later work, the key still there", "2025-06-01T10:00:00Z")
    [finding] = _audit(repo)
    assert finding["path"] == "a\\x0ab.env"
    assert finding["exposure"]["last_seen"]["commit"] == tip
    assert finding["exposure"]["at_head"] is True


def test_two_branches_holding_one_key(tmp_path: Path, rng: random.Random) -> None:
    from sgai_guard.sources.history import blob_histories
    from sgai_guard.sources.repo import open_repository

    repo = Repo(tmp_path)
    repo.write("k.env", f"K={keys.sgai_uuid(rng)}\n")
    commit(repo, "add", "2025-01-01T10:00:00Z")
    repo.git("branch", "twin")  # a second branch at the same commit
    repo.git("checkout", "-q", "-b", "later")
    repo.write("x.txt", "x\n")
    later = commit(repo, "later branch moves on", "2025-09-01T10:00:00Z")
    repo.git("checkout", "-q", "main")
    repo.git("rm", "-q", "k.env")
    commit(repo, "main drops it", "2025-03-01T10:00:00Z")
    [finding] = _audit(repo)
    assert finding["exposure"]["last_seen"]["commit"] == later
    blob = repo.git("rev-parse", "twin:k.env").strip()
    [history] = blob_histories(open_repository(repo.path), [blob]).values()
    assert history.refs >= {"refs/heads/twin", "refs/heads/later"}  # each ref on its own
    assert {r: c.oid for r, c in history.tips.items()} == {"refs/heads/later": later}


def test_a_tag_holding_it(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    commit(repo, "add", "2025-01-01T10:00:00Z")
    repo.git("checkout", "-q", "-b", "release")
    repo.write("notes.txt", "release notes\n")
    released = commit(repo, "release", "2025-08-01T10:00:00Z")
    repo.git("tag", "-a", "-m", "v1", "v1")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "release")  # only the annotated tag keeps that commit
    repo.git("rm", "-q", "k.env")
    commit(repo, "main drops it", "2025-02-01T10:00:00Z")
    [finding] = _audit(repo)
    exposure = finding["exposure"]
    assert exposure["last_seen"]["commit"] == released
    assert "refs/tags/v1" in exposure["refs"] and exposure["at_head"] is False


def test_the_triage_runs_no_git_planted_in_the_repository(
    tmp_path: Path, rng: random.Random
) -> None:
    """A relative PATH entry (or GitPython's variable, from when the triage used it) must not
    make the triage run a `git` the scanned repository holds."""
    import os

    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    marker = tmp_path / "pwned"
    trap = repo.path / "git"
    trap.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    trap.chmod(0o755)
    repo.commit("a key and a trap", "k.env", "git")
    env = {"PATH": f".{os.pathsep}{os.environ['PATH']}", "GIT_PYTHON_GIT_EXECUTABLE": "./git"}
    proc = run_cli("audit", ".", "--format", "json", cwd=repo.path, env=env)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["exposure"]["introduced"]
    assert not marker.exists()


def test_audit_finds_keys_in_commit_and_tag_messages(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    in_commit, in_tag, dangling = (keys.tavily_current(rng) for _ in range(3))
    repo.write("a.txt", "x\n")
    repo.commit("root")
    said = repo.git("commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", f"use {in_commit}")
    assert said == ""
    message_commit = repo.head()
    repo.git("tag", "-a", "-m", f"notes: TAVILY_API_KEY={in_tag}", "v1")
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    orphan = repo.git("commit-tree", tree, "-m", f"lost {dangling}").strip()  # no ref reaches it
    findings = _audit(repo)
    by_path = {f["path"]: f for f in findings}
    commit_path = f"(commit {message_commit[:12]} message)"
    assert commit_path in by_path and by_path[commit_path]["exposure"]["at_head"] is True
    assert by_path[commit_path]["exposure"]["introduced"]["commit"] == message_commit
    [tag_path] = [p for p in by_path if p.startswith("(tag ")]
    assert by_path[tag_path]["exposure"]["refs"] == ["refs/tags/v1"]
    assert not any(orphan[:12] in p for p in by_path)  # dangling: only with --include-unreachable
    proc = run_cli("audit", ".", "--format", "json", "--include-unreachable", cwd=repo.path)
    assert any(orphan[:12] in f["path"] for f in json.loads(proc.stdout)["findings"])
    for text in (json.dumps(findings), proc.stdout):
        assert in_commit not in text and in_tag not in text and dangling not in text


def test_the_repository_config_does_not_hide_a_root_commit(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: with log.showRoot=false in the repository's config, the
    triage's `git log` showed no root commit, and a key pushed in one was reported local
    only and unreachable."""
    repo = Repo(tmp_path)
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    added = commit(repo, "root adds the key", "2025-01-01T10:00:00Z")
    repo.git("rm", "-q", "k.env")
    commit(repo, "drop it", "2025-02-01T10:00:00Z")
    before = _audit(repo)
    repo.git("config", "log.showRoot", "false")
    [finding] = _audit(repo)
    assert finding == before[0]
    assert finding["exposure"]["introduced"]["commit"] == added
    assert finding["exposure"]["reachable"] is True and finding["exposure"]["refs"]


def test_the_repository_config_does_not_change_how_merges_are_read(
    tmp_path: Path, rng: random.Random
) -> None:
    """From the same review: log.diffMerges=combined made -m print combined diffs, and a
    key only a merge adds lost the commit that added it."""
    repo = Repo(tmp_path)
    repo.write("a.txt", "a\n")
    commit(repo, "root", "2025-01-01T10:00:00Z")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("s.txt", "s\n")
    commit(repo, "side", "2025-01-02T10:00:00Z")
    repo.git("checkout", "-q", "main")
    repo.write("m.txt", "m\n")
    commit(repo, "main", "2025-01-03T10:00:00Z")
    repo.git("merge", "-q", "--no-commit", "side")
    repo.write("k.env", f"K={keys.sgai_uuid(rng)}\n")  # an evil merge: only it adds the key
    merged = commit(repo, "merge", "2025-01-04T10:00:00Z")
    before = _audit(repo)
    repo.git("config", "log.diffMerges", "combined")
    [finding] = _audit(repo)
    assert finding == before[0]
    assert finding["exposure"]["introduced"]["commit"] == merged


def test_the_repository_s_log_encoding_changes_nothing(tmp_path: Path, rng: random.Random) -> None:
    """Found by a review of the fixes above: with i18n.logOutputEncoding=UTF-16 git
    re-encoded the triage's headers, and the audit ended in an internal error (exit 3)."""
    repo = Repo(tmp_path)
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    commit(repo, "add", "2025-01-01T10:00:00Z")
    before = _audit(repo)
    repo.git("config", "i18n.logOutputEncoding", "UTF-16")
    assert _audit(repo) == before
