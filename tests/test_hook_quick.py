"""The commit hook's quick path (sources/quick.py): it may only ever say "clean", it says it
exactly as the full scan would, and everything else goes the full way."""

from __future__ import annotations

import base64
import gzip
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgai_guard.detection.detect import Detector
from sgai_guard.detection.magic import magic
from sgai_guard.policy import configfile
from sgai_guard.sources import spawn
from sgai_guard.sources.hooks import hook_script
from sgai_guard.sources.quick import BLOB_LIMIT, KEYWORDS, could_hold_key
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo, git_env

# The hook as git runs it, and the full scan alone (the quick path skipped); each says on
# stderr whether the engine was loaded.
QUICK = (
    "import sys; from sgai_guard.entry import main; code = main(['hook', '--', *sys.argv[1:]]);"
    "print('engine' if 'sgai_guard.engine.scan' in sys.modules else 'quick', file=sys.stderr);"
    "raise SystemExit(code)"
)
FULL = (
    "import sys; from sgai_guard import hook;"
    "code = hook._full(hook._stage(set()), sys.argv[1:], set());"
    "print('engine', file=sys.stderr); raise SystemExit(code)"
)


def _run(
    code: str, repo: Repo, env: dict[str, str] | None = None, files: tuple[str, ...] = ()
) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *files],
        cwd=repo.path,
        env={**git_env(), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    path = proc.stderr.strip().rsplit("\n", 1)[-1]
    return proc.returncode, re.sub(r"in \d+\.\d\d s", "in T s", proc.stdout), path


def _both(repo: Repo, *files: str) -> tuple[int, str, str]:
    """The hook's exit code, report and path (with ``files``: as the pre-commit framework
    runs it); the full scan must agree on the first two."""
    quick = _run(QUICK, repo, files=files)
    full = _run(FULL, repo, files=files)
    assert quick[:2] == full[:2], (quick, full)
    return quick


def test_quick_keywords_cover_every_keyword_of_the_detector() -> None:
    """A blob holding any literal the prefilter looks for holds one of KEYWORDS."""
    for word in Detector()._keywords:
        assert any(quick in word for quick in KEYWORDS), word


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from([b"tvly-", b"sgai-", b"\xff\xfe", b"PK\x05\x06", b"\x1f\x8b", b"dev-"]),
            st.sampled_from([k[:n] for k in KEYWORDS for n in (3, len(k) - 1)]),
        ),
        max_size=12,
    ),
)
def test_what_the_screen_passes_holds_nothing(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    utf16 = data.decode("latin-1").encode("utf-16-le")
    for blob in (data, base64.b64encode(data), utf16, b"\xff\xfe" + utf16):
        if not could_hold_key(blob):
            assert magic(blob) is None and Detector().detect(blob) == [], blob


def test_clean_commits_take_the_quick_path_and_say_what_the_full_scan_says(
    tmp_path: Path,
) -> None:
    repo = Repo(tmp_path)
    repo.write("README.md", "hello\n")
    repo.commit("root")
    repo.write("a.py", "x = 1\n")
    repo.add("a.py")
    assert _both(repo) == (
        0,
        "Scanned 1 file (6 bytes) in T s: 0 blocking, 0 suppressed.\n",
        "quick",
    )
    repo.write("empty", b"")
    repo.write("bin.dat", bytes(range(256)) * 40)
    repo.write("run.sh", "#!/bin/sh\necho hi\n")
    (repo.path / "run.sh").chmod(0o755)
    (repo.path / "link").symlink_to("README.md")
    repo.write("README.md", "hello again\n")
    repo.add()
    code, report, path = _both(repo)
    assert (code, path) == (0, "quick") and report.startswith("Scanned 6 files (10.0 KiB)")
    code, report, path = _both(repo, "a.py", "link", "bin.dat")
    assert (code, path) == (0, "quick") and report.startswith("Scanned 3 files (10.0 KiB)")
    repo.write("conflict.txt", "ours\n")  # every stage of a conflicted file, as the full scan
    stages = [repo.git("hash-object", "-w", "--stdin", stdin=t).strip() for t in (b"a", b"b")]
    index = "".join(f"100644 {oid} {n}\tconflict.txt\n" for n, oid in enumerate(stages, 2))
    repo.git("update-index", "--index-info", stdin=index.encode())
    code, report, path = _both(repo, "conflict.txt", "a.py")
    assert (code, path) == (0, "quick") and report.startswith("Scanned 3 files (8 bytes)")


def test_named_files_the_index_does_not_hold_go_the_full_way(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    repo.write("pkg/a.py", "x = 1\n")
    repo.commit("root")
    repo.write("untracked.py", f"K = '{keys.sgai_uuid(rng)}'\n")
    for files, expected in (
        (("untracked.py",), 1),
        (("pkg",), 0),  # a folder: ls-files would list what it holds; the full scan says
        (("pkg/a.py", "gone.py"), 0),
        (("./pkg/a.py",), 0),
        (("pkg/*.py",), 3),  # a name, not a pattern: no such file, nothing scanned
    ):
        code, report, path = _both(repo, *files)
        assert (code, path) == (expected, "engine"), (files, report)
    assert _both(repo, "pkg/a.py")[0::2] == (0, "quick")


def test_anything_that_could_hold_a_key_goes_the_full_way(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    repo.write("README.md", "hello\n")
    repo.commit("root")
    key = keys.tavily_current(rng)
    cases: list[tuple[str, bytes, int]] = [
        ("key.env", f"K={key}\n".encode(), 1),
        ("docs.md", f"use {keys.placeholders()[0]}\n".encode(), 0),
        ("utf16.txt", f"K={key}\n".encode("utf-16"), 1),
        ("k.gz", gzip.compress(f"K={key}\n".encode()), 1),
        ("b64.txt", base64.b64encode(f"K={key}\n".encode()) + b"\n", 1),
        ("big.txt", b"x = 1\n" * (BLOB_LIMIT // 6 + 1), 0),
    ]
    for name, content, expected in cases:
        repo.write(name, content)
        repo.add(name)
        code, report, path = _both(repo)
        assert (code, path) == (expected, "engine"), (name, report)
        assert key not in report
        repo.git("rm", "-q", "--cached", name)
        (repo.path / name).unlink()


def test_configuration_nothing_staged_no_commit_and_submodules_go_the_full_way(
    tmp_path: Path,
) -> None:
    fresh = Repo(tmp_path / "fresh")
    fresh.write("a.py", "x = 1\n")
    fresh.add("a.py")
    assert _both(fresh)[0::2] == (0, "engine")  # no commit yet
    repo = Repo(tmp_path / "repo")
    repo.write("README.md", "hello\n")
    repo.commit("root")
    code, report, path = _both(repo)
    assert (code, path) == (0, "engine") and "nothing is staged" in report
    repo.git(
        "update-index",
        "--add",
        "--cacheinfo",
        f"160000,{repo.git('rev-parse', 'HEAD').strip()},sub",
    )
    assert _both(repo)[0::2] == (0, "engine")
    repo.git("rm", "-q", "--cached", "sub")
    repo.write(".sgai-guard.toml", "exclude-paths = [\n")  # invalid: the full scan says so
    repo.write("a.py", "x = 1\n")
    repo.add("a.py")
    code, _report, path = _both(repo)
    assert (code, path) == (2, "engine")


def test_real_commits_through_the_installed_hook(tmp_path: Path, rng: random.Random) -> None:
    """`git commit FILE` and `git commit -a` hand the hook a temporary index (GIT_INDEX_FILE):
    the quick path reads that one, as the full scan does."""
    repo = Repo(tmp_path)
    repo.write("a.py", "x = 1\n")
    repo.commit("root")
    assert run_cli("install-hook", cwd=repo.path).returncode == 0
    repo.write("a.py", "x = 2\n")
    repo.add("a.py")
    repo.write("a.py", f"K = '{keys.sgai_uuid(rng)}'\n")  # the key only in the work tree
    blocked = repo.attempt("commit", "--no-gpg-sign", "-m", "x", "a.py")
    assert blocked.returncode == 1 and "a.py:1:6" in blocked.stderr, blocked.stderr
    blocked = repo.attempt("commit", "--no-gpg-sign", "-am", "x")
    assert blocked.returncode == 1 and "a.py:1:6" in blocked.stderr, blocked.stderr
    passed = repo.attempt("commit", "--no-gpg-sign", "-m", "x")  # the index: clean
    assert passed.returncode == 0 and "Scanned 1 file (6 bytes)" in passed.stderr, passed.stderr


def test_installed_hook_never_imports_from_the_repository(
    tmp_path: Path, rng: random.Random
) -> None:
    """Git runs a hook at the top of the work tree; `python -m` or `-c` would put it first on
    sys.path, and a repository's own `sgai_guard/` or `enum.py` would run instead of us."""
    repo = Repo(tmp_path / "repo")
    marker = tmp_path / "pwned"
    planted = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    for name in ("sgai_guard/__init__.py", "sgai_guard/__main__.py", "enum.py", "typing.py"):
        repo.write(name, planted)
    for name in ("re.py", "select.py", "subprocess.py", "collections/__init__.py"):
        repo.write(name, planted)
    repo.commit("root")
    target = repo.path / ".git" / "hooks" / "pre-commit"
    target.write_text(hook_script(pre_push=False))  # what `sgai-guard install-hook` writes
    target.chmod(0o755)
    repo.write("ok.py", "x = 1\n")
    repo.add("ok.py")
    assert repo.attempt("commit", "--no-gpg-sign", "-m", "ok").returncode == 0
    repo.write("k.py", f"K = '{keys.tavily_current(rng)}'\n")
    repo.add("k.py")
    blocked = repo.attempt("commit", "--no-gpg-sign", "-m", "leak")
    assert blocked.returncode == 1 and "k.py:1:6" in blocked.stderr, blocked.stderr
    assert not marker.exists(), marker.read_text()


def test_a_stalled_git_on_the_quick_path_is_exit_3(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.py", "x = 1\n")
    repo.commit("root")
    repo.write("a.py", "x = 2\n")
    repo.add("a.py")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with (repo.path / ".git" / "config").open("a") as config:
        config.write(f"[include]\n\tpath = {fifo}\n")
    code, report, _ = _run(QUICK, repo, {"SGAI_GUARD_GIT_TIMEOUT": "1"})
    assert code == 3 and report == ""
    proc = run_cli("hook", cwd=repo.path, env={"SGAI_GUARD_GIT_TIMEOUT": "1"}, timeout=60)
    assert proc.returncode == 3 and "did not finish within 1 s" in proc.stderr, proc.stderr


def test_a_large_blob_is_never_read_whole_on_the_quick_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git is stopped once its output passes the limit: a 2 GB staged file costs the quick
    path nothing before the full scan reads it in pieces."""
    repo = Repo(tmp_path)
    oid = repo.git("hash-object", "-w", "--stdin", stdin=b"y" * (4 << 20)).strip()
    monkeypatch.chdir(repo.path)
    status, out = spawn.git(["cat-file", "--batch"], (), f"{oid}\n".encode(), limit=1 << 20)
    assert (status, out) == (-1, b"")
    status, out = spawn.git(["cat-file", "--batch"], (), f"{oid}\n".encode(), limit=8 << 20)
    assert status == 0 and out.startswith(f"{oid} blob {4 << 20}\n".encode())


def test_git_on_the_quick_path_starts_as_subprocess_would_start_it(tmp_path: Path) -> None:
    """No descriptor the hook was handed leaks into git, SIGPIPE is back at its default, and
    git runs in a process group of its own (a fake git on PATH reports what it got)."""
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\nls /proc/self/fd | tr '\\n' ' '\necho\ngrep SigIgn /proc/self/status\n"
        "ps -o pgid= -p $$\n"
    )
    fake.chmod(0o755)
    code = (
        "import os, sys; from sgai_guard.sources import spawn;"
        "status, out = spawn.git(['version'], ()); sys.stdout.write(out.decode());"
        "print(os.getpgrp())"
    )
    read, write = os.pipe()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**git_env(), "PATH": f"{fake.parent}:{os.environ['PATH']}"},
        pass_fds=(write,),
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    os.close(read)
    os.close(write)
    fds, ignored, group, ours = proc.stdout.split("\n")[:4]
    assert str(write) not in fds.split() and set(fds.split()) <= {"0", "1", "2", "3"}, fds
    assert int(ignored.split()[1], 16) & (1 << 12) == 0  # bit 13 - 1: SIGPIPE not ignored
    assert group.strip() != ours.strip()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["# a comment", "  \t# x", "", " ", "\r", "a = 1", "#\x01", "#\x7f"]),
            st.sampled_from(["\ufeff#", "# \x85", "#\t", "[x]", "# é", "#\r", "\x00"]),
            st.text(max_size=6),
        ),
        max_size=8,
    )
)
def test_a_configuration_that_says_nothing_is_an_empty_toml_document(lines: list[str]) -> None:
    import uuid

    import tomllib

    text = "\n".join(lines)
    folder = Path("/tmp") / f"says-nothing-{uuid.uuid4().hex}"
    folder.mkdir()
    path = folder / ".sgai-guard.toml"
    try:
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        if configfile.says_nothing(str(path)):
            assert tomllib.loads(text) == {}, text
    finally:
        path.unlink()
        folder.rmdir()


def test_the_commented_configuration_init_writes_keeps_the_quick_path(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.write("a.py", "x = 1\n")
    repo.commit("root")
    assert run_cli("init", ".", cwd=repo.path).returncode == 0
    repo.write("a.py", "x = 2\n")
    repo.add("a.py")
    assert _both(repo)[0::2] == (0, "quick")
    config = repo.path / ".sgai-guard.toml"
    text = config.read_text()
    for changed, expected in (
        (text.replace("# other-markers = true", "other-markers = true"), 0),
        (text + "# a control character: \x01\n", 2),
        ("\ufeff" + text, 2),
        (text.replace("# max-file-size", "max-file-size"), 0),
    ):
        config.write_text(changed)
        code, report, path = _both(repo)
        assert (code, path) == (expected, "engine"), (changed[-60:], report)
    config.unlink()
    repo.write("pyproject.toml", "[tool.sgai-guard]\n# nothing set\n")
    assert _both(repo)[0::2] == (0, "engine")


def test_file_names_are_names_never_pathspec_magic(tmp_path: Path, rng: random.Random) -> None:
    """`:s.txt`, `[a].txt` and `*.txt` name exactly those files (GIT_LITERAL_PATHSPECS): a key
    staged in `:s.txt` blocks although the work tree holds a clean copy, and `[a].txt` never
    brings `a.txt` along."""
    repo = Repo(tmp_path / "repo")
    for name in ("a.txt", "[a].txt", "*.txt", ":s.txt"):
        repo.write(name, "clean\n")
    repo.commit("root")
    literal = ("--literal-pathspecs", "add", "--")  # the test's own git: names, not magic
    repo.write(":s.txt", f"K={keys.sgai_uuid(rng)}\n")
    repo.git(*literal, ":s.txt")
    repo.write(":s.txt", "clean again\n")  # only the index holds the key
    code, report, _ = _both(repo, ":s.txt")
    assert code == 1 and ":s.txt:1:3" in report, report
    repo.git("--literal-pathspecs", "reset", "-q", "--", ":s.txt")
    repo.write("[a].txt", "x = 1\n")
    repo.git(*literal, "[a].txt")
    assert _both(repo, "[a].txt") == (
        0,
        "Scanned 1 file (6 bytes) in T s: 0 blocking, 0 suppressed.\n",
        "quick",
    )
    assert _both(repo, "*.txt")[:2] == (
        0,
        "Scanned 1 file (6 bytes) in T s: 0 blocking, 0 suppressed.\n",
    )


def test_a_scanned_folder_named_like_a_pattern_keeps_its_ignore_rules(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("[x]/.gitignore", "local.env\n")
    repo.write("[x]/app.py", "x = 1\n")
    repo.write("x/app.py", "x = 1\n")
    repo.commit("root")
    repo.write("[x]/local.env", f"K={keys.sgai_uuid(rng)}\n")  # ignored: never scanned
    proc = run_cli("scan", "[x]", cwd=repo.path)
    assert proc.returncode == 0 and "local.env" not in proc.stdout, proc.stdout


def test_a_renamed_key_is_already_committed_on_both_paths(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    repo.write("config.py", f"KEY = '{keys.sgai_uuid(rng)}'\n")
    repo.commit("root")
    repo.git("mv", "config.py", "settings.py")
    code, report, path = _both(repo)
    assert (code, path) == (0, "engine") and "0 blocking, 1 non-blocking" in report, report
    repo.write("settings.py", repo.path.joinpath("settings.py").read_text() + "X = 1\n")
    repo.write("new.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    repo.add("settings.py", "new.py")
    code, report, _ = _both(repo)
    assert code == 1 and "1 blocking, 1 non-blocking" in report and "new.py:1:8" in report


def test_a_key_hidden_undetected_in_head_is_new_at_commit(
    tmp_path: Path, rng: random.Random
) -> None:
    key = keys.tavily_current(rng)
    repo = Repo(tmp_path)
    repo.write("notes.txt", f"cache_id={key}_v2\n")
    repo.commit("root")
    repo.git("rm", "-q", "notes.txt")
    repo.write("app.py", f'TAVILY = "{key}"\n')
    repo.add("app.py")
    code, report, _ = _both(repo)
    assert code == 1 and "1 blocking" in report and "app.py:1:11" in report, report
