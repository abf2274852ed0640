"""The server-side hook: a real `git push` to a bare repository whose pre-receive hook is
sgai-guard, reading the pushed objects from git's quarantine."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo, git_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sgai-guard` on PATH, as `pip install sgai-guard` leaves it for the server's user."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def _readme_block() -> str:
    """The README's command that writes the hook (run in the bare repository)."""
    readme = (ROOT / "README.md").read_text()
    body = readme.split("cat > hooks/pre-receive <<HOOK\n", 1)[1].split("HOOK\n", 1)[0]
    return f"cat > hooks/pre-receive <<HOOK\n{body}HOOK\n"


def _server(root: Path, *flags: str) -> Repo:
    """A bare repository with the hook installed exactly as the README says."""
    server = Repo(root / "server.git", bare=True)
    server.git("config", "receive.advertisePushOptions", "true")
    hook = server.path / "hooks" / "pre-receive"
    subprocess.run(["sh", "-c", _readme_block()], cwd=server.path, check=True)
    script = hook.read_text()
    # the absolute path was written in (a newcomer review: git's PATH lacks a venv's bin)
    assert script.endswith(f'exec "{shutil.which("sgai-guard")}" hook --pre-receive\n'), script
    hook.write_text(script.rstrip("\n") + "".join(f" {flag}" for flag in flags) + "\n")
    hook.chmod(0o755)
    return server


def _client(root: Path, server: Repo) -> Repo:
    client = Repo(root / "client")
    client.git("remote", "add", "origin", server.path.as_uri())
    client.write("README.md", "project\n")
    client.commit("root")
    return client


def _push(client: Repo, *args: str) -> tuple[int, str]:
    proc = client.attempt("push", "origin", *args)
    return proc.returncode, proc.stdout + proc.stderr


def test_key_rejected_then_accepted_once_removed(tmp_path: Path, rng: random.Random) -> None:
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    key = keys.tavily_current(rng)
    client.write("app/settings.py", f"TAVILY_API_KEY = '{key}'\n")
    leaky = client.commit("add settings")
    code, out = _push(client, "main")
    assert code != 0 and "pre-receive hook declined" in out, out
    assert "remote:" in out and "app/settings.py:1" in out and key not in out
    assert "tvly-" in out and "Revoke" in out
    assert leaky[:12] in out and "git commit --amend" in out  # the commits to fix, and how
    assert "This server allows no bypass" in out
    assert server.git("rev-parse", "main").strip() != leaky
    client.write("app/settings.py", "import os\nTAVILY_API_KEY = os.environ['TAVILY_API_KEY']\n")
    client.add("app/settings.py")
    client.git("commit", "-q", "--amend", "--no-gpg-sign", "--no-edit")
    code, out = _push(client, "main")
    assert code == 0, out  # the amended commit's objects were read from the quarantine
    assert server.git("rev-parse", "main").strip() == client.head()


def test_new_branch_scans_only_what_no_ref_has(tmp_path: Path, rng: random.Random) -> None:
    bare = Repo(tmp_path / "server.git", bare=True)  # history from before the hook
    client = _client(tmp_path, bare)
    key = keys.sgai_uuid(rng)
    client.write("old.env", f"SGAI_API_KEY={key}\n")
    client.commit("old leak, revoked long ago")
    assert _push(client, "main")[0] == 0
    _server(tmp_path)  # now install the hook on the same repository
    client.git("checkout", "-q", "-b", "topic")
    client.write("new.py", "x = 1\n")
    client.commit("clean work")
    code, out = _push(client, "topic")
    assert code == 0, out  # the old key is on main already: not this push's doing
    client.git("tag", "-a", "-m", "release", "v1", "HEAD~1")
    assert _push(client, "v1")[0] == 0  # a tag of existing commits adds nothing
    client.write("new.env", f"SGAI_API_KEY={keys.sgai_uuid(rng)}\n")
    client.commit("new leak")
    client.git("tag", "-a", "-m", "release", "v2")
    code, out = _push(client, "v2")
    assert code != 0 and "new.env:1" in out and "old.env" not in out, out


def test_deleting_a_branch_is_accepted(tmp_path: Path) -> None:
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    client.git("branch", "gone")
    assert _push(client, "main", "gone")[0] == 0
    code, out = _push(client, "--delete", "gone")
    assert code == 0, out


@pytest.mark.parametrize("allowed", [True, False])
def test_bypass_by_push_option_is_logged(tmp_path: Path, rng: random.Random, allowed: bool) -> None:
    server = _server(tmp_path, *(("--allow-bypass",) if allowed else ()))
    client = _client(tmp_path, server)
    key = keys.tavily_current(rng)
    client.write("demo.py", f"KEY = '{key}'\n")
    client.commit("demo")
    code, out = _push(client, "-o", "sgai-guard.skip", "main")
    assert code != 0 and "needs a reason" in out if allowed else "no bypass" in out, out
    reason = "revoked demo key \x1b[31m for the talk"
    code, out = _push(client, "-o", f"sgai-guard.skip={reason}", "main")
    log = server.path / "sgai-guard-bypass.log"
    if not allowed:
        assert code != 0 and "is ignored" in out and not log.exists(), out
        return
    assert code == 0 and "BYPASSED" in out, out
    assert "\x1b" not in out and key not in out
    [entry] = [json.loads(line) for line in log.read_text().splitlines()]
    assert "\x1b" not in entry["reason"] and "revoked demo key" in entry["reason"]
    assert entry["pusher"] and entry["refs"][0].startswith("refs/heads/main")
    [finding] = entry["findings"]
    assert finding["path"] == "demo.py" and key not in log.read_text()


def test_readme_install_is_what_the_tests_install() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "receive.advertisePushOptions true" in readme
    assert "custom_hooks/pre-receive.d" in readme and "hooks/pre-receive.d" in readme


def test_hostile_ref_and_file_names_are_escaped(tmp_path: Path, rng: random.Random) -> None:
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    branch = "x\u202egnp.exe"  # reverses the text after it in a terminal
    name = "a\u202ecod.py"
    client.write(name, f"KEY = '{keys.tavily_current(rng)}'\n")
    client.commit("hostile names")
    code, out = _push(client, f"HEAD:refs/heads/{branch}")
    assert code != 0 and "pre-receive hook declined" in out, out
    remote = [line for line in out.splitlines() if line.startswith("remote:")]
    assert remote and not any("\u202e" in line for line in remote)
    assert any("\\u202e" in line for line in remote)  # shown, escaped


def test_an_inline_marker_in_pushed_content_allows_nothing(
    tmp_path: Path, rng: random.Random
) -> None:
    """The pusher writes the markers: on the server they count for nothing (the bypass is the
    logged push option, when the server allows one)."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    key = keys.tavily_current(rng)
    client.write("s.py", f"K = '{key}'  # sgai-guard: allow it is fine, trust me\n")
    client.commit("marked")
    code, out = _push(client, "main")
    assert code != 0 and "s.py:1" in out and key not in out, out
    assert not (server.path / "sgai-guard-bypass.log").exists()


def test_keys_in_commit_and_tag_messages_are_rejected(tmp_path: Path, rng: random.Random) -> None:
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    key = keys.tavily_current(rng)
    client.git("commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", f"deploy with {key}")
    code, out = _push(client, "main")
    assert code != 0 and "message)" in out and key not in out, out
    client.git("reset", "-q", "--hard", "HEAD~1")
    client.git("tag", "-a", "-m", f"release notes: TAVILY_API_KEY={keys.tavily_current(rng)}", "v9")
    code, out = _push(client, "v9")
    assert code != 0 and "(tag " in out, out


def test_merging_a_branch_the_server_has_sends_nothing_new(
    tmp_path: Path, rng: random.Random
) -> None:
    """A key the server already holds on another branch (pushed before the hook was there)
    is not new when main merges that branch: only commits no server ref has are scanned."""
    server = Repo(tmp_path / "server.git", bare=True)
    client = _client(tmp_path, server)
    client.git("checkout", "-q", "-b", "old")
    client.write("old.env", f"K={keys.tavily_current(rng)}\n")
    client.commit("old leak")
    client.git("checkout", "-q", "main")
    assert _push(client, "main", "old")[0] == 0  # no hook yet
    hooked = _server(tmp_path / "again")  # the README's hook, copied into the real server
    (server.path / "hooks" / "pre-receive").write_bytes(
        (hooked.path / "hooks" / "pre-receive").read_bytes()
    )
    (server.path / "hooks" / "pre-receive").chmod(0o755)
    client.write("app.py", "x = 1\n")
    client.commit("work")
    client.git("merge", "-q", "--no-ff", "--no-gpg-sign", "-m", "merge old", "old")
    code, out = _push(client, "main")
    assert code == 0, out
    client.write("new.env", f"K={keys.sgai_uuid(rng)}\n")
    client.commit("new leak")
    code, out = _push(client, "main")
    assert code != 0 and "new.env" in out and "old.env" not in out, out


def test_a_merge_listing_a_name_twice_still_shows_its_new_key(
    tmp_path: Path, rng: random.Random
) -> None:
    """A hand-made merge tree lists `k.txt` twice (git itself never writes one): it appears
    twice in the diff against each parent, and a key that is in neither parent still blocks."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    client.git("checkout", "-q", "-b", "side")
    client.write("s.txt", "side\n")
    client.commit("side")
    client.git("checkout", "-q", "main")
    assert _push(client, "main", "side")[0] == 0
    base = client.git("rev-parse", "main:README.md").strip()
    side = client.git("rev-parse", "side:s.txt").strip()
    key = client.git(
        "hash-object", "-w", "--stdin", stdin=f"TAVILY={keys.tavily_current(rng)}\n".encode()
    ).strip()
    entries = [("README.md", base), ("k.txt", key), ("k.txt", key), ("s.txt", side)]
    raw = b"".join(b"100644 " + n.encode() + b"\0" + bytes.fromhex(o) for n, o in entries)
    tree = client.git(
        "hash-object", "-t", "tree", "-w", "--stdin", "--literally", stdin=raw
    ).strip()
    merge = client.git("commit-tree", tree, "-p", "main", "-p", "side", "-m", "evil").strip()
    code, out = _push(client, f"{merge}:refs/heads/evil")
    assert code != 0 and "k.txt" in out, out


def test_refs_the_platform_writes_vouch_for_nothing(tmp_path: Path, rng: random.Random) -> None:
    """A hosting platform writes refs/pull/* without running the hook: a commit only such a ref
    holds is new when a branch merges it."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    client.git("checkout", "-q", "-b", "pr")
    client.write("leak.env", f"K={keys.sgai_uuid(rng)}\n")
    client.commit("pr")
    pr = client.git("rev-parse", "HEAD").strip()
    client.git(
        "push", "-q", "--no-verify", server.path.as_uri(), "pr:refs/heads/tmp-pr", check=False
    )
    client.git("checkout", "-q", "main")
    # as a platform does it: the ref written straight into the server, no hook involved
    client.git("push", "-q", "--no-verify", "origin", check=False)
    server.git("fetch", "-q", str(client.path), f"{pr}:refs/pull/1/head")
    client.git("merge", "-q", "--no-ff", "--no-gpg-sign", "-m", "merge pr", "pr")
    code, out = _push(client, "main")
    assert code != 0 and "leak.env" in out, out


def test_keys_in_a_commits_headers_and_an_inner_tags_message_are_found(
    tmp_path: Path, rng: random.Random
) -> None:
    """Published with the objects, so scanned: an author name, a header a hand-made commit
    carries, and the message of a tag that another tag points at."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    env = {**git_env(), "GIT_AUTHOR_NAME": keys.tavily_current(rng)}  # the author's "name"
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", "clean"],
        cwd=client.path,
        env=env,
        check=True,
    )
    code, out = _push(client, "main")
    assert code != 0 and "headers)" in out, out
    client.git("reset", "-q", "--hard", "origin/main")
    client.git("tag", "-a", "inner", "-m", f"note {keys.sgai_uuid(rng)}")
    client.git("tag", "-a", "outer", "-m", "clean", "inner")
    code, out = _push(client, "refs/tags/outer")
    assert code != 0 and "message)" in out, out


@pytest.mark.parametrize("odd", ["\u00a0", "\u2028", "\u0085"])
def test_a_branch_whose_name_holds_unicode_space_or_a_line_break_is_scanned(
    tmp_path: Path, rng: random.Random, odd: str
) -> None:
    """git's `old new ref` lines were split with splitlines(), which cuts at U+2028 and NEL:
    the commits were still scanned, but the ref was named by half its name."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    branch = f"feature{odd}x"
    client.git("checkout", "-q", "-b", branch)
    client.write("new.env", f"K={keys.tavily_current(rng)}\n")
    client.commit("leak")
    code, out = _push(client, branch)
    assert code != 0 and "pre-receive hook declined" in out, out
    assert "new.env" in out
    assert branch not in server.git("for-each-ref", "--format=%(refname)")


def test_input_the_hook_cannot_read_rejects_the_push(tmp_path: Path) -> None:
    """A line of git's input the hook cannot read is an error (exit 2): the push is refused,
    never let through unscanned."""
    server = Repo(tmp_path / "server.git", bare=True)
    line = "0" * 40 + " not-an-id refs/heads/main\n"
    proc = run_cli("hook", "--pre-receive", cwd=server.path, stdin=line.encode())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is not `<sha> <sha> <ref>`" in proc.stderr


def test_an_inner_tag_named_in_capitals_is_followed(tmp_path: Path, rng: random.Random) -> None:
    """Found by an attacker review: git reads a tag's `object` id in either case, but the
    chain of tags stopped at one written in capitals, and the inner tag's key was pushed."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    client.git("tag", "-a", "--no-sign", "inner", "-m", f"note {keys.sgai_uuid(rng)}")
    inner = client.git("rev-parse", "inner").strip()
    body = (
        f"object {inner.upper()}\ntype tag\ntag outer\ntagger A <a@example.invalid> 1 +0000\n\nx\n"
    )
    outer = client.git(
        "hash-object", "-t", "tag", "-w", "--literally", "--stdin", stdin=body.encode()
    )
    client.git("update-ref", "refs/tags/outer", outer.strip())
    client.git("tag", "-d", "inner")
    code, out = _push(client, "refs/tags/outer")
    assert code != 0 and f"(tag {inner[:12]} message)" in out, out


def test_a_tag_of_a_blob_is_refused_and_said(tmp_path: Path, rng: random.Random) -> None:
    """Found by an attacker review: the hook stopped with exit 2 ("unknown revision") on a
    tag of a blob; it still refuses the push, now saying why, with the tag's message read."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    blob = client.git("hash-object", "-w", "--stdin", stdin=b"data\n").strip()
    client.git("tag", "-a", "--no-sign", "blobtag", blob, "-m", f"k {keys.sgai_uuid(rng)}")
    code, out = _push(client, "refs/tags/blobtag")
    assert code != 0 and "leads to a blob, not a commit" in out, out
    assert "message)" in out, out  # the tag's own message was scanned, and blocks
    client.git("tag", "lightweight", blob)
    code, out = _push(client, "refs/tags/lightweight")
    assert code != 0 and "leads to a blob, not a commit" in out, out


def test_the_advice_for_a_key_in_a_tags_message_is_to_make_the_tag_again(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: a tag's message was attributed to no commit, and the
    advice was to amend 'the pushed commits'."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    client.git("tag", "-a", "--no-sign", "rel", "-m", f"note {keys.sgai_uuid(rng)}")
    code, out = _push(client, "refs/tags/rel")
    assert code != 0 and "delete the tag (`git tag -d <name>`)" in out, out
    assert "git commit --amend" not in out, out  # the tag's fix alone (a newcomer review)


def test_a_history_rewritten_to_drop_a_key_can_be_force_pushed(
    tmp_path: Path, rng: random.Random
) -> None:
    """The remediation the report gives (rewrite, force-push) shares no commit with what the
    server has: a complete repository is no shallow clone, so it is judged, not refused as
    "fetch more history" (found by a review: every such push was rejected with exit 3)."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    key = keys.tavily_current(rng)
    client.write("app/settings.py", f"TAVILY_API_KEY = '{key}'\n")
    client.commit("add settings")
    # the key reached the server before the hook was there: fetched, not pushed
    server.git("fetch", "-q", str(client.path), "main:main")
    client.git("checkout", "-q", "--orphan", "rewritten")
    client.write("app/settings.py", "import os\nTAVILY_API_KEY = os.environ['TAVILY_API_KEY']\n")
    client.commit("settings from the environment")
    code, out = _push(client, "-f", "rewritten:main")
    assert code == 0, out
    assert "fetch more history" not in out
    assert server.git("rev-parse", "main").strip() == client.head()
    # an unrelated history that brings a key is still refused
    client.git("checkout", "-q", "--orphan", "again")
    client.write("b.py", f"K = '{keys.sgai_uuid(rng)}'\n")
    client.commit("another root")
    code, out = _push(client, "-f", "again:main")
    assert code != 0 and "pre-receive hook declined" in out, out
    assert server.git("rev-parse", "main").strip() != client.head()


def test_a_branch_named_after_a_key_is_rejected(tmp_path: Path, rng: random.Random) -> None:
    """A ref's name is published with it (found by a review: the hook showed the name
    redacted in a notice, and let the push through). Only names a push creates are read."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    key = keys.sgai_uuid(rng)
    code, out = _push(client, f"main:refs/heads/{key}")
    assert code != 0 and "pre-receive hook declined" in out, out
    said = "".join(line for line in out.splitlines(True) if line.startswith("remote:"))
    assert "(name of a ref the push creates)" in said and key not in said  # git's own shows it
    # the advice is to rename it, not to amend commits (a newcomer review), and no notice
    # says there was nothing to scan
    assert "rename it" in said and "git commit --amend" not in said, said
    assert "nothing new to scan" not in said, said
    code, out = _push(client, f"main:refs/tags/v1-{keys.tavily_current(rng)}")
    assert code != 0 and "pre-receive hook declined" in out, out
    assert _push(client, "main:refs/heads/feature")[0] == 0


def test_a_push_of_many_refs_is_checked_as_a_whole(tmp_path: Path, rng: random.Random) -> None:
    """Refs are looked up, tags followed and the new commits found for all refs of a push
    at once: a push of 300 tags took 300 walks of the history and 1,800 git processes
    (8.6 s; a server's hook may have 5). Nothing is lost: a key in a tag of a tag among 40
    clean tags, or in one new commit among 40 branches at old ones, still stops it."""
    server = _server(tmp_path)
    client = _client(tmp_path, server)
    assert _push(client, "main")[0] == 0
    for n in range(40):
        client.git("tag", "-a", "--no-sign", f"v{n}", "-m", f"release {n}")
        client.git("branch", f"b{n}")
    client.git("tag", "-a", "--no-sign", "inner", "-m", f"note {keys.sgai_uuid(rng)}")
    inner = client.git("rev-parse", "inner").strip()
    client.git("tag", "-a", "--no-sign", "outer", "inner", "-m", "clean")
    client.git("tag", "-d", "inner")
    code, out = _push(client, "--tags")
    assert code != 0 and f"(tag {inner[:12]} message)" in out, out
    assert "refs/tags/v7" not in server.git("for-each-ref", "--format=%(refname)")
    client.git("tag", "-d", "outer")
    assert _push(client, "--tags")[0] == 0
    assert _push(client, "refs/heads/b*:refs/heads/b*")[0] == 0  # all at known commits
    client.git("checkout", "-q", "-b", "late")
    client.write("late.env", f"K={keys.tavily_current(rng)}\n")
    client.commit("late")
    for n in range(40):
        client.git("branch", f"c{n}", "main")
    code, out = _push(client, "refs/heads/c*:refs/heads/c*", "late")
    assert code != 0 and "late.env" in out, out
