"""The JSON formats are written as they are encoded (report.jsonstream): the text is exactly
json.dumps(..., indent=2, ensure_ascii=False) of the same data, whatever the data, and every
report format gives the same text streamed or whole."""

from __future__ import annotations

import datetime
import json
import random
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgai_guard.cli.delivery import blocks
from sgai_guard.engine.prepare import prepare
from sgai_guard.engine.run import run
from sgai_guard.report import Format, RenderOptions, gitlab, renderer, streamer
from sgai_guard.report.jsonstream import Lazy, chunks
from sgai_guard.sources.local import WorktreeSource
from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()  # newlines, quotes, U+2028 and lone surrogates' neighbours included
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        | st.lists(inner, max_size=4).map(lambda items: Lazy(lambda: iter(items)))
    ),
    max_leaves=30,
)


def plain(data: Any) -> Any:
    """``data`` with every Lazy made into a list: what json.dumps is given to compare."""
    if isinstance(data, Lazy):
        return [plain(item) for item in data.items()]
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain(item) for item in data]
    return data


@settings(max_examples=400)
@given(VALUES)
def test_streamed_json_is_exactly_what_json_dumps_writes(data: Any) -> None:
    expected = json.dumps(plain(data), indent=2, ensure_ascii=False) + "\n"
    assert "".join(chunks(data)) == expected


@given(st.lists(st.dictionaries(st.text(max_size=5), LEAVES, max_size=3), max_size=20))
def test_a_lazy_list_is_made_one_element_at_a_time(items: list[dict[str, Any]]) -> None:
    made: list[int] = []

    def elements() -> Any:
        for n, item in enumerate(items):
            made.append(n)
            yield item

    pieces = chunks({"findings": Lazy(elements), "after": 1})
    next(pieces)  # "{" and the first key: nothing made yet
    assert made == []
    written = [next(pieces)]
    assert len(made) <= 1
    written += list(pieces)
    assert made == list(range(len(items)))


class _StoppedClock(datetime.datetime):
    """The GitLab report states when it was made (to the second): two renders must not
    straddle a second's end (this test failed once in CI when they did)."""

    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> _StoppedClock:
        return cls(2026, 12, 3, 6, 20, 56, tzinfo=tz)


def test_every_format_streams_what_it_renders(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimpleNamespace(
        datetime=_StoppedClock, timezone=datetime.timezone, timedelta=datetime.timedelta
    )
    monkeypatch.setattr(gitlab, "datetime", clock)
    repo = Repo(tmp_path / "repo")
    for n in range(5):
        repo.write(f"conf/{n}.env", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    repo.write("docs/a.md", f"SGAI_API_KEY={keys.sgai_uuid(rng)}\n")
    repo.commit("keys")
    code, report = run_json("scan", ".", cwd=repo.path)
    assert code == 1 and len(report["findings"]) == 6
    source = WorktreeSource([repo.path], use_gitignore=True, max_size=None)
    result = run(source, prepare(repo.path))
    assert len(result.findings) == 6
    for fmt in Format:
        options = RenderOptions(commit="0" * 40)
        whole = renderer(fmt)(result, options)
        if fmt is Format.HTML:
            continue  # its report carries a fresh nonce each time
        assert "".join(streamer(fmt)(result, options)) == whole, fmt
        if fmt is Format.GITLAB:
            assert json.loads(whole)["scan"]["end_time"] == "2026-12-03T06:20:56"


def test_a_large_json_report_written_to_a_file_matches_stdout(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path / "repo")
    lines = "".join(f"k{n} = {keys.tavily_current(rng)}\n" for n in range(300))
    repo.write("keys.txt", lines)
    repo.commit("many keys")
    out = tmp_path / "report.json"
    code, stdout_report = run_json("scan", ".", cwd=repo.path)
    code_file = run_cli("scan", ".", "--format", "json", "--output", str(out), cwd=repo.path)
    assert code == code_file.returncode == 1
    assert code_file.stdout == ""
    written = json.loads(out.read_text(encoding="utf-8"))
    assert len(written["findings"]) == 300
    for report in (written, stdout_report):
        report["scanned"]["seconds"] = 0
    assert written == stdout_report


@given(st.lists(st.text(max_size=300), max_size=40), st.integers(1, 64))
def test_blocks_keep_every_character_and_stay_within_their_size(
    pieces: list[str], size: int
) -> None:
    written = list(blocks(pieces, size))
    assert "".join(written) == "".join(pieces)
    assert all(0 < len(block) <= size for block in written)


@given(st.lists(st.text(max_size=50), max_size=10), st.booleans())
def test_a_streamed_text_report_is_fenced_as_a_whole_one(pieces: list[str], actions: bool) -> None:
    import os

    from sgai_guard.summaryline import fenced, fenced_pieces

    saved = os.environ.get("GITHUB_ACTIONS")
    os.environ["GITHUB_ACTIONS"] = "true" if actions else "false"
    try:
        streamed = "".join(fenced_pieces(pieces))
        whole = fenced("".join(pieces))
    finally:
        if saved is None:
            os.environ.pop("GITHUB_ACTIONS")
        else:
            os.environ["GITHUB_ACTIONS"] = saved
    token = re.compile(r"[0-9a-f]{32}")  # a fresh token each time
    assert token.sub("T", streamed) == token.sub("T", whole)
