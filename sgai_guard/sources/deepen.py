"""Making a shallow CI clone deep enough for a range, or saying exactly why it cannot be.

Fetching is the one network operation sgai-guard performs. It goes to an explicit URL (see
fetch.fetch_url): the remote's URL is read once, after the repository's own rewriting rules, and
refused unless it uses https, ssh or git; a file URL only when the user typed it.
"""

from __future__ import annotations

import re

from sgai_guard.errors import UsageError
from sgai_guard.models import is_object_id
from sgai_guard.sources import gitcmd
from sgai_guard.sources.fetch import NETWORK_TRANSPORTS, fetch_url
from sgai_guard.sources.repo import Repository

DEPTHS = (50, 200, 1000, 5000)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCP = re.compile(r"^[^/:]+:")  # [user@]host:path, git's scp-like ssh syntax


class Remote:
    """Where to deepen from. The URL is looked up and checked on the first fetch only: a
    clone that already holds the range never needs it."""

    def __init__(self, repo: Repository, name: str, given: str | None) -> None:
        if name.startswith("-") or not name:
            raise UsageError("--remote takes the name of a remote")
        self.repo, self.name, self.given = repo, name, given  # name: refs/remotes/<name>/*
        self._url: str | None = None

    @property
    def url(self) -> str | None:
        """None when the remote has no URL (the fetch then fails: the range is incomplete)."""
        if self._url is None:
            self._url = self.given if self.given is not None else _configured(self.repo, self.name)
            if self._url:
                _check(self._url, allow_file=self.given is not None, origin=self._origin())
        return self._url or None

    @property
    def label(self) -> str:
        """Where fetches go, for messages: the URL the user gave, else the remote's name."""
        return self.given if self.given is not None else self.name

    def _origin(self) -> str:
        return "--remote-url" if self.given is not None else f"the remote {self.name!r}"


def transport(url: str) -> str:
    """The transport git would use for ``url``: https, ssh, git, file, or what else it names."""
    if "::" in url.split("/", 1)[0]:
        return url.split("::", 1)[0] + "::"  # a remote helper (ext::, fd::, anything::)
    scheme = _SCHEME.match(url)
    if scheme:
        name = scheme.group(1).lower()
        return "ssh" if name in ("ssh", "git+ssh", "ssh+git") else name
    return "ssh" if _SCP.match(url) else "file"


def _configured(repo: Repository, name: str) -> str:
    """The remote's URL after the repository's own rewriting rules (url.*.insteadOf); empty
    when there is no such remote (git then echoes the name back)."""
    found = gitcmd.run(["ls-remote", "--get-url", "--end-of-options", name], repo.path)
    configured = found.stdout.decode("utf-8", "surrogateescape").strip()
    return "" if found.returncode != 0 or configured == name else configured


def _check(url: str, *, allow_file: bool, origin: str) -> None:
    kind = transport(url)
    allowed = (*NETWORK_TRANSPORTS, *(("file",) if allow_file else ()))
    if kind not in allowed:
        hint = " (a local remote: pass --remote-url with its file:// URL)" if kind == "file" else ""
        raise UsageError(
            f"{origin} uses the {kind} transport; sgai-guard fetches only over "
            f"{', '.join(allowed)}{hint}"
        )


def is_shallow(repo: Repository) -> bool:
    return gitcmd.output(["rev-parse", "--is-shallow-repository"], repo.path).strip() == b"true"


def one_deep(repo: Repository) -> str:
    """How to fetch one commit: only its own (depth 1) into a shallow clone; with its history
    into a whole one, which a depth would make shallow (and cut the walks short: found by an
    attacker review)."""
    return "--depth=1" if is_shallow(repo) else "--quiet"


def fetch(repo: Repository, where: Remote, option: str, *refspecs: str) -> bool:
    url = where.url
    if url is None:
        return False
    return fetch_url(repo.path, url, [option], refspecs, allow_file=where.given is not None)


def obtain(repo: Repository, where: Remote, sha: str) -> str | None:
    """The commit ``sha``, fetched from the remote when the clone lacks it. Only an object id
    is fetched: a name fetched by its refspec resolves no better, and a misspelt `--base` was
    told about the remote's transport (a newcomer review)."""
    found = repo.resolve(sha)
    if found is None and is_object_id(sha) and fetch(repo, where, one_deep(repo), sha):
        found = repo.resolve(sha)
    return found


def reach_merge_base(repo: Repository, where: Remote, base: str, head: str) -> bool:
    """Deepen a shallow clone until base and head share history; False when they never do."""
    for depth in (*DEPTHS, None):
        proc = gitcmd.run(["merge-base", base, head], repo.path)
        if proc.returncode == 0 and _walk_is_whole(repo, [head, f"^{base}"]):
            return True
        if not is_shallow(repo):
            return proc.returncode == 0
        if not fetch(repo, where, "--unshallow" if depth is None else f"--deepen={depth}"):
            return False
    proc = gitcmd.run(["merge-base", base, head], repo.path)
    return proc.returncode == 0


def default_tip(repo: Repository, where: Remote, default: str) -> str | None:
    """The default branch's tip, as the remote has it: its remote-tracking ref, fetched with
    its history into a whole clone when missing. None in a shallow clone that lacks it (a
    depth-1 fetch of a commit the clone holds makes it a shallow boundary, and cuts the
    range's walk short) and for a name that is no branch's."""
    ref = f"refs/remotes/{where.name}/{default}"
    check = gitcmd.run(["check-ref-format", f"refs/heads/{default}"], repo.path)
    if check.returncode != 0 or default.startswith("-"):
        return None
    found = repo.resolve(ref)
    if (
        found is None
        and not is_shallow(repo)
        and fetch(repo, where, "--quiet", f"+refs/heads/{default}:{ref}")
    ):
        found = repo.resolve(ref)
    return found


def fetch_branches(repo: Repository, where: Remote) -> bool:
    """In a shallow clone, the remote's branches at depth 1 (a new branch is judged against
    them); whether that was done."""
    if not is_shallow(repo):
        return False
    fetch(repo, where, "--depth=1", f"+refs/heads/*:refs/remotes/{where.name}/*")
    return True


def reach_other_branches(
    repo: Repository, where: Remote, revs: list[str], *, fetched: bool = False
) -> bool:
    """For a new branch: fetch the other branches (unless ``fetched``) and deepen until the
    walk of ``revs`` (the branch's commits no other branch has) ends inside the fetched
    history."""
    if not is_shallow(repo):
        return True
    if not fetched:
        fetch_branches(repo, where)
    for depth in (*DEPTHS, None):
        if _walk_is_whole(repo, revs):
            return True
        if not fetch(repo, where, "--unshallow" if depth is None else f"--deepen={depth}"):
            return False
    return _walk_is_whole(repo, revs)


def _walk_is_whole(repo: Repository, revs: list[str]) -> bool:
    shallow = repo.shallow_commits()
    if not shallow:
        return True
    listed = set(repo.lines("rev-list", *revs, "--"))
    return not listed & shallow
