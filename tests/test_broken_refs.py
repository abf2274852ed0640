"""Refs naming objects the store lacks (a damaged mirror, or a repository that wants the
audit to stop): git stops on them when asked for all refs, and the audit stopped with it
(exit 2) and reported nothing. They are now left out of every walk, named as the reason the
audit is incomplete, and every key the rest of the history holds is reported and triaged."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo
from tests.html_sample import commit

MISSING = "1234567890" * 4


def _keyed(path: Path, rng: random.Random) -> tuple[Repo, str, str]:
    repo = Repo(path)
    key = keys.tavily_current(rng)
    repo.write("k.env", f"TAVILY_API_KEY={key}\n")
    added = commit(repo, "add", "2025-01-01T10:00:00+0000")
    return repo, key, added


def _audit(repo: Repo, *extra: str) -> tuple[dict[str, Any], str]:
    proc = run_cli("audit", ".", "--format", "json", *extra, cwd=repo.path)
    assert proc.returncode == 3, proc.stderr  # incomplete beats findings
    report: dict[str, Any] = json.loads(proc.stdout)
    return report, proc.stderr


def test_refs_naming_missing_objects_are_left_out_and_named(
    tmp_path: Path, rng: random.Random
) -> None:
    repo, key, added = _keyed(tmp_path / "repo", rng)
    refs = repo.path / ".git" / "refs"
    (refs / "heads" / "gone").write_text(MISSING + "\n")  # a commit the store lacks
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    tag = repo.git(
        "hash-object", "-t", "tag", "-w", "--stdin",
        stdin=f"object {MISSING}\ntype commit\ntag t\ntagger T <t@x> 1 +0000\n\nt\n".encode(),
    ).strip()  # fmt: skip
    (refs / "tags" / "dangling").write_text(tag + "\n")  # a tag whose target it lacks
    (refs / "tags" / "tree").write_text(tree + "\n")  # a tag of a tree: fine, not broken
    report, _ = _audit(repo)
    [finding] = report["findings"]
    assert finding["path"] == "k.env" and finding["exposure"]["introduced"]["commit"] == added
    [reason] = [r for r in report["incomplete"] if "missing from the repository" in r]
    assert "2 ref(s)" in reason
    assert "refs/heads/gone" in reason and "refs/tags/dangling" in reason
    assert key not in json.dumps(report)


def test_a_head_naming_a_missing_object_is_left_out(tmp_path: Path, rng: random.Random) -> None:
    repo, _, added = _keyed(tmp_path / "repo", rng)
    repo.git("branch", "keep")
    (repo.path / ".git" / "HEAD").write_text(MISSING + "\n")  # detached at nothing
    report, _ = _audit(repo)
    assert [f["exposure"]["introduced"]["commit"] for f in report["findings"]] == [added]
    assert any("HEAD" in r for r in report["incomplete"])


def test_a_broken_ref_named_like_a_key_is_said_redacted(tmp_path: Path, rng: random.Random) -> None:
    repo, key, _ = _keyed(tmp_path / "repo", rng)
    other = keys.tavily_current(rng)
    (repo.path / ".git" / "refs" / "heads" / other).write_text(MISSING + "\n")
    proc = run_cli("audit", ".", cwd=repo.path)
    assert proc.returncode == 3, proc.stderr
    assert "left out of the history" in proc.stdout + proc.stderr
    assert other not in proc.stdout + proc.stderr and key not in proc.stdout + proc.stderr


def test_a_mirror_with_a_broken_ref_is_read_in_process_too(
    tmp_path: Path, rng: random.Random
) -> None:
    """The same through a bare mirror whose objects are packed (the readers inflate them)."""
    repo, _, added = _keyed(tmp_path / "repo", rng)
    mirror = tmp_path / "mirror.git"
    repo.git("clone", "-q", "--mirror", str(repo.path), str(mirror))
    Repo.existing(mirror).git("gc", "-q")
    (mirror / "refs" / "pull" / "7").mkdir(parents=True)
    (mirror / "refs" / "pull" / "7" / "head").write_text(MISSING + "\n")
    proc = run_cli("audit", str(mirror), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert [f["exposure"]["introduced"]["commit"] for f in report["findings"]] == [added]
    assert any("refs/pull/7/head" in r for r in report["incomplete"])


def _packed(repo: Repo, lines: list[str]) -> None:
    path = repo.path / ".git" / "packed-refs"
    path.write_text("# pack-refs with: peeled fully-peeled sorted \n" + "".join(lines))


def test_long_names_and_many_broken_refs_cost_no_command_line(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review of the first version, which passed each broken ref as
    `--exclude=NAME`: one name of 200,000 characters, or 20,000 names, went past the
    system's limit on a command line (an internal error, nothing reported), and git matched
    every ref against every exclusion. The tips are now given to git as ids, on stdin."""
    repo, _, added = _keyed(tmp_path / "repo", rng)
    many = [f"{MISSING} refs/heads/{'b' * 100}{n:05d}\n" for n in range(3000)]
    _packed(repo, [f"{MISSING} refs/heads/{'a' * 200_000}\n", *many])
    report, _ = _audit(repo)
    assert [f["exposure"]["introduced"]["commit"] for f in report["findings"]] == [added]
    [reason] = [r for r in report["incomplete"] if "missing from the repository" in r]
    assert reason.startswith("3001 ref(s)") and "and 2991 more" in reason


def test_names_git_lists_twice_or_ignores_hide_nothing(tmp_path: Path, rng: random.Random) -> None:
    """Also from that review: a name listed twice in packed-refs, broken then good (the
    good one hid the broken one, and git stopped); a name git ignores (`a..b`), which
    `--all` stops on."""
    repo, _, added = _keyed(tmp_path / "repo", rng)
    good = repo.head()
    _packed(repo, [f"{MISSING} refs/heads/dup\n", f"{good} refs/heads/dup\n"])
    (repo.path / ".git" / "refs" / "heads" / "a..b").write_text(good + "\n")
    report, _ = _audit(repo)
    assert [f["exposure"]["introduced"]["commit"] for f in report["findings"]] == [added]
    assert any("refs/heads/dup" in r for r in report["incomplete"])


def test_a_worktree_head_naming_a_missing_object_is_left_out(
    tmp_path: Path, rng: random.Random
) -> None:
    """Also from that review: `--all` walks every worktree's HEAD too."""
    repo, _, added = _keyed(tmp_path / "repo", rng)
    repo.git("worktree", "add", "-q", "--detach", str(tmp_path / "other"))
    [worktree] = (repo.path / ".git" / "worktrees").iterdir()
    (worktree / "HEAD").write_text(MISSING + "\n")
    report, _ = _audit(repo)
    assert [f["exposure"]["introduced"]["commit"] for f in report["findings"]] == [added]
    assert any("HEAD of the worktree" in r for r in report["incomplete"])


def test_a_history_git_log_cannot_walk_lists_every_key(tmp_path: Path, rng: random.Random) -> None:
    """Also from that review (older than this change): when `git log --all` stopped (a
    commit whose parent or tree the store lacks), the audit went on as if no ref reached
    any key, and left every key out of its findings (exit 3, "no ref reaches")."""
    for lacking in ("parent", "tree"):
        repo = Repo(tmp_path / lacking)
        key = keys.tavily_current(rng)
        repo.write("k.env", f"TAVILY_API_KEY={key}\n")
        repo.add()
        tree = repo.git("write-tree").strip()
        ident = "author A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000"
        first = repo.git(
            "hash-object", "-t", "commit", "-w", "--literally", "--stdin",
            stdin=f"tree {tree}\nparent {MISSING}\n{ident}\n\nadd\n".encode(),
        ).strip()  # fmt: skip
        tip = first
        if lacking == "tree":
            tip = repo.git(
                "hash-object", "-t", "commit", "-w", "--literally", "--stdin",
                stdin=f"tree {MISSING}\nparent {first}\n{ident}\n\ngone\n".encode(),
            ).strip()  # fmt: skip
            (repo.path / ".git" / "refs" / "heads" / "keep").write_text(first + "\n")
        (repo.path / ".git" / "refs" / "heads" / "main").write_text(tip + "\n")
        report, _ = _audit(repo)
        [finding] = report["findings"]  # named by the walk's path, or by its blob
        assert finding["path"] == "k.env" or finding["path"].startswith("(blob "), lacking
        assert report["incomplete"], lacking
        assert key not in json.dumps(report)


def test_a_key_a_ref_reaches_through_no_commit_is_reported(
    tmp_path: Path, rng: random.Random
) -> None:
    """Also from that review (older than this session): a key in a blob a tag names, or in
    a tree a ref names, is published (a push of that ref carries it), but no commit added
    it, so the triage said no ref reaches it and the audit exited 0."""
    for how in ("tag of a blob", "ref to a tree", "dangling"):
        repo = Repo(tmp_path / how.replace(" ", "-"))
        repo.write("a.txt", "a\n")
        repo.commit("clean")
        key = keys.tavily_current(rng)
        blob = repo.git("hash-object", "-w", "--stdin", stdin=f"K={key}\n".encode()).strip()
        if how == "tag of a blob":
            repo.git("tag", "blobtag", blob)
        elif how == "ref to a tree":
            tree = repo.git("mktree", stdin=f"100644 blob {blob}\tk.env\n".encode()).strip()
            (repo.path / ".git" / "refs" / "pull").mkdir()
            (repo.path / ".git" / "refs" / "pull" / "1").write_text(tree + "\n")
        proc = run_cli("audit", ".", "--format", "json", cwd=repo.path)
        report = json.loads(proc.stdout)
        if how == "dangling":  # no ref reaches it: left out, and said
            assert proc.returncode == 0 and report["findings"] == [], proc.stderr
            continue
        assert proc.returncode == 1, (how, proc.stderr)
        [finding] = report["findings"]
        assert any("through no commit" in note for note in finding["notes"]), how
        assert key not in proc.stdout + proc.stderr


def test_a_key_in_a_tag_only_another_tag_names_is_reported(
    tmp_path: Path, rng: random.Random
) -> None:
    """Also from that review: refs/tags/outer names a tag whose target is the inner tag,
    whose message holds the key; only refs naming a tag directly were looked at."""
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    head = repo.commit("clean")
    key = keys.tavily_current(rng)
    ident = "tagger T <t@x> 1700000000 +0000"
    inner = repo.git(
        "hash-object", "-t", "tag", "-w", "--stdin",
        stdin=f"object {head}\ntype commit\ntag inner\n{ident}\n\nuse {key}\n".encode(),
    ).strip()  # fmt: skip
    outer = repo.git(
        "hash-object", "-t", "tag", "-w", "--stdin",
        stdin=f"object {inner}\ntype tag\ntag outer\n{ident}\n\nouter\n".encode(),
    ).strip()  # fmt: skip
    (repo.path / ".git" / "refs" / "tags" / "outer").write_text(outer + "\n")
    proc = run_cli("audit", ".", "--format", "json", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["path"] == f"(tag {inner[:12]} message)"
    assert any("through another tag" in note for note in finding["notes"])
    assert key not in proc.stdout + proc.stderr


def test_a_fifo_among_worktree_files_is_refused(tmp_path: Path, rng: random.Random) -> None:
    """git reads every worktree's HEAD to list the tips: a FIFO there would stall it."""
    repo, _, _ = _keyed(tmp_path / "repo", rng)
    repo.git("worktree", "add", "-q", "--detach", str(tmp_path / "other"))
    [worktree] = (repo.path / ".git" / "worktrees").iterdir()
    (worktree / "HEAD").unlink()
    os.mkfifo(worktree / "HEAD")
    proc = run_cli("audit", ".", "--format", "json", cwd=repo.path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr
