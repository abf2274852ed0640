"""The audit as a source: every blob of the history once (sources.audit), then each secret
placed in history (sources.history) and triaged (engine.triage)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from sgai_guard.engine.triage import triage
from sgai_guard.models import Blob, Finding, ScanResult, Skipped, Summary
from sgai_guard.sources.audit import AuditScan, count_blobs
from sgai_guard.sources.history import blob_histories, placed_messages
from sgai_guard.sources.repo import open_repository

if TYPE_CHECKING:
    from _typeshed import StrPath

    from sgai_guard.sources.history import BlobHistory


class AuditSource:
    def __init__(
        self,
        path: StrPath,
        *,
        include_reflog: bool = False,
        include_unreachable: bool = False,
        max_blob_size: int | None = None,
    ) -> None:
        self.repo = open_repository(path)
        self.scan = AuditScan(self.repo, include_reflog, max_blob_size)
        self.include_unreachable = include_unreachable
        self.dropped = 0

    def total(self) -> int:
        """How many blobs there are to read: the denominator of the progress line."""
        return count_blobs(self.repo)

    def items(self) -> Iterator[Blob | Skipped]:
        self.scan.check()
        yield from self.scan.blobs()

    def refine(self, result: ScanResult) -> ScanResult:
        """Each secret placed in history: paths, commits, refs, and how exposed it is."""
        in_files = [f for f in result.findings if not _in_message(f)]
        wanted = {f.blob_id for f in in_files if f.blob_id}
        unread = {s.blob_id for s in result.skipped if s.blob_id} - wanted
        histories = blob_histories(
            self.repo, wanted, include_reflog=self.scan.include_reflog, named_only=unread
        )
        findings, self.dropped = triage(
            in_files, histories, keep_unreachable=self.include_unreachable, bare=self.repo.bare
        )
        placed, dropped = placed_messages(
            self.repo,
            [f for f in result.findings if _in_message(f)],
            keep_unreachable=self.include_unreachable,
        )
        self.dropped += dropped
        skipped = tuple(_named(s, histories) for s in result.skipped)
        return result._replace(findings=(*placed, *findings), skipped=skipped)

    def summary(self) -> Summary:
        notices = list(self.scan.notices)
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


def _in_message(finding: Finding) -> bool:
    return finding.path.startswith(("(commit ", "(tag ")) and finding.path.endswith(" message)")


def _named(item: Skipped, histories: Mapping[str, BlobHistory]) -> Skipped:
    """An unreadable object, named by the paths history gives it."""
    history = histories.get(item.blob_id or "")
    if history is None or not history.paths or item.blob_id is None:
        return item
    paths = ", ".join(sorted(history.paths))
    return item._replace(path=f"{paths} ({item.blob_id[:12]})")
