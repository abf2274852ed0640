"""The hooks under the real pre-commit framework, and as plain git hooks, in every context."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from sgai_guard.sources import pushed as pushed_mod
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo
from tests.precommit import Project, framework_env


def _commit(project: Project, *extra: str) -> subprocess.CompletedProcess[str]:
    return project.git("commit", "--no-gpg-sign", "-m", "change", *extra)


def test_staged_key_deleted_from_work_tree_still_blocks(
    project: Project, rng: random.Random
) -> None:
    key = keys.tavily_current(rng)
    project.repo.write("app.py", f"KEY = '{key}'\n")
    project.repo.add("app.py")
    project.repo.write("app.py", "KEY = None\n")
    proc = _commit(project)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "app.py:1:8" in out and key not in out
    assert "TAVILY_API_KEY" in out
    # the framework runs the hook from its own environment: the hints name what works there
    assert "sgai-guard: allow <reason>" in out and "SKIP=sgai-guard git commit" in out
    assert "run: sgai-guard allow" not in out


def test_key_only_in_unstaged_edit_passes(project: Project, rng: random.Random) -> None:
    project.repo.write("app.py", "KEY = None\n")
    project.repo.add("app.py")
    project.repo.write("app.py", f"KEY = '{keys.sgai_uuid(rng)}'\n")
    proc = _commit(project)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_run_all_files_and_files_scan_those_files(project: Project, rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    project.repo.write("conf/settings.env", f"SGAI_API_KEY={key}\n")
    project.repo.write("clean.txt", "nothing here\n")
    project.repo.add()
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "sneaked past the hook")
    everything = project.pre_commit("run", "--all-files", "--hook-stage", "pre-commit")
    assert everything.returncode == 1, everything.stdout
    assert "conf/settings.env:1:14" in everything.stdout
    one = project.pre_commit("run", "--files", "clean.txt", "--hook-stage", "pre-commit")
    assert one.returncode == 0 and "Scanned 1 file" not in one.stdout  # quiet on success
    verbose = project.pre_commit("run", "--files", "clean.txt", "--verbose")
    assert "Scanned 1 file" in verbose.stdout
    manual = project.pre_commit("run", "sgai-guard", "--hook-stage", "manual", "--all-files")
    assert manual.returncode == 1


def test_commit_all_is_scanned(project: Project, rng: random.Random) -> None:
    project.repo.write("tracked.py", "x = 1\n")
    project.repo.add("tracked.py")
    assert _commit(project).returncode == 0
    project.repo.write("tracked.py", f"x = '{keys.tavily_legacy(rng)}'\n")
    proc = _commit(project, "-a")
    assert proc.returncode != 0 and "tracked.py:1:6" in proc.stdout + proc.stderr


def test_already_committed_key_does_not_block_unrelated_edit(
    project: Project, rng: random.Random
) -> None:
    key = keys.tavily_current(rng)
    project.repo.write("old.py", f"K = '{key}'\n")
    project.repo.add("old.py")
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "old leak")
    project.repo.write("old.py", f"K = '{key}'\nMORE = 1\n")
    project.repo.add("old.py")
    proc = _commit(project)
    assert proc.returncode == 0, proc.stdout  # rotate it, but this commit did not add it
    outside = project.pre_commit("run", "--files", "old.py")
    assert outside.returncode == 1 and "old.py:1:6" in outside.stdout  # outside a commit: blocks


def test_pre_push_scans_only_new_commits(
    project: Project, tmp_path: Path, rng: random.Random
) -> None:
    Repo(tmp_path / "remote.git", bare=True)
    project.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    old_key = keys.tavily_current(rng)
    project.repo.write("old.env", f"K={old_key}\n")
    project.repo.add("old.env")
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "old leak")
    first = project.git("push", "--no-verify", "origin", "main")
    assert first.returncode == 0, first.stderr
    project.git("checkout", "-q", "-b", "feature")
    project.repo.write("ok.txt", "fine\n")
    project.repo.add("ok.txt")
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "clean")
    clean = project.git("push", "origin", "feature")
    assert clean.returncode == 0, clean.stdout + clean.stderr  # main's old key is not new
    project.repo.write("new.env", f"K={keys.sgai_uuid(rng)}\n")
    project.repo.add("new.env")
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "new leak")
    blocked = project.git("push", "origin", "feature")
    assert blocked.returncode != 0
    out = blocked.stdout + blocked.stderr
    assert "new.env" in out and "old.env" not in out
    project.git("reset", "-q", "--hard", "HEAD~1")
    project.repo.write("other.txt", "rewritten\n")
    project.repo.add("other.txt")
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "rewritten")
    forced = project.git("push", "--force", "origin", "feature")
    assert forced.returncode == 0, forced.stdout + forced.stderr


def test_the_push_hook_run_by_hand_without_refs_is_no_pass(
    project: Project, tmp_path: Path, rng: random.Random
) -> None:
    """Found by a newcomer review: `pre-commit run --hook-stage pre-push` (a CI step, say)
    passed having scanned nothing. A push with nothing to push runs no hook in the
    framework, so without a push's refs the hook is being run by hand: exit 2, said."""
    Repo(tmp_path / "remote.git", bare=True)
    project.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    base = project.repo.head()
    project.repo.write("new.env", f"K={keys.sgai_uuid(rng)}\n")
    project.repo.add("new.env")
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "leak")
    for args in ((), ("--all-files",)):
        bare = project.pre_commit("run", "--hook-stage", "pre-push", *args)
        assert bare.returncode != 0 and "without the refs of a push" in bare.stdout, bare.stdout
    named = ("--from-ref", base, "--to-ref", "HEAD")
    blocked = project.pre_commit("run", "--hook-stage", "pre-push", *named)
    assert blocked.returncode == 1 and "new.env" in blocked.stdout, blocked.stdout
    project.git("reset", "-q", "--hard", base)
    pushed = project.git("push", "origin", "main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    again = project.git("push", "origin", "main")  # up to date: the framework runs nothing
    assert again.returncode == 0, again.stdout + again.stderr


def test_plain_git_hooks_installed_by_sgai_guard(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "plain")
    repo.commit("root")
    foreign = repo.path / ".git" / "hooks" / "pre-commit"
    foreign.write_text("#!/bin/sh\nexit 0\n")
    refused = run_cli("install-hook", cwd=repo.path)
    assert refused.returncode == 2 and "not installed by sgai-guard" in refused.stderr
    assert run_cli("install-hook", "--force", cwd=repo.path).returncode == 0
    assert run_cli("install-hook", cwd=repo.path).returncode == 0  # ours: replaced freely
    assert run_cli("install-hook", "--pre-push", cwd=repo.path).returncode == 0
    repo.write("a.py", f"K = '{keys.tavily_current(rng)}'\n")
    repo.add("a.py")
    blocked = repo.attempt("commit", "--no-gpg-sign", "-m", "x")
    assert blocked.returncode == 1 and "a.py:1:6" in blocked.stdout + blocked.stderr
    repo.write("a.py", "K = None\n")
    repo.write("b.py", "x = 1\n")
    ok = repo.attempt("commit", "--no-gpg-sign", "-am", "x")
    assert ok.returncode == 0, ok.stdout
    Repo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    assert repo.attempt("push", "-q", "origin", "main").returncode == 0
    repo.git("push", "-q", "origin", "main:doomed", "--no-verify")
    deleted = repo.attempt("push", "origin", "--delete", "doomed")
    assert deleted.returncode == 0
    assert "a deletion pushes no commits" in deleted.stdout + deleted.stderr


def test_try_repo_blocks_a_key_and_passes_clean(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path / "user")
    repo.commit("root")
    env = framework_env(pre_commit_home)

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo[0]), "sgai-guard"],
            cwd=repo.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    repo.write("key.py", f"K = '{keys.sgai_uuid(rng)}'\n")
    repo.add("key.py")
    blocked = try_repo()
    assert blocked.returncode == 1 and "key.py:1:6" in blocked.stdout
    repo.write("key.py", "K = os.environ['SGAI_API_KEY']\n")
    repo.add("key.py")
    clean = try_repo()
    assert clean.returncode == 0, clean.stdout


def test_a_renamed_or_moved_key_is_already_committed_at_commit_and_push(
    project: Project, tmp_path: Path, rng: random.Random
) -> None:
    """`git mv` of a file holding a pushed key, or moving the key to another file in the same
    commit, adds nothing new: git lists it as a deletion and an addition (the scan asks for no
    rename detection), so what the deleted paths held counts as already committed. A new key
    in the renamed file still blocks."""
    Repo(tmp_path / "remote.git", bare=True)
    project.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    old_key = keys.tavily_current(rng)
    project.repo.write("config.py", f"KEY = '{old_key}'\n")
    project.repo.add("config.py")
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "old leak")
    assert project.git("push", "--no-verify", "origin", "main").returncode == 0
    moved = project.git("mv", "config.py", "settings.py")
    assert moved.returncode == 0, moved.stderr
    renamed = _commit(project)
    assert renamed.returncode == 0, renamed.stdout + renamed.stderr
    project.git("rm", "-q", "settings.py")
    project.repo.write("app/keys.py", f"# moved\nKEY = '{old_key}'\n")
    project.repo.add("app/keys.py")
    relocated = _commit(project)
    assert relocated.returncode == 0, relocated.stdout + relocated.stderr
    pushed = project.git("push", "origin", "main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    project.git("mv", "app/keys.py", "app/secrets.py")
    project.repo.write("app/secrets.py", f"KEY = '{old_key}'\nNEW = '{keys.sgai_uuid(rng)}'\n")
    project.repo.add("app/secrets.py")
    blocked = _commit(project)
    out = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0 and "app/secrets.py:2:8" in out, out
    assert "1 blocking, 1 non-blocking" in out, out  # the moved old key does not block


def _fork(tmp_path: Path, rng: random.Random) -> Repo:
    """A fork of origin's main that adds a key in a commit of its own."""
    fork = Repo(tmp_path / "fork")
    fork.git("pull", "-q", str(tmp_path / "origin.git"), "main")
    fork.write("fork.env", f"K={keys.tavily_current(rng)}\n")
    fork.commit("fork leak")
    return fork


def _with_fork(tmp_path: Path, rng: random.Random) -> Repo:
    """A clone of origin that fetched a fork's branch adding a key (never on origin)."""
    Repo(tmp_path / "origin.git", bare=True)
    repo = Repo(tmp_path / "work")
    repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    repo.write("README.md", "project\n")
    repo.commit("root")
    assert repo.attempt("push", "-q", "origin", "main").returncode == 0
    fork = _fork(tmp_path, rng)
    repo.git("remote", "add", "fork", str(fork.path))
    repo.git("fetch", "-q", "fork")
    return repo


def test_pre_push_does_not_trust_another_remote(tmp_path: Path, rng: random.Random) -> None:
    """A key fetched from a fork's remote and merged into main was never on origin: pushing
    main there blocks (only origin's old value of main decides what is new)."""
    repo = _with_fork(tmp_path, rng)
    assert run_cli("install-hook", "--pre-push", cwd=repo.path).returncode == 0
    repo.git("merge", "-q", "--no-ff", "--no-gpg-sign", "-m", "merge fork", "fork/main")
    pushed = repo.attempt("push", "origin", "main")
    out = pushed.stdout + pushed.stderr
    assert pushed.returncode != 0 and "fork.env" in out, out


def test_a_new_branch_is_not_vouched_for_by_another_remotes_refs(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: a new branch's commits were judged against every remote-tracking
    ref, so a branch made from a fork's (or a private backup's) commits went to origin
    unscanned. git tells a pre-push hook the remote: only its refs vouch now, whether the
    push names the remote or its URL; a URL no remote has gets every commit scanned."""
    repo = _with_fork(tmp_path, rng)
    assert run_cli("install-hook", "--pre-push", cwd=repo.path).returncode == 0
    repo.git("branch", "feature", "fork/main")
    pushed = repo.attempt("push", "origin", "feature")
    out = pushed.stdout + pushed.stderr
    assert pushed.returncode != 0 and "fork.env" in out, out
    by_url = repo.attempt("push", str(tmp_path / "origin.git"), "feature")
    assert by_url.returncode != 0 and "fork.env" in by_url.stdout + by_url.stderr
    repo.git("branch", "clean", "main")  # all of it on origin already: nothing to scan
    assert repo.attempt("push", "origin", "clean").returncode == 0
    assert repo.attempt("push", str(tmp_path / "origin.git"), "clean").returncode == 0
    Repo(tmp_path / "elsewhere.git", bare=True)
    elsewhere = repo.attempt("push", str(tmp_path / "elsewhere.git"), "clean")
    assert elsewhere.returncode == 0 and "no configured remote has" in elsewhere.stdout
    assert repo.attempt("push", "fork", "feature").returncode == 0  # the fork has it


def test_only_the_remotes_own_refs_vouch_whatever_its_name_or_push_url(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by the attacker review of that fix: `--remotes=NAME` is a glob, so a fork's
    remote named `origin/alice` (refs/remotes/origin/alice/*) vouched for pushes to origin;
    a remote that pushes elsewhere than it fetches from vouched with refs of another
    repository; and a hook written before the fix was silently told nothing."""
    repo = _with_fork(tmp_path, rng)
    repo.git("remote", "rename", "fork", "origin/alice")
    assert run_cli("install-hook", "--pre-push", cwd=repo.path).returncode == 0
    repo.git("branch", "--no-track", "feature", "origin/alice/main")
    nested = repo.attempt("push", "origin", "feature")
    assert nested.returncode != 0 and "fork.env" in nested.stdout + nested.stderr
    repo.git("remote", "add", "mirror", str(tmp_path / "fork"))
    repo.git("remote", "set-url", "--push", "mirror", str(tmp_path / "origin.git"))
    repo.git("fetch", "-q", "mirror")
    elsewhere = repo.attempt("push", "mirror", "feature")
    out = elsewhere.stdout + elsewhere.stderr
    assert elsewhere.returncode != 0 and "fork.env" in out, out
    assert "pushes to another repository than it fetches from" in out
    origin_path = str(tmp_path / "origin.git")  # fetched as file://..., pushed to as a path
    repo.git("remote", "set-url", "origin", f"file://{origin_path}")
    repo.git("config", f"url.{origin_path}.pushInsteadOf", f"file://{origin_path}")
    repo.git("branch", "clean-too", "main")
    same = repo.attempt("push", "origin", "clean-too")
    assert same.returncode == 0 and "pushes to another repository" not in same.stdout, same.stdout
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.write_text(hook.read_text().replace(' -- "$@"', ""))  # as older versions wrote it
    repo.git("branch", "clean", "main")
    untold = repo.attempt("push", "origin", "clean")
    assert untold.returncode == 0 and "run `sgai-guard install-hook --pre-push` again" in (
        untold.stdout
    )


def test_a_new_branch_from_a_forks_commits_blocks_under_the_framework(
    project: Project, tmp_path: Path, rng: random.Random
) -> None:
    """The same through the pre-commit framework: it works out a new branch's first new
    commit against the pushed-to remote's refs itself (PRE_COMMIT_FROM_REF), and the hook
    scans from there (this blocked before the fix too; it guards the framework's path)."""
    Repo(tmp_path / "origin.git", bare=True)
    project.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    project.repo.write("README.md", "project\n")
    project.repo.add("README.md")
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "root")
    assert project.git("push", "--no-verify", "-q", "origin", "main").returncode == 0
    fork = _fork(tmp_path, rng)
    project.git("remote", "add", "fork", str(fork.path))
    project.git("fetch", "-q", "fork")
    project.git("branch", "feature", "fork/main")
    pushed = project.git("push", "origin", "feature")
    out = pushed.stdout + pushed.stderr
    assert pushed.returncode != 0 and "fork.env" in out, out


@pytest.mark.parametrize(
    ("fetched", "pushed", "same"),
    [
        ("https://github.com/o/r", "git@github.com:o/r.git", True),
        ("https://GitHub.com/o/r.git/", "ssh://git@github.com:22/o/r", True),
        ("file:///srv/r.git", "/srv/r.git", True),
        ("https://github.com/o/r", "git@github.com:o/fork.git", False),
        ("https://github.com/o/r", "https://gitlab.com/o/r", False),
        ("/srv/r.git", "/srv/r", False),
    ],
)
def test_which_repository_a_url_names(fetched: str, pushed: str, same: bool) -> None:
    """A remote fetching over https and pushing over ssh (url.*.pushInsteadOf, a common
    setup) still vouches: its URLs name one repository."""
    assert (pushed_mod._repository(fetched) == pushed_mod._repository(pushed)) is same


def _pushing(tmp_path: Path) -> Repo:
    """A repository with sgai-guard's plain pre-push hook and a remote that has its main."""
    repo = Repo(tmp_path / "plain")
    repo.commit("root")
    assert run_cli("install-hook", "--pre-push", cwd=repo.path).returncode == 0
    Repo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    assert repo.attempt("push", "-q", "origin", "main").returncode == 0
    return repo


@pytest.mark.parametrize("odd", ["\u00a0", "\u2028", "\u0085"])
def test_pre_push_scans_a_branch_whose_name_holds_unicode_space_or_a_line_break(
    tmp_path: Path, rng: random.Random, odd: str
) -> None:
    """git allows a no-break space, U+2028 or NEL in a ref name; the hook split its input
    lines with str.split() and splitlines(), which cut there: the update had five fields, and
    the push was let through unscanned."""
    repo = _pushing(tmp_path)
    branch = f"feature{odd}x"
    repo.git("checkout", "-q", "-b", branch)
    repo.write("new.env", f"K={keys.tavily_current(rng)}\n")
    repo.add("new.env")
    repo.git("commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "leak")
    blocked = repo.attempt("push", "origin", branch)
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert "new.env" in blocked.stdout + blocked.stderr


@pytest.mark.parametrize("source", [":/add search", "main^{/add search}"])
def test_pre_push_scans_a_push_whose_source_holds_spaces(
    tmp_path: Path, rng: random.Random, source: str
) -> None:
    """Found by an attacker review: git gives the source the user typed as the local ref,
    spaces included; the hook took the line for malformed, said no ref was pushed, and the
    push went through unscanned (exit 0)."""
    repo = _pushing(tmp_path)
    repo.write("search.env", f"K={keys.tavily_current(rng)}\n")
    repo.add("search.env")
    repo.git("commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "add search feature")
    blocked = repo.attempt("push", "origin", f"{source}:refs/heads/b")
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert "search.env" in blocked.stdout + blocked.stderr


@pytest.mark.parametrize(
    "line", ["refs/heads/a 1234 refs/heads/a 5678", "only three fields", "x" * 300]
)
def test_pre_push_input_it_cannot_read_stops_the_push(tmp_path: Path, line: str) -> None:
    """A line of git's input the hook cannot read is an error (exit 2), never a pass."""
    repo = Repo(tmp_path / "plain")
    repo.commit("root")
    proc = run_cli("hook", "--pre-push", cwd=repo.path, stdin=f"{line}\n".encode())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is not `<local ref> <sha> <remote ref> <sha>`" in proc.stderr


def test_a_staged_symlink_whose_target_is_a_key_blocks_under_pre_commit(
    project: Project, rng: random.Random
) -> None:
    """Found by an attacker review: the manifest's `types: [file]` left symlinks out (identify
    tags them `symlink` only), so pre-commit never passed one to the hook, and a symlink whose
    target text is a key was committed. The plain hook blocked it all along."""
    key = keys.tavily_current(rng)
    (project.repo.path / "link").symlink_to(f"{key}")
    project.repo.add("link")
    proc = _commit(project)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "link:1" in proc.stdout + proc.stderr
    assert key not in proc.stdout + proc.stderr


def test_refs_pushed_together_say_each_finding_once(tmp_path: Path, rng: random.Random) -> None:
    """Two refs pushed at once share their commits: each range found the key in them, and the
    hook listed every finding twice ("2 findings", "2 blocking", "from 2 commits" for one
    key in one commit). A key at two places is still two findings, and the push still
    stops."""
    repo = _pushing(tmp_path)
    key = keys.tavily_current(rng)
    repo.write("a.env", f"K={key}\n")
    repo.add("a.env")
    repo.git("commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "leak")
    repo.git("branch", "b1")
    repo.write("b.env", f"K={key}\n")
    repo.add("b.env")
    repo.git("commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "again")
    repo.git("branch", "b2")
    repo.git("tag", "v1", "b1")
    blocked = repo.attempt("push", "origin", "b1", "b2", "v1")
    out = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, out
    assert out.count("a.env:1:3 (commit") == 1 and out.count("b.env:1:3 (commit") == 1, out
    assert "1 distinct key (2 findings)" in out and "from 2 commits" in out, out
    assert "2 blocking" in out and key not in out
