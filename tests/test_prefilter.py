"""The prefilter's part search (detection.prefilter.parts_hit): which parts of a stream hold a
keyword, with one search per part that holds it however often it occurs there."""

from __future__ import annotations

from itertools import accumulate

from hypothesis import example, given
from hypothesis import strategies as st

from sgai_guard.detection.prefilter import Prefilter, parts_hit

_WORDS = [b"ab", b"ba", b"abc"]


@example(parts=[b"ab", b"ab"], offset=0)  # a keyword at a part's first byte
@given(
    parts=st.lists(st.text("abcx", max_size=12).map(str.encode), max_size=12),
    offset=st.integers(0, 5),
)
def test_the_parts_hit_are_those_holding_a_keyword(parts: list[bytes], offset: int) -> None:
    """A keyword is counted in the part it starts in; the stream is seen from ``offset``."""
    stream = b"".join(parts)
    starts = list(accumulate(map(len, parts), initial=0))
    data = stream[offset:]
    expected = {
        n
        for n in range(len(parts))
        for word in _WORDS
        for at in range(max(starts[n], offset), starts[n + 1])
        if stream.startswith(word, at)
    }
    found = parts_hit(data, _WORDS, Prefilter(_WORDS, allow_hyperscan=False)(data), starts, offset)
    assert found == expected


def test_a_part_full_of_one_keyword_costs_one_search() -> None:
    data = b"ab" * 100_000 + b"x" + b"ab"
    starts = [0, 200_000, 200_001, 200_003]
    calls = []

    class Counted(bytes):
        def find(self, *args: object) -> int:  # type: ignore[override]
            calls.append(args)
            return bytes.find(self, *args)  # type: ignore[arg-type]

    assert parts_hit(Counted(data), [b"ab"], {0: 0}, starts) == {0, 2}
    assert len(calls) == 2  # from part 1 on (finds part 2), from part 3 on (none)
