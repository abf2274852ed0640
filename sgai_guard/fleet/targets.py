"""What a fleet audit is asked to cover: local repositories and remote URLs, each with a name
that is safe as a file name, unique, and stable from one run to the next."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from sgai_guard.errors import UsageError

# Transports a mirror may be fetched over. file:// too: every target is the user's own word
# (the command line or their targets file), never something a scanned repository names.
SCHEMES = ("https", "ssh", "git", "file")
_SCP = re.compile(r"^(?:[A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+:(?!//)[^\s]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Target(NamedTuple):
    text: str  # as the user gave it (a URL may hold credentials: never shown or written)
    remote: bool  # a URL, cloned as a bare mirror; else a local (work tree or bare) repository
    shown: str  # for messages and result files: user name and password removed
    name: str  # file-system safe and collision free: OUT/<name>@<state>.json
    problem: str = ""  # why it cannot be audited (a refused transport): a failed result


def without_userinfo(url: str) -> str:
    """``url`` with any user name and password removed (they may be a token)."""
    if "://" not in url:
        return re.sub(r"^[^@/:]+@", "", url) if _SCP.match(url) else url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def refusal(text: str) -> str:
    """Why a remote target is refused, or ""."""
    if "::" in text.split("/", 1)[0] or text.startswith("ext:"):
        return "transport helpers (such as ext::) run programs: never allowed"
    if text.startswith("-"):
        return "a target may not start with '-'"
    if not text.isprintable() or any(c.isspace() for c in text):
        return "the URL holds spaces or control characters"
    scheme = urlsplit(text).scheme.lower() if "://" in text else "ssh"
    if scheme not in SCHEMES:
        return f"the {scheme} transport is not allowed (only {', '.join(SCHEMES)})"
    return ""


def is_remote(text: str) -> bool:
    """A URL (``scheme://`` or scp-like ``host:path``) rather than a local folder."""
    if Path(text).exists():
        return False
    return "://" in text or "::" in text or bool(_SCP.match(text)) or text.startswith("ext:")


def name_for(key: str, shown: str) -> str:
    """``<slug>-<hash>``: readable, and unique because the hash covers the whole target."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    parts = urlsplit(shown) if "://" in shown else None
    path = parts.path if parts else shown.replace("\\", "/")
    host = [parts.hostname] if parts and parts.hostname else []
    readable = "/".join([*host, *path.strip("/").split("/")[-2:]])  # host, owner, repository
    readable = readable.removesuffix(".git")
    slug = _UNSAFE.sub("_", readable).strip("._-")[-60:].lstrip("._-")
    return f"{slug or 'repository'}-{digest}"


def target(text: str) -> Target:
    if is_remote(text):
        shown = without_userinfo(text).rstrip("/")
        return Target(text, True, shown, name_for(shown, shown), refusal(text))
    where = os.path.abspath(text)  # noqa: PTH100 - resolve() would follow symlinks
    return Target(where, False, where, name_for(where, where))


def read_targets_file(path: str) -> list[str]:
    """One target a line; blank lines and lines starting with ``#`` are skipped."""
    try:
        with open(path, encoding="utf-8") as handle:  # noqa: PTH123 - a str path, like the rest
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the targets file {path}: {exc}") from exc
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def parse(given: Sequence[str], files: Iterable[str] = ()) -> list[Target]:
    """Every target once (the same repository named twice is audited once), in order."""
    texts = list(given)
    for path in files:
        texts += read_targets_file(path)
    seen: dict[str, Target] = {}
    for text in texts:
        item = target(text)
        seen.setdefault(item.name, item)
    return list(seen.values())
