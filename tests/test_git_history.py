"""Commit ranges and whole-history audits on real repositories."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo, git_env


def _history(tmp_path: Path, rng: random.Random) -> tuple[Repo, str, dict[str, str]]:
    """main: root -> feature merge (evil) -> removal; returns (repo, base commit, keys)."""
    repo = Repo(tmp_path / "repo")
    removed = keys.tavily_current(rng)
    repo.write("old.env", f"TAVILY_API_KEY={removed}\n")
    repo.write("README", "hello\n")
    base = repo.commit("base holds a key")
    repo.git("checkout", "-q", "-b", "feature")
    on_branch = keys.sgai_uuid(rng)
    repo.write("feature.py", f"KEY = '{on_branch}'\n")
    repo.commit("feature adds a key")
    repo.git("checkout", "-q", "main")
    repo.write("README", "hello main\n")
    repo.commit("main moves on")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "feature")
    in_merge = keys.tavily_legacy(rng, "prod")
    repo.write("merge.txt", f"{in_merge}\n")  # an "evil merge": content no parent has
    repo.commit("merge feature")
    repo.git("rm", "-q", "old.env")
    repo.commit("remove the old key")
    return repo, base, {"removed": removed, "branch": on_branch, "merge": in_merge}


def test_range_scans_added_blobs_once_with_merges_and_reports_removed(
    tmp_path: Path, rng: random.Random
) -> None:
    repo, base, planted = _history(tmp_path, rng)
    code, report = run_json("scan", "--range", f"{base}..HEAD", cwd=repo.path)
    assert code == 1
    by_status = {(f["path"], f["status"]) for f in report["findings"]}
    assert by_status == {("feature.py", "new"), ("merge.txt", "new"), ("old.env", "removed")}
    assert report["scanned"]["commits"] == 4
    removed = next(f for f in report["findings"] if f["status"] == "removed")
    assert removed["blocking"] is False
    assert removed["redacted"].endswith(planted["removed"][-4:])
    repo.git("checkout", "-q", "-b", "cleanup", base)
    repo.git("rm", "-q", "old.env")
    repo.commit("only a removal")
    code, report = run_json("scan", "--since", base, cwd=repo.path)
    assert code == 0 and [f["status"] for f in report["findings"]] == ["removed"]
    code, _ = run_json("scan", "--since", base, "--fail-on-removed", cwd=repo.path)
    assert code == 1


def test_range_blob_scanned_once(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    base = repo.commit("root")
    key = keys.tavily_current(rng)
    repo.write("a.txt", key)
    repo.commit("one")
    repo.write("copy/a.txt", key)  # the same blob at a second path
    repo.commit("two")
    code, report = run_json("scan", "--range", f"{base}..HEAD", cwd=tmp_path)
    assert code == 1 and report["scanned"]["files"] == 1


def test_empty_range_is_said(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    code, report = run_json("scan", "--range", "HEAD..HEAD", cwd=tmp_path)
    assert code == 0 and "holds no commits" in report["notices"][0]


def test_audit_done_when_pushed_then_deleted(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "work")
    key = keys.tavily_current(rng)
    repo.write("config/.env", f"TAVILY_API_KEY={key}\n")
    introduced = repo.commit("add config")
    repo.git("rm", "-q", "config/.env")
    repo.commit("remove config")
    Repo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    repo.git("push", "-q", "origin", "main")
    code, report = run_json("audit", str(repo.path), cwd=tmp_path)
    assert code == 1
    [finding] = report["findings"]
    exposure = finding["exposure"]
    assert exposure["pushed"] is True and exposure["at_head"] is False
    assert exposure["introduced"]["commit"] == introduced
    assert exposure["last_seen"]["commit"] == introduced
    assert "refs/remotes/origin/main" in exposure["refs"]
    assert finding["commit"] == introduced and finding["path"] == "config/.env"
    text = run_cli("audit", str(repo.path), cwd=tmp_path).stdout
    assert "PUSHED, deleted since" in text and key not in text


def test_audit_orders_by_urgency_and_groups_per_secret(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "work")
    local_key, pushed_key = keys.sgai_uuid(rng), keys.tavily_current(rng)
    repo.write("a.env", f"{pushed_key}\n")
    repo.write("b/a.env", f"{pushed_key}\n# copy\n")
    repo.commit("pushed")
    Repo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(tmp_path / "remote.git"))
    repo.git("push", "-q", "origin", "main")
    repo.write("local.env", f"{local_key}\n")
    repo.commit("local")
    code, report = run_json("audit", str(repo.path), cwd=tmp_path)
    assert code == 1
    urgencies = [(f["redacted"][-4:], f["exposure"]["urgency"]) for f in report["findings"]]
    assert urgencies == [(pushed_key[-4:], 0), (pushed_key[-4:], 0), (local_key[-4:], 2)]
    assert report["findings"][0]["exposure"]["paths"] == ["a.env", "b/a.env"]
    text = run_cli("audit", str(repo.path), cwd=tmp_path).stdout
    assert text.count("paths: a.env, b/a.env") == 1


def test_audit_bare_repository_all_refs_dedup(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "work")
    tag_key, stash_key = keys.tavily_current(rng), keys.sgai_uuid(rng)
    repo.write("same.txt", "x\n")
    repo.commit("root")
    for n in range(5):
        repo.write(f"copy{n}/same.txt", "x\n")  # one blob, six paths
    repo.commit("copies")
    repo.git("checkout", "-q", "-b", "tagged")
    repo.write("t.txt", tag_key)
    repo.commit("tagged")
    repo.git("tag", "v1")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "tagged")
    repo.write("same.txt", f"x\n{stash_key}\n")
    repo.git("stash", "-q")
    code, report = run_json("audit", str(repo.path), cwd=tmp_path)
    assert code == 1
    assert {f["path"] for f in report["findings"]} == {"t.txt", "same.txt"}
    subprocess.run(
        ["git", "clone", "-q", "--mirror", str(repo.path), str(tmp_path / "m.git")],
        check=True,
        env=git_env(),
    )
    code, bare = run_json("audit", str(tmp_path / "m.git"), cwd=tmp_path)
    assert code == 1 and {f["path"] for f in bare["findings"]} == {"t.txt", "same.txt"}
    assert bare["scanned"]["files"] == report["scanned"]["files"]


def test_audit_reflog_and_unreachable_are_opt_in(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("a.txt", "x")
    repo.commit("root")
    amended = keys.tavily_current(rng)
    repo.write("a.txt", amended)
    repo.commit("leak")
    repo.write("a.txt", "fixed")
    repo.git("commit", "-q", "--amend", "--no-gpg-sign", "-am", "fixed")  # only the reflog has it
    dangling = keys.sgai_uuid(rng)
    repo.git("hash-object", "-w", "--stdin", stdin=dangling.encode())
    code, plain = run_json("audit", ".", cwd=tmp_path)
    assert code == 0 and plain["findings"] == []
    code, reflog = run_json("audit", ".", "--include-reflog", cwd=tmp_path)
    assert code == 1 and [f["redacted"][-4:] for f in reflog["findings"]] == [amended[-4:]]
    code, loose = run_json("audit", ".", "--include-unreachable", cwd=tmp_path)
    assert code == 1
    assert dangling[-4:] in {f["redacted"][-4:] for f in loose["findings"]}


def test_shallow_clone_fails_closed(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "origin")
    repo.write("a.txt", keys.tavily_current(rng))
    repo.commit("one")
    repo.write("b.txt", "two")
    repo.commit("two")
    repo.write("c.txt", "three")
    repo.commit("three")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)],
        check=True,
        env=git_env(),
    )
    code, report = run_json("audit", ".", cwd=clone)
    assert code == 3 and "shallow" in report["incomplete"][0]
    Repo.existing(clone).git("fetch", "-q", "--depth", "2")
    code, report = run_json("scan", "--range", "HEAD~1..HEAD", cwd=clone)
    assert code == 0, report["incomplete"]  # the range stops inside the fetched history
    code, report = run_json("scan", "--since", "HEAD~1", cwd=clone)
    assert code == 0


def test_range_reaching_shallow_boundary_fails_closed(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "origin")
    base = repo.commit("one")
    repo.commit("two")
    repo.commit("three")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)],
        check=True,
        env=git_env(),
    )
    Repo.existing(clone).git("fetch", "-q", "origin", base)  # base present, middle missing
    code, report = run_json("scan", "--range", f"{base}..HEAD", cwd=clone)
    assert code == 3
    assert "shallow clone boundary" in report["incomplete"][0]


def test_missing_object_goes_on_and_exits_3(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    kept = keys.tavily_current(rng)
    repo.write("kept.txt", kept)
    repo.write("lost.txt", "this blob will vanish\n")
    repo.commit("two files")
    lost = repo.git("rev-parse", "HEAD:lost.txt").strip()
    (tmp_path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    code, report = run_json("audit", ".", cwd=tmp_path)
    assert code == 3
    assert [f["path"] for f in report["findings"]] == ["kept.txt"]
    assert any(lost[:12] in e["path"] for e in report["errors"])


def test_corrupt_object_is_named_and_exits_3(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    key = keys.sgai_uuid(rng)
    repo.write("a.txt", key)
    repo.write("z.txt", "corrupt me\n")
    repo.commit("files")
    bad = repo.git("rev-parse", "HEAD:z.txt").strip()
    path = tmp_path / ".git" / "objects" / bad[:2] / bad[2:]
    path.chmod(0o644)
    path.write_bytes(b"\x78\x9c garbage that is not zlib")
    code, report = run_json("audit", ".", cwd=tmp_path)
    assert code == 3
    assert [f["path"] for f in report["findings"]] == ["a.txt"]
    assert [e["path"] for e in report["errors"]] == [f"z.txt ({bad[:12]})"]


def test_git_dying_mid_stream_keeps_findings_and_exits_3(
    tmp_path: Path, rng: random.Random
) -> None:
    """Fault injection: the real git runs, but its output is cut short after the key's blob.
    The readers inflate packed objects themselves and ask git, one object at a time, for what
    they cannot (sources.runread): here, every object, each held by two packs."""
    repo = Repo(tmp_path / "repo")
    key = keys.tavily_current(rng)
    repo.write("a.txt", key)
    for n in range(5):
        repo.write(f"big{n}.txt", "".join(rng.choice("abcdef\n") for _ in range(5000)))
    repo.commit("files")
    key_blob = repo.git("rev-parse", "HEAD:a.txt").strip()
    # Each reader asks its own `cat-file --batch` for the objects of its run: the one whose
    # run holds the key's blob has its output cut 20 bytes into the object after it (or right
    # after it, when it is the run's last), as when git dies.
    cutter = tmp_path / "cut.py"
    cutter.write_text(  # runs git itself: no shell holds the pipe open once it has cut
        "import subprocess, sys\n"
        "git = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE)\n"
        "src, out, key = git.stdout, sys.stdout.buffer, sys.argv[1].encode()\n"
        "seen = False\n"
        "while header := src.readline():\n"
        "    if seen:\n"
        "        out.write((header + src.read(64))[:20]); out.flush(); git.kill(); sys.exit(141)\n"
        "    body = src.read(int(header.split()[2]) + 1)\n"
        "    out.write(header + body); out.flush()\n"
        "    seen = header.startswith(key)\n"
        "sys.exit(141 if seen else git.wait())\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" cat-file --batch ") '
        'exec "$PYTHON" "$CUTTER" "$KEY_BLOB" "$REAL_GIT" "$@";; esac\n'
        'exec "$REAL_GIT" "$@"\n'
    )
    wrapper.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "REAL_GIT": shutil.which("git") or "git",
        "PYTHON": sys.executable,
        "CUTTER": str(cutter),
        "KEY_BLOB": key_blob,
    }
    repo.git("repack", "-adq")
    pack_dir = repo.path / ".git" / "objects" / "pack"
    for found in list(pack_dir.glob("pack-*.*")):  # an honest copy: git picks, so git is asked
        shutil.copy(found, pack_dir / found.name.replace("pack-", "pack-copy-"))
    code, report = run_json("audit", ".", cwd=repo.path, env=env)
    assert code == 3
    assert [f["path"] for f in report["findings"]] == ["a.txt"]
    assert any("git stopped" in e["message"] for e in report["errors"]), report["errors"]


def test_damaged_repository_is_incomplete_not_a_crash(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.write("f.txt", "x" * 5000)
    repo.commit("root")
    repo.git("repack", "-qad")
    [pack] = (tmp_path / ".git" / "objects" / "pack").glob("*.pack")
    pack.chmod(0o644)
    pack.write_bytes(pack.read_bytes()[:40])
    code, report = run_json("audit", ".", cwd=tmp_path)
    assert code == 3
    assert report["incomplete"]


def test_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    Repo(tmp_path / "repo").commit("root")
    for args, cwd in (
        (["audit", str(tmp_path / "nowhere")], tmp_path),
        (["audit", str(tmp_path)], tmp_path),
        (["scan", "--staged"], tmp_path),
        (["scan", "--range", "nope..HEAD"], tmp_path / "repo"),
        (["scan", "--range", "HEAD"], tmp_path / "repo"),
    ):
        proc = run_cli(*args, cwd=cwd)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) <= 4 and "Traceback" not in proc.stderr


def test_missing_git_binary_is_exit_2(tmp_path: Path) -> None:
    Repo(tmp_path).commit("root")
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    proc = run_cli("audit", ".", cwd=tmp_path, env={"PATH": str(empty_bin)})
    assert proc.returncode == 2
    assert "git is not installed" in proc.stderr


def test_progress_only_when_asked_off_a_terminal(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("a.txt", keys.tavily_current(rng))
    repo.commit("root")
    assert run_cli("audit", ".", cwd=tmp_path).stderr == ""
    shown = run_cli("audit", ".", "--progress", "always", cwd=tmp_path).stderr
    assert "scanned 1 object," in shown and "% of ~" in shown
    assert "ETA" not in shown  # guessed after 2 s only (a newcomer review: "ETA 472 s")
    files = run_cli("scan", ".", "--progress", "always", cwd=tmp_path).stderr
    assert "scanned 1 file," in files or "scanned 2 files," in files, files


def test_an_eta_is_guessed_once_the_work_has_gone_on_a_while() -> None:
    from sgai_guard.progress import ProgressLine

    line = ProgressLine(total=1000)
    assert "ETA" not in line.render(5, 2**20, 0.3)  # a first guess misled
    assert line.render(500, 2**20, 5.0).endswith("50% of ~1,000, ETA 5 s")


def test_git_is_on_path() -> None:
    assert shutil.which("git")


def test_git_version_parsing() -> None:
    from sgai_guard.sources.gitcmd import parse_version

    assert parse_version("git version 2.39.5") == (2, 39)
    assert parse_version("git version 2.45.1.windows.1") == (2, 45)
    assert parse_version("nonsense") == (0, 0)


def test_audit_lists_blobs_over_the_size_cap(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    key = keys.tavily_current(rng)
    repo.write("big.bin", "x" * 5000 + key)
    repo.write("small.txt", keys.sgai_uuid(rng))
    repo.commit("files")
    code, report = run_json("audit", ".", "--max-blob-size", "4k", cwd=tmp_path)
    assert code == 1
    assert [f["path"] for f in report["findings"]] == ["small.txt"]
    assert [s["path"].split(" (")[0] for s in report["skipped"]] == ["big.bin"]
    assert "size cap" in report["skipped"][0]["reason"]


def test_audit_last_seen_with_a_newline_path_and_two_refs(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    key = keys.tavily_current(rng)

    def commit(message: str, date: str) -> str:
        repo.add()
        repo.git("commit", "-q", "--no-gpg-sign", "--date", date, "-m", message)
        return repo.head()

    repo.write("a\nb.txt", key)
    repo.write("z.txt", key)
    commit("leak at two paths", "2026-01-01T00:00:00Z")
    repo.git("checkout", "-q", "-b", "aaa")
    repo.git("rm", "-q", "a\nb.txt")
    repo.write("z.txt", "clean\n")
    commit("cleaned on a branch", "2026-03-01T00:00:00Z")
    repo.git("checkout", "-q", "main")
    repo.write("other.txt", "x\n")
    main_tip = commit("main moves on, still holding it", "2026-02-01T00:00:00Z")
    code, report = run_json("audit", ".", cwd=tmp_path)
    assert code == 1
    exposure = report["findings"][0]["exposure"]
    assert exposure["last_seen"]["commit"] == main_tip
    assert exposure["at_head"] is True


def test_a_key_added_then_renamed_in_one_push_blocks_whatever_the_commit_order(
    tmp_path: Path, rng: random.Random
) -> None:
    """A branch adds a key, a child renames the file, a merge joins them; every commit has the
    same date, so `rev-list` may list the rename first. The rename's deletions make the key
    already committed in the rename only: the commit that added it still blocks."""
    repo = Repo(tmp_path)
    repo.write("README.md", "hello\n")
    base = repo.commit("root")
    repo.write("secret.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    repo.commit("add")
    repo.git("checkout", "-q", "-b", "feat")
    repo.git("mv", "secret.py", "config.py")
    repo.git("commit", "-q", "--no-gpg-sign", "-m", "mv")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-gpg-sign", "-m", "merge", "feat")
    code, report = run_json("scan", "--range", f"{base}..main", cwd=repo.path)
    blocking = {(f["path"], f["commit"]) for f in report["findings"] if f["blocking"]}
    added = repo.git("rev-parse", "main^1").strip()
    renamed = repo.git("rev-parse", "feat").strip()
    assert code == 1 and ("secret.py", added) in blocking, report["findings"]
    moved = [f for f in report["findings"] if f["commit"] == renamed]
    assert [f["status"] for f in moved] == ["already-committed"], moved


def test_what_deleted_paths_held_is_read_within_a_budget(tmp_path: Path) -> None:
    from sgai_guard.sources import catfile

    repo = Repo(tmp_path)
    small = repo.git("hash-object", "-w", "--stdin", stdin=b"a" * 100).strip()
    large = repo.git("hash-object", "-w", "--stdin", stdin=b"b" * 5000).strip()
    assert catfile.contents(str(tmp_path), [small, large], 1000) == (b"a" * 100,)
    assert catfile.contents(str(tmp_path), [large, small], 1000) == (b"a" * 100,)
    assert len(catfile.contents(str(tmp_path), [small, large])) == 2


def test_a_key_hidden_undetected_in_a_parent_is_still_new_when_it_shows(
    tmp_path: Path, rng: random.Random
) -> None:
    """Already committed means the key was there in a form the scan reports: `KEYZ` (a
    letter after it) is not the key, so a key first committed that way and then shown, in the
    same path or in a file that replaces a deleted one, blocks."""
    key = keys.sgai_uuid(rng)
    repo = Repo(tmp_path)
    repo.write("README.md", "hello\n")
    base = repo.commit("root")
    repo.write("a.txt", f"blob = {key}Z\n")
    repo.write("c.txt", f"cache = {key}_v2\n")
    repo.commit("hidden")
    repo.git("rm", "-q", "a.txt")
    repo.write("b.py", f'API = "{key}"\n')
    repo.write("c.txt", f"cache = {key}\n")
    repo.commit("shown")
    code, report = run_json("scan", "--range", f"{base}..main", cwd=repo.path)
    blocking = sorted(f["path"] for f in report["findings"] if f["blocking"])
    assert code == 1 and blocking == ["b.py", "c.txt"], report["findings"]


def test_a_key_a_merge_brings_itself_blocks_and_one_it_takes_from_a_parent_is_not_repeated(
    tmp_path: Path, rng: random.Random
) -> None:
    """A merge is judged on what differs from every parent (a conflict resolution, an evil
    merge): a key written there blocks, attributed to the merge; a file taken as one parent
    has it is that parent's finding only."""
    repo = Repo(tmp_path)
    repo.write("f.txt", "base\n")
    base = repo.commit("root")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("side.env", f"K={keys.tavily_current(rng)}\n")
    repo.write("f.txt", "side\n")
    side = repo.commit("side")
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "main\n")
    repo.commit("main")
    repo.attempt("merge", "-q", "--no-gpg-sign", "side")  # conflicts in f.txt
    repo.write("f.txt", f"resolved = '{keys.sgai_uuid(rng)}'\n")
    repo.add("f.txt", "side.env")
    repo.git("commit", "-q", "--no-gpg-sign", "--no-edit")
    merge = repo.git("rev-parse", "HEAD").strip()
    code, report = run_json("scan", "--range", f"{base}..main", cwd=repo.path)
    found = sorted((f["path"], f["commit"], f["blocking"]) for f in report["findings"])
    assert code == 1 and found == [("f.txt", merge, True), ("side.env", side, True)], found


@pytest.mark.parametrize("how", ["an excluded path, then moved", "an allowed line", "a marker"])
def test_a_key_allowed_in_one_commit_and_shown_in_the_next_is_new(
    tmp_path: Path, rng: random.Random, how: str
) -> None:
    """A key that a range's own earlier commit held suppressed was never reported: where a
    later commit of the range shows it, it is new and blocks, not "already committed"
    (found by a review: add it allowed, un-allow it next, exit 0)."""
    key = keys.tavily_current(rng)
    repo = Repo(tmp_path)
    config = 'exclude-paths = ["fixtures/"]\ninline-markers = true\n'
    config += '[[allow-regex]]\npattern = "^EXAMPLE_"\ntarget = "line"\nreason = "docs"\n'
    repo.write(".sgai-guard.toml", config)
    base = repo.commit("root")
    if how == "an excluded path, then moved":
        repo.write("fixtures/k.py", f'KEY = "{key}"\n')
        repo.commit("fixture")
        repo.git("mv", "fixtures/k.py", "src.py")
        repo.git("commit", "-q", "--no-gpg-sign", "-m", "moved")
    else:
        first = (
            f'EXAMPLE_KEY = "{key}"\n'
            if how == "an allowed line"
            else f'K = "{key}"  # sgai-guard: allow test\n'
        )
        repo.write("src.py", first)
        repo.commit("allowed")
        repo.write("src.py", f'KEY = "{key}"\n')
        repo.commit("shown")
    code, report = run_json("scan", "--range", f"{base}..main", cwd=repo.path)
    shown = [f for f in report["findings"] if f["path"] == "src.py"]
    assert code == 1 and shown and all(f["blocking"] for f in shown), report["findings"]
    assert [f["status"] for f in shown] == ["new"], shown


def test_a_key_the_base_held_stays_committed_beside_an_allowed_copy(
    tmp_path: Path, rng: random.Random
) -> None:
    """An old key in a file the range edits, while the range adds an allowed example of it:
    the base held it there, so it was committed before (the first version of the rule
    above blocked it as new: found by a review)."""
    key = keys.sgai_uuid(rng)
    repo = Repo(tmp_path)
    repo.write(".sgai-guard.toml", 'exclude-paths = ["docs/"]\n')
    repo.write("config.py", f"KEY = '{key}'\n")
    base = repo.commit("base")
    repo.write("config.py", f"KEY = '{key}'\n# more\n")
    repo.write("docs/ex.md", f"Example: {key}\n")
    repo.commit("pr")
    code, report = run_json("scan", "--range", f"{base}..main", cwd=repo.path)
    assert code == 0, report["findings"]
    assert [(f["path"], f["status"]) for f in report["findings"]] == [
        ("config.py", "already-committed")
    ]


def test_a_key_the_base_held_elsewhere_is_new_where_it_is_moved(
    tmp_path: Path, rng: random.Random
) -> None:
    """The base's holding counts at the finding's own path only: a key the base held in
    config.env, added allowed under docs/ and then moved into src/, is new in src/ (the
    first version judged by key alone: found by a review)."""
    key = keys.sgai_uuid(rng)
    repo = Repo(tmp_path)
    repo.write("config.env", f"API_KEY={key}\n")
    base = repo.commit("base")
    repo.write(".sgai-guard.toml", 'exclude-paths = ["docs/"]\n')
    repo.write("config.env", f"API_KEY={key}\no=1\n")
    repo.write("docs/ex.md", f"ex {key}\n")
    repo.commit("allowed")
    (repo.path / "src").mkdir()
    repo.git("mv", "docs/ex.md", "src/app.py")
    repo.git("commit", "-q", "--no-gpg-sign", "-m", "moved")
    code, report = run_json("scan", "--range", f"{base}..main", cwd=repo.path)
    found = {f["path"]: (f["status"], f["blocking"]) for f in report["findings"]}
    assert code == 1 and found["src/app.py"] == ("new", True), report["findings"]
    assert found["config.env"] == ("already-committed", False)
