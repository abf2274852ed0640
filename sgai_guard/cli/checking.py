"""`--verify` on scan, audit and ci: ask each key's provider whether it still works, then
order findings live first and, with --fail-on, block only on the verdicts asked for."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import NamedTuple

import click

from sgai_guard.errors import say
from sgai_guard.models import Finding, ScanResult, Verdict

_RANK = {Verdict.LIVE: 0, Verdict.UNKNOWN: 1, Verdict.DEAD: 2}


class Check(NamedTuple):
    enabled: bool = False
    endpoints: tuple[str, ...] = ()  # NAME=URL, the person running the tool's own choice
    fail_on: frozenset[Verdict] | None = None  # None: every blocking finding blocks


NO_CHECK = Check()


def _verdicts(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> frozenset[Verdict] | None:
    if value is None:
        return None
    names = {part.strip() for part in value.split(",") if part.strip()}
    try:
        verdicts = frozenset(Verdict(name) for name in names)
    except ValueError:
        raise click.BadParameter("verdicts are live, unknown and dead, comma-separated") from None
    if not {Verdict.LIVE, Verdict.UNKNOWN} <= verdicts:
        raise click.BadParameter(
            "must include live and unknown: only a key its provider says is dead may pass "
            "(a check that could not be made, offline say, is no verdict)"
        )
    return verdicts


_OPTIONS = (
    click.option(
        "--verify",
        is_flag=True,
        help="Ask each key's own provider, on a read-only endpoint that costs nothing, whether "
        "it still works: live, dead or unknown. Sends each distinct key once, in a header, over "
        "https. Off by default.",
    ),
    click.option(
        "--verify-endpoint",
        "verify_endpoints",
        multiple=True,
        metavar="NAME=URL",
        help="Send the checks for NAME (tavily, sgai, sgai-v1) to URL instead (a test stand-in; "
        "https, or http on loopback only).",
    ),
    click.option(
        "--fail-on",
        "fail_on",
        metavar="VERDICTS",
        callback=_verdicts,
        help="With --verify, only keys with these verdicts block, e.g. live,unknown "
        "(configuration: fail-on). Default: every new key blocks, whatever its verdict.",
    ),
)


def verify_options(func: Callable[..., None]) -> Callable[..., None]:
    """The live-check options, handed to the command as one ``check: Check``."""

    @functools.wraps(func)
    def command(
        *args: object,
        verify: bool,
        verify_endpoints: tuple[str, ...],
        fail_on: frozenset[Verdict] | None,
        **kwargs: object,
    ) -> None:
        if (fail_on or verify_endpoints) and not verify:
            raise click.UsageError("--fail-on and --verify-endpoint go with --verify")
        if verify:  # a bad endpoint is said before the scan, not after
            from sgai_guard.verify import options_from  # noqa: PLC0415

            options_from(os.environ, verify_endpoints)
        func(*args, check=Check(verify, verify_endpoints, fail_on), **kwargs)

    wrapped: Callable[..., None] = command
    for option in reversed(_OPTIONS):
        wrapped = option(wrapped)
    return wrapped


def configured(check: Check, fail_on: tuple[str, ...] | None) -> Check:
    """The configuration's ``fail-on``, unless the command line gave one."""
    if check.fail_on is not None or not fail_on:
        return check
    return check._replace(fail_on=frozenset(Verdict(v) for v in fail_on))


def checked(result: ScanResult, check: Check) -> tuple[ScanResult, bool]:
    """The result with each finding's verdict, live keys first; True when Ctrl-C cut the
    checks short (the caller reports what was verified, then exits 130)."""
    if not check.enabled or not result.findings:
        return result, False
    from sgai_guard import verify  # noqa: PLC0415 (the only network code; only when asked)

    options = verify.options_from(os.environ, check.endpoints)
    outcome = verify.verify(result.findings, options)
    findings = verify.apply(result.findings, outcome.verdicts)
    say(f"sgai-guard: {outcome.summary()}")
    problem = outcome.failure_message()
    if problem:
        say(f"sgai-guard: {problem}")
    if check.fail_on is not None:
        findings = tuple(_fail_on(f, check.fail_on) for f in findings)
    ordered = sorted(findings, key=lambda f: _RANK[f.verification.verdict] if f.verification else 1)
    return result._replace(findings=tuple(ordered)), outcome.interrupted


def _fail_on(finding: Finding, verdicts: frozenset[Verdict]) -> Finding:
    verdict = finding.verification.verdict if finding.verification else Verdict.UNKNOWN
    return finding._replace(blocking=finding.blocking and verdict in verdicts)
