"""`sgai-guard scan PATH` end to end: exit codes, reports, .gitignore, size cap, symlinks."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sgai_guard.cli import main
from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo
from tests.unprivileged import drop_privileges

EXCLUDED = (
    "that git's ignore rules exclude (.gitignore, .git/info/exclude, core.excludesFile) "
    "were not scanned"
)


def _placeholder_file(path: Path) -> None:
    path.write_text("\n".join(f"KEY_{i} = '{p}'" for i, p in enumerate(keys.placeholders())))


def test_done_when_two_keys_and_placeholders(tmp_path: Path, rng: random.Random) -> None:
    tavily, sgai = keys.tavily_current(rng), keys.sgai_uuid(rng)
    _placeholder_file(tmp_path / "docs.md")
    (tmp_path / "app.py").write_text(f"T = '{tavily}'\nS = '{sgai}'\n")
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert tavily not in proc.stdout and sgai not in proc.stdout
    assert "tvly-dev-****" + tavily[-4:] in proc.stdout
    assert "sgai-****" + sgai[-4:] in proc.stdout
    assert "app.troubleshoot" not in proc.stdout
    assert "https://app.tavily.com" in proc.stdout and "SGAI_API_KEY" in proc.stdout
    assert "2 blocking" in proc.stdout
    (tmp_path / "app.py").write_text("T = os.environ['TAVILY_API_KEY']\n")
    clean = run_cli("scan", ".", cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout
    assert "0 blocking" in clean.stdout


def test_json_shape_and_show_secrets(tmp_path: Path, rng: random.Random) -> None:
    key = keys.tavily_legacy(rng)
    (tmp_path / "a.env").write_text(f"TAVILY_API_KEY={key}\nX=tvly-{'x' * 32}\n")
    code, report = run_json("scan", str(tmp_path), cwd=tmp_path)
    assert code == 1
    assert set(report) >= {"version", "scanned", "findings", "suppressed", "errors"}
    [finding] = report["findings"]
    assert {
        "rule_id",
        "provider",
        "path",
        "line",
        "column",
        "commit",
        "redacted",
        "fingerprint",
        "remediation",
    } <= set(finding)
    assert "secret" not in finding
    assert (finding["path"], finding["line"], finding["column"]) == ("a.env", 1, 16)
    assert report["suppressed"][0]["reason"] == "placeholder"
    assert report["scanned"]["files"] == 1
    code, shown = run_json("scan", str(tmp_path), "--show-secrets", cwd=tmp_path)
    assert shown["findings"][0]["secret"] == key


def test_show_suppressed_lists_reason(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("sgai-" + "-".join("0" * n for n in (8, 4, 4, 4, 12)))
    plain = run_cli("scan", ".", cwd=tmp_path)
    assert plain.returncode == 0 and "1 suppressed" in plain.stdout
    listed = run_cli("scan", ".", "--show-suppressed", cwd=tmp_path)
    assert "[placeholder] 7 identical characters in a row" in listed.stdout


def test_gitignore_honoured_in_repo_and_tracked_ignored_flagged(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    ignored_key, tracked_key = keys.tavily_current(rng), keys.sgai_uuid(rng)
    repo.write(".gitignore", ".env\n*.log\n")
    repo.write(".env", f"TAVILY_API_KEY={ignored_key}\n")
    repo.write("debug.log", f"{tracked_key}\n")
    repo.add(".gitignore", "debug.log")  # force-added although ignored
    repo.write("excluded.txt", f"{ignored_key}\n")
    (tmp_path / ".git" / "info" / "exclude").write_text("excluded.txt\n")
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1
    assert [f["path"] for f in report["findings"]] == ["debug.log"]
    assert "gitignore" in report["findings"][0]["notes"][0]
    code, everything = run_json("scan", ".", "--no-gitignore", cwd=tmp_path)
    assert sorted(f["path"] for f in everything["findings"]) == [
        ".env",
        "debug.log",
        "excluded.txt",
    ]
    ignored = f"2 file(s) {EXCLUDED} (--no-gitignore scans them)"
    assert report["notices"] == [ignored]
    assert everything["notices"] == []


def test_gitignore_honoured_outside_a_repo(tmp_path: Path, rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    (tmp_path / "sub").mkdir()
    (tmp_path / ".gitignore").write_text("secret*\n!keep/\n")
    (tmp_path / "sub" / ".gitignore").write_text("local.txt\n")
    (tmp_path / "secret.txt").write_text(key)
    (tmp_path / "sub" / "local.txt").write_text(key)
    (tmp_path / "sub" / "code.py").write_text(key)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1
    assert [f["path"] for f in report["findings"]] == ["sub/code.py"]
    assert report["notices"] == [f"2 file(s) {EXCLUDED} (--no-gitignore scans them)"]


def test_what_gitignore_leaves_out_is_said(tmp_path: Path, rng: random.Random) -> None:
    """A hostile `.gitignore` (an unpacked archive, say) naming the one file with a key: the
    scan passes, as .gitignore asks, but says how much it left out, never silently."""
    (tmp_path / "vendor" / "deep").mkdir(parents=True)
    (tmp_path / ".gitignore").write_text("*.env\nvendor/\n")
    (tmp_path / "prod.env").write_text(f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    (tmp_path / "vendor" / "deep" / "x.txt").write_text("x\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    said = f"note: 1 file(s) and 1 folder(s) {EXCLUDED}"
    assert said in proc.stdout and "--no-gitignore scans them" in proc.stdout
    assert run_cli("scan", ".", "--no-gitignore", cwd=tmp_path).returncode == 1


def test_global_excludes_file_is_honoured(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("notes.scratch", keys.tavily_current(rng))
    excludes = tmp_path / "global-ignore"
    excludes.write_text("*.scratch\n")
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f"[core]\n\texcludesFile = {excludes}\n")
    proc = run_cli("scan", ".", cwd=repo.path, env={"GIT_CONFIG_GLOBAL": str(gitconfig)})
    assert proc.returncode == 3 and "Nothing was scanned" in proc.stdout


def test_size_cap_lists_skipped_file(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "big.bin").write_bytes(b"a" * 2048 + keys.tavily_current(rng).encode())
    (tmp_path / "small.txt").write_text("hello")
    code, report = run_json("scan", ".", "--max-file-size", "1k", cwd=tmp_path)
    assert code == 0
    assert report["skipped"][0]["path"] == "big.bin"
    assert "size cap" in report["skipped"][0]["reason"]


def test_symlink_out_of_tree_not_followed(tmp_path: Path, rng: random.Random) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key.txt").write_text(keys.tavily_current(rng))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "ok.txt").write_text("fine")
    (tree / "link.txt").symlink_to(outside / "key.txt")
    code, report = run_json("scan", ".", cwd=tree)
    # never followed: the link is scanned as what git would store, the path it holds
    assert code == 0 and report["skipped"] == [] and report["scanned"]["files"] == 2


def test_unreadable_file_makes_scan_incomplete(tmp_path: Path, rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / "a.txt").write_text(key)
    (tmp_path / "locked.txt").write_text("x")
    (tmp_path / "locked.txt").chmod(0)
    proc = run_cli("scan", ".", cwd=tmp_path, preexec_fn=drop_privileges())
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "locked.txt: cannot read: Permission denied" in proc.stdout


def test_empty_directory_is_incomplete_not_clean(tmp_path: Path) -> None:
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 3
    assert "nothing was scanned" in proc.stdout


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    for args in (["scan", "missing-dir"], ["scan", "--format", "xml"], ["frobnicate"]):
        proc = run_cli(*args, cwd=tmp_path)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr


def test_interrupt_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("sgai_guard.sources.worktree.worktree_blobs", interrupted)
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "."]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_colour_only_when_asked_or_on_a_tty(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "k").write_text(keys.tavily_current(rng))
    assert "\033[" not in run_cli("scan", ".", cwd=tmp_path).stdout
    assert "\033[" in run_cli("scan", ".", "--color", "always", cwd=tmp_path).stdout


def test_output_file_keeps_exit_code(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "k").write_text(keys.sgai_uuid(rng))
    proc = run_cli("scan", "k", "--format", "json", "--output", "out.json", cwd=tmp_path)
    assert proc.returncode == 1
    assert (tmp_path / "out.json").read_text().startswith("{")
    assert "1 blocking" in proc.stderr


def test_version_and_module_entry_point(tmp_path: Path) -> None:
    from sgai_guard import __version__

    proc = run_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_file_arguments_report_repo_relative_paths(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("src/pkg/conf.py", keys.tavily_current(rng))
    code, report = run_json("scan", "conf.py", cwd=tmp_path / "src" / "pkg")
    assert code == 1
    assert [f["path"] for f in report["findings"]] == ["src/pkg/conf.py"]


def test_repository_passes_its_own_scanner() -> None:
    root = Path(__file__).resolve().parent.parent
    code, report = run_json("scan", ".", cwd=root)
    assert code == 0, report["findings"]
    assert report["scanned"]["files"] > 20


def test_unexpected_error_exits_3_never_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("sgai_guard.sources.worktree.worktree_blobs", broken)
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "."]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: disk on fire" in err and "Traceback" not in err
    monkeypatch.setenv("SGAI_GUARD_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["scan", "."])


def test_hook_option_parsing(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    repo.write("-odd.py", keys.tavily_current(rng))
    repo.add("-odd.py")
    assert run_cli("hook", "--", "-odd.py", cwd=tmp_path).returncode == 1
    bad = run_cli("hook", "--bogus", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown option '--bogus'" in bad.stderr


def test_scan_progress_only_when_asked_off_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    assert run_cli("scan", ".", cwd=tmp_path).stderr == ""
    assert "scanned 1 file," in run_cli("scan", ".", "--progress", "always", cwd=tmp_path).stderr


def test_overlapping_paths_are_read_once(tmp_path: Path, rng: random.Random) -> None:
    """A file named on its own and again through its folders (in any spelling) is one file."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "k.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    for paths in (["a", "a/b", "a/b/k.env"], ["a/b/k.env", "./a/b/k.env", "a/../a/b/k.env"]):
        code, report = run_json("scan", *paths, cwd=tmp_path)
        assert code == 1 and report["scanned"]["files"] == 1, paths
        assert len(report["findings"]) == 1, report["findings"]


def test_a_gitignore_line_pathspec_cannot_read_is_skipped(
    tmp_path: Path, rng: random.Random
) -> None:
    """Outside git, one line such as `!` or `[z-a]` ended the whole scan as an internal
    error, its findings unsaid (found by a review). git skips such lines; so does this."""
    (tmp_path / "a").mkdir()
    (tmp_path / "z").mkdir()
    (tmp_path / "a" / "x.txt").write_text(f"k={keys.tavily_current(rng)}\n")
    (tmp_path / "z" / ".gitignore").write_text("!\n[z-a]\n[[:alpha:]]\na\\\nskip.txt\n")
    (tmp_path / "z" / "skip.txt").write_text(f"k={keys.sgai_uuid(rng)}\n")
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["a/x.txt"]  # skip.txt still ignored


def test_a_baseline_outside_the_configurations_folder_is_refused(tmp_path: Path) -> None:
    """A scanned repository's `baseline = "/etc/passwd"` had every scan read any file on
    the machine (found by a review)."""
    (tmp_path / "a.txt").write_text("hello\n")
    for name in ("/etc/passwd", "../outside.json"):
        (tmp_path / ".sgai-guard.toml").write_text(f'baseline = "{name}"\n')
        proc = run_cli("scan", ".", cwd=tmp_path)
        assert proc.returncode == 2 and "outside the configuration's folder" in proc.stderr
