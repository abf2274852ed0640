"""The server-side pre-receive hook: what a push adds, read from git's quarantine, and the
logged bypass a server may allow through a push option."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

from sgai_guard.display import message, without_secret
from sgai_guard.errors import ExitCode, GitError, say
from sgai_guard.hints import BYPASS_OPTION
from sgai_guard.models import ScanResult, is_object_id

# Who pushed, as the servers that run hooks say it.
PUSHER = ("GL_USERNAME", "GITEA_PUSHER_NAME", "GL_USER", "GITHUB_USER", "REMOTE_USER", "USER")
LOG = "sgai-guard-bypass.log"


def updates(text: str) -> list[tuple[str, str, str, str]]:
    """git's ``old new ref`` lines, as the push hook's (ref, new, ref, old) updates."""
    out = []
    for old, new, ref in update_lines(text, PRE_RECEIVE):
        out.append((ref, new, ref, old))
    return out


PRE_PUSH = ("<local ref>", "<sha>", "<remote ref>", "<sha>")
PRE_RECEIVE = ("<sha>", "<sha>", "<ref>")


def update_lines(text: str, fields: tuple[str, ...]) -> list[list[str]]:
    """The lines git gives a push hook on stdin, cut into ``fields`` (PRE_PUSH, PRE_RECEIVE)
    and each checked to have them: one space between fields, an id where it says <sha>. A
    line that has not is an error, never passed over: a push must not go through unscanned
    because the hook misread it. Lines end at newlines only (a ref name may hold U+2028 or
    NEL), and only the first field may hold spaces (a push's source as the user typed it,
    `:/fix typo`): the others are cut from the end."""
    out = []
    for line in filter(None, text.split("\n")):
        parts = line.rsplit(" ", len(fields) - 1)
        ids = [part for part, field in zip(parts, fields, strict=False) if field == "<sha>"]
        if len(parts) != len(fields) or not all(map(is_object_id, ids)):
            shape = " ".join(fields)
            raise GitError(
                f"git gave the hook a line that is not `{shape}`: {message(line[:200])!r}"
            )
        out.append(parts)
    return out


def push_options(env: Mapping[str, str]) -> list[str]:
    """The push options the client sent (`git push -o`), when the server advertises them."""
    try:
        count = int(env.get("GIT_PUSH_OPTION_COUNT", "0"))
    except ValueError:
        return []
    return [env.get(f"GIT_PUSH_OPTION_{n}", "") for n in range(max(0, min(count, 100)))]


def bypass_reason(options: Sequence[str]) -> str | None:
    """The reason given with ``-o sgai-guard.skip=<reason>``; "" when none; None: not asked."""
    for option in options:
        name, _, reason = option.partition("=")
        if name.strip() == BYPASS_OPTION:
            return reason.strip()
    return None


def log_bypass(
    git_dir: str, result: ScanResult, reason: str, pushed: Sequence[tuple[str, str, str, str]]
) -> str:
    """Append one JSON line saying who bypassed what and why; the log's path."""
    import json  # noqa: PLC0415 (only when a bypass is used)

    env = os.environ
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pusher": message(next((env[k] for k in PUSHER if env.get(k)), "unknown")),
        "reason": message(reason),
        "refs": [message(f"{ref} {old[:12]}..{new[:12]}") for ref, new, _, old in pushed],
        "findings": [
            {
                "fingerprint": f.fingerprint,
                "redacted": f.redacted,
                "path": message(f.path),
                "commit": f.commit,
            }
            for f in result.blocking
        ],
    }
    path = os.path.join(git_dir, LOG)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o640)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    return path


def bypassed(result: ScanResult, pushed: list[tuple[str, str, str, str]], *, allowed: bool) -> int:
    """A server's push with keys: rejected, unless the server allows a bypass and the pusher
    asked for one with a reason; the bypass is then logged."""
    reason = bypass_reason(push_options(os.environ))
    if reason is None:
        return int(ExitCode.FINDINGS)
    for finding in result.blocking:  # the pusher's reason may quote a key (a review)
        reason = without_secret(reason, finding.secret)
    if not allowed:
        say(f"sgai-guard: the push option {BYPASS_OPTION} is ignored: this server allows no bypass")
        return int(ExitCode.FINDINGS)
    if not reason:
        say(f'sgai-guard: a bypass needs a reason: git push -o {BYPASS_OPTION}="<reason>"')
        return int(ExitCode.FINDINGS)
    try:
        log = log_bypass(os.environ.get("GIT_DIR", "."), result, reason, pushed)
    except OSError as exc:
        say(f"sgai-guard: the bypass cannot be logged ({exc.strerror}): push rejected")
        return int(ExitCode.FINDINGS)
    say(f"sgai-guard: BYPASSED by push option, logged in {log}: {reason}")
    return int(ExitCode.CLEAN)
