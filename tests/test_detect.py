"""Detection over bytes: each real shape is found, each placeholder stays silent."""

from __future__ import annotations

import base64
import json
import marshal
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgai_guard.detection.detect import Candidate, Detector
from tests import keys


def found(data: bytes) -> list[Candidate]:
    return [c for c in Detector().detect(data) if c.filler is None]


def secrets(data: bytes) -> list[str]:
    return [c.secret for c in found(data)]


@pytest.mark.parametrize("tag", ["dev", "prod"])
@pytest.mark.parametrize("seg", [4, 5, 6, 8])
@pytest.mark.parametrize("body", [36, 42, 43, 48])
def test_current_tavily_shape(rng: random.Random, tag: str, seg: int, body: int) -> None:
    key = keys.tavily_current(rng, tag, seg, body)
    assert secrets(f'TAVILY = "{key}"\n'.encode()) == [key]


@pytest.mark.parametrize("tag", [None, "dev", "prod"])
def test_legacy_tavily_shapes(rng: random.Random, tag: str | None) -> None:
    key = keys.tavily_legacy(rng, tag)
    [candidate] = found(f"key: {key}\n".encode())
    assert (candidate.secret, candidate.rule.id) == (key, "tavily-api-key")


def test_sgai_uuid_is_high_confidence(rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    [candidate] = found(f"SGAI-APIKEY: {key}\n".encode())
    assert (candidate.secret, candidate.rule.confidence.value) == (key, "high")


def test_sgai_hex_is_low_confidence(rng: random.Random) -> None:
    key = keys.sgai_hex(rng)
    [candidate] = found(f"k = '{key}'".encode())
    assert (candidate.rule.id, candidate.rule.confidence.value) == (
        "scrapegraphai-api-key-hex",
        "low",
    )


@pytest.mark.parametrize("text", keys.placeholders())
def test_placeholders_stay_silent(text: str) -> None:
    assert found(f'API_KEY = "{text}"\n'.encode()) == []


def test_filler_is_kept_with_its_reason() -> None:
    filler = "tvly-" + "x" * 32
    [candidate] = Detector().detect(filler.encode())
    assert candidate.filler == "6 identical characters in a row"


def test_key_in_url_and_after_encoded_quote(rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    url = f"https://mcp.tavily.com/mcp/?tavilyApiKey={key}&x=1 %22{key}%22 %3D{key}"
    assert secrets(url.encode()) == [key, key, key]


def test_several_keys_on_one_line_and_back_to_back(rng: random.Random) -> None:
    a, b, c = keys.tavily_current(rng), keys.sgai_uuid(rng), keys.tavily_legacy(rng, "prod")
    line = f"{a} {b},{c}{b}{a}\n".encode()
    candidates = found(line)
    assert [x.secret for x in candidates] == [a, b, c, b, a]
    assert [x.column for x in candidates] == [
        1,
        len(a) + 2,
        len(a) + len(b) + 3,
        len(a) + len(b) + len(c) + 3,
        len(a) + 2 * len(b) + len(c) + 3,
    ]


def test_json_escaped_notebook(rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    cell = {"cells": [{"source": [f'client = Client(api_key="{key}")\n']}]}
    data = json.dumps(cell, indent=1).encode()
    [candidate] = found(data)
    assert candidate.secret == key
    assert data.splitlines()[candidate.line - 1].find(key.encode()) + 1 == candidate.column


def test_utf16_with_and_without_bom(rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    text = f"first line\nsecond = '{key}'\n"
    for data in (text.encode("utf-16"), text.encode("utf-16-le"), text.encode("utf-16-be")):
        [candidate] = found(data)
        assert (candidate.secret, candidate.line, candidate.column) == (key, 2, 11)


@pytest.mark.parametrize(
    "encoding", ["utf-32", "utf-32-le", "utf-32-be", "cp037", "cp500", "cp1140", "cp273"]
)
def test_utf32_and_ebcdic_text(rng: random.Random, encoding: str) -> None:
    """Found by a review: a checkout's files in UTF-32 or EBCDIC (git writes them so for a
    `working-tree-encoding` attribute) passed with exit 0. EBCDIC code pages agree on the
    letters, digits and "-"."""
    key = keys.tavily_current(rng) if len(encoding) < 8 else keys.sgai_uuid(rng)
    text = f"first line\nsecond = '{key}'\n"
    [candidate] = found(text.encode(encoding))
    assert (candidate.secret, candidate.line, candidate.column) == (key, 2, 11)


@given(
    seed=st.integers(0, 2**32),
    encoding=st.sampled_from(["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037"]),
    before=st.text(string.ascii_letters + string.digits + " =:'\"\n", max_size=40),
    skew=st.binary(max_size=3),
)
@settings(max_examples=200, deadline=None)
def test_any_key_in_another_encoding_is_found(
    seed: int, encoding: str, before: str, skew: bytes
) -> None:
    key = keys.any_key(random.Random(seed))
    data = skew + f"{before} {key}\n".encode(encoding)
    assert key in [c.secret for c in found(data)]


def test_utf16_or_utf32_out_of_step_with_the_rest(rng: random.Random) -> None:
    """A stray byte puts a key's characters at the other alignment than the text before it
    (whose NULs told the decoding's byte order): it is found all the same."""
    key, other = keys.sgai_uuid(rng), keys.tavily_current(rng)
    for encoding in ("utf-16-le", "utf-32-le"):
        data = ("x" * 500 + other).encode(encoding) + b"\x01" + f" {key}\n".encode(encoding)
        assert sorted(c.secret for c in found(data)) == sorted([key, other]), encoding


def test_latin1_and_crlf_columns_count_characters(rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    data = f"x\r\ncafé = '{key}'\r\n".encode("latin-1")
    [candidate] = found(data)
    assert (candidate.line, candidate.column) == (2, 9)
    utf8 = f"x\r\nnaïve → '{key}'\r\n".encode()
    [candidate] = found(utf8)
    assert (candidate.line, candidate.column) == (2, 10)


def test_key_inside_compiled_pyc(rng: random.Random) -> None:
    key = keys.tavily_legacy(rng, "dev")
    code = compile(f"KEY = {key!r}\n", "settings.py", "exec")
    data = b"\x6f\x0d\x0d\x0a" + b"\0" * 12 + marshal.dumps(code)
    assert secrets(data) == [key]


@pytest.mark.parametrize(
    "template",
    [
        "TAVILY_API_KEY={body}",
        'tavily_api_key: "{body}"',
        "VITE_TAVILY_KEY = '{body}'",
        "TAVILY_API_KEY_2={body}",
        "https://mcp.tavily.com/mcp/?tavilyApiKey={body}",
        "Set TAVILY_API_KEY={body}. Then run it.",  # a full stop ends it (a review)
        "TAVILY_API_KEY={body}.",
    ],
)
def test_tavily_key_without_prefix_assigned_to_its_name(rng: random.Random, template: str) -> None:
    body = keys.tavily_current(rng).removeprefix("tvly-")
    [candidate] = found(template.format(body=body).encode())
    assert (candidate.rule.id, candidate.secret) == ("tavily-api-key-assigned", body)


@pytest.mark.parametrize(
    "template",
    ["SGAI_API_KEY={body}", "SGAI-APIKEY: {body}", "SCRAPEGRAPH_API_KEY='{body}'"],
)
def test_sgai_key_without_prefix_assigned_to_its_name(rng: random.Random, template: str) -> None:
    body = keys.sgai_uuid(rng).removeprefix("sgai-")
    [candidate] = found(template.format(body=body).encode())
    assert (candidate.rule.id, candidate.secret) == ("scrapegraphai-api-key-assigned", body)


@pytest.mark.parametrize("after", [".env", "/x", "+x", "=", ".5", "...", "..value"])
def test_an_assigned_value_running_on_into_a_longer_token_is_no_key(
    rng: random.Random, after: str
) -> None:
    """A path, a file name or base64 goes on past the key's shape: no key of the name's; nor
    is a value cut short by an ellipsis (a review of the full stop's rule)."""
    body = keys.tavily_current(rng).removeprefix("tvly-")
    assert found(f"TAVILY_API_KEY={body}{after}\n".encode()) == []


@pytest.mark.parametrize("lead", ["", "x", "xy", "user:"])
def test_base64_encoded_key_at_every_alignment(rng: random.Random, lead: str) -> None:
    key = keys.tavily_current(rng)
    token = base64.b64encode(f"{lead}{key}".encode()).decode()
    [candidate] = found(f'auth = "{token}"\n'.encode())
    assert (candidate.rule.id, candidate.secret, candidate.column) == (
        "tavily-api-key-base64",
        key,
        9,
    )


def test_key_split_across_concatenation(rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    source = f'API = "{key[:9]}" + "{key[9:20]}" +\n    "{key[20:]}"\n'
    [candidate] = found(source.encode())
    assert (candidate.rule.id, candidate.secret) == ("scrapegraphai-api-key-split", key)
    tavily = keys.tavily_current(rng)
    assert secrets(f'k = "tvly-dev-" + "{tavily[9:]}"'.encode()) == [tavily]


def test_plain_key_is_not_reported_twice_by_the_split_rule(rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    assert secrets(f'x = "{key}" + "suffix"'.encode()) == [key]


def test_hyperscan_and_in_prefilters_agree(rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    blob = b"filler line\n" * 1000 + key.encode() + b"\n"
    plain = Detector(allow_hyperscan=False)
    fast = Detector()
    for _ in range(500):  # read past the switch-over threshold
        fast.detect(blob)
    assert [c.secret for c in fast.detect(blob)] == [c.secret for c in plain.detect(blob)] == [key]
    pytest.importorskip("hyperscan")
    assert fast.prefilter.engine == "hyperscan"


def test_a_warmed_prefilter_searches_with_hyperscan_from_its_first_byte(
    rng: random.Random,
) -> None:
    """The audit warms its searches before the readers fork: a run of small commits never
    reads the few MiB after which a prefilter switches by itself."""
    key = keys.tavily_current(rng)
    small = [b"no keyword here\n", key.encode() + b"\n", b"sgai-x tvly-y\n", b""]
    plain = Detector(allow_hyperscan=False)
    warmed = Detector()
    warmed.prefilter.warm()
    for data in small:
        assert warmed.prefilter(data) == plain.prefilter(data)
        seen = [(c._replace(lines=None), c.texts()) for c in warmed.detect(data)]
        assert seen == [(c._replace(lines=None), c.texts()) for c in plain.detect(data)]
    pytest.importorskip("hyperscan")
    assert warmed.prefilter.engine == "hyperscan"
    assert Detector(allow_hyperscan=False).prefilter.engine == "bytes.find"


def test_base64_keyword_fragments_match_base64_itself() -> None:
    from sgai_guard.detection.rules import SGAI_B64, TAVILY_B64

    for prefix, fragments in ((b"tvly-", TAVILY_B64), (b"sgai-", SGAI_B64)):
        for lead in range(3):
            for tail in (b"", b"x", b"xy"):
                encoded = base64.b64encode(b"\0" * lead + prefix + tail)
                assert sum(fragment in encoded for fragment in fragments) >= 1
        for pad, fragment in enumerate(fragments):
            encoded = base64.b64encode(b"\0" * pad + prefix)
            first, last = (pad * 8 + 5) // 6, ((pad + len(prefix)) * 8) // 6
            assert encoded[first:last] == fragment


def test_many_keys_on_one_long_line_keep_their_columns_and_no_copy_of_the_line(
    rng: random.Random,
) -> None:
    found = [keys.tavily_current(rng) for _ in range(300)]
    filler = "é" * 700  # two bytes a character: columns count characters, not bytes
    line = "".join(f"{filler} {k} " for k in found)
    candidates = Detector(allow_hyperscan=False).detect(line.encode())
    assert [c.secret for c in candidates] == found
    for candidate in candidates:
        assert line[candidate.column - 1 :].startswith(candidate.secret)
        line_text, _ = candidate.texts()
        assert candidate.secret.encode() in line_text
        assert len(line_text) <= 64 * 1024  # a window around the key, not the line


def test_ten_thousand_prefixes_that_are_not_keys() -> None:
    assert Detector(allow_hyperscan=False).detect(b"tvly-" * 10_000 + b"\n") == []


def test_random_keys_are_never_taken_for_placeholders() -> None:
    """A real key must always be caught: the filler checks look for what people type, not for
    what chance puts in a random body (the old checks took about 1 real ScrapeGraphAI key in
    540 for a placeholder)."""
    import string
    import uuid

    from sgai_guard.detection.entropy import filler_reason
    from sgai_guard.detection.providers import SCRAPEGRAPHAI, TAVILY

    rng = random.Random(20261202)
    alnum = string.ascii_letters + string.digits

    def body(n: int) -> str:
        return "".join(rng.choice(alnum) for _ in range(n))

    shapes = {
        "sgai uuid": lambda: "sgai-" + str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "sgai hex": lambda: "sgai-" + "".join(rng.choice("0123456789abcdef") for _ in range(32)),
        "tavily current": lambda: f"tvly-dev-{body(5)}-{body(42)}",
        "tavily legacy": lambda: "tvly-" + body(32),
    }
    for name, make in shapes.items():
        provider = SCRAPEGRAPHAI if name.startswith("sgai") else TAVILY
        taken = [k for k in (make() for _ in range(20_000)) if filler_reason(k, provider)]
        assert taken == [], (name, len(taken))


@pytest.mark.parametrize(
    ("template", "uuid"),
    [
        ("SGAI_API_KEY={}.", "123e4567-e89b-12d3-a456-426614174000"),
        ('key = "sgai-{}"', "550e8400-e29b-41d4-a716-446655440000"),
        ("sgai-{}", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
    ],
)
def test_a_uuid_documentation_prints_as_an_example_is_a_placeholder(
    template: str, uuid: str
) -> None:
    """Found by a review: RFC 4122's example UUID, assigned to SGAI_API_KEY, blocked. (The
    key is put together at run time: the repository holds no key-shaped literal.)"""
    [candidate] = Detector().detect(template.format(uuid).encode())
    assert candidate.filler == "a UUID documentation prints as an example"
