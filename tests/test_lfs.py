"""Git LFS: git stores a pointer, and the content goes to the LFS store when pushed. The hooks
and range scans read that content from the local store (sources.lfs); before, a key in a file
`filter=lfs` tracks went through every one of them (exit 0)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo
from tests.precommit import Project

# .ci/run installs git-lfs: there, a missing binary fails these tests rather than skip them
needs_git_lfs = pytest.mark.skipif(
    shutil.which("git-lfs") is None and not os.environ.get("CI"),
    reason="git-lfs is not installed (apt-get install git-lfs)",
)
_ATTRIBUTES = "*.ipynb filter=lfs diff=lfs merge=lfs -text\n"


def _use_lfs(repo: Repo) -> None:
    """git-lfs as `git lfs install --local` sets it up, for this repository only."""
    for name, value in (
        ("filter.lfs.process", "git-lfs filter-process"),
        ("filter.lfs.clean", "git-lfs clean -- %f"),
        ("filter.lfs.smudge", "git-lfs smudge -- %f"),
        ("filter.lfs.required", "true"),
    ):
        repo.git("config", name, value)
    _stage(repo, ".gitattributes", _ATTRIBUTES)


def _stage(repo: Repo, name: str, content: str | bytes) -> None:
    repo.write(name, content)
    repo.add(name)


def _notebook(key: str) -> str:
    return '{\n "cells": [],\n "metadata": {},\n "env": "TAVILY_API_KEY=' + key + '"\n}\n'


def _pointer(repo: Repo, content: bytes, *, store: bool = True) -> tuple[bytes, Path]:
    """A pointer as git-lfs writes it, and where the local store keeps its content (written
    there when ``store``), made by hand: the hostile cases need no git-lfs binary."""
    oid = hashlib.sha256(content).hexdigest()
    where = repo.path / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
    if store:
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_bytes(content)
    text = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(content)}\n"
    return text.encode(), where


@needs_git_lfs
def test_a_key_in_a_file_git_lfs_tracks_blocks_the_commit(
    project: Project, rng: random.Random
) -> None:
    _use_lfs(project.repo)
    key = keys.tavily_current(rng)
    _stage(project.repo, "analysis.ipynb", _notebook(key))
    staged = project.repo.git("cat-file", "-p", ":analysis.ipynb")
    assert staged.startswith("version https://git-lfs.github.com/spec/v1")  # git holds a pointer
    proc = project.git("commit", "--no-gpg-sign", "-m", "notebook")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "analysis.ipynb:4:" in out and key not in out  # the line in the file, not the pointer
    code, report = run_json("scan", "--staged", cwd=project.repo.path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["analysis.ipynb"]
    assert report["findings"][0]["line"] == 4


@needs_git_lfs
def test_a_key_the_lfs_file_already_held_does_not_block_an_edit(
    project: Project, rng: random.Random
) -> None:
    _use_lfs(project.repo)
    key = keys.sgai_uuid(rng)
    _stage(project.repo, "old.ipynb", _notebook(key))
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "old leak")
    _stage(project.repo, "old.ipynb", _notebook(key) + "\n")
    code, report = run_json("scan", "--staged", cwd=project.repo.path)
    assert code == 0 and [f["status"] for f in report["findings"]] == ["already-committed"]
    proc = project.git("commit", "--no-gpg-sign", "-m", "edit")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # rotate it; this commit did not add it


@needs_git_lfs
def test_a_pushed_lfs_key_is_refused_and_a_range_finds_it(
    project: Project, tmp_path: Path, rng: random.Random
) -> None:
    Repo(tmp_path / "remote.git", bare=True)
    project.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    _use_lfs(project.repo)
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "lfs")
    assert project.git("push", "--no-verify", "origin", "main").returncode == 0
    _stage(project.repo, "data/run.ipynb", _notebook(keys.tavily_current(rng)))
    project.git("commit", "--no-verify", "--no-gpg-sign", "-m", "leak")
    code, report = run_json("scan", "--range", "HEAD~1..HEAD", cwd=project.repo.path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["data/run.ipynb"]
    pushed = project.git("push", "origin", "main")
    assert pushed.returncode != 0 and "data/run.ipynb" in pushed.stdout + pushed.stderr


def test_a_pointer_whose_content_is_elsewhere_is_said_not_passed_silently(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    key = keys.tavily_current(rng)
    name = f"notes-{key}.ipynb"  # a name holding a key is shown redacted in the notice too
    pointer, _ = _pointer(repo, _notebook(key).encode(), store=False)
    _stage(repo, name, pointer)
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 0 and report["findings"] == []
    (notice,) = report["notices"]
    assert "1 Git LFS file(s)" in notice and "git lfs fetch" in notice and key not in notice
    text = run_cli("scan", "--staged", cwd=tmp_path)
    assert "Git LFS" in text.stdout + text.stderr and key not in text.stdout + text.stderr


def test_a_hand_written_pointer_and_store_are_read_under_every_hook_source(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    pointer, _ = _pointer(repo, f"line one\nKEY={keys.sgai_uuid(rng)}\n".encode())
    _stage(repo, "model.bin", pointer)
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("model.bin", 2)]
    named = run_cli("hook", "--", "model.bin", cwd=tmp_path)  # as pre-commit runs it
    assert named.returncode == 1 and "model.bin:2:" in named.stdout + named.stderr
    installed = run_cli("install-hook", cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    refused = repo.attempt("commit", "--no-gpg-sign", "-m", "model")
    assert refused.returncode == 1 and "model.bin:2:" in refused.stdout + refused.stderr


def test_a_symlink_or_fifo_in_the_store_is_never_followed_or_opened(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    outside = tmp_path / "outside.env"
    outside.write_text(f"KEY={keys.tavily_current(rng)}\n")
    link_pointer, link_at = _pointer(repo, b"linked", store=False)
    link_at.parent.mkdir(parents=True)
    link_at.symlink_to(outside)
    fifo_pointer, fifo_at = _pointer(repo, b"fifo", store=False)
    fifo_at.parent.mkdir(parents=True)
    os.mkfifo(fifo_at)
    repo.write("a.ipynb", link_pointer)
    repo.write("b.ipynb", fifo_pointer)
    repo.add("a.ipynb", "b.ipynb")
    proc = run_cli("scan", "--staged", "--format", "json", cwd=repo.path, timeout=60)
    assert proc.returncode == 3, proc.stdout + proc.stderr  # incomplete, never a hang
    errors = {e["path"]: e["message"] for e in json.loads(proc.stdout)["errors"]}
    assert set(errors) == {"a.ipynb", "b.ipynb"}
    assert "symbolic link" in errors["a.ipynb"] and "FIFO" in errors["b.ipynb"]


@pytest.mark.parametrize(
    "oid_line",
    [
        "oid sha256:../../../../outside.env",
        "oid sha256:" + "A" * 64,  # git-lfs writes lowercase hex only
        "oid sha256:" + "a" * 63,
        "oid sha512:" + "a" * 64,
    ],
)
def test_a_pointer_naming_anything_but_a_sha256_reads_nothing(
    tmp_path: Path, rng: random.Random, oid_line: str
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    (tmp_path / "outside.env").write_text(f"KEY={keys.tavily_current(rng)}\n")
    for name in ("A" * 64, "a" * 63, "a" * 64):  # where a lax reader would look
        at = repo.path / ".git" / "lfs" / "objects" / name[:2] / name[2:4] / name
        at.parent.mkdir(parents=True, exist_ok=True)
        at.write_text(f"KEY={keys.tavily_current(rng)}\n")
    _stage(repo, "p.ipynb", f"version https://git-lfs.github.com/spec/v1\n{oid_line}\nsize 9\n")
    code, report = run_json("scan", "--staged", cwd=repo.path)
    assert code == 0 and report["findings"] == [] and report["notices"] == []


def _variant(kind: str, oid: str, size: int) -> bytes:
    """Pointer spellings git-lfs reads (found by a review: each passed with exit 0)."""
    lines = [f"oid sha256:{oid}", f"size {size}"]
    url = "http://git-media.io/v/2" if kind == "git-media" else "https://git-lfs.github.com/spec/v1"
    text = "\n".join([f"version {url}", *lines]) + "\n"
    return {
        "crlf": text.replace("\n", "\r\n"),
        "leading newline": "\n" + text,
        "leading space": "  " + text,
        "git-media": text,
        "trailing newlines": text + "\n" * 1500,  # over 1024 bytes: git-lfs reads the first 1024
        "no final newline": text.rstrip("\n"),
    }[kind].encode()


@pytest.mark.parametrize(
    "kind",
    [
        "crlf",
        "leading newline",
        "leading space",
        "git-media",
        "trailing newlines",
        "no final newline",
    ],
)
def test_every_pointer_spelling_git_lfs_reads_is_followed(
    tmp_path: Path, rng: random.Random, kind: str
) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    content = f'{{\n  "k": "{keys.tavily_current(rng)}"\n}}\n'.encode()
    _, _ = _pointer(repo, content)
    oid = hashlib.sha256(content).hexdigest()
    _stage(repo, "v.ipynb", _variant(kind, oid, len(content)))
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1 and [(f["path"], f["line"]) for f in report["findings"]] == [("v.ipynb", 2)]
    hook = run_cli("hook", "--", "v.ipynb", cwd=tmp_path)  # the quick path lets it through
    assert hook.returncode == 1, hook.stdout + hook.stderr


@pytest.mark.parametrize("relative", [True, False])
def test_the_store_lfs_storage_names_is_read(
    tmp_path: Path, rng: random.Random, relative: bool
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    content = f"KEY={keys.sgai_uuid(rng)}\n".encode()
    pointer, default = _pointer(repo, content, store=False)
    storage = "elsewhere" if relative else str(tmp_path / "lfs-store")
    moved = Path(repo.path / ".git" / storage if relative else storage) / default.relative_to(
        repo.path / ".git" / "lfs"
    )
    moved.parent.mkdir(parents=True)
    moved.write_bytes(content)
    repo.git("config", "lfs.storage", storage)
    _stage(repo, "e.ipynb", pointer)
    code, report = run_json("scan", "--staged", cwd=repo.path)
    assert code == 1 and report["notices"] == [], report


def test_a_plain_key_is_never_vouched_for_by_what_the_store_holds(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: the store fills with whatever is `git add`ed, committed or not. A
    commit of a pointer (a hash only), then the key's file added and reset, made the key
    committed in plain text "already committed" (exit 0); it blocks, as before LFS was read."""
    repo = Repo(tmp_path)
    repo.commit("root")
    content = f'key = "{keys.tavily_current(rng)}"\n'.encode()
    pointer, _ = _pointer(repo, content)  # the object in the store, as `git add` + reset leave it
    _stage(repo, "notes.txt", pointer)
    repo.commit("a pointer")
    _stage(repo, "notes.txt", content)
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1 and [f["status"] for f in report["findings"]] == ["new"]
    repo.commit("plain")
    code, report = run_json("scan", "--range", "HEAD~1..HEAD", cwd=tmp_path)
    assert code == 1 and [f["status"] for f in report["findings"]] == ["new"]


def test_lfs_storage_is_read_as_git_lfs_reads_it(tmp_path: Path, rng: random.Random) -> None:
    """`~` is not expanded, only the first line counts, and `git -c` passes it on in the
    environment (found by a review: each let a key through)."""
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    content = f"KEY={keys.sgai_uuid(rng)}\n".encode()
    pointer, default = _pointer(repo, content, store=False)
    below = default.relative_to(repo.path / ".git" / "lfs")
    _stage(repo, "e.ipynb", pointer)
    for storage, where in (("~", ".git/~"), ("first\nsecond", ".git/first")):
        repo.git("config", "lfs.storage", storage)
        held = repo.path / where / below
        held.parent.mkdir(parents=True)
        held.write_bytes(content)
        code, report = run_json("scan", "--staged", cwd=repo.path)
        assert code == 1 and report["notices"] == [], storage
        held.unlink()
    repo.git("config", "--unset", "lfs.storage")
    held = tmp_path / "given" / below
    held.parent.mkdir(parents=True)
    held.write_bytes(content)
    for env in (
        {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "lfs.storage",
            "GIT_CONFIG_VALUE_0": str(tmp_path / "given"),
        },
        {"GIT_CONFIG_PARAMETERS": f"'lfs.storage'='{tmp_path / 'given'}'"},
    ):
        code, report = run_json("scan", "--staged", cwd=repo.path, env=env)
        assert code == 1 and report["notices"] == [], env
    broken = run_cli("scan", "--staged", cwd=repo.path, env={"GIT_CONFIG_PARAMETERS": "'bogus"})
    assert broken.returncode == 2, broken.stdout + broken.stderr  # a bad configuration, said


@needs_git_lfs
def test_an_earlier_version_not_in_the_store_is_said(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    _use_lfs(repo)
    repo.write("n.ipynb", _notebook(keys.tavily_current(rng)))
    old = repo.commit("key", "n.ipynb")
    repo.write("n.ipynb", _notebook(keys.tavily_current(rng)).replace("[]", "[1]", 1))
    repo.commit("edit", "n.ipynb")
    assert run_json("scan", "--range", f"{old}..HEAD", cwd=tmp_path)[0] == 1  # a new key
    earlier = pointed_oid(repo.git("cat-file", "-p", f"{old}:n.ipynb"))
    (tmp_path / ".git" / "lfs" / "objects" / earlier[:2] / earlier[2:4] / earlier).unlink()
    code, report = run_json("scan", "--range", f"{old}..HEAD", cwd=tmp_path)
    assert code == 1 and any("earlier version of 1 Git LFS file" in n for n in report["notices"])


def pointed_oid(pointer: str) -> str:
    return pointer.split("oid sha256:", 1)[1][:64]


@needs_git_lfs
def test_the_push_hook_runs_git_lfs_own_hook_after_its_check(
    tmp_path: Path, rng: random.Random
) -> None:
    """`git lfs install` writes a pre-push hook that uploads a push's LFS objects: replacing
    it (the only way before `--chain`) pushed pointers to objects the remote never got."""
    Repo(tmp_path / "remote.git", bare=True)
    repo = Repo(tmp_path / "work")
    repo.git("lfs", "install", "--local")
    repo.git("remote", "add", "origin", (tmp_path / "remote.git").as_uri())
    refused = run_cli("install-hook", "--pre-push", cwd=repo.path)
    assert refused.returncode == 2 and "--chain" in refused.stderr
    assert run_cli("install-hook", "--pre-push", "--chain", cwd=repo.path).returncode == 0
    assert run_cli("install-hook", "--pre-push", cwd=repo.path).returncode == 0  # stays chained
    repo.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
    repo.write("model.bin", os.urandom(2048))
    repo.add(".gitattributes", "model.bin")
    repo.git("commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "a model")
    pushed = repo.attempt("push", "origin", "main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "Scanned" in pushed.stdout + pushed.stderr  # sgai-guard checked it
    uploaded = list((tmp_path / "remote.git" / "lfs" / "objects").rglob("*"))
    assert any(path.is_file() for path in uploaded), "git-lfs's hook did not upload"
    repo.write("model.bin", os.urandom(2048))
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.add("model.bin", "k.env")
    repo.git("commit", "-q", "--no-verify", "--no-gpg-sign", "-m", "a key")
    before = {p for p in uploaded if p.is_file()}
    blocked = repo.attempt("push", "origin", "main")
    assert blocked.returncode != 0 and "k.env:1:3" in blocked.stdout + blocked.stderr
    after = {p for p in (tmp_path / "remote.git" / "lfs" / "objects").rglob("*") if p.is_file()}
    assert after == before  # nothing of a refused push was uploaded


def test_a_chained_commit_hook_runs_under_its_own_name_before_the_check(
    tmp_path: Path, rng: random.Random
) -> None:
    """It runs under its own name, as git ran it: husky's hook sources a file beside it that
    picks what to run from `basename "$0"`, and under the kept file's name ran nothing."""
    repo = Repo(tmp_path)
    repo.commit("root")
    hooks = repo.path / ".git" / "hooks"
    ran = tmp_path / "ran"
    (hooks / "pre-commit").write_text('#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n')
    (hooks / "pre-commit").chmod(0o755)
    (hooks / "h").write_text(f'echo "$(basename "$0") $#" >> \'{ran}\'\n')
    chained = run_cli("install-hook", "--chain", cwd=repo.path)
    assert chained.returncode == 0 and "to uninstall, move" in chained.stdout, chained.stdout
    assert (hooks / "pre-commit.sgai-guard-chained").is_file()
    again = run_cli("install-hook", cwd=repo.path)  # ours now: still chained
    assert again.returncode == 0 and "runs before the check" in again.stdout, again.stdout
    repo.write("k.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.add("k.env")
    assert repo.attempt("commit", "-q", "--no-gpg-sign", "-m", "key").returncode != 0
    repo.write("k.env", "K=none\n")
    repo.add("k.env")
    assert repo.attempt("commit", "-q", "--no-gpg-sign", "-m", "clean").returncode == 0
    assert ran.read_text() == "pre-commit 0\npre-commit 0\n"
    (hooks / "pre-commit.sgai-guard-chained").chmod(0o644)  # git would not run it: nor do we
    repo.write("k.env", "K=still none\n")
    repo.add("k.env")
    assert repo.attempt("commit", "-q", "--no-gpg-sign", "-m", "again").returncode == 0
    assert ran.read_text() == "pre-commit 0\npre-commit 0\n"


def test_what_a_chained_commit_hook_stages_is_checked(tmp_path: Path, rng: random.Random) -> None:
    """Found by a review: the kept hook ran after the check, and a formatter's `git add -u`
    staged a key the check never saw; it was committed."""
    repo = Repo(tmp_path)
    repo.write("config.env", "A=1\n")
    repo.commit("root")
    hooks = repo.path / ".git" / "hooks"
    (hooks / "pre-commit").write_text("#!/bin/sh\ngit add -u\n")
    (hooks / "pre-commit").chmod(0o755)
    assert run_cli("install-hook", "--chain", cwd=repo.path).returncode == 0
    repo.write("config.env", "A=2\n")
    repo.add("config.env")
    repo.write("config.env", f"A=2\nK={keys.tavily_current(rng)}\n")  # not staged
    refused = repo.attempt("commit", "-q", "--no-gpg-sign", "-m", "a")
    assert refused.returncode != 0 and "config.env:2:3" in refused.stdout + refused.stderr


def test_a_hook_left_behind_is_not_run_unasked(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    hooks = repo.path / ".git" / "hooks"
    left = hooks / "pre-commit.sgai-guard-chained"
    ran = tmp_path / "ran"
    left.write_text(f"#!/bin/sh\necho ran >> '{ran}'\n")
    left.chmod(0o755)
    installed = run_cli("install-hook", cwd=repo.path)
    assert installed.returncode == 0 and "is not run" in installed.stdout, installed.stdout
    repo.write("a.txt", "a\n")
    repo.add("a.txt")
    assert repo.attempt("commit", "-q", "--no-gpg-sign", "-m", "a").returncode == 0
    assert not ran.exists()


def test_a_hooks_path_ending_in_a_space_is_where_the_hook_goes(
    tmp_path: Path, rng: random.Random
) -> None:
    """`git rev-parse --git-path hooks` was stripped of the space: the hook went to `hooks`,
    git ran `hooks /pre-commit`, which was not there, and a key was committed."""
    repo = Repo(tmp_path)
    repo.commit("root")
    repo.git("config", "core.hooksPath", "hooks ")
    assert run_cli("install-hook", cwd=repo.path).returncode == 0
    assert (repo.path / "hooks " / "pre-commit").is_file()
    repo.write("k.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.add("k.env")
    assert repo.attempt("commit", "-q", "--no-gpg-sign", "-m", "key").returncode != 0


@pytest.mark.parametrize("kind", ["guarded", "linked", "returns"])
def test_a_chained_hook_still_does_its_own_work(tmp_path: Path, kind: str) -> None:
    """Found by a review: a bash hook run only when not sourced (its `BASH_SOURCE` guard)
    did nothing once sourced; a dispatcher linked under the hook's name ran under the kept
    file's name. Each still refuses the commit its own way, chained."""
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    hooks = repo.path / ".git" / "hooks"
    if kind == "guarded":
        (hooks / "pre-commit").write_text(
            '#!/bin/bash\nmain() { echo "refused by the kept hook" >&2; exit 1; }\n'
            'if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi\n'
        )
        (hooks / "pre-commit").chmod(0o755)
    elif kind == "returns":  # bash: a top-level return fails, and the script goes on
        (hooks / "pre-commit").write_text(
            '#!/bin/bash\necho "hook ${0##*/}"\nreturn 0 2>/dev/null\n'
            'echo "refused by the kept hook" >&2\nexit 1\n'
        )
        (hooks / "pre-commit").chmod(0o755)
    else:
        dispatch = tmp_path / "dispatch"
        dispatch.write_text(
            '#!/bin/sh\n[ "$(basename "$0")" = pre-commit ] || exit 0\n'
            'echo "refused by the kept hook" >&2\nexit 1\n'
        )
        dispatch.chmod(0o755)
        (hooks / "pre-commit").symlink_to(dispatch)
    assert repo.attempt("commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", "a").returncode
    assert run_cli("install-hook", "--chain", cwd=repo.path).returncode == 0
    refused = repo.attempt("commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", "b")
    assert refused.returncode != 0 and "refused by the kept hook" in refused.stderr
