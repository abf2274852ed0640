"""SARIF as code scanning uses it: GitHub's line hash, severities, help, run categories, and
several reports written from one scan."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from sgai_guard.detection.linehash import line_hashes
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo
from tests.keys import sgai_uuid, tavily_current

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "fixtures" / "sarif-schema-2.1.0.json").read_text()
)


def github_line_hashes(text: str) -> dict[int, str]:
    """GitHub's hasher, written as its documentation describes it: one pass over UTF-16 code
    units, a window of the last 100 kept characters, a hash output for a line once 100
    characters from its start have been read."""
    mod, block, mask = 37, 100, (1 << 64) - 1
    first_mod = pow(mod, block, 1 << 64)
    window = [0] * block
    numbers = [-1] * block
    state = {"hash": 0, "index": 0, "line": 0, "start": True, "cr": False}
    counts: dict[str, int] = {}
    out: dict[int, str] = {}

    def emit() -> None:
        value = f"{state['hash']:x}"
        counts[value] = counts.get(value, 0) + 1
        out[numbers[state["index"]]] = f"{value}:{counts[value]}"
        numbers[state["index"]] = -1

    def update(unit: int) -> None:
        begin = window[state["index"]]
        window[state["index"]] = unit
        state["hash"] = (mod * state["hash"] + unit - first_mod * begin) & mask
        state["index"] = (state["index"] + 1) % block

    def feed(unit: int) -> None:
        if unit in (32, 9) or (state["cr"] and unit == 10):
            state["cr"] = False
            return
        state["cr"] = unit == 13
        unit = 10 if unit == 13 else unit
        if numbers[state["index"]] != -1:
            emit()
        if state["start"]:
            state["start"] = False
            state["line"] += 1
            numbers[state["index"]] = state["line"]
        state["start"] = unit == 10
        update(unit)

    raw = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(raw), 2):
        feed(int.from_bytes(raw[i : i + 2], "little"))
    feed(0xFFFF)
    for _ in range(block):
        if numbers[state["index"]] != -1:
            emit()
        update(0)
    return out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \t\r\nxé😀")), max_size=400))
def test_line_hash_is_githubs(text: str) -> None:
    expected = github_line_hashes(text)
    data = text.encode("utf-8")
    assert line_hashes(data, set(expected)) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \t\r\nxé")), max_size=400), st.data())
def test_line_hash_of_some_lines_counts_every_line_before_them(
    text: str, data: st.DataObject
) -> None:
    """Only the asked lines' windows are counted (memory grows with them, not the file), yet
    each count takes in every line before it, asked for or not."""
    expected = github_line_hashes(text)
    asked = data.draw(st.sets(st.sampled_from(sorted(expected)))) if expected else set()
    got = line_hashes(text.encode("utf-8"), asked)
    assert got == {n: expected[n] for n in asked}


def test_line_hash_counts_identical_lines() -> None:
    data = (b"k" * 150 + b"\n") * 3 + b"y\n"  # a window is 100 characters: three the same
    hashes = line_hashes(data, {1, 2, 3, 4})
    assert hashes == {n: h for n, h in github_line_hashes(data.decode()).items() if n <= 4}
    assert [hashes[n].split(":")[1] for n in (1, 2, 3)] == ["1", "2", "3"]
    assert len({hashes[n].split(":")[0] for n in (1, 2, 3)}) == 1


def _repo(tmp_path: Path, rng: random.Random) -> tuple[Repo, str, str]:
    repo = Repo(tmp_path)
    tavily, sgai = tavily_current(rng), sgai_uuid(rng)
    repo.write("pad.txt", "nothing here\n")
    repo.commit("root")
    repo.write("app.py", f'import os\n\nTAVILY_API_KEY = "{tavily}"\n')
    repo.write("deep/conf.py", f'client(api_key="{sgai}")\n')
    return repo, tavily, sgai


def test_sarif_rules_and_results_for_code_scanning(tmp_path: Path, rng: random.Random) -> None:
    _repo(tmp_path, rng)
    proc = run_cli(
        "scan", ".", "--format", "sarif", cwd=tmp_path, env={"GITHUB_EVENT_NAME": "push"}
    )
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads(proc.stdout)
    jsonschema.validate(sarif, SCHEMA)
    run = sarif["runs"][0]
    assert run["automationDetails"]["id"] == "sgai-guard/scan/push/"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for rule in rules.values():
        assert rule["helpUri"].startswith("https://docs.")
        assert "1. " in rule["help"]["text"] and rule["helpUri"] in rule["help"]["markdown"]
        assert float(rule["properties"]["security-severity"]) >= 6.0
    severities = {
        r["properties"]["precision"]: r["properties"]["security-severity"] for r in rules.values()
    }
    assert severities["very-high"] > severities["high"]  # follows each rule's confidence
    app = (tmp_path / "app.py").read_text()
    for result in run["results"]:
        path = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert set(result["fingerprints"]) == {"sgaiGuardSecret/v1"}
        text = app if path == "app.py" else (tmp_path / path).read_text()
        expected = github_line_hashes(text)[line]
        assert result["partialFingerprints"]["primaryLocationLineHash"] == expected


def test_one_scan_writes_several_reports(tmp_path: Path, rng: random.Random) -> None:
    _, tavily, sgai = _repo(tmp_path, rng)
    out = tmp_path / "out"
    out.mkdir()
    proc = run_cli(
        "scan", "app.py", "deep", "--format", "github", "--sarif", str(out / "r.sarif"),
        "--report", f"json={out / 'r.json'}", "--report", f"markdown={out / 'r.md'}",
        "--show-secrets", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count("::error ") == 2
    assert tavily in proc.stdout  # --show-secrets is for the terminal ...
    for name in ("r.sarif", "r.json", "r.md"):
        text = (out / name).read_text()
        assert tavily not in text and sgai not in text  # ... never for report files
    assert len(json.loads((out / "r.json").read_text())["findings"]) == 2
    jsonschema.validate(json.loads((out / "r.sarif").read_text()), SCHEMA)
    assert "Tavily" in (out / "r.md").read_text()


def test_a_report_that_cannot_be_written_is_exit_2_and_the_rest_are_written(
    tmp_path: Path, rng: random.Random
) -> None:
    _repo(tmp_path, rng)
    proc = run_cli(
        "scan", "app.py", "--report", f"sarif={tmp_path / 'missing' / 'r.sarif'}",
        "--report", f"json={tmp_path / 'r.json'}", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "cannot write the sarif report" in proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["findings"]
    assert "app.py:3:19" in proc.stdout  # the main report is still printed
    bad = run_cli("scan", "app.py", "--report", "yaml=x", cwd=tmp_path)
    assert bad.returncode == 2 and "FORMAT=FILE" in bad.stderr


def test_no_color_counts_only_when_set_and_term_dumb_turns_colour_off(
    tmp_path: Path, rng: random.Random
) -> None:
    from sgai_guard.cli.output import Output, _use_color
    from sgai_guard.report import Format

    _repo(tmp_path, rng)
    out = Output(Format.TEXT, None, False, False, "auto")
    import os

    saved = {k: os.environ.get(k) for k in ("NO_COLOR", "TERM")}
    try:
        os.environ["NO_COLOR"] = "1"
        assert not _use_color(out)
        os.environ["NO_COLOR"] = ""
        os.environ["TERM"] = "dumb"
        assert not _use_color(out)
        assert _use_color(Output(Format.TEXT, None, False, False, "always"))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_report_files_are_plain_files_of_their_own(tmp_path: Path, rng: random.Random) -> None:
    import os

    _repo(tmp_path, rng)
    os.mkfifo(tmp_path / "pipe.json")  # no reader: never a hang
    proc = run_cli("scan", "app.py", "--report", "json=pipe.json", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and "not a plain file" in proc.stderr + proc.stdout
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    os.link(victim, tmp_path / "linked.json")
    proc = run_cli("scan", "app.py", "--report", "json=linked.json", cwd=tmp_path)
    assert proc.returncode == 2 and victim.read_text() == "keep me\n"
    twice = run_cli("scan", "app.py", "-o", "r.json", "--report", "json=r.json", cwd=tmp_path)
    assert twice.returncode == 2 and "the same file" in twice.stderr


def test_init_force_writes_no_fifo_and_no_hard_link(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / ".sgai-guard.toml")
    proc = run_cli("init", "--force", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    (tmp_path / ".sgai-guard.toml").unlink()
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    os.link(victim, tmp_path / ".sgai-guard.toml")
    assert run_cli("init", "--force", cwd=tmp_path).returncode == 2
    assert victim.read_text() == "keep me\n"


def test_an_archive_member_cannot_point_an_alert_at_another_file(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: a member named `../../../.github/workflows/ci.yml` gave
    the URI `a.zip%21../../../.github/workflows/ci.yml`, which URI resolution turns into the
    workflow file, and a GitHub annotation with the same file=."""
    with zipfile.ZipFile(tmp_path / "a.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("../../../.github/workflows/ci.yml", f"K={keys.sgai_uuid(rng)}\n")
    sarif = run_cli("scan", ".", "--format", "sarif", cwd=tmp_path)
    assert sarif.returncode == 1, sarif.stderr
    [result] = json.loads(sarif.stdout)["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert "/" not in uri and uri.startswith("a.zip%21..%2F"), uri
    github = run_cli("scan", ".", "--format", "github", cwd=tmp_path)
    assert "file=a.zip!..%252F" in github.stdout, github.stdout
    assert "/.github/" not in github.stdout.split("::")[1]
