"""Git states a security team meets: servers' bare mirrors, several paths holding one key,
checkouts owned by another user, dotfile repositories, partial clones and hostile history.

Classes of issue 10: 8 (urgency), 9 (findings dropped), 11 (repositories refused), plus the
history that crashed the audit's triage.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo, git_env
from tests.traps import Traps
from tests.unprivileged import needs_root

# --- class 8: what a server holds is published -------------------------------------------------


def _source(tmp_path: Path, rng: random.Random) -> tuple[Repo, str]:
    repo = Repo(tmp_path / "source")
    key = keys.tavily_current(rng)
    repo.write("config/.env", f"TAVILY_API_KEY={key}\n")
    repo.commit("leak")
    return repo, key


def _clone(source: Repo, target: Path, *flags: str) -> Path:
    subprocess.run(
        ["git", "clone", "-q", *flags, str(source.path), str(target)],
        check=True,
        env=git_env(),
        capture_output=True,
    )
    return target


@pytest.mark.parametrize("flags", [["--bare"], ["--mirror"]])
def test_bare_and_mirror_branches_are_published(
    tmp_path: Path, rng: random.Random, flags: list[str]
) -> None:
    source, _ = _source(tmp_path, rng)
    target = _clone(source, tmp_path / "server.git", *flags)
    code, report = run_json("audit", str(target), cwd=tmp_path)
    exposure = report["findings"][0]["exposure"]
    assert code == 1 and exposure["pushed"] is True and exposure["urgency"] == 0
    text = run_cli("audit", str(target), cwd=tmp_path).stdout
    assert "PUSHED" in text and "only local" not in text


def test_a_tag_of_a_bare_repository_is_published(tmp_path: Path, rng: random.Random) -> None:
    source, _ = _source(tmp_path, rng)
    source.git("tag", "v1")
    source.git("rm", "-q", "config/.env")
    source.commit("removed")
    source.git("checkout", "-q", "--orphan", "fresh")
    source.git("rm", "-q", "-r", "--cached", ".", check=False)
    source.commit("fresh start")
    source.git("branch", "-D", "main")
    target = _clone(source, tmp_path / "server.git", "--mirror")
    code, report = run_json("audit", str(target), cwd=tmp_path)
    exposure = report["findings"][0]["exposure"]
    assert code == 1 and exposure["refs"] == ["refs/tags/v1"] and exposure["pushed"] is True


@pytest.mark.parametrize("ref", ["refs/pull/7/head", "refs/merge-requests/3/head"])
def test_server_refs_are_published_and_come_first(
    tmp_path: Path, rng: random.Random, ref: str
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    repo.git("checkout", "-q", "-b", "local-only")
    repo.write("local.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.commit("local leak")
    repo.git("checkout", "-q", "-b", "review", "main")
    repo.write("review.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.git("update-ref", ref, repo.commit("review leak"))
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "review")
    code, report = run_json("audit", ".", cwd=repo.path)
    order = [(f["path"], f["exposure"]["pushed"]) for f in report["findings"]]
    assert code == 1 and order == [("review.env", True), ("local.env", False)]


# --- class 9: every path holding a key is reported, in every mode --------------------------


def _three_copies(repo: Repo, rng: random.Random) -> tuple[str, str]:
    base = repo.commit("root")
    key = keys.tavily_current(rng)
    for path in ("a.env", "deploy/a.env", "docs/example.env"):
        repo.write(path, f"TAVILY_API_KEY={key}\n")
    repo.commit("three copies")
    return base, key


COPIES = ["a.env", "deploy/a.env", "docs/example.env"]


def _paths(report: dict[str, list[dict[str, str]]]) -> list[str]:
    return sorted(f["path"] for f in report["findings"])


@pytest.mark.parametrize("mode", ["range", "ci", "audit"])
def test_one_key_in_three_files_is_reported_three_times(
    tmp_path: Path, rng: random.Random, mode: str
) -> None:
    repo = Repo(tmp_path)
    base, _ = _three_copies(repo, rng)
    args = {
        "range": ["scan", "--range", f"{base}..HEAD"],
        "ci": ["ci", "--base", base],
        "audit": ["audit", "."],
    }[mode]
    code, report = run_json(*args, cwd=tmp_path)
    assert code == 1 and _paths(report) == COPIES


def test_pre_push_reports_every_path(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "repo")
    _three_copies(repo, rng)
    Repo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    line = f"refs/heads/main {repo.head()} refs/heads/main {'0' * 40}\n"
    proc = run_cli("hook", "--pre-push", cwd=repo.path, stdin=line.encode())
    assert proc.returncode == 1
    assert all(f"{path}:1:16" in proc.stdout for path in COPIES), proc.stdout


def test_same_content_added_and_modified(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("old.env", "K=placeholder\n")
    base = repo.commit("root")
    key = keys.sgai_uuid(rng)
    repo.write("old.env", f"K={key}\n")
    repo.write("new.env", f"K={key}\n")
    repo.commit("same key, one file changed and one added")
    code, report = run_json("scan", "--range", f"{base}..HEAD", cwd=tmp_path)
    assert code == 1 and _paths(report) == ["new.env", "old.env"]


# --- class 11: repositories that must be scanned, or refused clearly -------------------------


@needs_root
@pytest.mark.parametrize("entry", ["REPO", "*"])
def test_checkout_owned_by_another_user(tmp_path: Path, rng: random.Random, entry: str) -> None:
    repo = Repo(tmp_path / "checkout")
    base = repo.commit("root")
    repo.write("k.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.commit("leak")
    repo.write("s.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.add("s.env")
    for path in (repo.path, *repo.path.rglob("*")):
        os.lchown(path, 65534, 65534)
    refused = run_cli("audit", ".", cwd=repo.path)
    assert refused.returncode == 2 and "dubious ownership" in refused.stderr
    config = tmp_path / "runner.gitconfig"
    config.write_text(f"[safe]\n\tdirectory = {entry.replace('REPO', str(repo.path))}\n")
    env = {"GIT_CONFIG_GLOBAL": str(config)}
    for args in (["scan", "--staged"], ["audit", "."], ["ci", "--base", base], ["hook"]):
        proc = run_cli(*args, cwd=repo.path, env=env)
        assert proc.returncode == 1, (args, proc.stdout + proc.stderr)


def test_dotfile_repository_commit_hook(tmp_path: Path, rng: random.Random) -> None:
    """`git --git-dir=X --work-tree=Y commit`: git hands the hook GIT_DIR and GIT_WORK_TREE."""
    home = tmp_path / "home"
    home.mkdir()
    git_dir = tmp_path / "dotfiles.git"
    env = git_env()
    base = ["git", f"--git-dir={git_dir}", f"--work-tree={home}"]
    subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True, env=env)
    hook = git_dir / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec {os.sys.executable} -m sgai_guard hook\n")
    hook.chmod(0o755)

    def commit(name: str, text: str) -> subprocess.CompletedProcess[str]:
        (home / name).write_text(text)
        subprocess.run([*base, "add", name], cwd=home, check=True, env=env)
        return subprocess.run(
            [*base, "commit", "-q", "--no-gpg-sign", "-m", name],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    clean = commit(".bashrc", "alias ll='ls -l'\n")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    leak = commit(".profile", f"export TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    out = leak.stdout + leak.stderr  # git sends a hook's output to stderr
    assert leak.returncode != 0 and ".profile:1:" in out, out


def test_partial_clone_audit_lists_missing_blobs_and_fetches_nothing(
    tmp_path: Path, rng: random.Random
) -> None:
    source = Repo(tmp_path / "source")
    for n in range(3):
        source.write(f"f{n}.txt", f"v{n}\n")
        source.commit(f"c{n}")
    source.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    subprocess.run(
        [
            *("git", "clone", "-q", "--no-local", "--filter=blob:none", "--no-checkout"),
            *(source.path.as_uri(), str(clone)),
        ],
        check=True,
        env=git_env(),
        capture_output=True,
    )
    work = Repo.existing(clone)
    work.write("extra.env", f"K={keys.sgai_uuid(rng)}\n")
    work.commit("a local commit with a key")
    before = work.git("count-objects", "-v")
    code, report = run_json("audit", ".", cwd=clone)
    assert code == 3 and report["findings"][0]["path"] == "extra.env"
    missing = sorted(e["path"].split(" ")[0] for e in report["errors"])
    assert missing == ["f0.txt", "f1.txt", "f2.txt"]
    assert work.git("count-objects", "-v") == before  # nothing was fetched


def test_bare_repository_has_nothing_staged(tmp_path: Path, rng: random.Random) -> None:
    source, _ = _source(tmp_path, rng)
    bare = _clone(source, tmp_path / "bare.git", "--bare")
    for args in (["scan", "--staged"], ["hook"], ["hook", "--", "config/.env"]):
        proc = run_cli(*args, cwd=bare)
        assert proc.returncode == 2 and "bare repository" in proc.stderr, args
    (bare / "index").write_bytes((source.path / ".git" / "index").read_bytes())
    proc = run_cli("scan", "--staged", cwd=bare)
    assert proc.returncode == 2 and "bare repository" in proc.stderr


# --- hostile history does not crash the triage --------------------------------------------


def test_hostile_paths_and_authors_in_history(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    odd_paths = [os.fsdecode(b"k\xff.txt"), "a\x1cb.txt", "c\x0bd.txt", "e\u2028f.txt"]
    for path in odd_paths:
        repo.write(path, f"K={keys.sgai_uuid(rng)}\n")
    repo.add()
    repo.git(
        "-c",
        "user.name=x",
        "commit",
        "-q",
        "--no-gpg-sign",
        "-m",
        "odd",
        "--author",
        "a\x1fb\x1cc\u2028d <e@example.invalid>",
    )
    repo.git("rm", "-q", "--cached", "a\x1cb.txt")
    repo.commit("one removed")
    code, report = run_json("audit", ".", cwd=tmp_path)
    assert code == 1 and len(report["findings"]) == len(odd_paths)
    author = report["findings"][0]["exposure"]["introduced"]["author"]
    assert author == "a\\x1fb\\x1cc\\u2028d <e@example.invalid>"


def test_git_error_naming_a_key_is_redacted_whole(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    key = keys.sgai_uuid(rng)
    ref = tmp_path / ".git" / "refs" / "heads" / key / ("a" * 200) / ("b" * 60)
    ref.parent.mkdir(parents=True)
    ref.write_text("1234567890123456789012345678901234567890\n")
    proc = run_cli("audit", ".", cwd=tmp_path)
    assert proc.returncode in (2, 3)
    assert key not in proc.stdout + proc.stderr and key[5:] not in proc.stdout + proc.stderr


def test_git_planted_in_the_repository_never_runs(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.commit("leak")
    traps = Traps(tmp_path)
    traps.make("git", repo.path)
    env = {"PATH": f".:{os.environ['PATH']}"}
    for args in (["audit", "."], ["scan", "."], ["hook", "--", "k.env"]):
        proc = run_cli(*args, cwd=repo.path, env=env)
        assert proc.returncode == 1, (args, proc.stderr)
    assert traps.fired() == []


def test_a_planted_alternates_file_that_makes_git_talk_does_not_hang_the_audit(
    tmp_path: Path, rng: random.Random
) -> None:
    """Thousands of bogus alternates: every git process complains about each on stderr, and
    GitPython (then the triage's reader) read its git's stderr only at the end, so git blocked
    on a full pipe and the audit hung (found by an attacker review). The audit now refuses
    such a file, saying why, at once; a file of a few alternates is audited."""
    repo = Repo(tmp_path / "repo")
    key = keys.tavily_current(rng)
    repo.write("k.env", f"TAVILY_API_KEY={key}\n")
    repo.commit("a key")
    alternates = repo.path / ".git" / "objects" / "info" / "alternates"
    alternates.parent.mkdir(parents=True, exist_ok=True)
    alternates.write_text("".join(f"/nonexistent/objects/{n:08d}\n" for n in range(20000)))
    proc = run_cli("audit", ".", "--format", "json", cwd=repo.path, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "alternates is not a plain file of at most" in proc.stderr
    assert key not in proc.stdout + proc.stderr
    alternates.write_text("/nonexistent/objects/one\n")
    proc = run_cli("audit", ".", "--format", "json", cwd=repo.path, timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert [f["path"] for f in json.loads(proc.stdout)["findings"]] == ["k.env"]
    assert key not in proc.stdout + proc.stderr
