"""The layering of DESIGN.md, checked on the source: nothing imports upward."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from sgai_guard.models import ScanResult, ScanStats
from sgai_guard.report import Format, RenderOptions, renderer

PACKAGE = Path(__file__).resolve().parent.parent / "sgai_guard"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules() -> dict[str, set[str]]:
    return {p.relative_to(PACKAGE).as_posix(): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_click_only_in_cli() -> None:
    users = {m for m, names in _modules().items() if any(n.split(".")[0] == "click" for n in names)}
    assert users and all(m.startswith("cli/") for m in users), users


def test_git_and_subprocess_only_under_sources() -> None:
    for module, names in _modules().items():
        if not module.startswith("sources/"):
            assert not names & {"subprocess", "git"}, module


def test_report_never_imports_scan_and_scan_never_imports_report() -> None:
    for module, names in _modules().items():
        if module.startswith("report/"):
            assert not any(n.startswith(("sgai_guard.scan", "sgai_guard.sources")) for n in names)
        if module in {"scan.py", "detect.py", "rules.py", "entropy.py", "models.py"}:
            assert not any(n.startswith("sgai_guard.report") for n in names), module
            assert "click" not in names


def test_gitpython_only_for_the_audits_triage() -> None:
    users = {m for m, names in _modules().items() if "git" in names}
    # GitPython's index parser fails on index v4, and the audit stream must stay one pass:
    # elsewhere git stays plumbing
    assert users == {"sources/gitobjects.py", "sources/history.py"}, users


def test_every_format_is_wired() -> None:
    empty = ScanResult((), (), (), ScanStats(files=1, bytes=3))
    for fmt in Format:
        assert renderer(fmt)(empty, RenderOptions()).strip(), fmt


def test_hook_start_up_path_stays_light() -> None:
    import subprocess

    code = (
        "import sys, sgai_guard.cli, sgai_guard.scan, sgai_guard.sources.worktree;"
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
        " 'pathlib'}"
        " or m in {'sgai_guard.config', 'sgai_guard.allowlist'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
