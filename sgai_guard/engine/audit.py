"""The audit as a source: every blob of the history once (sources.audit), then each secret
placed in history (sources.history) and triaged (engine.triage)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sgai_guard.engine.triage import triage
from sgai_guard.models import (
    Blob,
    Finding,
    Passed,
    ScanResult,
    Skipped,
    Summary,
    SuppressReason,
)
from sgai_guard.sources.audit import AuditScan
from sgai_guard.sources.history import (
    BlobHistory,
    HistoryUnknownError,
    blob_histories,
    placed_messages,
)
from sgai_guard.sources.repo import open_repository

if TYPE_CHECKING:
    from _typeshed import StrPath


class AuditSource:
    bulk = True  # a whole history: engine.run readies its keyword search for bulk work

    def __init__(
        self,
        path: StrPath,
        *,
        include_reflog: bool = False,
        include_unreachable: bool = False,
        max_blob_size: int | None = None,
        readers: int = 0,
        in_process: bool = True,
    ) -> None:
        self.repo = open_repository(path)
        self.scan = AuditScan(self.repo, include_reflog, max_blob_size, readers, in_process)
        self.include_unreachable = include_unreachable
        self.dropped = 0
        self.problems: list[str] = []  # what the triage could not read

    def total(self) -> int:
        """How many blobs there are to read: the denominator of the progress line."""
        try:
            return self.scan.plan().blobs
        except BaseException:  # its thread, git processes and pack files go with it
            self.scan.close()
            raise

    def items(self) -> Iterator[Blob | Skipped | Passed]:
        try:
            self.scan.check()
            self.repo = self.scan.repo  # less the refs naming missing objects
            yield from self.scan.blobs()
        except BaseException:  # an error, Ctrl-C, or the engine closing this generator
            self.scan.close()  # (else ``refine`` closes it, once the triage is done)
            raise

    def refine(self, result: ScanResult) -> ScanResult:
        """Each secret placed in history: paths, commits, refs, and how exposed it is."""
        in_files = sorted((f for f in result.findings if not _in_message(f)), key=_place)
        wanted = {f.blob_id for f in in_files if f.blob_id}
        unread = {s.blob_id for s in result.skipped if s.blob_id} - wanted
        keep = self.include_unreachable
        try:
            histories = blob_histories(
                self.repo, wanted, include_reflog=self.scan.include_reflog, problems=self.problems
            )
        except HistoryUnknownError as exc:  # never a key left out for want of its history
            self.scan.incomplete.append(str(exc))
            histories, keep = {}, True
        names = self.scan.paths_of(unread)
        in_messages = [f for f in result.findings if _in_message(f)]
        tags = {f.blob_id for f in in_messages if f.blob_id and not f.commit}
        walked = self.scan.walked(_no_commit(in_files, histories) | tags)
        self.scan.close()
        findings, self.dropped = triage(
            in_files, histories, keep_unreachable=keep, bare=self.repo.bare, walked=walked
        )
        placed, dropped = placed_messages(
            self.repo,
            in_messages,
            keep_unreachable=self.include_unreachable,
            problems=self.problems,
            walked=walked,
        )
        self.dropped += dropped
        skipped = sorted((_named(s, names) for s in result.skipped), key=_skip_order)
        suppressed = sorted(result.suppressed, key=lambda s: _place(s.finding))
        return result._replace(
            findings=(*placed, *findings), skipped=tuple(skipped), suppressed=tuple(suppressed)
        )

    def summary(self) -> Summary:
        notices = [*self.scan.notices, *self.problems]
        if self.dropped:
            notices.append(
                f"{self.dropped} secret(s) are in objects no ref reaches: "
                "--include-unreachable lists them"
            )
        return Summary(
            commits=self.scan.commits,
            notices=tuple(notices),
            incomplete=tuple(self.scan.incomplete),
            empty_ok=self.scan.empty_ok,
        )


def _no_commit(findings: list[Finding], histories: Mapping[str, BlobHistory]) -> set[str]:
    """The blobs holding keys that no commit of any ref added."""
    return {
        f.blob_id
        for f in findings
        if f.blob_id and not ((h := histories.get(f.blob_id)) is not None and h.added)
    }


def _in_message(finding: Finding) -> bool:
    return finding.path.startswith(("(commit ", "(tag ")) and finding.path.endswith(
        (" message)", " headers)")
    )


def _named(item: Skipped, names: Mapping[str, set[str]]) -> Skipped:
    """An object that could not be read, named by the paths history gives it."""
    paths = names.get(item.blob_id or "")
    if not paths or item.blob_id is None:
        return item
    return item._replace(path=f"{', '.join(sorted(paths))} ({item.blob_id[:12]})")


def _place(finding: Finding) -> tuple[str, str, int, int, str]:
    return finding.blob_id or "", finding.path, finding.line, finding.column, finding.rule.id


def _skip_order(item: Skipped) -> tuple[str, str]:
    """Readers run side by side: what they could not read is listed in a stable order."""
    return item.path, item.reason


def own_word(result: ScanResult, config: Path | None) -> tuple[str, ...]:
    """A notice when the audited repository's own word (its configuration, and inline
    markers in its content) kept keys from blocking: an audit of someone else's repository
    honours it, and a review found an `exclude-paths = ["*"]` there said only as
    "2 suppressed", exit 0. ``config``: the configuration the audit ran with, when it was
    the repository's own (no --config)."""
    own = [s for s in result.suppressed if s.reason is not SuppressReason.PLACEHOLDER]
    if not own:
        return ()
    them = "it" if len(own) == 1 else "them"
    how = f"its configuration {config}, or inline markers" if config else "inline markers"
    return (
        f"{len(own)} finding{'' if len(own) == 1 else 's'} did not block because the audited "
        f"repository allows {them} itself ({how}): audit it with --config FILE to judge it "
        f"by yours; --show-suppressed lists {them}",
    )
