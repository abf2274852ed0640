"""One idempotent job per repository: open it or refresh its mirror, hash its ref tips, and
audit it unless a result for that state is already written. Runs in a pool process or on a
Dask worker; what it returns is picklable and goes back to the client, which writes it."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sgai_guard.errors import ConfigError, GuardError, UsageError, internal_error_message
from sgai_guard.fleet.targets import Target
from sgai_guard.models import Finding, ScanResult

if TYPE_CHECKING:
    from sgai_guard.engine.prepare import Prepared


class AuditOptions(NamedTuple):
    """The audit options every job of a run shares (paths absolute, as a worker sees them)."""

    include_reflog: bool = False
    include_unreachable: bool = False
    max_blob_size: int | None = None
    archives: tuple[tuple[str, int], ...] = ()
    config_path: str | None = None
    baseline_path: str | None = None
    other_markers: bool = False
    # The live check's settings (--verify's endpoints and --fail-on), "" without --verify.
    # Part of the digest: a verdict and what it made non-blocking were written with the
    # result, and a later run without them reused it, a leaked key passing with exit 0
    # (found by an attacker review). Without it, the secrets never leave the worker.
    verifying: str = ""
    digest: str = ""  # options, tool version and configuration contents (see fleet.plan)


class Job(NamedTuple):
    target: Target
    cache: str | None  # where mirrors live; None: the worker's own default
    options: AuditOptions
    done: frozenset[str] = frozenset()  # states already written for this target


class RepoResult(NamedTuple):
    """A job's answer. ``result`` holds secrets in memory only: files never do."""

    name: str
    target: str  # as shown: no credentials
    state: str = ""  # "" when it failed before the state was known
    result: ScanResult | None = None  # None: unchanged since the last run, or failed
    error: str = ""
    salt_id: str = ""
    seconds: float = 0.0

    @property
    def skipped(self) -> bool:
        return self.result is None and not self.error


def default_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()
    return str(Path(base, "sgai-guard", "mirrors"))


def salt_id(salt: str) -> str:
    """Names the fingerprint salt without giving it away: merge compares these."""
    return hashlib.sha256(b"sgai-guard salt\0" + salt.encode()).hexdigest()[:16]


def run_job(job: Job) -> RepoResult:
    """Never raises for a repository's own failure: the error is the result."""
    started = time.monotonic()
    base = RepoResult(job.target.name, job.target.shown)
    try:
        path = _open(job)
        base = base._replace(state=_state(path, job.options))
        if base.state in job.done:
            return base
        result, salt = _audit(path, job.options)
    except GuardError as exc:  # said as "<target>: failed: <error>": the target once
        error = str(exc).removeprefix(f"{job.target.shown}: ") or type(exc).__name__
        return base._replace(error=error)
    except Exception as exc:  # one broken repository never stops the others
        return base._replace(error=internal_error_message(exc))
    keep = bool(job.options.verifying)
    named = result._replace(
        findings=tuple(_sent(f, job.target.name, keep=keep) for f in result.findings),
        suppressed=tuple(
            s._replace(finding=_sent(s.finding, job.target.name, keep=False))
            for s in result.suppressed
        ),
    )
    return base._replace(result=named, salt_id=salt_id(salt), seconds=time.monotonic() - started)


def _sent(finding: Finding, repository: str, *, keep: bool) -> Finding:
    """A finding as it goes back to the client, with no key in it unless the live check
    needs it: on a Dask cluster, results pass through the scheduler, and anyone who can
    reach an open one reads them (found by an attacker review)."""
    if keep:
        return finding._replace(repository=repository)
    return finding._replace(repository=repository, secret="", line_text=b"", previous_line=b"")


def _open(job: Job) -> str:
    """The folder to audit: the local repository, or the refreshed mirror of a URL."""
    target = job.target
    if target.problem:
        raise UsageError(target.problem)
    if not target.remote:
        from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

        open_repository(target.text)
        return target.text
    from sgai_guard.sources import mirror  # noqa: PLC0415

    folder = str(Path(job.cache or default_cache(), target.name + ".git"))
    mirror.mirror(target.text, folder, target.shown, allow_file=True)
    return folder


def _state(path: str, options: AuditOptions) -> str:
    from sgai_guard.sources.mirror import ref_state  # noqa: PLC0415
    from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

    repo = open_repository(path).path
    refs = ref_state(repo)
    own = _own_settings(path) if not options.config_path else ""
    found = f"{refs}\0{options.digest}\0{own}\0{_beyond_refs(repo, options)}"
    return hashlib.sha256(found.encode()).hexdigest()[:24]


def _beyond_refs(repo: str, options: AuditOptions) -> str:
    """What ``--include-reflog`` and ``--include-unreachable`` read beyond the refs: every
    reflog entry's object, and every object in the store. Neither was part of the state,
    and a key committed then reset away was reused as "unchanged", exit 0 (a review)."""
    from sgai_guard.sources import gitcmd  # noqa: PLC0415

    digest = hashlib.sha256()
    if options.include_reflog:
        proc = gitcmd.run(["rev-list", "--no-walk", "--reflog"], repo)
        digest.update(b"%d\0%s" % (proc.returncode, proc.stdout))
    if options.include_unreachable:
        listing = ["cat-file", "--batch-all-objects", "--batch-check=%(objectname)", "--unordered"]
        proc = gitcmd.run(listing, repo)
        digest.update(b"%d\0%s" % (proc.returncode, b"".join(sorted(proc.stdout.splitlines()))))
    return digest.hexdigest()


def _own_settings(path: str) -> str:
    """The digest of the configuration a local repository's work tree gives its audit, and
    of the baseline it names: a result made under an `[[allow]]` entry since deleted was
    reused as "unchanged", exit 0 (found by a review)."""
    from sgai_guard.policy import configfile  # noqa: PLC0415

    found = configfile.find(path)
    return "" if found is None else settings_digest(found)


def settings_digest(found: str) -> str:
    """The digest of a configuration file and of the baseline it names."""
    from sgai_guard import fsread  # noqa: PLC0415
    from sgai_guard.engine.prepare import configured_baseline  # noqa: PLC0415
    from sgai_guard.policy.config import load  # noqa: PLC0415

    config = load(found)
    try:
        baseline = configured_baseline(config)
    except ConfigError:
        baseline = None  # outside the configuration's folder: the audit refuses it, and says
    digest = hashlib.sha256()
    for file in (found, baseline):
        try:
            digest.update(fsread.read_small(file) if file else b"")
        except (OSError, fsread.NotRegularError):
            digest.update(b"\0unreadable")  # the audit itself says why
    return digest.hexdigest()


def _audit(path: str, options: AuditOptions) -> tuple[ScanResult, str]:
    """As `sgai-guard audit PATH` runs it, without progress; also the salt it used."""
    from sgai_guard.engine.audit import AuditSource, own_word  # noqa: PLC0415
    from sgai_guard.engine.prepare import prepare  # noqa: PLC0415
    from sgai_guard.engine.run import run  # noqa: PLC0415

    prep = prepare(
        Path(path),
        config_path=Path(options.config_path) if options.config_path else None,
        baseline_path=Path(options.baseline_path) if options.baseline_path else None,
        other_markers=options.other_markers,
        archives=dict(options.archives),
    )
    prep, notice = _one_salt(prep, options)
    source = AuditSource(
        path,
        include_reflog=options.include_reflog,
        include_unreachable=options.include_unreachable,
        max_blob_size=options.max_blob_size,
        readers=1,  # the pool already keeps every core busy, one repository per process
    )
    result = run(source, prep, full_scan=True)
    if not options.config_path:
        notice += own_word(result, prep.config.source if prep.config else None)
    return result._replace(notices=result.notices + notice), prep.settings.salt


def _one_salt(prep: Prepared, options: AuditOptions) -> tuple[Prepared, tuple[str, ...]]:
    """A fleet fingerprints every repository with one salt, --config's or the default: a
    local repository's own `salt` made the merge refuse the whole run's report (found by
    an attacker review). Its fingerprint allow entries may then match nothing: its keys
    block, and this says why."""
    from sgai_guard.detection.fingerprint import DEFAULT_SALT  # noqa: PLC0415

    own = prep.config.salt if prep.config and not options.config_path else DEFAULT_SALT
    if own == DEFAULT_SALT:
        return prep, ()
    where = prep.config.source if prep.config else None
    notice = (
        f"the salt set in {where} is not used: a fleet run fingerprints every repository "
        "with one salt (the --config file's, else the default), so this repository's "
        "fingerprint allow entries and baseline may not apply"
    )
    return prep._replace(settings=prep.settings._replace(salt=DEFAULT_SALT)), (notice,)
