"""What a push sends (pre-push) or adds (pre-receive): one commit range per ref update."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from sgai_guard.models import (
    REF_NAME,
    ZERO_OIDS,
    Blob,
    ScanResult,
    Skipped,
    Status,
    Summary,
    is_object_id,
)
from sgai_guard.sources import gitcmd
from sgai_guard.sources.commits import RangeScan
from sgai_guard.sources.lfs import LocalStore
from sgai_guard.sources.messages import commits_of, object_kind, peel
from sgai_guard.sources.repo import Repository, open_repository

if TYPE_CHECKING:
    from _typeshed import StrPath

# A client: what a remote-tracking ref of the remote pushed to has is not new (for a new branch
# only: an update is judged against the remote's old value alone). Tracking refs of other
# remotes, a fork's or a private backup's, hold what this remote may never have had: they
# vouch only when the remote is not known (a hook that git was not asked to tell).
CLIENT_KNOWN = ("--not", "--remotes")
URL_ONLY = (
    "pushing to a URL that no configured remote has: every commit of a new branch is scanned "
    "(no remote-tracking ref tells what that repository already holds)"
)
ELSEWHERE = (
    "the remote {name!r} pushes to another repository than it fetches from: its tracking refs "
    "say nothing of where this push goes, so every commit of a new branch is scanned"
)
UNTOLD = (
    "this push hook was not told the remote (a plain hook written by an older sgai-guard): "
    "every remote's tracking refs vouch for a new branch's commits; run `sgai-guard "
    "install-hook --pre-push` again"
)
# A server, before the push moves any ref: what its branches and tags hold is not new, for new
# branches and updates alike. Only those: refs a hosting platform writes without running the
# hook (refs/pull/*, refs/merge-requests/*, keep-arounds) must not vouch for a commit.
SERVER_KNOWN = ("--not", "--branches", "--tags")


class PushSource:
    """``updates``: (local ref, local sha, remote ref, remote sha) for each ref pushed. Its
    commits are those since the remote's old value that no ``known`` ref has."""

    def __init__(
        self,
        path: StrPath,
        updates: Sequence[tuple[str, str, str, str]],
        known: tuple[str, ...] = CLIENT_KNOWN,
        remote: str | None = None,
    ) -> None:
        """``remote``: on a client, the remote (or URL) pushed to, as git tells its hook."""
        self.path, self.updates, self.known, self.remote = path, updates, known, remote
        self.ranges: list[RangeScan] = []
        self.lfs = LocalStore(os.fspath(path))
        self.notices: list[str] = [] if updates else ["git named no ref to push: nothing to scan"]

    def items(self) -> Iterator[Blob | Skipped]:
        repo = open_repository(self.path)
        if self.known == CLIENT_KNOWN and self.remote is not None:
            self.known = self._remote_known(repo, self.remote)
        elif self.known == CLIENT_KNOWN and any(u[3] in ZERO_OIDS for u in self.updates):
            self.notices.append(UNTOLD)
        shallow: frozenset[str] | None = None  # read once, for every ref
        named = [sha for update in self.updates for sha in update[1::2] if is_object_id(sha)]
        commits = commits_of(repo, [sha for sha in named if sha not in ZERO_OIDS])

        def resolve(sha: str) -> str | None:
            # one not found together is asked again alone: git's answers for one ref can sway
            # its answer for another (a tag lying about its target's type, found by a review)
            return commits.get(sha) or repo.resolve(sha)

        for local_ref, local_sha, remote_ref, remote_sha in self.updates:
            if local_sha in ZERO_OIDS:
                self.notices.append(
                    f"deleting {remote_ref}: a deletion pushes no commits, nothing to scan"
                )
                continue
            head = resolve(local_sha)
            if head is None:  # a tag of a blob or a tree (was exit 2, "unknown revision")
                target = peel(repo, local_sha) if is_object_id(local_sha) else None
                kind = object_kind(repo, target) if target else None
                what = f"a {kind}" if kind else "nothing this repository has"
                reason = f"it leads to {what}, not a commit: what it points at was not scanned"
                yield Skipped(remote_ref, reason, error=True)
                continue
            base = None if remote_sha in ZERO_OIDS else resolve(remote_sha)
            if remote_sha not in ZERO_OIDS and base is None:
                self.notices.append(
                    f"{remote_ref} is at {remote_sha[:12]}, which this clone lacks: "
                    "scanning every commit no remote-tracking ref has"
                )
            # on a server, what a branch or tag already has is not new, whatever the ref
            # pushed: a branch that merges another one the server has adds none of its commits
            exclude = self.known if base is None or self.known == SERVER_KNOWN else ()
            scan = RangeScan(repo, base, head, exclude)
            scan.label = f"{local_ref} -> {remote_ref}"
            scan.lfs = self.lfs  # one store, said once
            scan.shallow = shallow = repo.shallow_commits() if shallow is None else shallow
            self.ranges.append(scan)
        nothing_new = self._nothing_new(repo)
        for scan in self.ranges:
            scan.resolve(nothing_new=nothing_new)
        for scan in self.ranges:
            yield from scan.blobs()
            yield from scan.removed()
            yield from scan.messages()
        yield from self._tag_messages(repo)
        yield from self._new_names()

    def _nothing_new(self, repo: Repository) -> bool:
        """On a server, whether no ref pushed brings a commit its branches and tags lack: one
        walk for all refs instead of one for each (a push of 300 tags cost 300 walks, each
        reading every ref: 29 ms a ref). Each range is its head less those refs (and less
        its old value), so none holds a commit this walk does not find."""
        if self.known != SERVER_KNOWN or len(self.ranges) < 2:
            return False
        heads = "".join(f"{head}\n" for head in dict.fromkeys(s.head for s in self.ranges))
        args = ["rev-list", "--max-count=1", "--stdin", *SERVER_KNOWN]  # stdin: positive
        return not gitcmd.output(args, repo.path, stdin=heads.encode("ascii")).strip()

    def _new_names(self) -> Iterator[Blob]:
        """The name of each ref the push creates: it is published with it (found by a
        review: a branch named after a key was shown redacted in a notice, and let through).
        A ref that already exists keeps the name the remote has."""
        for _, new, remote_ref, old in self.updates:
            if new not in ZERO_OIDS and old in ZERO_OIDS:
                data = os.fsencode(remote_ref) + b"\n"
                yield Blob(REF_NAME, data, status=Status.NEW, message=True)

    def _remote_known(self, repo: Repository, remote: str) -> tuple[str, ...]:
        """What vouches for a new branch's commits: the tips of the pushed-to remote's own
        tracking refs (for a URL, the one remote fetching from that URL), listed by id. None
        when the remote pushes elsewhere than it fetches from: its refs then say nothing of
        where the push goes. Found by an attacker review: `--remotes=NAME` is a glob, so a
        remote named `origin/alice` (refs/remotes/origin/alice/*) vouched for pushes to
        origin, and a remote named `*` for everything."""
        names = repo.lines("remote")
        name = remote if remote in names else _remote_of(repo, remote)
        if name is None:
            self.notices.append(URL_ONLY)
            return ()
        if not _pushes_where_it_fetches(repo, name):
            self.notices.append(ELSEWHERE.format(name=name))
            return ()
        tips = _tracking_tips(repo, name, names)
        return ("--not", *tips) if tips else ()

    def _tag_messages(self, repo: Repository) -> Iterator[Blob | Skipped]:
        """The message of each annotated tag pushed (a tag of an existing commit adds no
        commit, but publishes its message)."""
        from sgai_guard.sources.messages import messages, tag_chain, tag_chains  # noqa: PLC0415

        tags: list[str] = []
        pushed = [new for _, new, _, _ in self.updates if new not in ZERO_OIDS]
        chains = tag_chains(repo, [new for new in pushed if is_object_id(new)])  # all at once
        for _, new, remote_ref, _ in self.updates:
            if new not in ZERO_OIDS:
                chain, problem = chains[new] if new in chains else tag_chain(repo, new)
                tags += chain
                if problem:
                    yield Skipped(
                        remote_ref, f"{problem}: their messages were not scanned", error=True
                    )
        yield from messages(repo, tags, kind="tag")

    def refine(self, result: ScanResult) -> ScanResult:
        """Refs pushed together share commits (a branch and a tag of its tip, a branch pushed
        under two names): each range scans them, and finds the same key at the same place,
        judged the same way. Each such finding is said once. Only exact copies go: a finding
        that differs in anything (its commit, its status, whether it blocks) stays, so the
        exit code is what it was."""
        return result._replace(
            findings=tuple(dict.fromkeys(result.findings)),
            suppressed=tuple(dict.fromkeys(result.suppressed)),
            skipped=tuple(dict.fromkeys(result.skipped)),
        )

    def summary(self) -> Summary:
        commits = {commit for scan in self.ranges for commit in scan.commits}
        return Summary(
            commits=len(commits),
            notices=(
                *self.notices,
                *(n for s in self.ranges for n in s.notices),
                *self.lfs.notices(),
            ),
            incomplete=tuple(r for s in self.ranges for r in s.incomplete),
            # said why nothing was sent: no ref named, only deletions, or empty ranges
            empty_ok=all(s.empty_ok for s in self.ranges),
        )


def _remote_of(repo: Repository, url: str) -> str | None:
    """The one configured remote that fetches from ``url`` (none when several do)."""
    proc = gitcmd.run(["config", "-z", "--get-regexp", r"^remote\..*\.url$"], repo.path)
    found = set()
    for entry in proc.stdout.split(b"\0"):
        key, _, value = entry.partition(b"\n")
        name = key.decode("utf-8", "replace")[len("remote.") : -len(".url")]
        if name and value.decode("utf-8", "replace") == url:
            found.add(name)
    return found.pop() if len(found) == 1 else None


def _pushes_where_it_fetches(repo: Repository, name: str) -> bool:
    """One URL, the same for fetching and pushing (after insteadOf and pushInsteadOf)."""
    if name.startswith("-"):
        return False
    urls = [
        gitcmd.run(["remote", "get-url", *push, "--all", name], repo.path)
        for push in ((), ("--push",))
    ]
    fetched, pushed = (proc.stdout.decode("utf-8", "replace").splitlines() for proc in urls)
    if not all(p.returncode == 0 for p in urls) or len(fetched) != 1 or len(pushed) != 1:
        return False
    return _repository(fetched[0]) == _repository(pushed[0])


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/]*@)?([^/:]+)(?::\d*)?/(.*)$")
_SCP = re.compile(r"^(?:[^@/]*@)?([^/:]+):(.*)$")


def _repository(url: str) -> str:
    """Which repository a URL names, whatever the protocol: `https://github.com/o/r`,
    `ssh://git@github.com/o/r.git` and `git@github.com:o/r.git` are one (a common setup
    fetches over https and pushes over ssh, with url.*.pushInsteadOf)."""
    local = url.removeprefix("file://")
    found = None
    if local == url:  # a path holds a slash before any colon; scp-like syntax does not
        scp = "/" not in url.split(":", maxsplit=1)[0]
        found = _URL.match(url) or (_SCP.match(url) if scp else None)
    if found is None:
        return os.path.normpath(local)
    host, path = found.groups()
    return f"{host.lower()}/{path.strip('/').removesuffix('.git')}"


def _tracking_tips(repo: Repository, name: str, names: list[str]) -> list[str]:
    """The ids the remote's tracking refs name: refs under refs/remotes/NAME/, not those of
    a remote whose name goes on from there (NAME/alice), compared as text (no glob)."""
    prefix = f"refs/remotes/{name}/"
    nested = tuple(f"refs/remotes/{other}/" for other in names if other.startswith(prefix[13:]))
    listed = repo.git("for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes/")
    tips: dict[str, None] = {}
    for line in listed.decode("utf-8", "surrogateescape").split("\n"):
        oid, _, ref = line.partition(" ")
        if ref.startswith(prefix) and not ref.startswith(nested) and is_object_id(oid):
            tips[oid] = None
    return list(tips)
