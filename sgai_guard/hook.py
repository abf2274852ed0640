"""`sgai-guard hook`: the commit and push hooks, right in every way git and pre-commit call them.

pre-commit stage (git's own hook, or the pre-commit framework):
- no file names: the staged snapshot (`scan --staged`);
- file names (the framework passes them): the index version of each named file, or the file
  on disk if git does not track it. During a real commit (git sets GIT_INDEX_FILE), a key the
  file already held in HEAD is reported as "already committed" without blocking; outside a
  commit (`pre-commit run --all-files`) every key blocks, so CI never passes over one.
pre-push stage (`--pre-push`): the commits being pushed, from PRE_COMMIT_FROM_REF/TO_REF or
the lines git writes on stdin; a new branch scans only what no remote-tracking ref has.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from sgai_guard.errors import ExitCode, exit_for
from sgai_guard.models import ScanResult
from sgai_guard.outcome import exit_code, incompleteness
from sgai_guard.report import RenderOptions
from sgai_guard.report.text import render

USAGE = "usage: sgai-guard hook [--pre-push] [--show-secrets] [--] [FILE...]"
ZERO = "0" * 40


def hints(result: ScanResult) -> tuple[str, ...]:
    """How to get past a block, in the words of the providers' SDKs."""
    envs = sorted({f.rule.provider.env_var for f in result.blocking})
    example = result.blocking[0].fingerprint if result.blocking else "FINGERPRINT"
    return (
        f"Remove the key from the file and read it from the environment instead "
        f"({', '.join(envs)}: the SDKs read it there), then stage the file again.",
        "Revoke the key as above even if it never left this machine's history.",
        "A real false positive? Allow exactly this value, with a reason: "
        f'sgai-guard allow {example} --reason "why this is not a live key"',
    )


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    split = args.index("--") if "--" in args else len(args)
    flags, files = args[:split], args[split + 1 :]
    pre_push = _flag(flags, "--pre-push")
    show_secrets = _flag(flags, "--show-secrets")
    unknown = [a for a in flags if a.startswith("-")]
    if unknown:
        print(f"sgai-guard: unknown option {unknown[0]!r}\n{USAGE}", file=sys.stderr)
        return int(ExitCode.USAGE)
    files = [*flags, *files]
    try:
        result = _pre_push() if pre_push else _pre_commit(files)
    except (Exception, KeyboardInterrupt) as exc:
        return exit_for(exc)
    result = result._replace(incomplete=incompleteness(result))
    options = RenderOptions(show_secrets=show_secrets, hints=hints(result))
    sys.stdout.write(render(result, options))
    return int(exit_code(result))


def _flag(args: list[str], name: str) -> bool:
    if name in args:
        args.remove(name)
        return True
    return False


def _pre_commit(files: list[str]) -> ScanResult:
    from sgai_guard import jobs  # noqa: PLC0415

    prep = jobs.prepare(".")
    in_commit = "GIT_INDEX_FILE" in os.environ
    if not files:  # nothing staged (amending only the message) is said, and clean
        result = jobs.staged(".", settings=prep.settings, policy=prep.policy)
    else:
        result = jobs.index_files(
            ".", files, settings=prep.settings, in_commit=in_commit, policy=prep.policy
        )
    return jobs.with_allowlist_notices(result, prep, full_scan=False)


def _pre_push() -> ScanResult:
    from sgai_guard import jobs  # noqa: PLC0415

    prep = jobs.prepare(".")
    result = jobs.push(".", _push_updates(), settings=prep.settings, policy=prep.policy)
    return jobs.with_allowlist_notices(result, prep, full_scan=False)


def _push_updates() -> list[tuple[str, str, str, str]]:
    """(local ref, local sha, remote ref, remote sha) for every ref being pushed."""
    env = os.environ
    if env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH"):
        local = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD")
        remote = env.get("PRE_COMMIT_FROM_REF") or ZERO
        return [
            (
                env.get("PRE_COMMIT_LOCAL_BRANCH", local),
                local,
                env.get("PRE_COMMIT_REMOTE_BRANCH", "(remote)"),
                remote,
            )
        ]
    if sys.stdin is None or sys.stdin.isatty():
        return []
    updates = []
    for line in sys.stdin.read().splitlines():
        parts = line.split()
        if len(parts) == 4:
            updates.append((parts[0], parts[1], parts[2], parts[3]))
    return updates
