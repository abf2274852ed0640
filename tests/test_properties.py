"""Properties: a key anywhere is found once at the right place; no output shows it in clear."""

from __future__ import annotations

import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgai_guard.detection.detect import Detector
from sgai_guard.engine.scan import scan
from sgai_guard.models import Blob, Skipped, is_object_id
from sgai_guard.report import Format, RenderOptions, renderer
from tests import keys

SEPARATORS = st.sampled_from([" ", "\n", "\t", '"', "'", "=", ":", ",", ";", "(", ")", "\r\n"])
KEY = st.integers(min_value=0, max_value=2**32).map(lambda s: keys.any_key(random.Random(s)))
DETECTOR = Detector(allow_hyperscan=False)
# Text around a key: anything but characters that could extend it or start another key.
NEUTRAL_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="tsdcR0NzZ-_"), max_size=200
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(before=NEUTRAL_TEXT, sep1=SEPARATORS, key=KEY, sep2=SEPARATORS, after=NEUTRAL_TEXT)
def test_key_in_text_found_once_at_its_line_and_column(
    before: str, sep1: str, key: str, sep2: str, after: str
) -> None:
    head = before + sep1
    data = (head + key + sep2 + after).encode()
    hits = [c for c in DETECTOR.detect(data) if c.filler is None]
    assert [c.secret for c in hits] == [key]
    lines = head.replace("\r\n", "\n").split("\n")
    assert (hits[0].line, hits[0].column) == (len(lines), len(lines[-1]) + 1)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.binary(max_size=300), key=KEY, sep=SEPARATORS, after=st.binary(max_size=300))
def test_key_in_random_bytes_found_once(before: bytes, key: str, sep: str, after: bytes) -> None:
    head = before + b"\n"
    data = head + key.encode() + sep.encode() + after
    hits = [c for c in DETECTOR.detect(data) if c.filler is None and c.secret == key]
    assert len(hits) == 1
    assert hits[0].line == head.count(b"\n") + 1
    assert hits[0].column == 1


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(key=KEY, context=st.text(max_size=40), fmt=st.sampled_from(list(Format)))
def test_no_format_shows_a_clear_secret_unless_asked(key: str, context: str, fmt: Format) -> None:
    blob = Blob("conf/app.env", f"{context}\nKEY={key}\nFILLER=tvly-{'x' * 32}\n".encode())
    items: list[Blob | Skipped] = [blob]
    result = scan(items)
    assert len(result.findings) == 1
    redacted = renderer(fmt)(result, RenderOptions(show_suppressed=True))
    assert key not in redacted
    assert key[-12:] not in redacted
    clear = renderer(fmt)(result, RenderOptions(show_secrets=True, show_secrets_in_html=True))
    assert key in clear


_HEX = "0123456789abcdef"


@st.composite
def _near_ids(draw: st.DrawFn) -> str:
    """Ids of both lengths and of lengths around them, some with one character changed."""
    size = draw(st.sampled_from([39, 40, 41, 63, 64, 65]))
    text = draw(st.text(alphabet=_HEX, min_size=size, max_size=size))
    if draw(st.booleans()):
        at = draw(st.integers(0, size - 1))
        text = text[:at] + draw(st.characters()) + text[at + 1 :]
    return text


@given(st.one_of(_near_ids(), st.text(max_size=70)))
def test_an_object_id_is_forty_or_sixty_four_lowercase_hex_digits(text: str) -> None:
    """is_object_id guards every id a repository's bytes claim (it is C-speed now: a
    mirror's 20 k refs were checked a character at a time)."""
    expected = re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text) is not None
    assert is_object_id(text) is expected
