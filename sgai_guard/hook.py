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

import contextlib
import os
import sys
from collections.abc import Sequence

from sgai_guard.errors import ExitCode, exit_for, say
from sgai_guard.models import ScanResult
from sgai_guard.outcome import exit_code, incompleteness
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import fenced
from sgai_guard.report.text import render

USAGE = "usage: sgai-guard hook [--pre-push] [--show-secrets] [--] [FILE...]"
HELP = f"""{USAGE}

The commit and push hooks. Without FILE, scans what is staged; with FILE (as the pre-commit
framework passes them, after --), scans the staged version of each. --pre-push scans the
commits a push sends (git writes them on standard input). Everything after -- is a file name,
never an option. Exit codes: 0 clean, 1 keys found, 2 usage error, 3 incomplete.
"""
FLAGS = ("--pre-push", "--show-secrets")
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
    parsed = parse(argv)
    if isinstance(parsed, int):
        return parsed
    flags, files = parsed
    from sgai_guard.sources import hardening  # noqa: PLC0415

    hardening.inherit(hardening.HOOK_VARIABLES)  # git set these for this very repository
    try:
        result = _pre_push() if "--pre-push" in flags else _pre_commit(files)
    except (Exception, KeyboardInterrupt) as exc:
        return exit_for(exc)
    result = result._replace(incomplete=incompleteness(result))
    options = RenderOptions(show_secrets="--show-secrets" in flags, hints=hints(result))
    if not _deliver(fenced(render(result, options))):
        return int(ExitCode.USAGE)
    return int(exit_code(result))


def _deliver(report: str) -> bool:
    """The report on stdout, or, when stdout is closed, on stderr with a one-line error."""
    try:
        sys.stdout.write(report)
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):  # AttributeError: no stdout at all
        say("sgai-guard: error: cannot write to standard output; the report follows on stderr")
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stderr.write(report)
        return False
    return True


def parse(argv: Sequence[str]) -> tuple[set[str], list[str]] | int:
    """Flags and file names; everything after the first -- is a file name, whatever it
    looks like (pre-commit passes staged names there, and a name may start with -)."""
    args = list(argv)
    split = args.index("--") if "--" in args else len(args)
    flags: set[str] = set()
    files: list[str] = []
    for arg in args[:split]:
        if arg in FLAGS:
            flags.add(arg)
        elif arg in ("-h", "--help"):
            sys.stdout.write(HELP)
            return int(ExitCode.CLEAN)
        elif arg.startswith("-"):
            say(f"sgai-guard: unknown option {arg!r} (file names go after --)")
            say(USAGE)
            return int(ExitCode.USAGE)
        else:
            files.append(arg)
    return flags, files + args[split + 1 :]


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
