"""Opt-in live verification (``--verify``): asks each key's own provider if it still works."""

# The only part of sgai-guard that opens a network connection; imported only under --verify,
# and httpx only once a check starts.

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sgai_guard.models import Finding
from sgai_guard.verify.checks import credential
from sgai_guard.verify.endpoints import (
    ENVIRONMENT,
    OPTION_NAMES,
    Endpoints,
    checked_url,
    endpoints_from_environment,
    endpoints_from_options,
    parse_endpoint_option,
)
from sgai_guard.verify.options import VerifyOptions, proxy_from_environment
from sgai_guard.verify.outcome import VerifyOutcome, apply
from sgai_guard.verify.runner import run
from sgai_guard.verify.verdicts import INTERRUPTED, unknown

__all__ = [
    "ENVIRONMENT",
    "OPTION_NAMES",
    "Endpoints",
    "VerifyOptions",
    "VerifyOutcome",
    "apply",
    "checked_url",
    "endpoints_from_environment",
    "endpoints_from_options",
    "options_from",
    "parse_endpoint_option",
    "proxy_from_environment",
    "verify",
]


def verify(findings: Sequence[Finding], options: VerifyOptions) -> VerifyOutcome:
    """A verdict for each distinct secret in ``findings``, by fingerprint: each key is asked
    about once, however many findings hold it. Ctrl-C returns what was verified so far,
    the rest "interrupted"; the caller then exits 130 after reporting."""
    jobs: dict[tuple[str, str], list[str]] = {}
    for finding in findings:
        fingerprints = jobs.setdefault((finding.rule.provider.verifier, credential(finding)), [])
        if finding.fingerprint not in fingerprints:
            fingerprints.append(finding.fingerprint)
    ids = {str(n): job for n, job in enumerate(jobs)}
    done, interrupted = run(ids, options)
    verdicts = {
        fingerprint: done.get(n, unknown(INTERRUPTED))
        for n, job in ids.items()
        for fingerprint in jobs[job]
    }
    return VerifyOutcome(verdicts, interrupted)


def options_from(environ: Mapping[str, str], endpoint_options: Sequence[str] = ()) -> VerifyOptions:
    """The options for a run the user started: endpoints from the environment, overridden by
    ``--verify-endpoint NAME=URL`` values, and the user's own https proxy. UsageError (exit 2)
    on an endpoint or proxy that cannot be used. Nothing here comes from a repository."""
    endpoints = endpoints_from_options(endpoint_options, endpoints_from_environment(environ))
    return proxy_from_environment(environ, VerifyOptions(endpoints))
