"""The project's allowlist as a scan policy: paths, inline markers, regexes, fingerprint
entries and a baseline. Each suppression keeps its reason; nothing else is ever hidden."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sgai_guard.errors import ConfigError
from sgai_guard.models import Finding, Suppression, SuppressReason
from sgai_guard.policy.config import Config
from sgai_guard.policy.entries import AllowEntry, AllowRegex
from sgai_guard.policy.inline import inline_reason, one_line

# What allow-regex searches may take in all, in one run: each has its own timeout, and a
# pattern just under it cost that for every finding (found by a review: 20 keys, 34 s).
REGEX_SECONDS = 30.0


class Allowlist:
    def __init__(
        self,
        config: Config,
        baseline: Mapping[str, Any] | None = None,
        today: datetime.date | None = None,
        *,
        markers: bool = True,
        said: Sequence[str] = (),
    ) -> None:
        self.config = config
        self.said = list(said)  # what the configuration turned off, said in every scan
        self.markers = markers  # False on a server: whoever pushes writes the markers
        self.baseline = baseline or {}
        self.today = today or datetime.date.today()
        self.used: set[AllowEntry] = set()
        self._regex_seconds = 0.0  # spent on allow-regex searches in this run
        self.expired: set[AllowEntry] = set()
        self._paths = _spec(config.exclude_paths)
        self._entry_paths = {e.path: _spec([e.path]) for e in config.allow if e.path}

    def check(self, finding: Finding) -> Suppression | Finding:
        if self._paths is not None and self._paths.match_file(finding.path):
            return Suppression(finding, SuppressReason.PATH, "path matches exclude-paths")
        inline = inline_reason(finding, self.config.other_markers)
        if inline is not None and self.markers:
            return Suppression(finding, SuppressReason.INLINE, inline)
        if inline is not None and not self.config.inline_markers:
            note = "its inline marker allows nothing: inline-markers = false in the configuration"
            finding = finding._replace(notes=(*finding.notes, note))
        for rule in self.config.allow_regex:
            if self._regex_matches(rule, finding):
                return Suppression(finding, SuppressReason.REGEX, rule.reason)
        return self._entries(finding)

    def _regex_matches(self, rule: AllowRegex, finding: Finding) -> bool:
        import regex  # noqa: PLC0415

        # a line an editor shows as several (a lone CR, U+2028) is no line to a rule: its
        # pattern matched one of them and allowed a key on another (an attacker review)
        if rule.target != "secret" and finding.line_text and not one_line(finding.line_text):
            return False
        text = (
            finding.secret
            if rule.target == "secret"
            else finding.line_text.decode("utf-8", "replace")
        )
        left = REGEX_SECONDS - self._regex_seconds
        started = time.monotonic()
        try:
            timeout = min(self.config.regex_timeout, max(left, 0.001))
            return regex.search(rule.pattern, text, timeout=timeout) is not None
        except TimeoutError as exc:
            if timeout < self.config.regex_timeout:
                raise ConfigError(
                    f"{self.config.source}: the allow-regex patterns took more than "
                    f"{REGEX_SECONDS:g} s in all in this run: simplify them"
                ) from exc
            raise ConfigError(
                f"{self.config.source}: allow-regex {rule.pattern!r} took longer than "
                f"{self.config.regex_timeout} s on {finding.path}:{finding.line}: simplify it"
            ) from exc
        finally:
            self._regex_seconds += time.monotonic() - started

    def _entries(self, finding: Finding) -> Suppression | Finding:
        for entry in self.config.allow:
            if entry.fingerprint != finding.fingerprint or not self._path_ok(entry, finding):
                continue
            if entry.expires is not None and entry.expires < self.today:
                self.expired.add(entry)
                note = f"an allowlist entry for this key expired on {entry.expires}: {entry.reason}"
                return finding._replace(notes=(*finding.notes, note))
            self.used.add(entry)
            return Suppression(finding, SuppressReason.FINGERPRINT, entry.reason)
        if finding.fingerprint in self.baseline:
            return Suppression(finding, SuppressReason.BASELINE, "in the baseline")
        return finding

    def _path_ok(self, entry: AllowEntry, finding: Finding) -> bool:
        spec = self._entry_paths.get(entry.path) if entry.path else None
        return spec is None or bool(spec.match_file(finding.path))

    def notices(self, *, full_scan: bool) -> list[str]:
        out = [*self.said]
        out += [
            f"allowlist entry {e.fingerprint} expired on {e.expires} and no longer "
            f"suppresses it ({e.reason})"
            for e in sorted(self.expired, key=_key)
        ]
        if full_scan:
            unused = [e for e in self.config.allow if e not in self.used and e not in self.expired]
            out += [
                f"allowlist entry {e.fingerprint} matched nothing in this scan: remove it "
                f"if the key is gone ({e.reason})"
                for e in unused
            ]
        return out


def _key(entry: AllowEntry) -> str:
    return entry.fingerprint


def _spec(patterns: Any) -> Any:
    if not patterns:
        return None
    from pathspec import GitIgnoreSpec  # noqa: PLC0415

    return GitIgnoreSpec.from_lines(list(patterns))
