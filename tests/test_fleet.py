"""Audits of many repositories on the local pool: result files, resuming, hardened mirrors,
failures recorded, merge and its refusal to mix salts."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

from sgai_guard.fleet import resultfile
from sgai_guard.fleet.targets import parse, without_userinfo
from tests.cli_helpers import run_cli
from tests.fleet_repos import key, small
from tests.gitrepo import Repo


def _results(out: Path) -> dict[str, str]:
    return {p.name.partition("@")[0]: p.name for p in out.glob("*.json")}


def test_many_targets_write_one_file_each_and_a_rerun_skips_them(
    tmp_path: Path, rng: random.Random
) -> None:
    keys = [key(rng, n) for n in range(3)]
    a = small(tmp_path / "a", [keys[0], keys[1]])
    b = small(tmp_path / "b", [keys[0]])
    c = small(tmp_path / "c", [])
    out = tmp_path / "out"
    args = ("audit", str(a), str(b), str(c), "--out", str(out), "--format", "json")
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    files = _results(out)
    assert len(files) == 3 and all("@" in f and "incomplete" not in f for f in files.values())
    report = json.loads(proc.stdout)
    assert {f["repository"] for f in report["findings"]} == {
        n for n in files if not n.rsplit("-", 1)[0].endswith("_c")
    }
    shared = [f for f in report["findings"] if f["redacted"].endswith(keys[0][-4:])]
    assert len(shared) == 2 and "the same key is in 2 repositories" in shared[0]["notes"][-1]
    assert "3 audited, 0 unchanged" in proc.stderr
    for text in (p.read_text() for p in out.iterdir()):  # no clear key in any file
        assert not any(k in text for k in keys)

    Repo.existing(c).write("new.txt", f"k = '{keys[2]}'\n")
    Repo.existing(c).commit("leak")
    again = run_cli(*args, cwd=tmp_path)
    assert "1 audited, 2 unchanged" in again.stderr
    assert len(list(out.iterdir())) == 3  # c's older state was replaced
    assert len(json.loads(again.stdout)["findings"]) == 4


def test_failures_are_results_and_the_others_go_on(tmp_path: Path, rng: random.Random) -> None:
    good = small(tmp_path / "good", [key(rng, 1)])
    (tmp_path / "plain").mkdir()
    marker = tmp_path / "MARKER"
    evil = f"ext::sh -c touch% {marker}"
    out = tmp_path / "out"
    proc = run_cli(
        "audit", str(good), str(tmp_path / "plain"), evil, "--out", str(out), cwd=tmp_path
    )
    assert proc.returncode == 3, proc.stderr  # incomplete beats findings
    assert not marker.exists()
    names = sorted(p.name for p in out.iterdir())
    assert sum(n.endswith("@error.json") for n in names) == 2
    assert "never allowed" in proc.stderr and "not a git repository" in proc.stderr
    assert "1 audited, 0 unchanged since the last run, 2 failed" in proc.stderr
    merged = run_cli("merge", str(out), "--format", "json", cwd=tmp_path)
    assert merged.returncode == 3
    assert len(json.loads(merged.stdout)["findings"]) == 1


def test_git_itself_refuses_ext_even_past_the_target_check(tmp_path: Path) -> None:
    from sgai_guard.errors import GitError
    from sgai_guard.sources.mirror import mirror

    marker = tmp_path / "MARKER"
    with pytest.raises(GitError):
        mirror(f"ext::sh -c touch% {marker}", str(tmp_path / "m.git"), "x", allow_file=True)
    assert not marker.exists()
    assert not (tmp_path / "m.git").exists()  # no half clone left behind


def test_file_url_mirror_is_bare_hookless_reused_and_pruned(
    tmp_path: Path, rng: random.Random
) -> None:
    origin = small(tmp_path / "origin", [key(rng, 1)])
    Repo.existing(origin).git("branch", "extra")
    cache, out = tmp_path / "cache", tmp_path / "out"
    args = ("audit", f"file://{origin}", "--out", str(out), "--cache", str(cache))
    assert run_cli(*args, cwd=tmp_path).returncode == 1
    (mirror,) = cache.iterdir()
    assert (mirror / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (mirror / "hooks").exists() and not (mirror / "info").exists()
    refs = Repo.existing(mirror).git("for-each-ref", "--format=%(refname)").split()
    assert refs == ["refs/heads/extra", "refs/heads/main"]
    Repo.existing(origin).git("branch", "-D", "extra")
    again = run_cli(*args, cwd=tmp_path)
    assert "1 audited" in again.stderr  # the state changed: audited again
    refs = Repo.existing(mirror).git("for-each-ref", "--format=%(refname)").split()
    assert refs == ["refs/heads/main"]
    assert len(list(out.iterdir())) == 1


def test_a_clone_that_fails_is_a_result_with_a_reason(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli(
        "audit",
        f"file://{tmp_path}/missing",
        "https://user:sekrit@127.0.0.1:9/x",
        "--out",
        str(out),
        "--cache",
        str(tmp_path / "c"),
        cwd=tmp_path,
    )
    assert proc.returncode == 3
    assert "cannot fetch" in proc.stderr and "sekrit" not in proc.stderr
    for path in out.iterdir():
        assert "sekrit" not in path.read_text() and "sekrit" not in path.name


def test_result_files_round_trip_without_secrets(tmp_path: Path, rng: random.Random) -> None:
    from sgai_guard.fleet.job import AuditOptions, Job, run_job
    from sgai_guard.fleet.targets import target

    secret = key(rng, 2)
    repo = small(tmp_path / "r", [secret])
    done = run_job(Job(target(str(repo)), None, AuditOptions(verifying="checked")))
    assert done.result is not None and done.result.findings[0].secret == secret
    stored = resultfile.Stored(done.name, done.target, done.state, done.salt_id, done.result)
    text = resultfile.dump(stored)
    assert secret not in text
    back = resultfile.load(text, "x")
    expected = tuple(
        f._replace(secret="", line_text=b"", previous_line=b"") for f in done.result.findings
    )
    assert back.result is not None and back.result.findings == expected
    assert back.result._replace(findings=()) == done.result._replace(findings=())


def test_worker_results_carry_no_key_unless_the_live_check_needs_it(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: on a Dask cluster the results pass through the
    scheduler, and every clear key went with them, --verify or not."""
    from sgai_guard.fleet.job import AuditOptions, Job, run_job
    from sgai_guard.fleet.targets import target

    secret = key(rng, 2)
    repo = small(tmp_path / "r", [secret])
    done = run_job(Job(target(str(repo)), None, AuditOptions()))
    assert done.result is not None and done.result.findings
    for finding in done.result.findings:
        assert (finding.secret, finding.line_text, finding.previous_line) == ("", b"", b"")
        assert finding.redacted and finding.fingerprint
    assert secret not in repr(done) and secret.encode() not in pickle.dumps(done)


def test_a_fleet_uses_one_salt_whatever_a_repository_sets(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: one repository's own salt made the merge refuse the
    whole run, and the other repositories' keys were never reported."""
    leaked = key(rng, 1)
    a = small(tmp_path / "a", [leaked])
    b = small(tmp_path / "b", [key(rng, 2)])
    (b / ".sgai-guard.toml").write_text('salt = "another-salt-for-this-repository"\n')
    out = tmp_path / "out"
    args = ("audit", str(a), str(b), "--out", str(out), "--format", "json")
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["findings"]) == 2
    assert any("the salt set in" in n and "is not used" in n for n in report["notices"])
    assert "another-salt" not in proc.stdout + proc.stderr


def test_merge_refuses_mixed_salts(tmp_path: Path, rng: random.Random) -> None:
    a = small(tmp_path / "a", [key(rng, 1)])
    b = small(tmp_path / "b", [key(rng, 2)])
    salted = tmp_path / "salted.toml"
    salted.write_text('salt = "another-salt-for-this-repository"\n')
    out = tmp_path / "out"
    run_cli("audit", str(a), "--out", str(out), cwd=tmp_path)
    run_cli("audit", str(b), "--out", str(out), "--config", str(salted), cwd=tmp_path)
    proc = run_cli("merge", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    assert "different fingerprint salts" in proc.stderr
    assert "another-salt" not in proc.stderr + proc.stdout
    assert "another-salt" not in "".join(p.read_text() for p in out.iterdir())


def test_merge_renders_every_format(tmp_path: Path, rng: random.Random) -> None:
    a = small(tmp_path / "a", [key(rng, 1)])
    out = tmp_path / "out"
    run_cli("audit", str(a), "--out", str(out), cwd=tmp_path)
    [result] = out.iterdir()
    repository = result.name.split("@")[0]
    for fmt in ("text", "json", "sarif", "markdown", "html"):
        proc = run_cli("merge", str(out), "--format", fmt, cwd=tmp_path)
        assert proc.returncode == 1 and proc.stdout.strip(), (fmt, proc.stderr)
        if fmt in ("text", "json", "sarif"):  # each finding says which repository holds it
            assert repository in proc.stdout, fmt
    proc = run_cli("merge", str(out), "--report", f"sarif={tmp_path / 'x.sarif'}", cwd=tmp_path)
    assert proc.returncode == 1 and (tmp_path / "x.sarif").exists()
    assert run_cli("merge", str(tmp_path / "nothing"), cwd=tmp_path).returncode == 2


def test_one_local_target_is_the_plain_audit(tmp_path: Path, rng: random.Random) -> None:
    repo = small(tmp_path / "r", [key(rng, 1)])
    proc = run_cli("audit", str(repo), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    assert "repositories" not in proc.stderr  # no fleet summary: the command as it was
    assert list(tmp_path.iterdir()) == [repo]
    assert run_cli("audit", str(repo / "README.md"), cwd=tmp_path).returncode == 2


def test_progress_only_when_asked_but_always_a_summary(tmp_path: Path, rng: random.Random) -> None:
    a = small(tmp_path / "a", [])
    b = small(tmp_path / "b", [])
    quiet = run_cli("audit", str(a), str(b), cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.count("\n") == 1 and "2 of 2 repositories" in quiet.stderr
    loud = run_cli("audit", str(a), str(b), "--progress", "always", cwd=tmp_path)
    assert "2/2 repositories, 0 finding(s)" in loud.stderr


def test_names_are_safe_unique_and_free_of_credentials(tmp_path: Path) -> None:
    items = parse(
        [
            "https://user:tok@host.example/org/repo.git",
            "https://host.example/org/repo.git",  # the same repository: audited once
            "ssh://git@host.example/other/repo.git",
            "git@host.example:org/repo.git",
            str(tmp_path / "x" / "repo"),
            str(tmp_path / "y" / "repo"),
        ]
    )
    assert len(items) == 5
    assert len({i.name for i in items}) == 5
    for item in items:
        assert "tok" not in item.shown + item.name
        assert all(c.isalnum() or c in "._-" for c in item.name)
    assert without_userinfo("git@h.example:o/r.git") == "h.example:o/r.git"


def test_targets_file_comments_and_blank_lines(tmp_path: Path, rng: random.Random) -> None:
    a = small(tmp_path / "a", [])
    listing = tmp_path / "targets.txt"
    listing.write_text(f"# the fleet\n\n{a}\n   # indented comment\n")
    proc = run_cli("audit", "--targets-file", str(listing), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "1 of 1 repositories" in proc.stderr


def test_merge_refuses_planted_result_files(tmp_path: Path, rng: random.Random) -> None:
    import json
    import os

    secret = key(rng, 1)
    a = small(tmp_path / "a", [secret])
    out = tmp_path / "out"
    run_cli("audit", str(a), "--out", str(out), cwd=tmp_path)
    [result] = out.iterdir()
    data = json.loads(result.read_text())
    data["result"]["findings"][0]["redacted"] = secret  # a clear key where a redaction goes
    result.write_text(json.dumps(data))
    # a result that cannot be trusted is a repository that could not be read: incomplete (3)
    proc = run_cli("merge", str(out), "--format", "github", cwd=tmp_path)
    assert proc.returncode == 3 and secret not in proc.stdout + proc.stderr
    assert "a redacted value that is not one" in proc.stdout
    result.unlink()
    os.mkfifo(out / result.name)  # a FIFO: never opened, so never a hang
    proc = run_cli("merge", str(out), cwd=tmp_path, timeout=60)
    assert proc.returncode == 3 and "not a readable fleet result" in proc.stdout
    (out / result.name).unlink()
    (out / result.name).symlink_to("/dev/zero")
    assert run_cli("merge", str(out), cwd=tmp_path, timeout=60).returncode == 3
    (out / result.name).unlink()
    out.chmod(0o777)
    proc = run_cli("merge", str(out), cwd=tmp_path)
    assert proc.returncode == 2 and "writable by others" in proc.stderr


def _audited(tmp_path: Path, rng: random.Random) -> tuple[Path, Path, str]:
    """A results folder holding one repository's result (a key), and the key."""
    secret = key(rng, 1)
    out = tmp_path / "out"
    run_cli("audit", str(small(tmp_path / "a", [secret])), "--out", str(out), cwd=tmp_path)
    [result] = out.iterdir()
    return out, result, secret


def _set(where: Any, key: Any, value: object) -> None:
    where[key] = value


_MALFORM: dict[str, Any] = {
    "salt_id is a list": lambda d, f, k, o: _set(d, "salt_id", ["x"]),
    "stats hold a string": lambda d, f, k, o: _set(d["result"], "stats", ["many", 0, 0, 0]),
    "a commit is a number": lambda d, f, k, o: _set(f["exposure"]["introduced"], 0, 7),
    "nested for ever": lambda d, f, k, o: None,  # written by _deep
    "three hundred thousand notices": lambda d, f, k, o: _set(
        d["result"], "notices", [""] * 300_000
    ),
    "a line hash holding the key": lambda d, f, k, o: _set(f, "line_hash", k),
    "a verdict reason holding the key": lambda d, f, k, o: _set(
        f, "verification", ["live", f"ok {k}", ""]
    ),
    "a number of 400 digits": lambda d, f, k, o: _set(d["result"]["stats"], 1, "@"),
    "not a number": lambda d, f, k, o: _set(d["result"]["stats"], 3, float("nan")),
    "another repository's finding": lambda d, f, k, o: _set(f, "repository", o),
}


def test_a_planted_newer_result_cannot_hide_another(tmp_path: Path, rng: random.Random) -> None:
    """A second file for one repository, empty and newer, took its place: exit 0 (found by a
    review). Both are read now, and the merge says it is in doubt."""
    out, result, _ = _audited(tmp_path, rng)
    data = json.loads(result.read_text())
    data["state"] = "f" * 16
    data["result"]["findings"] = []
    shadow = out / f"{data['name']}@{data['state']}.json"
    shadow.write_text(json.dumps(data))
    proc = run_cli("merge", str(out), "--format", "json", cwd=tmp_path)
    assert proc.returncode in (1, 3), proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["findings"]) == 1
    assert any("2 result files" in reason for reason in report["incomplete"]), report


@pytest.mark.parametrize("change", list(_MALFORM))
def test_a_malformed_result_fails_that_file_only(
    tmp_path: Path, rng: random.Random, change: str
) -> None:
    """Each of these stopped the whole merge ("internal error", no report), swamped its
    memory, or put a clear key into SARIF (found by a review)."""
    out, result, secret = _audited(tmp_path, rng)
    other = small(tmp_path / "b", [key(rng, 2)])
    run_cli("audit", str(other), "--out", str(out), cwd=tmp_path)
    data = json.loads(result.read_text())
    _MALFORM[change](data, data["result"]["findings"][0], secret, other.name)
    text = json.dumps(data) if change != "nested for ever" else _deep(data)
    text = text.replace('"@"', "1" + "0" * 400)
    result.write_text(text)
    kept = change == "a verdict reason holding the key"  # read, the reason redacted
    for fmt in ("sarif", "text", "html"):
        proc = run_cli("merge", str(out), "--format", fmt, cwd=tmp_path)
        assert proc.returncode == (1 if kept else 3), (fmt, proc.stderr)
        assert "internal error" not in proc.stderr and secret not in proc.stdout + proc.stderr
        if fmt == "sarif":  # the other repository is still reported
            assert len(json.loads(proc.stdout)["runs"][0]["results"]) == (2 if kept else 1)
        if fmt == "text":
            assert kept or "not a readable fleet result" in proc.stdout, proc.stdout


def _deep(data: dict[str, object]) -> str:
    """``data`` with a list nested 50,000 deep as its notices (json.dumps cannot write it)."""
    text = json.dumps({**data, "result": {**data["result"], "notices": "@"}})  # type: ignore[dict-item]
    return text.replace('"@"', "[" * 50_000 + "]" * 50_000)


def test_a_repository_s_own_configuration_is_part_of_its_state(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: a result made under an `[[allow]]` entry in the repository's own
    `.sgai-guard.toml` was reused as "unchanged" once the entry was gone: exit 0."""
    repo = small(tmp_path / "r", [key(rng, 1)])
    report = json.loads(run_cli("audit", str(repo), "--format", "json", cwd=tmp_path).stdout)
    fingerprint = report["findings"][0]["fingerprint"]
    config = repo / ".sgai-guard.toml"
    config.write_text(f'[[allow]]\nfingerprint = "{fingerprint}"\nreason = "for now"\n')
    out = tmp_path / "out"
    assert run_cli("audit", str(repo), "--out", str(out), cwd=tmp_path).returncode == 0
    config.unlink()
    again = run_cli("audit", str(repo), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 1 and "1 audited, 0 unchanged" in again.stderr, again.stderr


def test_the_baseline_a_named_configuration_names_is_part_of_the_state(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: with `--config` naming a baseline, emptying the baseline left the
    result "unchanged" (exit 0); only the --config and --baseline files were hashed."""
    repo = small(tmp_path / "r", [key(rng, 1)])
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "cfg.toml"
    config.write_text('baseline = "base.json"\n')
    made = run_cli("baseline", "-o", str(tmp_path / "cfg" / "base.json"), str(repo), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    args = ("audit", "--config", str(config), "--out", str(tmp_path / "out"), str(repo))
    assert run_cli(*args, cwd=tmp_path).returncode == 0
    (tmp_path / "cfg" / "base.json").write_text('{"secrets": {}, "sgai-guard-baseline": 1}\n')
    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 1 and "1 audited, 0 unchanged" in again.stderr, again.stderr


def test_a_linked_worktree_s_head_is_part_of_the_state(tmp_path: Path, rng: random.Random) -> None:
    """Found by a review: the audit walks every worktree's HEAD, the state hashed the refs
    and the main HEAD only, so a key committed on a linked worktree's detached HEAD (no ref
    moved) was reused as "unchanged": exit 0, while `audit` of it exits 1."""
    repo = small(tmp_path / "r", [])
    Repo.existing(repo).git("worktree", "add", "-q", "--detach", str(tmp_path / "wt"))
    out = tmp_path / "out"
    assert run_cli("audit", str(repo), "--out", str(out), cwd=tmp_path).returncode == 0
    linked = Repo.existing(tmp_path / "wt")
    linked.write("k.env", f"KEY={key(rng, 1)}\n")
    linked.commit("a key on the detached HEAD")
    again = run_cli("audit", str(repo), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 1 and "1 audited, 0 unchanged" in again.stderr, again.stderr


@pytest.mark.parametrize("option", ["--include-reflog", "--include-unreachable"])
def test_what_the_history_options_read_beyond_the_refs_is_part_of_the_state(
    tmp_path: Path, rng: random.Random, option: str
) -> None:
    """Found by a review: a key committed and then reset away moves no ref, but the reflog
    and a dangling object hold it; the result was reused as "unchanged", exit 0."""
    repo = small(tmp_path / "r", [])
    out = tmp_path / "out"
    assert run_cli("audit", str(repo), option, "--out", str(out), cwd=tmp_path).returncode == 0
    work = Repo.existing(repo)
    work.write("k.env", f"KEY={key(rng, 2)}\n")
    work.commit("a key")
    work.git("reset", "-q", "--hard", "HEAD~1")
    again = run_cli("audit", str(repo), option, "--out", str(out), cwd=tmp_path)
    assert again.returncode == 1 and "1 audited, 0 unchanged" in again.stderr, again.stderr
    unchanged = run_cli("audit", str(repo), option, "--out", str(out), cwd=tmp_path)
    assert "0 audited, 1 unchanged" in unchanged.stderr, unchanged.stderr
