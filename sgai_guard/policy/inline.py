"""Inline allow markers: they need no configuration, so the commit hook checks them without
loading the configuration machinery."""

from __future__ import annotations

from sgai_guard.models import Finding, Suppression, SuppressReason

OWN_MARKER = b"sgai-guard: allow"
NEXT_LINE = b"sgai-guard: allow-next-line"
# Other tools' markers, honoured with `other-markers = true` for teams migrating.
OTHER_SAME_LINE = (
    b"gitleaks:allow",
    b"betterleaks:allow",
    b"pragma: allowlist secret",
    b"kingfisher:ignore",
    b"trufflehog:ignore",
)
OTHER_NEXT_LINE = (b"pragma: allowlist nextline secret",)


# Line breaks other than "\n" that editors show (a lone CR, NEL, U+2028, U+2029): the scan
# cuts lines at "\n" only, so a line holding one of these is several lines on screen, and a
# marker on one of them must not allow a key on another (found by an attacker review: one
# marker in a CR-only file allowed every key in it). Such a line's markers allow nothing.
_SHOWN_BREAKS = (b"\r", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")


def inline_reason(finding: Finding, other_markers: bool) -> str | None:
    """Why a marker on the finding's line (or the line before) allows it, if one does."""
    same = (OWN_MARKER, *(OTHER_SAME_LINE if other_markers else ()))
    following = (NEXT_LINE, *(OTHER_NEXT_LINE if other_markers else ()))
    if not any(m in finding.previous_line for m in following) and not any(
        m in finding.line_text for m in same
    ):
        return None  # no marker (most findings): its lines are searched for nothing else
        # (1,000 keys on one 50 MB line searched 64 KiB windows ten times each)
    line, previous = one_line(finding.line_text), one_line(finding.previous_line)
    notebook = finding.path.lower().endswith(".ipynb")
    key = line.find(finding.secret.encode()) if finding.secret else -1
    for marker in following:
        at = previous.find(marker)
        if at != -1 and (not notebook or _next_cell_line(previous[at:], line[: max(key, 0)])):
            return _reason(previous, marker)
    for marker in same:
        at = line.find(marker)
        if at != -1 and not line.startswith(NEXT_LINE, at):
            between = line[min(at, key) : max(at, key)] if key != -1 else line
            if notebook and _leaves_the_line(between):
                continue
            return _reason(line, marker)
    return None


# A notebook is JSON: its cells' lines are strings holding escaped line ends, so one line of
# the file may be many in the notebook (a minified one is one line). There a marker allows a
# key only within one JSON string (no unescaped quote between them) and with no escaped line
# end between them (attacker reviews: a marker in one cell allowed a key in another, at the
# end of a cell with no line end after it, and with `\u000a` for a line end); a next-line
# marker only where its string ends with a line end and the key's string comes next in the
# same list, as nbformat writes a cell's lines.
_BREAK = rb"(?<!\\)(?:\\\\)*\\(?:[nr]|[uU](?:000[aAdD]|2028|2029|0085))"
_QUOTE = rb'(?<!\\)(?:\\\\)*"'


def _leaves_the_line(text: bytes) -> bool:
    """Whether ``text``, a piece of one JSON string or more, ends a notebook line or a
    string in it."""
    if b"\\" not in text and b'"' not in text:
        return False
    import re  # noqa: PLC0415 - only for a notebook's line holding a backslash or quote

    return re.search(_BREAK + b"|" + _QUOTE, text) is not None


def _escapes(text: bytes) -> bool:
    """Whether ``text`` ends with a backslash that escapes what follows it."""
    return (len(text) - len(text.rstrip(b"\\"))) % 2 == 1


def _next_cell_line(after_marker: bytes, before_key: bytes) -> bool:
    """Whether the key starts the notebook line right after the marker's: the marker's
    string ends with its one escaped line end and a comma (another line of the same cell
    follows), and the key's string is the first thing on the key's line."""
    end = after_marker.rstrip(b" \t")
    if not end.endswith(b'\\n",'):
        return False
    body = end[: -len(b'n",')]  # up to the backslash of the line end
    if not _escapes(body):
        return False  # an escaped backslash, then "n"
    body = body[:-1]
    if body.endswith(b"\\r") and _escapes(body[:-1]):
        body = body[:-2]  # "\r\n": a Windows line end (VS Code wrote them; a review)
    if _leaves_the_line(body):
        return False  # the string ended, or had a line end, before
    opening = before_key.lstrip(b" \t")
    return opening.startswith(b'"') and not _leaves_the_line(opening[1:])


def one_line(text: bytes) -> bytes:
    """``text`` when it is one line on screen too (a CRLF ending aside), else nothing (no
    marker on it, and no allow-regex on lines, allows anything)."""
    body = text[:-1] if text.endswith(b"\r") else text
    return b"" if any(brk in body for brk in _SHOWN_BREAKS) else text


# A reason is a few words; the rest of a long line (a minified file's) is not one, and may
# hold another copy of the key cut short (found by an attacker review; see display._pieces).
_LONGEST_REASON = 200


def _reason(line: bytes, marker: bytes) -> str:
    start = line.find(marker) + len(marker)
    after = line[start : start + 4 * _LONGEST_REASON].decode("utf-8", "replace")
    after = after.strip().strip("*/#-> ").strip()
    if len(after) > _LONGEST_REASON:
        after = after[:_LONGEST_REASON].rstrip() + "..."
    return f"inline marker: {after}" if after else "inline marker"


class InlineOnly:
    """The policy when there is no configuration: inline markers only (``markers`` False: on
    a server, where the pusher writes them, nothing at all)."""

    def __init__(self, *, markers: bool = True) -> None:
        self.markers = markers

    def check(self, finding: Finding) -> Suppression | Finding:
        reason = inline_reason(finding, other_markers=False) if self.markers else None
        if reason is None:
            return finding
        return Suppression(finding, SuppressReason.INLINE, reason)
