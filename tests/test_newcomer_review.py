"""What a newcomer trying the README found: each now behaves as documented."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo


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
