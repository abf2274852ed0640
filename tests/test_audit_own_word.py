"""An audit honours the audited repository's own configuration and inline markers, and says so
when they kept a key from blocking (found by reviews: `exclude-paths = ["*"]` in someone
else's repository showed only as "2 suppressed", exit 0)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.fleet_repos import small
from tests.gitrepo import Repo

_SAID = "did not block because the audited repository allows"


def _hiding(path: Path, rng: random.Random) -> Repo:
    repo = Repo(path)
    repo.write(".sgai-guard.toml", 'exclude-paths = ["*"]\n')
    repo.write("app.env", f"KEY={keys.tavily_current(rng)}\n")
    repo.write("doc.md", "TAVILY_API_KEY=tvly-YOUR-API-KEY\n")  # a placeholder: never said
    repo.commit("a key the repository excludes")
    return repo


def test_an_audit_says_when_the_repository_itself_allowed_a_key(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = _hiding(tmp_path / "r", rng)
    code, report = run_json("audit", str(repo.path), cwd=tmp_path)
    assert code == 0, report
    [notice] = [n for n in report["notices"] if _SAID in n]
    assert notice.startswith("1 finding did not block") and ".sgai-guard.toml" in notice
    (tmp_path / "mine.toml").write_text("# the defaults\n")
    code, report = run_json("audit", str(repo.path), "--config", "mine.toml", cwd=tmp_path)
    assert code == 1 and not any(_SAID in n for n in report["notices"]), report


def test_a_fleet_says_it_for_each_repository(tmp_path: Path, rng: random.Random) -> None:
    hiding = _hiding(tmp_path / "hiding", rng)
    plain = small(tmp_path / "plain", [keys.sgai_uuid(rng)])
    out = tmp_path / "out"
    proc = run_cli("audit", str(hiding.path), str(plain), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    merged = run_cli("merge", str(out), "--format", "json", cwd=tmp_path)
    notices = json.loads(merged.stdout)["notices"]
    assert [n for n in notices if _SAID in n and "hiding" in n], notices
    assert not [n for n in notices if _SAID in n and "plain" in n], notices
