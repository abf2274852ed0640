"""Configuration, allowlist and baseline: suppress exactly what was allowed, never a new key."""

from __future__ import annotations

import datetime
import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo, git_env


def _fingerprint(cwd: Path, path: str) -> str:
    _, report = run_json("scan", path, cwd=cwd)
    return str(report["findings"][0]["fingerprint"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus = 1\n", "bogus: unknown key"),
        ("exclude-paths = 'docs/'\n", "exclude-paths: must be a list of strings"),
        ("other-markers = 'yes'\n", "other-markers: must be true or false"),
        ("inline-markers = 0\n", "inline-markers: must be true or false"),
        ("[[allow-regex]]\npattern = '(unclosed'\nreason = 'r'\n", "does not compile"),
        ("[[allow]]\nfingerprint = 'abc'\nreason = 'r'\n", "fingerprint must be 20"),
        (f"[[allow]]\nfingerprint = '{'a' * 20}'\n", "reason is required"),
        (
            f"[[allow]]\nfingerprint = '{'a' * 20}'\nreason = 'r'\nexpires = 'soon'\n",
            "expires must be a date",
        ),
        ("regex-timeout = true\n", "regex-timeout: must be a number of seconds above 0"),
        ("salt = [\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_one_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / ".sgai-guard.toml").write_text(text)
    (tmp_path / "a.txt").write_text("hello")
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert expected in proc.stderr and ".sgai-guard.toml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_pyproject_table_and_explicit_config(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(keys.tavily_current(rng))
    (tmp_path / "pyproject.toml").write_text('[tool.sgai-guard]\nexclude-paths = ["docs/"]\n')
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 0 and report["suppressed"][0]["reason"] == "path"
    (tmp_path / "other.toml").write_text("exclude-paths = []\n")
    code, _ = run_json("scan", ".", "--config", "other.toml", cwd=tmp_path)
    assert code == 1
    (tmp_path / "pyproject.toml").write_text("[tool.sgai-guard]\nwrong = 1\n")
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "[tool.sgai-guard] wrong: unknown key" in proc.stderr


@pytest.mark.parametrize(
    "text",
    [
        '[project]\nname = "sub"\n[project.optional-dependencies]\ndev = ["sgai-guard"]\n',
        "# we run sgai-guard in CI\n[tool.black]\nline-length = 100\n",
    ],
)
def test_a_pyproject_that_only_mentions_sgai_guard_configures_nothing(
    tmp_path: Path, rng: random.Random, text: str
) -> None:
    """Found by a review: a sub-project's pyproject.toml naming sgai-guard as a dependency,
    or in a comment, replaced the root's configuration (`inline-markers = false`), and a
    marked key below it passed, from the root and from the sub-project alike."""
    repo = Repo(tmp_path / "repo")
    repo.write(".sgai-guard.toml", "inline-markers = false\n")
    repo.write("sub/pyproject.toml", text)
    repo.write("sub/leak.py", f"KEY = '{keys.sgai_uuid(rng)}'  # sgai-guard: allow demo\n")
    repo.commit("sub-project")
    for where, target in ((repo.path, "sub"), (repo.path / "sub", ".")):
        code, report = run_json("scan", target, cwd=where)
        assert code == 1 and not report["suppressed"], (where, report)


def test_command_line_overrides_the_file(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / ".sgai-guard.toml").write_text('max-file-size = "1k"\n')
    (tmp_path / "big.txt").write_text("x" * 2000 + keys.tavily_current(rng))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 0 and [s["path"] for s in report["skipped"]] == ["big.txt"]
    code, _ = run_json("scan", ".", "--max-file-size", "1MiB", cwd=tmp_path)
    assert code == 1


def test_path_rules_have_gitignore_semantics(tmp_path: Path, rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    for rel in ("examples/a.py", "examples/keep/b.py", "src/examples.py", "deep/x/fixtures/c.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(key)
    (tmp_path / ".sgai-guard.toml").write_text(
        'exclude-paths = ["examples/*", "!examples/keep/", "fixtures/"]\n'
    )
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1
    assert sorted(f["path"] for f in report["findings"]) == [
        "examples/keep/b.py",
        "src/examples.py",
    ]
    assert {s["path"] for s in report["suppressed"]} == {"examples/a.py", "deep/x/fixtures/c.txt"}


def test_regex_rules_on_secret_and_line(tmp_path: Path, rng: random.Random) -> None:
    a, b = keys.tavily_current(rng), keys.tavily_current(rng)
    (tmp_path / "a.txt").write_text(f"demo = '{a}'\nreal = '{b}'\n")
    (tmp_path / ".sgai-guard.toml").write_text(
        "[[allow-regex]]\npattern = '^demo ='\ntarget = 'line'\nreason = 'demo line'\n"
        f"[[allow-regex]]\npattern = '{b[-6:]}$'\ntarget = 'secret'\nreason = 'that one'\n"
    )
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 0
    assert sorted((s["reason"], s["detail"]) for s in report["suppressed"]) == [
        ("regex", "demo line"),
        ("regex", "that one"),
    ]


def test_pathological_regex_times_out_with_exit_2(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "a.txt").write_text("a" * 40 + "!" + keys.tavily_current(rng) + "\n")
    (tmp_path / ".sgai-guard.toml").write_text(
        "regex-timeout = 0.2\n[[allow-regex]]\npattern = '(a|aa)+$'\ntarget = 'line'\n"
        "reason = 'catastrophic'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "sgai_guard", "scan", "."],
        cwd=tmp_path,
        env=git_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "'(a|aa)+$' took longer than 0.2 s" in proc.stderr


def test_inline_markers_same_line_next_line_and_other_tools(
    tmp_path: Path, rng: random.Random
) -> None:
    k = [keys.tavily_current(rng) for _ in range(4)]
    (tmp_path / "app.properties").write_text(
        f"a={k[0]}  # sgai-guard: allow docs example\n"
        "# sgai-guard: allow-next-line rotated 2026-01\n"
        f"b={k[1]}\n"
        f"c={k[2]}  # gitleaks:allow\n"
        f"d={k[3]}  # pragma: allowlist secret\n"
    )
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and [f["line"] for f in report["findings"]] == [4, 5]
    details = sorted(s["detail"] for s in report["suppressed"])
    assert details == ["inline marker: docs example", "inline marker: rotated 2026-01"]
    code, report = run_json("scan", ".", "--other-markers", cwd=tmp_path)
    assert code == 0 and len(report["suppressed"]) == 4


def test_inline_markers_turned_off_allow_nothing_and_say_so(
    tmp_path: Path, rng: random.Random
) -> None:
    """`inline-markers = false`: whoever adds a key cannot allow it with a comment; the
    configuration's own entries still allow, and the finding says why its marker did not."""
    key, other = keys.tavily_current(rng), keys.sgai_uuid(rng)
    (tmp_path / "app.py").write_text(f"K = '{key}'  # sgai-guard: allow test fixture\n")
    (tmp_path / "b.properties").write_text(f"# sgai-guard: allow-next-line x\nb={other}\n")
    (tmp_path / ".sgai-guard.toml").write_text("inline-markers = false\n")
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and sorted(f["path"] for f in report["findings"]) == ["app.py", "b.properties"]
    for finding in report["findings"]:
        assert any("inline-markers = false" in note for note in finding["notes"]), finding
    text = run_cli("scan", ".", cwd=tmp_path)
    assert text.returncode == 1 and "its inline marker allows nothing" in text.stdout
    (tmp_path / ".sgai-guard.toml").write_text("inline-markers = true\n")
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 0 and len(report["suppressed"]) == 2, report


def test_allow_entry_never_hides_a_different_key(tmp_path: Path, rng: random.Random) -> None:
    allowed, other = keys.sgai_uuid(rng), keys.sgai_uuid(rng)
    (tmp_path / "k.env").write_text(f"K={allowed}\n")
    fingerprint = _fingerprint(tmp_path, "k.env")
    added = run_cli("allow", fingerprint, "--reason", "revoked test key", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert run_json("scan", ".", cwd=tmp_path)[0] == 0
    (tmp_path / "k.env").write_text(f"K={allowed} {other}\n")  # same file, same line
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1
    assert [f["redacted"][-4:] for f in report["findings"]] == [other[-4:]]
    assert report["suppressed"][0]["reason"] == "fingerprint"


def test_allow_entry_path_glob_and_expiry(tmp_path: Path, rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text(key)
    (tmp_path / "app.py").write_text(key)
    fingerprint = _fingerprint(tmp_path, "app.py")
    run_cli("allow", fingerprint, "--reason", "test fixture", "--path", "tests/", cwd=tmp_path)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["app.py"]
    (tmp_path / "app.py").unlink()
    past = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    config = tmp_path / ".sgai-guard.toml"
    config.write_text(
        config.read_text().replace('path = "tests/"', f'path = "tests/"\nexpires = {past}')
    )
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1
    assert "expired on" in report["findings"][0]["notes"][0]
    assert any("expired" in n for n in report["notices"])


def test_unused_entries_are_listed_after_a_full_scan(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("clean\n")
    (tmp_path / ".sgai-guard.toml").write_text(
        f"[[allow]]\nfingerprint = '{'0' * 20}'\nreason = 'old key, long gone'\n"
    )
    code, report = run_json("scan", cwd=tmp_path)
    assert code == 0
    assert report["notices"] == [
        f"allowlist entry {'0' * 20} matched nothing in this scan: remove it if the key is "
        "gone (old key, long gone)"
    ]
    _, partial = run_json("scan", "a.txt", cwd=tmp_path)
    assert partial["notices"] == []


def test_allow_command_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"  # keep me\n\n[tool.sgai-guard]\n'
        'exclude-paths = ["docs/"]  # and me\n'
    )
    proc = run_cli("allow", "b" * 20, "--reason", "why", "--expires", "2031-02-03", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = pyproject.read_text()
    assert "# keep me" in text and "# and me" in text
    assert "[[tool.sgai-guard.allow]]" in text and "expires = 2031-02-03" in text
    bad = run_cli("allow", "nothex", "--reason", "why", cwd=tmp_path)
    assert bad.returncode == 2 and pyproject.read_text() == text


def test_baseline_is_stable_and_survives_moves_crlf_and_backslashes(
    tmp_path: Path, rng: random.Random
) -> None:
    old = keys.tavily_current(rng)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "conf.py").write_text(f"K = '{old}'\n")
    assert run_cli("baseline", ".", "-o", "base.json", cwd=tmp_path).returncode == 0
    first = (tmp_path / "base.json").read_bytes()
    run_cli("baseline", ".", "-o", "base.json", cwd=tmp_path)
    assert (tmp_path / "base.json").read_bytes() == first  # byte-for-byte stable
    assert b'"line"' not in first and b"generated" not in first
    (tmp_path / "src" / "conf.py").write_text("# pad\n" * 100 + f"K = '{old}'\n")
    code, report = run_json("scan", ".", "--baseline", "base.json", cwd=tmp_path)
    assert code == 0 and report["suppressed"][0]["reason"] == "baseline"
    (tmp_path / "src" / "conf.py").write_bytes(f"# pad\r\nK = '{old}'\r\n".encode())
    windows = first.replace(b"src/conf.py", b"src\\\\conf.py")
    (tmp_path / "win.json").write_bytes(windows)
    code, _ = run_json("scan", ".", "--baseline", "win.json", cwd=tmp_path)
    assert code == 0
    run_cli("baseline", ".", "-o", "win.json", "--update", cwd=tmp_path)
    assert (tmp_path / "win.json").read_bytes() == first


def test_baseline_reports_new_key_on_same_line_and_update_prunes(
    tmp_path: Path, rng: random.Random
) -> None:
    old, new = keys.sgai_uuid(rng), keys.sgai_uuid(rng)
    (tmp_path / "a.env").write_text(f"K={old}\n")
    (tmp_path / "b.env").write_text(f"K={keys.tavily_current(rng)}\n")
    run_cli("baseline", ".", "-o", "base.json", cwd=tmp_path)
    (tmp_path / "a.env").write_text(f"K={old},{new}\n")
    code, report = run_json("scan", ".", "--baseline", "base.json", cwd=tmp_path)
    assert code == 1 and [f["redacted"][-4:] for f in report["findings"]] == [new[-4:]]
    (tmp_path / "b.env").unlink()
    proc = run_cli("baseline", ".", "-o", "base.json", "--update", cwd=tmp_path)
    assert "pruned 1" in proc.stderr and "1 new secret(s) NOT added" in proc.stderr
    assert len(__import__("json").loads((tmp_path / "base.json").read_text())["secrets"]) == 1


def test_configured_default_baseline_and_hook_use_the_config(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    key = keys.tavily_current(rng)
    repo.write("old.py", f"K = '{key}'\n")
    run_cli("baseline", ".", "-o", ".sgai-baseline.json", cwd=tmp_path)
    repo.write(".sgai-guard.toml", 'baseline = ".sgai-baseline.json"\n')
    assert run_json("scan", ".", cwd=tmp_path)[0] == 0
    repo.add("old.py")
    hook = run_cli("hook", "old.py", cwd=tmp_path)
    assert hook.returncode == 0, hook.stdout


def test_suppressed_listed_with_reasons_in_every_format(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "a.txt").write_text(f"{keys.tavily_current(rng)}  # sgai-guard: allow ok\n")
    text = run_cli("scan", ".", "--show-suppressed", cwd=tmp_path).stdout
    assert "[inline] inline marker: ok" in text
    _, report = run_json("scan", ".", cwd=tmp_path)
    assert report["suppressed"][0]["reason"] == "inline"


def test_default_salt_is_pointed_out_and_a_configured_salt_changes_fingerprints(
    tmp_path: Path, rng: random.Random
) -> None:
    (tmp_path / "k.env").write_text(f"K={keys.tavily_current(rng)}\n")
    default_fp = _fingerprint(tmp_path, "k.env")
    proc = run_cli("baseline", ".", "-o", "b.json", cwd=tmp_path)
    assert "public default salt" in proc.stderr
    (tmp_path / ".sgai-guard.toml").write_text('salt = "team-secret-salt"\n')
    assert _fingerprint(tmp_path, "k.env") != default_fp
    proc = run_cli("baseline", ".", "-o", "b.json", cwd=tmp_path)
    assert "public default salt" not in proc.stderr


def test_allow_refuses_an_expiry_in_the_past(tmp_path: Path) -> None:
    from tests.cli_helpers import run_cli

    proc = run_cli("allow", "0" * 20, "--reason", "x", "--expires", "2020-01-01", cwd=tmp_path)
    assert proc.returncode == 2 and "not in the future" in proc.stderr
    assert not (tmp_path / ".sgai-guard.toml").exists()


def test_baseline_never_writes_through_a_committed_symlink(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: a checkout holding `.sgai-guard-baseline.json` as a
    symlink to a file of the user's had `sgai-guard baseline -o` overwrite that file, with
    file names the repository chose (a name like `$(touch x)` then ran when a shell sourced
    it)."""
    victim = tmp_path / "home" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("export KEEP=1\n")
    repo = Repo(tmp_path / "repo")
    repo.write("$(touch PWNED).env", f"K={keys.tavily_current(rng)}\n")
    (repo.path / ".sgai-guard-baseline.json").symlink_to(victim)
    repo.commit("planted")
    proc = run_cli("baseline", ".", "-o", ".sgai-guard-baseline.json", cwd=repo.path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot write the baseline" in proc.stderr
    assert victim.read_text() == "export KEEP=1\n"


def test_allow_never_writes_through_a_symlinked_configuration(tmp_path: Path) -> None:
    victim = tmp_path / "elsewhere.toml"
    victim.write_text("# mine\n")
    (tmp_path / "repo").mkdir()
    config = tmp_path / "repo" / "linked.toml"
    config.symlink_to(victim)
    proc = run_cli(
        "allow",
        "0123456789abcdef0123",
        "--reason",
        "test",
        "--config",
        str(config),
        cwd=tmp_path / "repo",
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is a symlink: refusing to write through it" in proc.stderr
    assert victim.read_text() == "# mine\n"


@pytest.mark.parametrize(
    ("text", "code"), [('tool = "sgai-guard"\n', 1), ("[tool]\nsgai-guard = 5\n", 2)]
)
def test_a_pyproject_of_odd_shape_is_a_configuration_error_not_a_crash(
    tmp_path: Path, rng: random.Random, text: str, code: int
) -> None:
    """Found by a review: these shapes ended in an internal error (exit 3). A `tool` that is
    not a table configures nothing; a `[tool.sgai-guard]` that is not a table is an error."""
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "k.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr


@pytest.mark.parametrize(
    "setting",
    [
        "regex-timeout = 1000000",
        "regex-timeout = inf",
        'archive-max-bytes = "100g"',
        "archive-max-ratio = 100000000",
        "archive-depth = 1000",
        "archive-max-members = 1000000000",
    ],
)
def test_a_configuration_file_cannot_buy_an_endless_or_unbounded_scan(
    tmp_path: Path, rng: random.Random, setting: str
) -> None:
    """Found by an attacker review: the scanned repository's own file raised the limits
    without bound (a 400 KB gzip then took 1.6 GiB; an allow-regex could run for ever). Past
    the bound a file may set, it is a configuration error naming the key (exit 2)."""
    (tmp_path / ".sgai-guard.toml").write_text(f"{setting}\n")
    (tmp_path / "k.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert setting.split(" =", maxsplit=1)[0] in proc.stderr and "at most" in proc.stderr


def test_limits_within_the_bounds_still_apply(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / ".sgai-guard.toml").write_text(
        'regex-timeout = 2\narchive-max-bytes = "256MiB"\narchive-max-ratio = 1000\n'
    )
    (tmp_path / "k.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    assert run_cli("scan", ".", cwd=tmp_path).returncode == 1


def test_what_a_configuration_file_turns_off_is_said(tmp_path: Path, rng: random.Random) -> None:
    """Found by an attacker review: `archive-depth = 0` in the scanned folder's own file hid a
    key in a zip with nothing said, and a file skipped by its `max-file-size` was said to be
    skipped by --max-file-size, which nobody had passed."""
    key = keys.sgai_uuid(rng)
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("conf/.env", f"K={key}\n")
    (tmp_path / "big.env").write_text(f"K={keys.sgai_uuid(rng)}\n" + "#" * 3000)
    (tmp_path / ".sgai-guard.toml").write_text('archive-depth = 0\nmax-file-size = "2k"\n')
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 0, report
    assert any("archive-depth is 0 in" in n for n in report["notices"]), report["notices"]
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "max-file-size in" in skipped["big.env"] and ".sgai-guard.toml" in skipped["big.env"]
    code, report = run_json("scan", ".", "--archive-depth", "3", cwd=tmp_path)
    assert code == 1 and not any("archive-depth" in n for n in report["notices"])
    code, report = run_json("scan", ".", "--max-file-size", "1k", cwd=tmp_path)
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "set by --max-file-size" in skipped["big.env"], skipped
    # 0: no cap at all (a review found it skipping every file, and exiting 0 over a key)
    code, report = run_json(
        "scan", ".", "--max-file-size", "0", "--archive-depth", "3", cwd=tmp_path
    )
    assert code == 1 and not report["skipped"], report
    assert {f["path"] for f in report["findings"]} == {"big.env", "bundle.zip!conf/.env"}


@pytest.mark.parametrize("brk", ["\r", "\u2028", "\u0085"])
def test_a_marker_allows_nothing_on_lines_an_editor_shows_apart(
    tmp_path: Path, rng: random.Random, brk: str
) -> None:
    """Found by an attacker review: lines are cut at "\\n" only, so one marker in a CR-only
    file (or before a U+2028) allowed every key after it, on lines an editor shows apart."""
    body = brk.join(
        [
            "x = 1  # sgai-guard: allow test fixture",
            *(f"K{n} = '{keys.sgai_uuid(rng)}'" for n in range(3)),
        ]
    )
    (tmp_path / "conf.py").write_bytes(body.encode() + b"\n")
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert len(report["findings"]) == 3 and not report["suppressed"]


def test_a_marker_on_a_crlf_line_still_allows_its_key(tmp_path: Path, rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / "conf.py").write_bytes(
        f"a = 1\r\nK = '{key}'  # sgai-guard: allow test fixture\r\nb = 2\r\n".encode()
    )
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 0, report
    assert [s["reason"] for s in report["suppressed"]] == ["inline"], report["suppressed"]


def test_a_baseline_never_holds_a_key_in_a_path(tmp_path: Path, rng: random.Random) -> None:
    """Found by an attacker review: a key in a file name went into the baseline in clear,
    though a baseline is meant to be committed; paths are only informative (it matches by
    fingerprint), so they are written redacted."""
    named = keys.tavily_current(rng)
    (tmp_path / f"{named}.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    assert run_cli("baseline", ".", "-o", "base.json", cwd=tmp_path).returncode == 0
    text = (tmp_path / "base.json").read_text()
    assert named not in text and "tvly-" in text
    code, report = run_json("scan", ".", "--baseline", "base.json", cwd=tmp_path)
    assert code == 0, report
    assert {s["reason"] for s in report["suppressed"]} == {"baseline"}


def test_a_name_that_is_no_utf8_is_written_escaped_into_the_baseline(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: such a name crashed `baseline` (internal error, exit 3) and left a
    baseline that was there empty, so every later scan stopped on it (exit 2)."""
    (tmp_path / "good.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    assert run_cli("baseline", ".", "-o", "base.json", cwd=tmp_path).returncode == 0
    (tmp_path / os.fsdecode(b"bad\xff.txt")).write_text(f"K={keys.tavily_current(rng)}\n")
    proc = run_cli("baseline", ".", "-o", "base.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "bad\\\\xff.txt" in (tmp_path / "base.json").read_text()  # JSON of bad\xff.txt
    code, report = run_json("scan", ".", "--baseline", "base.json", cwd=tmp_path)
    assert code == 0 and len(report["suppressed"]) == 2, report


@pytest.mark.parametrize("brk", ["\r", "\u2028"])
@pytest.mark.parametrize("pattern", ["^EXAMPLE_", ".*"])
def test_a_line_regex_allows_nothing_on_lines_an_editor_shows_apart(
    tmp_path: Path, rng: random.Random, brk: str, pattern: str
) -> None:
    """Found by an attacker review: `[[allow-regex]]` with target = "line" (the README's own
    `^EXAMPLE_`) matched one of the lines a lone CR shows apart, and allowed a key on the
    next one; inline markers already allowed nothing on such lines."""
    (tmp_path / ".sgai-guard.toml").write_text(
        f'[[allow-regex]]\npattern = "{pattern}"\ntarget = "line"\nreason = "docs"\n'
    )
    body = f"EXAMPLE_URL=https://example.com{brk}TAVILY_API_KEY={keys.tavily_current(rng)}{brk}"
    (tmp_path / "app.env").write_bytes(body.encode())
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and not report["suppressed"], report
    (tmp_path / "ok.env").write_text(f"EXAMPLE_KEY={keys.tavily_current(rng)}\n")
    code, report = run_json("scan", "ok.env", cwd=tmp_path)
    assert code == 0 and [s["reason"] for s in report["suppressed"]] == ["regex"], report


def test_a_marker_above_a_chain_of_literals_allows_no_key_split_further_down(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: a key split across string literals was placed where the
    chain starts, so a marker above a 20-line banner allowed a key split on its last lines."""
    key = keys.tavily_current(rng)
    head, body = key[: key.rindex("-") + 1], key[key.rindex("-") + 1 :]
    words = "".join(f'    "word{n}"\n' for n in range(20))
    source = (
        "# sgai-guard: allow-next-line the usage banner below is not a key\n"
        f'BANNER = ("usage"\n{words}    "{head}"\n    "{body}")\n'
    )
    (tmp_path / "app.py").write_text(source)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and not report["suppressed"], report
    [finding] = report["findings"]
    assert (finding["rule_id"], finding["line"], finding["column"]) == (
        "tavily-api-key-split",
        23,
        6,
    )
    (tmp_path / "app.py").write_text(f'# sgai-guard: allow-next-line demo\nK = "{head}" "{body}"\n')
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 0 and len(report["suppressed"]) == 1, report  # a marker right above it


def test_a_next_line_marker_on_a_line_too_long_to_check_allows_nothing(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: a line over 64 KiB was checked for lone CRs only near
    its start, so a marker padded with 70,000 spaces, then 40 CR-separated lines, allowed
    the key on the line after them."""
    key = keys.tavily_current(rng)
    data = (
        "x = 1\n# sgai-guard: allow-next-line documentation"
        + " " * 70_000
        + "\rdef main():\r    pass\r" * 20
        + f"\nTAVILY_API_KEY = '{key}'\n"
    )
    (tmp_path / "a.py").write_bytes(data.encode())
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and not report["suppressed"], report


def _notebook(cells: list[list[str] | str], *, indent: int | None) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "source": source}
                for source in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=indent,
    )


def test_a_marker_in_a_notebook_reaches_only_its_own_notebook_line(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: a notebook's lines are escaped inside JSON strings, so
    one line of the file held many of the notebook's (all of them, minified), and a marker
    in one cell allowed a key in another."""
    key = keys.tavily_current(rng)
    hidden = {
        "one line": _notebook([["# sgai-guard: allow demo\n"], [f"K = '{key}'\n"]], indent=None),
        "one string": _notebook([f"# sgai-guard: allow demo\nK = '{key}'\n"], indent=1),
        "next line, then another": _notebook(
            [["# sgai-guard: allow-next-line demo\n", f"x = 1\nK = '{key}'\n"]], indent=1
        ),
        # a review of the first fix: a cell's last line has no line end after it
        "last line of a cell": _notebook(
            [["x = 1\n", "# sgai-guard: allow demo"], [f"K = '{key}'\n"]], indent=None
        ),
        "next line, last of a cell": _notebook(
            [["# sgai-guard: allow-next-line demo\n"], [f"K = '{key}'\n"]], indent=1
        ),
    }
    escaped = _notebook([[f"# sgai-guard: allow demo\nK = '{key}'\n"]], indent=None)
    hidden["a line end written \\u000a"] = escaped.replace("\\n", "\\u000a")
    for case, text in hidden.items():
        (tmp_path / "nb.ipynb").write_text(text)
        code, report = run_json("scan", "nb.ipynb", cwd=tmp_path)
        assert code == 1 and not report["suppressed"], (case, report)
    allowed = {
        "same line": _notebook([[f"K = '{key}'  # sgai-guard: allow demo\n"]], indent=1),
        "next line": _notebook(
            [["# sgai-guard: allow-next-line demo\n", f"K = '{key}'\n"]], indent=1
        ),
        "a backslash n in the code": _notebook(
            [[f"print('a\\\\n', '{key}')  # sgai-guard: allow demo\n"]], indent=None
        ),
        "next line, Windows line ends": _notebook(  # VS Code wrote them (a review)
            [["# sgai-guard: allow-next-line demo\r\n", f"K = '{key}'\r\n"]], indent=1
        ),
        "double quotes in the code": _notebook(
            [[f'K = "{key}"  # sgai-guard: allow demo\n']], indent=None
        ),
    }
    for case, text in allowed.items():
        (tmp_path / "nb.ipynb").write_text(text)
        code, report = run_json("scan", "nb.ipynb", cwd=tmp_path)
        assert code == 0 and len(report["suppressed"]) == 1, (case, report)


def test_allow_regex_searches_have_a_budget_for_the_whole_run(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: each search had its own timeout (up to 10 s) and none for the run,
    so a pattern just under it cost that for every finding (20 keys, 34 s; 1,000, half an
    hour). The run's searches stop at REGEX_SECONDS in all (30 s), said as a configuration
    error (exit 2), as one search over its own timeout is; here the budget is cut short."""
    from sgai_guard.engine.prepare import prepare
    from sgai_guard.engine.scan import scan
    from sgai_guard.errors import ConfigError
    from sgai_guard.models import Blob
    from sgai_guard.policy import allowlist

    (tmp_path / ".sgai-guard.toml").write_text(
        'regex-timeout = 10\n[[allow-regex]]\npattern = "(?:a+)+c"\ntarget = "line"\n'
        'reason = "slow"\n'
    )
    lines = "".join(f"K{n} = '{keys.tavily_current(rng)}'  # {'a' * 300}\n" for n in range(10))
    monkeypatch.setattr(allowlist, "REGEX_SECONDS", 0.05)
    prep = prepare(tmp_path)
    with pytest.raises(ConfigError, match="in all in this run"):
        scan([Blob("k.py", lines.encode())], policy=prep.policy, settings=prep.settings)


def test_an_allow_regex_too_large_to_compile_is_refused_before_it_is(tmp_path: Path) -> None:
    """Found by a review: compiling nested counted repeats took gigabytes (the runner was
    killed) before any scan began."""
    (tmp_path / ".sgai-guard.toml").write_text(
        '[[allow-regex]]\npattern = "(?:(?:(?:a{100}){100}){100}){100}"\nreason = "many"\n'
    )
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "pattern is too large" in proc.stderr, proc.stderr
    (tmp_path / ".sgai-guard.toml").write_text(
        '[[allow-regex]]\npattern = "^EXAMPLE_[A-Z]{2,8}(?:_[0-9]{1,3}){0,4}$"\nreason = "ok"\n'
    )
    assert run_cli("scan", ".", cwd=tmp_path).returncode != 2  # an ordinary one is fine
