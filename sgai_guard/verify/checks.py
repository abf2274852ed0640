"""Each provider's check: which endpoint gets the key, in which header, and what follows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sgai_guard.models import Finding, Technique, Verdict, Verification
from sgai_guard.verify.client import Gate, Session, ask
from sgai_guard.verify.verdicts import (
    NOT_THE_PROVIDER,
    SGAI_INVALID,
    SGAI_V1,
    SGAI_V2,
    judge,
    names_code,
    unknown,
)
from sgai_guard.verify.verdicts import TAVILY as TAVILY_TABLE

Check = Callable[[Session, Gate, str], Awaitable[Verification]]


def credential(finding: Finding) -> str:
    """The key as the provider expects it. A value found without its prefix, assigned to
    one of the provider's names, gets the prefix back: the providers issue no other form."""
    prefix = finding.rule.provider.prefix
    if finding.rule.technique is Technique.ASSIGNED and not finding.secret.startswith(prefix):
        return prefix + finding.secret
    return finding.secret


async def check_tavily(session: Session, gate: Gate, key: str) -> Verification:
    url = session.options.endpoints.tavily
    got = await ask(session, gate, url, {"Authorization": f"Bearer {key}"})
    return got if isinstance(got, Verification) else judge(TAVILY_TABLE, got.status, got.body, url)


async def check_sgai(session: Session, gate: Gate, key: str) -> Verification:
    """v2 first; a v2 403 with its invalid-key code may be a legacy key, which only the v1
    surface can tell."""
    url = session.options.endpoints.sgai
    got = await ask(session, gate, url, {"SGAI-APIKEY": key})
    if isinstance(got, Verification):
        return got
    if got.status != 403:
        return judge(SGAI_V2, got.status, got.body, url)
    if not names_code(got.body, SGAI_INVALID):  # not ScrapeGraphAI's own refusal
        return unknown(NOT_THE_PROVIDER.format(status=403), url)
    v1 = session.options.endpoints.sgai_v1
    legacy = await ask(session, gate, v1, {"SGAI-APIKEY": key})
    if not isinstance(legacy, Verification):
        legacy = judge(SGAI_V1, legacy.status, legacy.body, v1)
    if legacy.verdict is Verdict.UNKNOWN:
        return legacy._replace(reason=f"v2 refused the key (HTTP 403); legacy v1: {legacy.reason}")
    return legacy


# By Provider.verifier: the providers' data names the check that knows them.
CHECKS: dict[str, Check] = {"tavily": check_tavily, "scrapegraphai": check_sgai}
