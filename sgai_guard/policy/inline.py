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


def inline_reason(finding: Finding, other_markers: bool) -> str | None:
    """Why a marker on the finding's line (or the line before) allows it, if one does."""
    same = (OWN_MARKER, *(OTHER_SAME_LINE if other_markers else ()))
    following = (NEXT_LINE, *(OTHER_NEXT_LINE if other_markers else ()))
    for marker in following:
        if marker in finding.previous_line:
            return _reason(finding.previous_line, marker)
    for marker in same:
        at = finding.line_text.find(marker)
        if at != -1 and not finding.line_text.startswith(NEXT_LINE, at):
            return _reason(finding.line_text, marker)
    return None


def _reason(line: bytes, marker: bytes) -> str:
    after = line[line.find(marker) + len(marker) :].decode("utf-8", "replace")
    after = after.strip().strip("*/#-> ").strip()
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
