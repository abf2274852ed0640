"""What the import-linter contracts (pyproject.toml, run by .ci/run) cannot say: every format
is wired, and the commit hook's start-up path stays light."""

from __future__ import annotations

import sys
from pathlib import Path

from sgai_guard.models import ScanResult, ScanStats
from sgai_guard.report import Format, RenderOptions, renderer

PACKAGE = Path(__file__).resolve().parent.parent / "sgai_guard"


def test_every_format_is_wired() -> None:
    empty = ScanResult((), (), (), ScanStats(files=1, bytes=3))
    for fmt in Format:
        assert renderer(fmt)(empty, RenderOptions()).strip(), fmt


def test_hook_start_up_path_stays_light() -> None:
    import subprocess

    code = (
        "import sys, sgai_guard.cli, sgai_guard.engine.scan, sgai_guard.sources.worktree;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'git','regex','hyperscan','jsonschema','pathspec'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_commit_hook_path_loads_no_dataclasses_config_or_heavy_libraries(tmp_path: Path) -> None:
    """The hook's start-up budget: a regression here costs every commit of every user."""
    import subprocess

    from tests.gitrepo import Repo

    Repo(tmp_path).commit("root")
    code = (
        "import io, sys, contextlib; from sgai_guard.entry import main;\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['hook'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'dataclasses', 'inspect',"
        " 'click', 'git', 'regex', 'pathspec', 'hyperscan', 'json', 'tomllib', 'datetime',"
        " 'pathlib', 'dulwich'}"
        " or m in {'sgai_guard.policy.config', 'sgai_guard.policy.allowlist'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _commit_hook(tmp_path: Path, name: str, text: str) -> tuple[int, str, set[str]]:
    """The hook run on one staged file in a fresh repository: its exit code, its report, and
    the modules it loaded beyond Python's start-up."""
    import subprocess

    from tests.gitrepo import Repo

    repo = Repo(tmp_path)
    repo.commit("root")
    repo.write(name, text)
    repo.add(name)
    code = (
        "import sys; before = set(sys.modules); from sgai_guard.entry import hook\n"
        "try:\n    hook()\nexcept SystemExit as done:\n    code = done.code\n"
        "print(code, *sorted(set(sys.modules) - before), file=sys.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    status, *loaded = out.stderr.split()
    return int(status), out.stdout, set(loaded)


def test_clean_commit_loads_only_the_quick_path(tmp_path: Path) -> None:
    """A clean commit (sources/quick.py) runs on os, sys, select and a few small modules of
    ours: typing, enum, re, subprocess and collections cost more than the whole check."""
    status, report, loaded = _commit_hook(tmp_path, "a.py", "x = 1\n")
    assert status == 0 and report.startswith("Scanned 1 file"), report
    others = {m for m in loaded if not m.startswith("sgai_guard")}
    assert others <= {"__future__", "select"}, others


def test_full_scan_behind_the_quick_path_runs_no_more_git(tmp_path: Path) -> None:
    """A staged file naming a provider goes to the full scan, which scans what the quick path
    read: no second listing and reading by git, so subprocess and threading never load (only
    a finding's history lookup needs them)."""
    status, report, loaded = _commit_hook(
        tmp_path, "client.py", "from tavily import TavilyClient\n"
    )
    assert status == 0 and report.startswith("Scanned 1 file (32 bytes)"), report
    assert "sgai_guard.engine.scan" in loaded and not {"subprocess", "threading"} & loaded
