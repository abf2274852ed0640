"""What a run is configured with: the configuration governing the scanned path, the command
line's overrides, the verdict settings and the allowlist (policy/), loaded once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from sgai_guard.detection.containers import Limits
from sgai_guard.engine.scan import Policy, Settings
from sgai_guard.models import MARKERS_OFF, Status

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import StrPath

    from sgai_guard.policy.allowlist import Allowlist
    from sgai_guard.policy.baseline import Entries
    from sgai_guard.policy.config import Config


class Prepared(NamedTuple):
    """Configuration, verdict settings and allowlist for one run (None: no configuration)."""

    config: Config | None
    settings: Settings
    allowlist: Allowlist | None  # None: no configuration (its notices are empty)
    policy: Policy


def prepare(
    start: StrPath,
    *,
    config_path: Path | None = None,
    baseline_path: Path | None = None,
    fail_on_removed: bool = False,
    other_markers: bool = False,
    archives: Mapping[str, int] | None = None,
    use_baseline: bool = True,
    inline_markers: bool = True,
) -> Prepared:
    """Load the configuration governing ``start``; options given on the command line win
    (``archives``: Limits fields set on the command line).

    With no configuration file and no baseline, nothing of the configuration is imported:
    the commit hook runs this on every commit. ``inline_markers`` False: markers in the
    content do not suppress (a server's hook: the pusher wrote them)."""
    from sgai_guard.policy import configfile  # noqa: PLC0415

    source = config_path or configfile.find(start)
    if source is None and baseline_path is None and not other_markers:
        from sgai_guard.policy.inline import InlineOnly  # noqa: PLC0415

        limits = Limits()._replace(**(archives or {}))
        settings = Settings(blocking=removed_blocking(fail_on_removed), archives=limits)
        return Prepared(None, settings, None, InlineOnly(markers=inline_markers))
    from sgai_guard.policy.allowlist import Allowlist  # noqa: PLC0415
    from sgai_guard.policy.config import Config, load  # noqa: PLC0415

    config = load(source, named=config_path is not None) if source else Config()
    if other_markers:
        config = config._replace(other_markers=True)
    known = _baseline(config, baseline_path, use_configured=use_baseline)
    blocking = removed_blocking(fail_on_removed or config.fail_on_removed)
    limits = config.archives._replace(**(archives or {}))
    settings = Settings(salt=config.salt, blocking=blocking, archives=limits)
    said = []
    if limits.depth == 0 and "depth" not in (archives or {}) and config.source:
        # a narrowing nobody asked for on the command line: the scanned repository's, perhaps
        said.append(f"containers are not opened: archive-depth is 0 in {config.source}")
    markers = inline_markers and config.inline_markers
    if inline_markers and not config.inline_markers:
        said.append(f"{MARKERS_OFF} (inline-markers = false in the configuration)")
    allowlist = Allowlist(config, known, markers=markers, said=said)
    return Prepared(config, settings, allowlist, allowlist)


def _baseline(config: Config, given: Path | None, *, use_configured: bool) -> Entries | None:
    """The baseline given on the command line, else the one the configuration names when
    that file exists; its fingerprints, or None."""
    path = given
    if path is None and use_configured:
        default = configured_baseline(config)
        path = default if default is not None and default.exists() else None
    if path is None:
        return None
    from sgai_guard.policy import baseline  # noqa: PLC0415 - json only when there is one

    return baseline.load(path)


def configured_baseline(config: Config) -> Path | None:
    """The baseline file the configuration names (see ``_inside``), or None."""
    if not config.baseline or not config.source:
        return None
    return _inside(config.source, config.baseline)


def _inside(source: Path, name: str) -> Path:
    """The baseline a configuration names, in the configuration's own folder or below: a
    scanned repository's `baseline = "/etc/passwd"` (or `../..`) had every commit read any
    file on the machine (found by a review)."""
    from sgai_guard.errors import ConfigError  # noqa: PLC0415

    folder = source.parent
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ConfigError(
            f"{source}: baseline = {name!r} is outside the configuration's folder: refusing "
            "to read it"
        )
    return path


def removed_blocking(block: bool) -> frozenset[Status]:
    return frozenset({Status.NEW, Status.REMOVED}) if block else frozenset({Status.NEW})
