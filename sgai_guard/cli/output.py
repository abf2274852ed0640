"""Where reports go: the main format on stdout or --output, more files from the same scan
(--report, --sarif), colour, and the exit code of the result."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from sgai_guard.cli.checking import NO_CHECK, Check, checked
from sgai_guard.cli.delivery import Pieces, deliver, write_file
from sgai_guard.engine.outcome import exit_code, incompleteness
from sgai_guard.errors import ExitCode, say
from sgai_guard.models import ScanResult
from sgai_guard.report import Format, RenderOptions, streamer
from sgai_guard.report.text import closing_line
from sgai_guard.summaryline import fenced_pieces


@dataclasses.dataclass(frozen=True, slots=True)
class Output:
    """Where the report goes: the main format (stdout or --output) and any more files."""

    fmt: Format
    path: Path | None
    show_secrets: bool
    show_suppressed: bool
    color: str
    more: tuple[tuple[Format, Path], ...] = ()  # --report FORMAT=FILE, --sarif FILE
    secrets_in_html: bool = False  # an HTML file is shared: clear keys only when asked for it


class ReportFile(click.ParamType):  # type: ignore[type-arg]
    """``FORMAT=FILE``: one more report written from the same scan."""

    name = "format=file"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[Format, Path]:
        if isinstance(value, tuple):
            return value
        fmt, sep, path = str(value).partition("=")
        choices = ", ".join(f.value for f in Format)
        if not sep or not path or fmt not in {f.value for f in Format}:
            self.fail(f"{value!r} is not FORMAT=FILE, with FORMAT one of {choices}", param, ctx)
        return Format(fmt), Path(path)


_OUTPUT_OPTIONS = (
    click.option(
        "--format",
        "fmt",
        type=click.Choice([f.value for f in Format]),
        default=Format.TEXT.value,
        show_default=True,
        help="Report format.",
    ),
    click.option(
        "--output",
        "-o",
        "output_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the report to FILE (exit code unchanged).",
    ),
    click.option(
        "--report",
        "reports",
        type=ReportFile(),
        multiple=True,
        metavar="FORMAT=FILE",
        help="Also write FORMAT to FILE from the same scan (repeatable), e.g. sarif=out.sarif. "
        "These files never hold clear secrets.",
    ),
    click.option(
        "--sarif",
        "sarif_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Also write SARIF to FILE (same as --report sarif=FILE).",
    ),
    click.option(
        "--show-secrets",
        is_flag=True,
        help="Print secrets in clear text. Never use in shared CI logs.",
    ),
    click.option(
        "--show-secrets-in-html",
        is_flag=True,
        help="With --show-secrets and --format html: put clear keys in the HTML file too "
        "(an HTML report is mailed and attached; it stays redacted without this).",
    ),
    click.option(
        "--show-suppressed",
        is_flag=True,
        help="List suppressed candidates and why each was suppressed.",
    ),
    click.option(
        "--color",
        type=click.Choice(["auto", "always", "never"]),
        default="auto",
        show_default=True,
        help="Colour in text output (auto: on a terminal, unless NO_COLOR is set or TERM=dumb).",
    ),
)


def output_options(func: Callable[..., None]) -> Callable[..., None]:
    """The report options, handed to the command as one typed ``out: Output``."""

    @functools.wraps(func)
    def command(
        *args: object,
        fmt: str,
        output_path: Path | None,
        reports: tuple[tuple[Format, Path], ...],
        sarif_path: Path | None,
        show_secrets: bool,
        show_secrets_in_html: bool,
        show_suppressed: bool,
        color: str,
        **kwargs: object,
    ) -> None:
        if show_secrets_in_html and not show_secrets:
            raise click.UsageError("--show-secrets-in-html goes with --show-secrets")
        more = reports + (((Format.SARIF, sarif_path),) if sarif_path else ())
        named = [path for _, path in more] + ([output_path] if output_path else [])
        if len({path.absolute() for path in named}) < len(named):
            raise click.UsageError("the same file is named for two reports")
        out = Output(
            Format(fmt), output_path, show_secrets, show_suppressed, color, more,
            show_secrets_in_html,
        )  # fmt: skip
        func(*args, out=out, **kwargs)

    wrapped: Callable[..., None] = command
    for option in reversed(_OUTPUT_OPTIONS):
        wrapped = option(wrapped)
    return wrapped


def _use_color(out: Output) -> bool:
    if out.fmt is not Format.TEXT or out.path is not None or out.color == "never":
        return False
    if out.color == "always":
        return True
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":  # no-color.org: non-empty
        return False
    return sys.stdout is not None and sys.stdout.isatty()


def finish(
    result: ScanResult, out: Output, *, hints: tuple[str, ...] = (), check: Check = NO_CHECK
) -> int:
    """Live-check what was found when asked, render and write every report asked for, then
    return the exit code for the result. A report that cannot be written is said and makes
    the exit 2 (the others are still written); Ctrl-C during the checks, 130 after the report."""
    result, interrupted = checked(result, check)
    result = result._replace(incomplete=incompleteness(result))
    options = RenderOptions(
        out.show_secrets,
        out.show_suppressed,
        _use_color(out),
        hints,
        automation=_automation(),
        show_secrets_in_html=out.secrets_in_html,
    )
    plain = options._replace(color=False, show_secrets=False)
    writes = [_write_more(result, fmt, path, plain) for fmt, path in out.more]  # each one
    written = all(writes)
    report: Pieces = functools.partial(_render, result, out.fmt, options)
    shown = report
    if out.fmt is Format.TEXT:  # the one format in which a name can start a line in a CI log
        shown = lambda: fenced_pieces(report())  # noqa: E731 - made afresh for each stream
    if not deliver(report, out.path, shown=shown, color=options.color):
        return int(ExitCode.USAGE)
    if out.path is not None:
        say(closing_line(result, plain))
    if interrupted:
        return int(ExitCode.INTERRUPTED)
    return int(exit_code(result)) if written else int(ExitCode.USAGE)


def _automation() -> str:
    """SARIF's run category: the command and the CI event, so a pull request's run, a push's
    and a scheduled audit keep their own alerts (``sgai-guard/ci/pull_request/``)."""
    ctx = click.get_current_context(silent=True)
    command = ctx.info_name if ctx is not None and ctx.info_name else "scan"
    event = os.environ.get("GITHUB_EVENT_NAME") or os.environ.get("CI_PIPELINE_SOURCE")
    parts = ("sgai-guard", command, *((event,) if event else ()))
    return "/".join(part.replace("/", "-") for part in parts) + "/"


def _render(result: ScanResult, fmt: Format, options: RenderOptions) -> Iterator[str]:
    """The report in pieces (see report.streamer): a report of many findings is never held
    whole in memory."""
    if fmt is Format.GITLAB:
        options = options._replace(commit=_report_commit(result))
    return streamer(fmt)(result, options)


def _write_more(result: ScanResult, fmt: Format, path: Path, options: RenderOptions) -> bool:
    """One more report file: never with clear secrets (they are for the terminal only)."""
    try:
        pieces = _render(result, fmt, options)
    except click.UsageError as exc:  # the GitLab report without a commit to name
        say(f"sgai-guard: error: cannot write the {fmt.value} report to {path}: {exc.message}")
        return False
    problem = write_file(path, pieces)
    if problem is not None:
        say(f"sgai-guard: error: cannot write the {fmt.value} report to {path}: {problem}")
    return problem is None


def _report_commit(result: ScanResult) -> str | None:
    """The commit GitLab's report names for findings that come from files, not commits: the
    pipeline's own (CI_COMMIT_SHA), else HEAD here. Never made up: without one, an error."""
    if all(f.commit for f in (*result.findings, *(s.finding for s in result.suppressed))):
        return None
    if os.environ.get("CI_COMMIT_SHA"):
        return os.environ["CI_COMMIT_SHA"]
    from sgai_guard.errors import GitError  # noqa: PLC0415
    from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

    try:
        head = open_repository(Path()).head()
    except GitError:
        head = None
    if head is None:
        raise click.UsageError(
            "the GitLab report names the commit of each finding: run inside a git repository "
            "with a commit, or set CI_COMMIT_SHA"
        )
    return head
