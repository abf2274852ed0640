"""`sgai-guard ci` judges a change by the configuration its base had: a pull request that adds
its own allow entry, exclusion or baseline entry still fails."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo


def _pr(tmp_path: Path, rng: random.Random, config: str, extra: dict[str, str]) -> tuple[Repo, str]:
    repo = Repo(tmp_path)
    repo.write("README.md", "project\n")
    base = repo.commit("base")
    repo.write("app/settings.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    repo.write(".sgai-guard.toml", config)
    for name, text in extra.items():
        repo.write(name, text)
    repo.commit("a key, and a configuration that allows it")
    return repo, base


def test_a_change_cannot_exclude_its_own_key(tmp_path: Path, rng: random.Random) -> None:
    repo, base = _pr(tmp_path, rng, 'exclude-paths = ["app/"]\n', {})
    proc = run_cli("ci", "--base", base, "--format", "json", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert [f["path"] for f in report["findings"]] == ["app/settings.py"]
    assert any("judged by the configuration its base" in n for n in report["notices"])
    plain = run_cli("scan", ".", cwd=repo.path)  # the work tree's own configuration applies
    assert plain.returncode == 0


def test_a_change_cannot_baseline_its_own_key(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("README.md", "project\n")
    repo.write(".sgai-guard.toml", 'baseline = "known.json"\n')
    base = repo.commit("base with a baseline setting")
    repo.write("app/settings.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    run_cli("baseline", ".", "-o", "known.json", cwd=repo.path)
    repo.commit("a key, and a baseline that knows it", "known.json", "app/settings.py")
    assert run_cli("scan", ".", cwd=repo.path).returncode == 0  # the baseline knows it
    proc = run_cli("ci", "--base", base, cwd=repo.path)
    assert proc.returncode == 1, proc.stdout + proc.stderr


def test_an_untouched_configuration_applies(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write(".sgai-guard.toml", 'exclude-paths = ["fixtures/"]\n')
    base = repo.commit("base")
    repo.write("fixtures/k.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.commit("a fixture")
    proc = run_cli("ci", "--base", base, "--format", "json", cwd=repo.path)
    assert proc.returncode == 0, proc.stdout
    assert not any("judged by" in n for n in json.loads(proc.stdout)["notices"])


def test_a_change_cannot_exclude_its_own_key_from_a_subfolder(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: a monorepo job runs in its folder, where the scan finds that folder's
    own `.sgai-guard.toml`; only the root's files were watched, so a change adding one that
    excluded its key passed when `ci` ran from the subfolder."""
    repo = Repo(tmp_path)
    repo.write("svc/app.py", "x = 1\n")
    base = repo.commit("base")
    repo.write("svc/settings.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    repo.write("svc/.sgai-guard.toml", 'exclude-paths = ["settings.py"]\n')
    repo.commit("a key, and a configuration beside it that excludes it")
    proc = run_cli("ci", "--base", base, "--format", "json", cwd=repo.path / "svc")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert [f["path"] for f in report["findings"]] == ["svc/settings.py"]
    assert any("svc/.sgai-guard.toml" in n for n in report["notices"]), report["notices"]


def test_a_change_cannot_baseline_its_own_key_from_a_subfolder(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    repo.write("svc/.sgai-guard.toml", 'baseline = "known.json"\n')
    base = repo.commit("base with a baseline beside the service")
    repo.write("svc/settings.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    run_cli("baseline", ".", "-o", "known.json", cwd=repo.path / "svc")
    repo.commit("a key, and a baseline that knows it", "svc/known.json", "svc/settings.py")
    assert run_cli("scan", ".", cwd=repo.path / "svc").returncode == 0  # the baseline knows it
    proc = run_cli("ci", "--base", base, cwd=repo.path / "svc")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "svc/known.json" in proc.stdout


def test_a_change_cannot_turn_inline_markers_back_on(tmp_path: Path, rng: random.Random) -> None:
    """A project that set `inline-markers = false` judges a pull request by that: the change's
    own marker allows nothing, and neither does its edit of the setting. The commit hook
    honours the setting too."""
    repo = Repo(tmp_path)
    repo.write(".sgai-guard.toml", "inline-markers = false\n")
    base = repo.commit("base: markers allow nothing here")
    repo.write(
        "app/settings.py", f"KEY = '{keys.tavily_current(rng)}'  # sgai-guard: allow fixture\n"
    )
    repo.add("app/settings.py")
    hook = run_cli("hook", cwd=repo.path)
    assert hook.returncode == 1 and "inline-markers = false" in hook.stdout, hook.stdout
    # its advice offers no marker (found by a newcomer review)
    assert "put `sgai-guard: allow" not in hook.stdout and "[[allow]]" in hook.stdout
    repo.write(".sgai-guard.toml", "inline-markers = true\n")
    repo.commit("a key with a marker, and markers turned back on")
    proc = run_cli("ci", "--base", base, "--format", "json", cwd=repo.path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert [f["path"] for f in report["findings"]] == ["app/settings.py"]


def test_a_change_cannot_baseline_its_own_key_behind_a_symlinked_folder(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: `baseline = "link/b.json"` with `link -> data`: the change added
    its key to data/b.json, which a diff of link/b.json never shows, so its own baseline
    judged it (exit 0); so did a change adding the link itself."""
    for adds_link in (False, True):
        repo = Repo(tmp_path / f"repo{adds_link}")
        repo.write(".sgai-guard.toml", 'baseline = "link/b.json"\n')
        repo.write("data/b.json", '{"secrets": {}, "sgai-guard-baseline": 1}\n')
        if not adds_link:
            (repo.path / "link").symlink_to("data")
        base = repo.commit("base")
        repo.write("app.py", f"KEY = '{keys.tavily_current(rng)}'\n")
        if adds_link:
            (repo.path / "link").symlink_to("data")
        run_cli("baseline", ".", "-o", "data/b.json", cwd=repo.path)
        repo.commit("a key, and the baseline behind the link knows it")
        assert run_cli("scan", ".", cwd=repo.path).returncode == 0  # its own baseline knows it
        proc = run_cli("ci", "--base", base, cwd=repo.path)
        assert proc.returncode == 1, proc.stdout + proc.stderr
