"""A push to a branch other than the default one is judged by the default branch's
configuration: the pusher chooses a branch's own (found by a review: a branch from an old
commit whose configuration excluded the key's folder, or one push loosening it before the
push that adds a key, passed with exit 0)."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo, git_env


def _origin(tmp_path: Path) -> tuple[Repo, str]:
    """main: an old commit excluding fixtures/, then the policy that does not."""
    origin = Repo(tmp_path / "origin")
    origin.write(".sgai-guard.toml", 'exclude-paths = ["fixtures/"]\n')
    old = origin.commit("old policy")
    origin.write(".sgai-guard.toml", "# every path is scanned\n")
    origin.commit("the policy now")
    return origin, old


def _clone(origin: Repo, into: Path, branch: str, *depth: str) -> Repo:
    subprocess.run(
        ["git", "clone", "-q", *depth, "--branch", branch, origin.path.as_uri(), str(into)],
        env=git_env(),
        check=True,
    )
    return Repo.existing(into)


def _push_env(tmp_path: Path, before: str, after: str, branch: str) -> dict[str, str]:
    path = tmp_path / "event.json"
    payload = {
        "before": before,
        "after": after,
        "ref": f"refs/heads/{branch}",
        "repository": {"default_branch": "main"},
    }
    path.write_text(json.dumps(payload))
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(path)}


def test_a_branch_from_an_old_commit_is_judged_by_the_default_branch_s_policy(
    tmp_path: Path, rng: random.Random
) -> None:
    origin, old = _origin(tmp_path)
    origin.git("checkout", "-q", "-b", "topic", old)
    origin.write("readme.txt", "x\n")
    before = origin.commit("start")
    origin.write("fixtures/k.env", f"K={keys.sgai_uuid(rng)}\n")
    after = origin.commit("a key where the old policy looked away")
    work = _clone(origin, tmp_path / "work", "topic")
    env = _push_env(tmp_path, before, after, "topic")
    proc = run_cli("ci", "--format", "json", cwd=work.path, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert [f["path"] for f in report["findings"]] == ["fixtures/k.env"]
    assert any("judged by the configuration main has" in n for n in report["notices"])


def test_a_push_loosening_the_policy_does_not_let_the_next_one_pass(
    tmp_path: Path, rng: random.Random
) -> None:
    origin, _ = _origin(tmp_path)
    origin.git("checkout", "-q", "-b", "topic")
    origin.write(".sgai-guard.toml", 'exclude-paths = ["*"]\n')
    loosened = origin.commit("first push: every path excluded")
    origin.write("app.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    after = origin.commit("second push: a key")
    # a whole clone without origin/main (GitLab's branch pipelines fetch the branch only)
    work = _clone(origin, tmp_path / "work", "topic", "--single-branch")
    assert work.attempt("rev-parse", "--verify", "-q", "refs/remotes/origin/main").returncode
    env = _push_env(tmp_path, loosened, after, "topic")
    url = ("--remote-url", origin.path.as_uri())
    proc = run_cli("ci", "--format", "json", *url, cwd=work.path, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [f["path"] for f in json.loads(proc.stdout)["findings"]] == ["app.py"]
    on_main = _push_env(tmp_path, loosened, after, "main")  # the default branch's own push
    assert run_cli("ci", *url, cwd=work.path, env=on_main).returncode == 0


def test_a_shallow_clone_without_the_default_branch_says_whose_policy_judged(
    tmp_path: Path, rng: random.Random
) -> None:
    """A depth-1 fetch of main into a shallow clone would cut the range's history at main's
    tip when the clone holds it: not done; the push is judged by its own, and that is said."""
    origin, _ = _origin(tmp_path)
    origin.git("checkout", "-q", "-b", "topic")
    origin.write("a.txt", "a\n")
    before = origin.commit("one")
    origin.write("b.txt", f"{keys.sgai_uuid(rng)}\n")
    after = origin.commit("two")
    work = _clone(origin, tmp_path / "work", "topic", "--depth", "2", "--single-branch")
    env = _push_env(tmp_path, before, after, "topic")
    url = ("--remote-url", origin.path.as_uri())
    proc = run_cli("ci", "--format", "json", *url, cwd=work.path, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    notices = json.loads(proc.stdout)["notices"]
    assert any("the default branch main is not in this clone" in n for n in notices), notices
