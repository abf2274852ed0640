"""What a newcomer trying the README found: each now behaves as documented."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo, git_env


def test_baseline_update_keeps_what_the_configured_baseline_lists(
    tmp_path: Path, rng: random.Random
) -> None:
    (tmp_path / ".sgai-guard.toml").write_text('baseline = ".sgai-guard-baseline.json"\n')
    (tmp_path / "a.env").write_text(f"K={keys.sgai_uuid(rng)}\nT={keys.tavily_current(rng)}\n")
    out = ["-o", ".sgai-guard-baseline.json"]
    assert run_cli("baseline", ".", *out, cwd=tmp_path).returncode == 0
    assert run_cli("scan", ".", cwd=tmp_path).returncode == 0
    update = run_cli("baseline", ".", *out, "--update", cwd=tmp_path)
    assert update.returncode == 0 and "pruned 0 secret(s)" in update.stderr, update.stderr
    saved = json.loads((tmp_path / ".sgai-guard-baseline.json").read_text())
    assert len(saved["secrets"]) == 2
    assert run_cli("scan", ".", cwd=tmp_path).returncode == 0


def test_a_dangling_copy_of_a_committed_key_stays_out_of_the_audit(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    key = keys.tavily_current(rng)
    repo.write("old.py", f"K = '{key}'\n")
    repo.commit("leak")
    repo.write("old.py", f"K = '{key}'\nX = 1\n")
    repo.add("old.py")  # a blob no ref will reach once the edit is dropped
    repo.git("reset", "-q", "--hard")
    code, report = run_json("audit", ".", cwd=tmp_path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["old.py"]
    code, report = run_json("audit", ".", "--include-unreachable", cwd=tmp_path)
    assert len(report["findings"]) == 2


def test_size_keys_are_checked_on_load_and_take_size_strings(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("fine\n")
    config = tmp_path / ".sgai-guard.toml"
    config.write_text('max-file-size = "5 parsecs"\n')
    bad = run_cli("scan", ".", cwd=tmp_path)
    assert bad.returncode == 2 and ".sgai-guard.toml: max-file-size: must be a size" in bad.stderr
    config.write_text('max-file-size = "1MiB"\narchive-max-bytes = "64MiB"\n')
    assert run_cli("scan", ".", cwd=tmp_path).returncode == 0


def test_a_symlink_named_on_the_command_line_is_scanned_as_its_text(
    tmp_path: Path, rng: random.Random
) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / "keylink").symlink_to(key)  # dangling: the key is only the link's text
    code, report = run_json("scan", "keylink", cwd=tmp_path)
    assert code == 1 and report["findings"][0]["path"] == "keylink"
    missing = run_cli("scan", "nothere", cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_messages_name_what_they_are_about(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    missing = run_cli("hook", "--", "missing.txt", cwd=repo.path)
    assert missing.returncode == 3 and "missing.txt: not in the index" in missing.stdout
    gone = (tmp_path / "gone").as_uri()
    proc = run_cli("ci", "--base", "1" * 40, "--remote-url", gone, cwd=repo.path)
    assert proc.returncode == 3 and f"could not be fetched from {gone}" in proc.stdout


def test_paths_under_different_configurations_are_refused(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by two reviews: the first path's configuration governed every path, so a
    folder whose `.sgai-guard.toml` excludes everything hid the keys of the paths after it."""
    for name in ("mine", "evil"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.env").write_text(f"K={keys.tavily_current(rng)}\n")
    (tmp_path / "evil" / ".sgai-guard.toml").write_text('exclude-paths = ["*"]\n')
    for order in (("evil", "mine"), ("mine", "evil")):
        proc = run_cli("scan", *order, cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout
        assert "governed by different configuration files" in proc.stderr
        assert "mine: none" in proc.stderr and "evil/.sgai-guard.toml" in proc.stderr
    chosen = run_cli("scan", "evil", "mine", "--config", "evil/.sgai-guard.toml", cwd=tmp_path)
    assert chosen.returncode == 0 and "2 suppressed" in chosen.stdout  # asked for, and said


def test_several_folders_outside_git_are_told_apart(tmp_path: Path, rng: random.Random) -> None:
    for name in ("a", "b"):
        (tmp_path / "m" / name).mkdir(parents=True)
        (tmp_path / "m" / name / "app.py").write_text(f"K = '{keys.sgai_uuid(rng)}'\n")
    code, report = run_json("scan", "m/a", "m/b", "m/a/app.py", cwd=tmp_path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["m/a/app.py", "m/b/app.py"]
    code, report = run_json("scan", "m/a", cwd=tmp_path)  # one folder: relative to it
    assert [f["path"] for f in report["findings"]] == ["app.py"]


def test_empty_standard_input_is_not_a_pass(tmp_path: Path) -> None:
    """The README's `git show REV:FILE | sgai-guard scan -` with no such FILE piped
    nothing, and exited 0."""
    proc = run_cli("scan", "-", "--stdin-filename", "app.env", cwd=tmp_path, stdin=b"")
    assert proc.returncode == 3 and "standard input was empty" in proc.stdout
    clean = run_cli("scan", "-", cwd=tmp_path, stdin=b"nothing to see\n")
    assert clean.returncode == 0, clean.stdout


def test_the_hook_advice_names_every_blocking_fingerprint(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("k.py", f"A = '{keys.tavily_current(rng)}'\nB = '{keys.sgai_uuid(rng)}'\n")
    repo.add("k.py")
    proc = run_cli("hook", cwd=repo.path)
    assert proc.returncode == 1
    report = json.loads(run_cli("scan", "--staged", "--format", "json", cwd=repo.path).stdout)
    prints = {f["fingerprint"] for f in report["findings"]}
    assert len(prints) == 2
    advice = next(line for line in proc.stdout.splitlines() if "false positive" in line)
    assert all(f'"{fp}"' in advice for fp in prints), advice
    assert "once for each: sgai-guard allow <fingerprint>" in advice


def test_a_misspelt_base_in_a_whole_clone_is_not_told_to_unshallow(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    proc = run_cli("ci", "--base", "nosuch", cwd=repo.path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "the base nosuch names no commit in this clone" in proc.stdout
    assert "unshallow" not in proc.stdout
    # a clone of a local repository (a file-transport origin): the name is not fetched, so
    # the remote's transport is not what is said (a second newcomer review)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone)], env=git_env(), check=True)
    proc = run_cli("ci", "--base", "origin/nosuch", cwd=clone)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "the base origin/nosuch names no commit in this clone" in proc.stdout
    assert "transport" not in proc.stdout + proc.stderr


def test_unused_allow_entries_are_listed_whenever_the_whole_tree_is_scanned(
    tmp_path: Path,
) -> None:
    tmp_path = Repo(tmp_path / "repo").path  # configurations are found upwards in a work tree
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("nothing\n")
    (tmp_path / ".sgai-guard.toml").write_text(
        '[[allow]]\nfingerprint = "0123456789abcdef0123"\nreason = "gone"\n'
    )
    unused = "allowlist entry 0123456789abcdef0123 matched nothing"
    assert unused in run_cli("scan", cwd=tmp_path).stdout
    assert unused in run_cli("scan", ".", cwd=tmp_path).stdout
    assert unused in run_cli("scan", "a.txt", "..", cwd=tmp_path / "sub").stdout
    assert unused not in run_cli("scan", "sub", cwd=tmp_path).stdout  # only part of it
    assert unused not in run_cli("scan", cwd=tmp_path / "sub").stdout


def test_a_second_way_of_scanning_is_named_with_paths(tmp_path: Path) -> None:
    proc = run_cli("scan", "--staged", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "(got PATHS, --staged)" in proc.stderr


def test_bad_input_is_named_for_what_it_is(tmp_path: Path) -> None:
    bad = run_cli("allow", "nothex", "--reason", "x", cwd=tmp_path)
    assert bad.returncode == 2 and "20 lower-case hex digits" in bad.stderr
    assert "allow #1" not in bad.stderr and not (tmp_path / ".sgai-guard.toml").exists()
    (tmp_path / "results").mkdir()
    empty = run_cli("merge", "results", cwd=tmp_path)
    assert empty.returncode == 3 and "results holds no result file" in empty.stdout
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    named = run_cli("scan", ".", "--config", "pyproject.toml", cwd=tmp_path)
    assert named.returncode == 2 and "no [tool.sgai-guard] table" in named.stderr
    found = run_cli("scan", ".", cwd=tmp_path)  # found, not named: a project without the table
    assert found.returncode == 0, found.stdout + found.stderr
