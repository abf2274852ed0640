"""Making text from a scanned repository, or typed by the user, safe to print anywhere.

Two things happen to every such string before any format writes it:

- Redaction: a key in a file name, a ref name, a commit message or an error message that
  echoes what the user typed is shown as the findings show keys (prefix, mask, last four).
- Escaping: nothing can start a new line in a CI log, move the cursor of a terminal, reorder
  text (bidi controls), or crash an encoder. Control characters (C0, DEL, C1), line and
  paragraph separators and bidi controls become ``\\xNN`` or ``\\uNNNN``; a byte that is not
  UTF-8 (a file name git or the file system gave us as bytes) becomes ``\\xNN``. The older
  GitHub workflow command form ``##[``, which the runner finds anywhere in a line, is
  written ``##\\x5b``.

``name`` is lossless for names: it also doubles every backslash, so the escaped form can be
read back exactly. ``message`` is for prose and leaves backslashes alone.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING

from sgai_guard.detection.fingerprint import redact
from sgai_guard.detection.rules import SGAI_B64, SHOWN_PREFIXES, TAVILY_B64, shown_prefixes

if TYPE_CHECKING:
    import re

    from sgai_guard.detection.detect import Detector

_CONTROLS = (*range(0x20), 0x7F, *range(0x80, 0xA0))  # C0, DEL, C1
_LAYOUT = (0x2028, 0x2029, 0x200E, 0x200F, 0x061C, 0xFEFF)  # line breaks, marks, BOM
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))  # embeddings, overrides, isolates
_SPECIAL = frozenset((*_CONTROLS, *_LAYOUT, *_BIDI))


@cache
def _detector() -> Detector:
    from sgai_guard.detection.detect import Detector  # noqa: PLC0415

    return Detector(allow_hyperscan=False)


# What is shown instead of a text that holds a key in a form other than its own (base64, a
# key split across string literals): its characters are not the key's, so no replacement of
# the key in the text would hide it (found by an attacker review, in inline markers' reasons).
WITHHELD = "(withheld: it holds a key in an encoded or split form)"


def redacted(text: str) -> str:
    """``text`` with every key-shaped value in it redacted, and every piece of one (see
    ``_pieces``); WITHHELD when it holds a key that is not written out as the key itself."""
    done: set[str] = set()  # a key written twice is found twice, and replaced at the first
    for candidate in _detector().detect(text.encode("utf-8", "surrogateescape")):
        if candidate.secret in done:
            continue
        if candidate.secret not in text:
            return WITHHELD
        shown = shown_prefixes(candidate.rule.provider)
        text = text.replace(candidate.secret, redact(candidate.secret, shown))
        done.add(candidate.secret)
    return _pieces(text)


# Where a piece of a key may start: a prefix as written, or as base64 shows it.
_STARTS = (*SHOWN_PREFIXES, *(f.decode() for f in (*TAVILY_B64, *SGAI_B64)))
_LONGEST_PIECE = 7  # characters of a key's body that are shown; more are masked
_WORDS = 20  # a body of one kind of character (a word) this long is masked all the same
# What a key's body may be, past its prefix, for as long as it goes on: hex and the dashes of
# a UUID; a Tavily tag, its segment and body (and whatever name runs on after it); a legacy
# Tavily body (no dashes); base64. Names that merely start with a prefix (`sgai-guard`,
# `sgai-worker/app.py`, `tvly-search-results.css`) are no key's start, and are left whole
# (a review: `/` in the class masked a directory's whole path).
_BODIES = (
    r"(sgai-)([0-9a-fA-F][0-9a-fA-F-]{%(n)d,})",
    r"(tvly-(?:dev|prod)-)([A-Za-z0-9_-]{%(n)d,})",
    r"(tvly-)([A-Za-z0-9]{%(n)d,})",
    r"(%(b64)s)([A-Za-z0-9+/_-]{%(n)d,})",
)


def _pieces(text: str) -> str:
    """A key cut short, or run on into a name (`<key>_old.env`), is no key to the detector,
    and was printed nearly whole: 31 of a UUID's 32 digits in git's error about a planted
    packed-refs line, 40 of 41 characters in an inline marker's reason cut inside a second
    copy of the key (attacker reviews). Past a prefix, at most a few characters of what
    could be a key's body are shown."""
    if not any(start in text for start in _STARTS):
        return text  # nearly always: no regular expression is compiled
    return _piece_pattern().sub(_masked_piece, text)


@cache
def _piece_pattern() -> re.Pattern[str]:
    import re  # noqa: PLC0415 - only for a text holding a prefix

    b64 = "|".join(f.decode() for f in (*TAVILY_B64, *SGAI_B64))
    values = {"n": _LONGEST_PIECE + 1, "b64": b64}
    return re.compile("|".join(f"(?:{body % values})" for body in _BODIES))


def _masked_piece(match: re.Match[str]) -> str:
    """The prefix and a mask, when what follows it looks like a random key's body: two kinds
    of character of lower case, upper case and digits, or 20 characters however made (a
    review: `tvly-integration.md` and `tvly-production.env` became one name)."""
    groups = match.groups()
    at = next(n for n in range(0, len(groups), 2) if groups[n] is not None)
    prefix, body = groups[at], groups[at + 1]
    kinds = any(c.islower() for c in body) + any(c.isupper() for c in body)
    if kinds + any(c.isdigit() for c in body) < 2 and len(body) < _WORDS:
        return match[0]
    return f"{prefix}****"


def _escape(text: str, *, lossless: bool) -> str:
    if text.isprintable() and not (lossless and "\\" in text) and "##" not in text:
        return text
    return _commands(_escape_chars(text, lossless=lossless))


def _commands(text: str) -> str:
    """CI log commands a runner finds anywhere in a line, made inert: GitHub's older `##[`
    and Azure Pipelines' `##vso[` (in any case; found by an attacker review: a file named
    `x ##vso[task.setvariable variable=DEPLOY_ENV]prod` went through every format)."""
    if "##" not in text:
        return text
    return _command_pattern().sub(lambda m: m[0][:-1] + "\\x5b", text)


@cache
def _command_pattern() -> re.Pattern[str]:
    import re  # noqa: PLC0415 - only for a text holding "##"

    return re.compile(r"##(?:vso)?\[", re.IGNORECASE)


def _escape_chars(text: str, *, lossless: bool) -> str:
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF or code in _SPECIAL:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        elif char == "\\" and lossless:
            out.append("\\\\")
        else:
            out.append(char)
    return "".join(out)


_QUOTED = 8  # characters of a key in a row that a person's text may not show


def without_secret(text: str, secret: str) -> str:
    """``text`` with every run of 8 or more characters of ``secret`` in a row masked: a
    reason a person wrote (an inline marker's, an allow entry's, a bypass's) may quote the
    key without its prefix, where the prefixes' masking never looks (found by a review:
    `reason = "test key, uuid <its UUID>"` was printed whole in every format)."""
    if len(secret) < _QUOTED or len(text) < _QUOTED:
        return text
    hidden = [False] * len(text)
    for start in range(len(secret) - _QUOTED + 1):
        piece, at = secret[start : start + _QUOTED], text.find(secret[start : start + _QUOTED])
        while at != -1:
            hidden[at : at + _QUOTED] = [True] * _QUOTED
            at = text.find(piece, at + 1)
    if not any(hidden):
        return text
    out = [ch if not gone else "" for ch, gone in zip(text, hidden, strict=True)]
    for at in range(len(text)):  # one mark where each masked run starts
        if hidden[at] and (at == 0 or not hidden[at - 1]):
            out[at] = "****"
    return "".join(out)


@lru_cache(maxsize=1 << 16)
def name(text: str) -> str:
    """A path, ref, author or other name from a repository, as every format shows it (the
    same ref or path is shown for many findings: each is redacted and escaped once)."""
    return _escape(redacted(text), lossless=True)


def message(text: str) -> str:
    """A notice or error message, as every format shows it."""
    return _escape(redacted(text), lossless=False)
