"""`sgai-guard hook`: the commit and push hooks, right in every way git and pre-commit call them.

pre-commit stage (git's own hook, or the pre-commit framework):
- no file names: the staged snapshot (`scan --staged`);
- file names (the framework passes them): the index version of each named file, or the file
  on disk if git does not track it. During a real commit (git sets GIT_INDEX_FILE), a key the
  file already held in HEAD is reported as "already committed" without blocking; outside a
  commit (`pre-commit run --all-files`) every key blocks, so CI never passes over one.
pre-push stage (`--pre-push`): the commits being pushed, from PRE_COMMIT_FROM_REF/TO_REF or
the lines git writes on stdin; a new branch scans only what no remote-tracking ref has.
server (`--pre-receive`): the commits a push adds to a bare repository, read from git's
quarantine; a new ref scans only what no existing ref has (receive.py).
"""

from __future__ import annotations

# ruff: noqa: PLC0415 - a clean commit (the quick path) loads none of the engine, the records,
# the report formats or even enum and typing: every such import is made where it is needed.
import os
import sys

from sgai_guard.summaryline import fenced

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from sgai_guard.models import ScanResult
    from sgai_guard.sources.quick import Staged

USAGE = (
    "usage: sgai-guard hook [--pre-push | --pre-receive [--allow-bypass]] [--show-secrets] "
    "[--] [FILE...]"
)
HELP = f"""{USAGE}

The commit, push and server hooks. Without FILE, scans what is staged; with FILE (as the
pre-commit framework passes them, after --), scans the staged version of each. --pre-push scans
the commits a push sends (git writes them on standard input). --pre-receive is the server-side
hook of a bare repository: it scans what a push adds and rejects the push for a key;
--allow-bypass lets a pusher override with `git push -o sgai-guard.skip="<reason>"`, logged in
the repository folder (sgai-guard-bypass.log). Everything after -- is a file name, never an
option. Exit codes: 0 clean, 1 keys found, 2 usage error, 3 incomplete.
`sgai-guard-hook ARGS` is this same command, started faster (the pre-commit manifest runs it).
"""
# what the hook runs as: the imports each needs are made when it runs (start-up time)
COMMIT, PUSH, RECEIVE = "commit", "push", "receive"
# git receives a push into a quarantine folder and points its hooks there with these; without
# them the pushed objects cannot be read. Only git sets them for a server hook.
QUARANTINE = ("GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES")
FLAGS = ("--pre-push", "--pre-receive", "--allow-bypass", "--show-secrets")
EXIT_CLEAN, EXIT_USAGE = 0, 2  # errors.ExitCode's values, without importing enum on the quick path


def main(argv: Sequence[str]) -> int:
    parsed = parse(argv)
    if isinstance(parsed, int):
        return parsed
    flags, files = parsed
    problem = _conflict(flags)
    if problem:
        return _usage(problem)
    stage = _stage(flags)
    quick = _quick(files) if stage == COMMIT else None
    if isinstance(quick, int):
        return quick
    return _full(stage, files, flags, quick)


def _quick(files: list[str]) -> int | Staged | None:
    """The exit code when the staged snapshot surely holds nothing (sources.quick): the
    report the full scan would write, written without it. Otherwise what was read, for the
    full scan to use (None: it reads for itself). A configuration that sets anything always
    goes to the full scan: it may be invalid, or change what is found (the commented file
    `init` writes sets nothing)."""
    from sgai_guard.policy import configfile
    from sgai_guard.sources.quick import read_staged
    from sgai_guard.summaryline import clean

    try:
        staged = read_staged(os.curdir, files)
        if staged is None or not staged.clean():
            return staged
        config = configfile.find(os.curdir)
        if config is not None and not configfile.says_nothing(config):
            return staged
    except (Exception, KeyboardInterrupt) as exc:  # as the full scan says them
        from sgai_guard.errors import exit_for

        return exit_for(exc)
    return EXIT_CLEAN if _deliver(fenced(clean(*staged.counts()))) else EXIT_USAGE


def _usage(problem: str) -> int:
    from sgai_guard.errors import say

    say(f"sgai-guard: {problem}")
    return EXIT_USAGE


def _full(stage: str, files: list[str], flags: set[str], preread: Staged | None = None) -> int:
    from sgai_guard.engine.outcome import exit_code
    from sgai_guard.errors import ExitCode, exit_for
    from sgai_guard.report import RenderOptions
    from sgai_guard.report.text import render

    receive = stage == RECEIVE
    try:
        result, pushed = _scan(stage, files, preread)
    except (Exception, KeyboardInterrupt) as exc:
        return exit_for(exc)
    bypass = "--allow-bypass" in flags
    options = RenderOptions(show_secrets="--show-secrets" in flags)
    if result.blocking:  # how to get past the block, in words that work where it runs
        from sgai_guard.hints import hints

        options = options._replace(hints=hints(result, stage, bypass=bypass))
    if not _deliver(fenced(render(result, options))):
        return int(ExitCode.USAGE)
    code = int(exit_code(result))
    if receive and code == int(ExitCode.FINDINGS):
        from sgai_guard.receive import bypassed

        return bypassed(result, pushed, allowed=bypass)
    return code


def _stage(flags: set[str]) -> str:
    """What the hook runs as; git set the variables kept for it (and, on a server, those of
    the quarantine the push waits in)."""
    from sgai_guard.sources import hardening

    stage = RECEIVE if "--pre-receive" in flags else PUSH if "--pre-push" in flags else COMMIT
    hardening.inherit(hardening.HOOK_VARIABLES + (QUARANTINE if stage == RECEIVE else ()))
    return stage


def _conflict(flags: set[str]) -> str | None:
    if "--allow-bypass" in flags and "--pre-receive" not in flags:
        return "--allow-bypass is for --pre-receive only"
    if {"--pre-push", "--pre-receive"} <= flags:
        return "choose one of --pre-push and --pre-receive"
    return None


def _scan(
    stage: str, files: list[str], preread: Staged | None
) -> tuple[ScanResult, list[tuple[str, str, str, str]]]:
    if stage == COMMIT:
        return _pre_commit(files, preread), []
    if stage == RECEIVE:
        from sgai_guard.receive import updates

        pushed = updates(_stdin())
    else:
        pushed = _push_updates()
    remote = (files[0] if files else os.environ.get("PRE_COMMIT_REMOTE_NAME")) or None
    return _pushed(pushed, server=stage == RECEIVE, remote=remote), pushed


def _deliver(report: str) -> bool:
    """The report on stdout, or, when stdout is closed, on stderr with a one-line error."""
    try:
        sys.stdout.write(report)
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):  # AttributeError: no stdout at all
        import contextlib

        from sgai_guard.errors import say

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
            return EXIT_CLEAN if _deliver(HELP) else EXIT_USAGE  # a closed pipe: never 1
        elif arg.startswith("-"):
            from sgai_guard.errors import say

            say(f"sgai-guard: unknown option {arg!r} (file names go after --)")
            say(USAGE)
            return EXIT_USAGE
        else:
            files.append(arg)
    return flags, files + args[split + 1 :]


def _pre_commit(files: list[str], preread: Staged | None) -> ScanResult:
    from sgai_guard.engine.prepare import prepare
    from sgai_guard.engine.run import run
    from sgai_guard.sources.local import IndexSource, StagedSource

    # no file names: the staged snapshot (nothing staged, when amending only the message,
    # is said, and clean)
    source: StagedSource | IndexSource = StagedSource(".", preread=preread)
    if files:
        in_commit = "GIT_INDEX_FILE" in os.environ
        source = IndexSource(".", files, in_commit=in_commit, preread=preread)
    return run(source, prepare("."))


def _pushed(
    pushed: list[tuple[str, str, str, str]], *, server: bool, remote: str | None = None
) -> ScanResult:
    """What a push sends (client) or adds (server: new refs' commits no existing ref has).
    ``remote``: the remote pushed to (git's first argument to a pre-push hook)."""
    from sgai_guard.engine.prepare import prepare
    from sgai_guard.engine.run import run
    from sgai_guard.sources.pushed import CLIENT_KNOWN, SERVER_KNOWN, PushSource

    known = SERVER_KNOWN if server else CLIENT_KNOWN
    # on a server, an inline marker is the pusher's own word: it allows nothing there
    source = PushSource(".", pushed, known, remote=None if server else remote)
    return run(source, prepare(".", inline_markers=not server))


def _stdin() -> str:
    """What git wrote on stdin (always a pipe). A terminal, /dev/null or nothing there is a
    person, or a hook manager that did not pass git's lines on (lefthook without use_stdin):
    saying "nothing to scan" would let every push through unscanned. The pre-commit
    framework (PRE_COMMIT set) tells a push hook its refs in variables, read before this
    (without them it is refused there), and hands /dev/null to a hook it runs by hand."""
    terminal = sys.stdin is None or sys.stdin.isatty()  # read, it would wait for a person
    if terminal or (_not_from_git(sys.stdin) and not os.environ.get("PRE_COMMIT")):
        from sgai_guard.errors import UsageError

        raise UsageError(
            "a push hook reads the refs pushed on its standard input, as git writes them, "
            "and it is a terminal, /dev/null or closed here: run it from git (a hook "
            "manager must pass git's standard input on)"
        )
    return sys.stdin.read() if sys.stdin is not None else ""


def _not_from_git(stream: object) -> bool:
    """True for a closed stdin or a character device (a terminal, /dev/null)."""
    import stat

    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        return stat.S_ISCHR(os.fstat(fd).st_mode)
    except (AttributeError, OSError, ValueError):  # None, or closed
        return True


def _push_updates() -> list[tuple[str, str, str, str]]:
    """(local ref, local sha, remote ref, remote sha) for every ref being pushed."""
    env = os.environ
    if env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH"):
        from sgai_guard.models import ZERO_OID

        local = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD")
        remote = env.get("PRE_COMMIT_FROM_REF") or ZERO_OID
        return [
            (
                env.get("PRE_COMMIT_LOCAL_BRANCH", local),
                local,
                env.get("PRE_COMMIT_REMOTE_BRANCH", "(remote)"),
                remote,
            )
        ]
    if env.get("PRE_COMMIT") == "1":
        # git ran the framework with nothing to push: it then runs no hook at all; so this
        # is `pre-commit run --hook-stage pre-push` by hand, which passed having scanned
        # nothing (found by a newcomer review)
        from sgai_guard.errors import UsageError

        raise UsageError(
            "the pre-commit framework ran the push hook without the refs of a push: nothing "
            "to scan. Let `git push` run it, or name the commits: `pre-commit run "
            "--hook-stage pre-push --from-ref <base> --to-ref <tip>`"
        )
    from sgai_guard.receive import PRE_PUSH, update_lines

    # the local ref is the push's source as the user typed it: it may hold spaces
    pushed = []
    for local, local_sha, remote, remote_sha in update_lines(_stdin(), PRE_PUSH):
        pushed.append((local, local_sha, remote, remote_sha))
    return pushed
