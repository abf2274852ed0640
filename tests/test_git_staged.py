"""`scan --staged`: exactly the index, in every repository state a commit can happen in."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_json
from tests.gitrepo import Repo


def _paths(report: dict[str, list[dict[str, object]]]) -> list[object]:
    return [f["path"] for f in report["findings"]]


def test_index_blob_counts_not_the_work_tree(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    repo.write("app.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    repo.add("app.py")
    repo.write("app.py", "KEY = os.environ['TAVILY_API_KEY']\n")  # unstaged fix
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1 and _paths(report) == ["app.py"]


def test_key_only_in_unstaged_edit_does_not_block(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("app.py", "print('hi')\n")
    repo.commit("root")
    repo.write("app.py", f"KEY = '{keys.sgai_uuid(rng)}'\n")
    repo.write("other.py", "x = 1\n")
    repo.add("other.py")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 0 and report["findings"] == [] and report["scanned"]["files"] == 1


def test_nothing_staged_is_said_and_clean(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 0
    assert report["notices"] == ["nothing is staged: the next commit adds no file content"]


def test_index_version_4(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.git("config", "feature.manyFiles", "true")
    repo.commit("root")
    repo.write("deep/dir/conf.env", f"TAVILY_API_KEY={keys.tavily_legacy(rng, 'dev')}\n")
    repo.add("deep/dir/conf.env")
    repo.git("update-index", "--index-version", "4")
    assert (tmp_path / ".git" / "index").read_bytes()[:8] == b"DIRC\x00\x00\x00\x04"
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1 and _paths(report) == ["deep/dir/conf.env"]


def test_repository_without_commits(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("first.py", keys.sgai_uuid(rng))
    repo.add("first.py")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1 and _paths(report) == ["first.py"]


def test_odd_path_names(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    odd = "dir with space/ñandú\nline.txt"
    repo.write(odd, keys.tavily_current(rng))
    repo.add(odd)
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    # reports show a control character in a name escaped (see sgai_guard.display)
    assert code == 1 and _paths(report) == ["dir with space/ñandú\\x0aline.txt"]


def test_linked_worktree(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "main")
    repo.commit("root")
    repo.git("worktree", "add", "-q", str(tmp_path / "linked"), "-b", "side")
    linked = tmp_path / "linked"
    side = Repo.existing(linked)
    side.write("k.txt", keys.sgai_uuid(rng))
    side.add("k.txt")
    code, report = run_json("scan", "--staged", cwd=linked)
    assert code == 1 and _paths(report) == ["k.txt"]
    code, report = run_json("scan", "--staged", cwd=tmp_path / "main")
    assert code == 0


def test_key_already_in_head_reported_but_not_blocking(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    old = keys.tavily_current(rng)
    repo.write("settings.py", f"KEY = '{old}'\n")
    repo.commit("leak")
    repo.write("settings.py", f"KEY = '{old}'\nDEBUG = True\n")
    repo.add("settings.py")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 0
    [finding] = report["findings"]
    assert (finding["status"], finding["blocking"]) == ("already-committed", False)
    new = keys.tavily_current(rng)
    repo.write("settings.py", f"KEY = '{old}'\nOTHER = '{new}'\n")
    repo.add("settings.py")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1
    assert sorted(f["status"] for f in report["findings"]) == ["already-committed", "new"]


def test_during_a_merge(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("shared.txt", "base\n")
    repo.commit("root")
    repo.git("checkout", "-q", "-b", "feature")
    branch_key = keys.sgai_uuid(rng)
    repo.write("feature.env", f"SGAI_API_KEY={branch_key}\n")
    repo.write("shared.txt", "feature side\n")
    repo.commit("feature")
    repo.git("checkout", "-q", "main")
    repo.write("shared.txt", "main side\n")
    repo.commit("main")
    repo.git("merge", "--no-gpg-sign", "feature", check=False)  # conflicts in shared.txt
    assert (tmp_path / ".git" / "MERGE_HEAD").exists()
    repo.write("shared.txt", "resolved\n")
    repo.add("shared.txt")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 0  # the branch's key was committed on the branch: rotate, not block
    assert [f["status"] for f in report["findings"]] == ["already-committed"]
    repo.write("shared.txt", f"resolved with {keys.tavily_current(rng)}\n")
    repo.add("shared.txt")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1
    assert {f["path"]: f["status"] for f in report["findings"]} == {
        "feature.env": "already-committed",
        "shared.txt": "new",
    }


@pytest.mark.parametrize("planted", [":/ :0", ":0", "HEAD", "{tree}", "{blob}"])
def test_a_planted_merge_head_cannot_vouch_for_a_new_key(
    tmp_path: Path, rng: random.Random, planted: str
) -> None:
    """Found by an attacker review: MERGE_HEAD was split into words and each used as a
    revision. `:/ :0` gave ":0", and ":0:<path>" is the staged blob itself, so the new key
    was "already committed on the branch being merged" (exit 0), while git committed it
    (it resolves `:/ :0` to HEAD). Only commit ids count; a tree's or blob's id does not."""
    repo = Repo(tmp_path)
    repo.write("a.txt", "a\n")
    repo.commit("init :0")
    key = keys.tavily_current(rng)
    repo.write("s.env", f"key={key}\n")
    repo.add("s.env")
    blob = repo.git("rev-parse", ":s.env").strip()
    tree = repo.git("mktree", stdin=f"100644 blob {blob}\ts.env\n".encode()).strip()
    line = planted.format(tree=tree, blob=blob)
    (tmp_path / ".git" / "MERGE_HEAD").write_text(line + "\n")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1, report
    assert [f["status"] for f in report["findings"]] == ["new"]
