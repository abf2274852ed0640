"""`sgai-guard allow`: add one fingerprint entry to the configuration, keeping the rest of the
file as it was (comments, order, formatting), with tomlkit."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from sgai_guard.errors import ConfigError
from sgai_guard.policy.config import discover, load
from sgai_guard.policy.configfile import FILE_NAME


def add_entry(
    path: Path | None,
    fingerprint: str,
    reason: str,
    expires: datetime.date | None,
    glob: str | None,
) -> Path:
    import tomlkit  # noqa: PLC0415

    target = path or discover(Path()).source or Path(FILE_NAME)
    document = (
        tomlkit.parse(target.read_text(encoding="utf-8"))
        if target.exists()
        else (tomlkit.document())
    )
    table = _table(document, target)
    entries = table.get("allow")
    if entries is None:
        entries = tomlkit.aot()
        table.append("allow", entries)
    entry = tomlkit.table()
    entry.update({"fingerprint": fingerprint, "reason": reason})
    if glob:
        entry["path"] = glob
    if expires:
        entry["expires"] = expires
    entries.append(entry)
    text = tomlkit.dumps(document)
    _check(target, text)
    if target.is_symlink():  # a checkout may hold one, pointing at a file of the user's
        raise ConfigError(f"{target} is a symlink: refusing to write through it")
    target.write_text(text, encoding="utf-8")
    return target


def _table(document: Any, target: Path) -> Any:
    import tomlkit  # noqa: PLC0415

    if target.name != "pyproject.toml":
        return document
    tool = document.setdefault("tool", tomlkit.table(is_super_table=True))
    return tool.setdefault("sgai-guard", tomlkit.table())


def _check(target: Path, text: str) -> None:
    """Validate the edited file before writing it, so a bad argument never corrupts it."""
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / target.name
        probe.write_text(text, encoding="utf-8")
        try:
            load(probe)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(str(probe), str(target))) from exc
