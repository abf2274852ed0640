"""What an audit asks git before it reads anything: where the repository keeps its objects,
refs and shallow file (one git for all four), and whether there is any ref to audit."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sgai_guard.sources.repo import open_repository
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo
from tests.keys import tavily_current

_NAMES = ("objects", "refs", "worktrees", "shallow")


@pytest.mark.parametrize("folder", ["plain", "with\nnewline", "with space"])
def test_one_git_answers_for_every_path_as_one_git_each_would(tmp_path: Path, folder: str) -> None:
    repo = Repo(tmp_path / folder)
    repo.write("a.txt", "a\n")
    repo.commit("one")
    opened = open_repository(repo.path)
    assert opened.git_paths(*_NAMES) == {name: opened.git_path(name) for name in _NAMES}
    assert Path(opened.git_paths("objects")["objects"]).is_dir()


def test_a_linked_worktree_keeps_its_own_paths(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "main")
    repo.write("a.txt", "a\n")
    repo.commit("one")
    repo.git("worktree", "add", "-q", str(tmp_path / "linked"))
    opened = open_repository(tmp_path / "linked")
    paths = opened.git_paths(*_NAMES)
    assert paths == {name: opened.git_path(name) for name in _NAMES}
    assert Path(paths["objects"]).resolve() == (repo.path / ".git" / "objects").resolve()


def test_a_repository_without_refs_is_said_to_have_no_history(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 0, report
    assert any("has no refs" in notice for notice in report["notices"]), report


def test_a_repository_with_refs_is_audited_without_that_notice(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", f"{rng.random()}\n")
    repo.commit("one")
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 0, report
    assert not any("has no refs" in notice for notice in report["notices"]), report
    assert report["scanned"]["commits"] == 1, report["scanned"]


def test_refs_that_all_name_missing_objects_still_count_as_refs(tmp_path: Path) -> None:
    """A ref left out of the history (it names an object the store lacks) is a ref all the
    same: the audit says what it left out, not that there was nothing."""
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    repo.commit("one")
    (repo.path / ".git" / "refs" / "heads" / "main").write_text("1" * 40 + "\n")
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 3, report
    assert not any("has no refs" in notice for notice in report["notices"]), report
    assert any("left out" in text for text in report["incomplete"]), report


@pytest.mark.parametrize("bare", [False, True])
def test_a_repository_whose_path_holds_a_newline_is_audited(
    tmp_path: Path, rng: random.Random, bare: bool
) -> None:
    """rev-parse prints one path a line: a path holding a newline was split into two, and the
    audit stopped on a folder that does not exist."""
    source = Repo(tmp_path / "src")
    source.write("config.env", f"TAVILY_API_KEY={tavily_current(rng)}\n")
    source.commit("one")
    where = tmp_path / "odd\nname .git"
    if bare:
        Repo.existing(tmp_path).git("clone", "-q", "--bare", str(source.path), str(where))
    else:
        Repo.existing(tmp_path).git("clone", "-q", str(source.path), str(where))
    code, report = run_json("audit", str(where), cwd=tmp_path)
    assert code == 1, report
    assert [finding["path"] for finding in report["findings"]] == ["config.env"]


def _victim_and_decoy(tmp_path: Path, rng: random.Random, *, bare: bool) -> tuple[Path, Path]:
    """A repository holding a key whose configuration names a clean repository (nested in
    it, or beside it) as its work tree: git run in that work tree finds the decoy."""
    source = Repo(tmp_path / "src")
    source.write("config.env", f"TAVILY_API_KEY={tavily_current(rng)}\n")
    source.commit("one")
    victim = tmp_path / ("victim.git" if bare else "victim")
    args = ["clone", "-q", *(["--bare"] if bare else []), str(source.path), str(victim)]
    Repo.existing(tmp_path).git(*args)
    decoy = Repo(victim / "decoy")
    decoy.write("README.md", "nothing here\n")
    decoy.commit("clean")
    config = victim / "config" if bare else victim / ".git" / "config"
    Repo.existing(victim).git("config", "--file", str(config), "core.worktree", str(decoy.path))
    return victim, decoy.path


def test_a_configured_work_tree_cannot_send_the_audit_to_a_decoy(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: core.worktree naming a clean repository's work tree made
    every git run there, so the audit read the decoy's history and passed (exit 0)."""
    victim, decoy = _victim_and_decoy(tmp_path, rng, bare=False)
    proc = run_cli("audit", str(victim), cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "core.worktree" in proc.stderr, proc.stderr
    assert str(decoy) in proc.stderr, proc.stderr  # where git would have looked
    assert "tvly-" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(("command", "bare"), [("scan", False), ("audit", True)])
def test_a_configured_work_tree_that_git_ignores_changes_nothing(
    tmp_path: Path, rng: random.Random, command: str, bare: bool
) -> None:
    """A work-tree scan reads the folder it is given, whatever the configuration says; a bare
    repository's core.worktree is ignored by git itself: both still find the key."""
    victim, _ = _victim_and_decoy(tmp_path, rng, bare=bare)
    code, report = run_json(command, str(victim), cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["config.env"], report


def _keyed(path: Path, rng: random.Random, name: str) -> Repo:
    """A repository whose one commit adds a key at ``name``."""
    repo = Repo(path)
    repo.write(name, f"TAVILY_API_KEY={tavily_current(rng)}\n")
    repo.commit("one")
    return repo


def test_a_configured_work_tree_outside_the_folder_asked_for_is_refused(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = _keyed(tmp_path / "repo", rng, "config.env")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    repo.git("config", "core.worktree", str(elsewhere))
    proc = run_cli("audit", str(repo.path), cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "outside" in proc.stderr, proc.stderr


def test_a_subfolder_and_a_symlinked_path_still_open_their_repository(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = _keyed(tmp_path / "repo", rng, "sub/config.env")
    link = tmp_path / "link"
    link.symlink_to(repo.path)
    for where in (repo.path / "sub", link, link / "sub"):
        code, report = run_json("audit", str(where), cwd=tmp_path)
        assert code == 1, (where, report)
        assert [f["path"] for f in report["findings"]] == ["sub/config.env"], where


@pytest.mark.parametrize("bare", [False, True])
def test_a_planted_commondir_cannot_send_the_audit_to_a_decoy(
    tmp_path: Path, rng: random.Random, bare: bool
) -> None:
    """From session 10's left-alone list: a `commondir` file in a repository's own git folder
    made git read another repository's objects and refs, so the audit read the decoy's clean
    history and passed while the key in the folder asked for went unread. Only a linked work
    tree's folder may hold one (the linked-worktree test above still passes)."""
    decoy = Repo(tmp_path / "decoy")
    decoy.commit("clean")
    victim = _keyed(tmp_path / "victim", rng, "config.env")
    git_dir = victim.path / ".git"
    if bare:
        victim.git("clone", "-q", "--bare", str(victim.path), str(tmp_path / "victim.git"))
        git_dir = tmp_path / "victim.git"
    (git_dir / "commondir").write_text(f"{decoy.path / '.git'}\n")
    target = git_dir if bare else victim.path
    proc = run_cli("audit", str(target), cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "commondir" in proc.stderr and "not one of its linked work trees" in proc.stderr
    assert "tvly-" not in proc.stdout + proc.stderr
    (git_dir / "commondir").unlink()
    code, report = run_json("audit", str(target), cwd=tmp_path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["config.env"], report


def test_a_repository_named_worktrees_inside_the_decoy_is_no_linked_work_tree(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by the review of that fix: the check looked at the parent folder's name alone,
    so a repository at `decoy/worktrees` with `commondir` = `../..` passed (exit 0, the
    decoy's clean history). A linked work tree's folder holds a `gitdir` file and no object
    store; a real linked work tree still audits."""
    decoy = Repo(tmp_path / "decoy")
    decoy.commit("clean")
    victim = _keyed(decoy.path / ".git" / "worktrees", rng, "config.env")
    (victim.path / ".git" / "commondir").write_text("../..\n")
    proc = run_cli("audit", str(victim.path), cwd=tmp_path)
    assert proc.returncode == 2 and "not one of its linked work trees" in proc.stderr, proc
    decoy.git("worktree", "add", "-q", str(tmp_path / "linked"))
    code, report = run_json("audit", str(tmp_path / "linked"), cwd=tmp_path)
    assert code == 0 and report["complete"], report
