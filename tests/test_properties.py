"""Properties: a key anywhere is found once at the right place; no output shows it in clear."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgai_guard.detection.detect import Detector
from sgai_guard.engine.scan import scan
from sgai_guard.models import Blob, Skipped
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
