"""Keys in UTF-16, UTF-32 or EBCDIC text of a file read in pieces: each piece keeps what starts
before its cut in the file's bytes, not in the decoded text (found by a review: the decoded
text of 6 MiB of EBCDIC is 12 MiB of UTF-8, so a key before the cut was placed after it, and
both pieces dropped it: exit 0)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_json

_FILLER = {"cp037": "\u00e2", "utf-16-le": "\u4e00", "utf-32-le": "\u4e00"}  # 2-3 bytes in UTF-8


@pytest.mark.parametrize("encoding", sorted(_FILLER))
def test_a_key_before_a_piece_s_cut_is_found_once(
    tmp_path: Path, rng: random.Random, encoding: str
) -> None:
    key = keys.tavily_current(rng)
    width = {"cp037": 1, "utf-16-le": 2, "utf-32-le": 4}[encoding]
    filler = _FILLER[encoding] * ((6 << 20) // width)  # 6 MiB of the file's bytes
    text = f"{filler}\nKEY={key}\n{filler}\n"
    (tmp_path / "big.txt").write_bytes(text.encode(encoding))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report["scanned"]
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("big.txt", 2)]
