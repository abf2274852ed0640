"""Commits that declare another encoding than UTF-8: `git log` shows them decoded, so a key
that is no key in the raw bytes (EBCDIC, UTF-7, ISO-2022-JP with escapes inside it) is
published plainly. Found by a review: exit 0 in `ci`, the audit, pre-push and pre-receive."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_json
from tests.gitrepo import Repo


def _iso2022(text: str) -> bytes:
    """ASCII with a do-nothing "switch to ASCII" escape after every 4 characters."""
    return b"\x1b(B".join(text[i : i + 4].encode() for i in range(0, len(text), 4))


def _utf7(text: str) -> bytes:
    """Every character in UTF-7's base64 form."""
    return b"+" + base64.b64encode(text.encode("utf-16-be")).rstrip(b"=") + b"-"


_ENCODINGS = {
    "IBM037": lambda text: text.encode("cp037"),
    "ISO-2022-JP": _iso2022,
    "UTF-7": _utf7,
}


def _encoded_commit(repo: Repo, encoding: str, message: bytes) -> str:
    """A commit on main's tip with ``message`` in ``encoding``, written as git writes one."""
    tree, parent = repo.git("write-tree").strip(), repo.head()
    headers = (
        f"tree {tree}\nparent {parent}\nauthor a <a@b> 1700000000 -0000\n"
        f"committer a <a@b> 1700000000 -0000\nencoding {encoding}\n\n"
    ).encode()
    return repo.git("hash-object", "-t", "commit", "-w", "--stdin", stdin=headers + message).strip()


@pytest.mark.parametrize("encoding", sorted(_ENCODINGS))
def test_a_key_git_log_shows_from_another_encoding_is_found(
    tmp_path: Path, rng: random.Random, encoding: str
) -> None:
    key = keys.tavily_current(rng)
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "hello\n")
    base = repo.commit("base")
    message = _ENCODINGS[encoding](f"deploy with {key}\n")
    assert key.encode() not in message
    commit = _encoded_commit(repo, encoding, message)
    # what git shows: the whole commit decoded (EBCDIC's headers too, so only raw shows it)
    assert key in repo.git("log", "-1", "--format=raw", commit)
    repo.git("update-ref", "refs/heads/main", commit)
    for args in (("ci", "--base", base, "--head", commit), ("audit", ".")):
        code, report = run_json(*args, cwd=repo.path)
        assert code == 1, (args, report)
        shown = f"(commit {commit[:12]} in {encoding}, as git log shows its message)"
        # EBCDIC's raw bytes are read as EBCDIC text too (detection): found twice
        assert shown in {f["path"] for f in report["findings"]}, report
        assert key not in str(report)


def test_an_encoding_python_cannot_decode_makes_the_scan_incomplete(
    tmp_path: Path, rng: random.Random
) -> None:
    """git decodes through iconv, which knows names Python does not (IBM1047 is EBCDIC):
    the raw bytes are scanned, and the scan says it could not read it as git shows it."""
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "hello\n")
    base = repo.commit("base")
    commit = _encoded_commit(repo, "IBM1047", f"{keys.sgai_uuid(rng)}\n".encode("cp037"))
    code, report = run_json("ci", "--base", base, "--head", commit, cwd=repo.path)
    assert code == 3, report
    (error,) = report["errors"]
    assert "IBM1047, which sgai-guard cannot decode" in error["message"], error


def test_utf8_and_ascii_compatible_declarations_add_nothing(
    tmp_path: Path, rng: random.Random
) -> None:
    """A key in a commit declaring ISO-8859-1 (ASCII as it is) is one finding, not two; and
    `encoding UTF-8` is no declaration."""
    key = keys.sgai_uuid(rng)
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "hello\n")
    base = repo.commit("base")
    latin = _encoded_commit(repo, "ISO-8859-1", f"d\xe9ploy {key}\n".encode("latin-1"))
    repo.git("update-ref", "refs/heads/main", latin)
    code, report = run_json("ci", "--base", base, "--head", latin, cwd=repo.path)
    assert code == 1, report
    assert {f["path"] for f in report["findings"]} == {
        f"(commit {latin[:12]} message)",
        f"(commit {latin[:12]} in ISO-8859-1, as git log shows its message)",
    }  # the raw bytes and git's view differ (the é), so both are read
    plain = _encoded_commit(repo, "utf-8", f"ship {key}\n".encode())
    code, report = run_json("ci", "--base", latin, "--head", plain, cwd=repo.path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == [f"(commit {plain[:12]} message)"]


@pytest.mark.parametrize("encoding", ["punycode", "unicode_escape", "idna"])
def test_a_codec_iconv_does_not_have_is_read_as_git_shows_it_raw(encoding: str) -> None:
    """Found by a review: `encoding punycode` made Python decode a 1 MB message for 100 s
    (quadratic), where git, knowing no such character set, shows its bytes; and an escape
    codec would make keys of text git never shows."""
    from sgai_guard.sources.messages import as_git_shows

    data = b"tree 0\nencoding " + encoding.encode() + b"\n\n" + b"\\x74vly-" + b"a" * 200_000
    shown = as_git_shows("0" * 40, data)
    assert (shown.text, shown.problem) == (None, None)


def test_a_commit_too_large_to_decode_is_said() -> None:
    from sgai_guard.sources.messages import DECODED_LIMIT, as_git_shows

    data = b"tree 0\nencoding IBM037\n\n" + b"\x40" * DECODED_LIMIT
    shown = as_git_shows("0" * 40, data)
    assert shown.text is None and shown.problem is not None and "too large" in shown.problem


def test_a_hostile_encoding_name_is_neither_decoded_nor_shown(rng: random.Random) -> None:
    """The name is the commit author's to write: escapes, a key, a codec lookup trick."""
    from sgai_guard.sources.messages import as_git_shows

    key = keys.tavily_current(rng)
    for name in (f"\x1b]0;{key}\x07".encode(), key.encode() + b"\xff", b"rot13"):
        shown = as_git_shows("0" * 40, b"tree 0\nencoding " + name + b"\n\nmsg\n")
        assert shown.text is None and shown.problem is not None, name
        assert key not in shown.path + shown.problem and "\x1b" not in shown.path
