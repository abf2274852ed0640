"""A key cut short, or run on into a name, is no key to the detector, yet printed nearly whole
it gives the key away: the missing characters can be tried against the printed fingerprint.
Past a provider's prefix (as written, or as base64 shows it) at most a few characters are
shown in any name or message (attacker reviews 74 and 75)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sgai_guard.display import message, name
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo


def _leaks(key: str, text: str) -> bool:
    """Whether ``text`` holds any 12 characters of the key's body in a row."""
    body = key[key.index("-") + 1 :]
    return any(body[n : n + 12] in text for n in range(len(body) - 11))


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    cut=st.integers(1, 12),
    before=st.text(max_size=20),
    after=st.sampled_from(["", "...", "_old.env", "-backup/cfg.env", "\n", " tail"]),
)
def test_no_piece_of_a_key_survives_a_name_or_a_message(
    seed: int, cut: int, before: str, after: str
) -> None:
    rng = random.Random(seed)
    key = rng.choice([keys.tavily_current, keys.tavily_legacy, keys.sgai_uuid])(rng)
    for shown in (key[:-cut] + after, key + after):
        text = before + " " + shown
        assert not _leaks(key, name(text)), name(text)
        assert not _leaks(key, message(text)), message(text)


def test_prose_names_and_redacted_keys_are_left_alone() -> None:
    """A review of the first version: with `/` among a piece's characters, every path under
    a folder named `sgai-…` was shown as `sgai-****`, and two files became one name."""
    for text in (
        "the tvly- and sgai- prefixes",
        "tvly-dev-****abcd",
        "sgai-****1234",
        "sgai-worker/app/settings.py",
        "/home/u/sgai-guard-cache/x",
        "pip install sgai-guard==0.1.0",
        ".sgai-guard-baseline.json",
        "tvly-search-results.css",
        "docs/tvly-integration.md",  # one kind of character: a word, not a key's body
        "tvly-production.env",
    ):
        assert name(text) == text


def test_a_key_in_a_file_name_followed_by_more_name(tmp_path: Path, rng: random.Random) -> None:
    """A key ends before `_` or `-`, so `<key>_old.env` holds no key: its path was printed
    in clear in every format, and in the baseline file meant to be committed."""
    key, other = keys.tavily_current(rng), keys.sgai_uuid(rng)
    (tmp_path / f"{key}_old.env").write_text(f"K={other}\n")
    outputs, sha = [], {"CI_COMMIT_SHA": "0" * 40}
    for form in ("text", "json", "sarif", "markdown", "github", "gitlab", "html"):
        proc = run_cli("scan", ".", "--format", form, cwd=tmp_path, env=sha)
        assert proc.returncode == 1, proc.stderr
        outputs.append(proc.stdout + proc.stderr)
    run_cli("baseline", ".", "-o", "base.json", cwd=tmp_path)
    outputs.append((tmp_path / "base.json").read_text())
    for text in outputs:
        assert not _leaks(key, text) and not _leaks(other, text), text[:300]


def test_git_s_error_about_a_packed_refs_line_shows_no_key(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    key = keys.sgai_uuid(rng)
    line = "A" * (75 - len(key) + 1) + key + "Z" * 10  # git shows 75 characters of it
    (repo.path / ".git" / "packed-refs").write_text(line)  # no line end: git complains
    proc = run_cli("audit", ".", cwd=repo.path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "packed-refs" in proc.stderr and "sgai-****" in proc.stderr
    assert not _leaks(key, proc.stdout + proc.stderr)


def test_a_marker_s_reason_cut_inside_a_second_copy_shows_no_key(
    tmp_path: Path, rng: random.Random
) -> None:
    """A line over 64 KiB is looked at 32 KiB either side of a key: a marker's reason (the
    rest of the window) ended inside the second copy of the key, 40 of its 41 characters."""
    for key in (keys.sgai_uuid(rng), keys.tavily_legacy(rng)):
        head = f'/*! sgai-guard: allow vendored demo */var a="{key}";'
        second = head.index(key) + 32768 - (len(key) - 1)
        line = head + "x" * (second - len(head)) + key + '";' + "y" * 40000
        (tmp_path / "bundle.js").write_text(line + "\n")
        proc = run_cli("scan", "bundle.js", "--format", "json", cwd=tmp_path)
        reasons = [s["reason"] for s in json.loads(proc.stdout)["suppressed"]]
        assert reasons and all(len(r) < 300 for r in reasons), reasons
        assert not _leaks(key, proc.stdout + proc.stderr)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), before=st.text(max_size=30), after=st.text(max_size=30))
def test_no_run_of_eight_of_a_key_survives_a_reason(seed: int, before: str, after: str) -> None:
    from sgai_guard.display import without_secret

    rng = random.Random(seed)
    key = rng.choice([keys.tavily_current, keys.sgai_uuid])(rng)
    body = key[key.index("-") + 1 :]
    start = rng.randrange(len(body) - 8)
    shown = without_secret(before + body[start:] + after, key)
    assert not any(key[n : n + 8] in shown for n in range(len(key) - 7)), shown


def test_a_reason_quoting_a_key_without_its_prefix_shows_none_of_it(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: an inline marker's reason and an allow entry's reason quoting the
    key's body (no prefix, so the prefixes' masking never looked) were printed whole, in the
    JSON of every run (suppressed entries are always there)."""
    tavily, sgai = keys.tavily_current(rng), keys.sgai_uuid(rng)
    body = tavily.split("-", 3)[3]
    (tmp_path / "a.py").write_text(f'KEY = "{tavily}"  # sgai-guard: allow rotated, was {body}\n')
    (tmp_path / "b.py").write_text(f'S = "{sgai}"\n')
    first = json.loads(run_cli("scan", "b.py", "--format", "json", cwd=tmp_path).stdout)
    fingerprint = first["findings"][0]["fingerprint"]
    (tmp_path / ".sgai-guard.toml").write_text(
        f'[[allow]]\nfingerprint = "{fingerprint}"\nreason = "test key {sgai[5:]}"\n'
    )
    proc = run_cli("scan", ".", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert not _leaks(tavily, proc.stdout) and not _leaks(sgai, proc.stdout), proc.stdout
    assert len(json.loads(proc.stdout)["suppressed"]) == 2
