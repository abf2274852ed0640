"""A change is judged by the configuration its base had: a pull request cannot allow its own
key by editing `.sgai-guard.toml`, `[tool.sgai-guard]` in pyproject.toml, or the baseline."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from sgai_guard.models import is_object_id
from sgai_guard.policy.configfile import configures
from sgai_guard.sources.repo import Repository

if TYPE_CHECKING:
    from sgai_guard.engine.source import Source

CONFIG_FILES = (".sgai-guard.toml", "pyproject.toml")


def judged_by(source: Source, config_path: Path | None) -> tuple[Path | None, str]:
    """The configuration a range is judged by: yours (--config); for a push to a branch other
    than the default one, the default branch's when the pushed head's differs from it (found
    by a review: a pusher chose the policy, with a branch from an old commit or one push
    that loosened it before the one adding a key); else the base's when the change edits the
    configuration or its baseline; else the work tree's."""
    from sgai_guard.sources.commits import RangeScan  # noqa: PLC0415

    if config_path is not None or not isinstance(source, RangeScan):
        return config_path, ""
    if source.policy is not None:
        tip, default = source.policy
        judged, notice = base_config(source.repo, tip, source.head, named=default)
    elif source.base is None:  # a new branch: its commits that no known branch has
        what = "this new tag" if source.label.startswith("new tag") else "this new branch"
        judged, notice = boundary_config(source.repo, source.head, source.exclude, what)
    else:
        judged, notice = base_config(source.repo, source.base, source.head)
    return judged or config_path, notice


def boundary_config(
    repo: Repository, head: str, exclude: tuple[str, ...], what: str = "this new branch"
) -> tuple[Path | None, str]:
    """``base_config`` for a new branch, which has no base: its base is where its first-parent
    line meets known history, so merges that bring in what a known branch changed are not its
    edits. A branch whose line meets none is judged with no configuration at all when other
    branches are known (an orphan branch pushed beside them), and by its own when nothing is
    (the history's first push). Found by an attacker review: a new branch's own configuration
    judged it, so a branch excluding the folder of the key it added passed."""
    walked = repo.lines("rev-list", "--first-parent", "--boundary", head, *exclude)
    if not walked:  # known history already holds it (a tag of the default branch's tip)
        return None, ""
    starts = [line[1:] for line in walked if line.startswith("-") and is_object_id(line[1:])]
    if starts:
        return base_config(repo, starts[0], head, what=what)
    if not exclude[1:] or not repo.lines("rev-list", "--max-count=1", *exclude[1:]):
        return None, ""  # nothing is known: its own configuration is all there is
    folder = Path(tempfile.mkdtemp(prefix="sgai-guard-base-config-"))
    atexit.register(shutil.rmtree, folder, True)
    (folder / CONFIG_FILES[0]).write_text("# a new branch that starts from no known commit\n")
    notice = (
        f"{what} starts from no known commit: it is judged with no configuration at "
        "all (no allow entry, exclusion or baseline)"
    )
    return folder / CONFIG_FILES[0], notice


def base_config(
    repo: Repository, base: str, head: str, *, what: str = "this change", named: str = ""
) -> tuple[Path | None, str]:
    """When the change edits the configuration or the baseline it names: the base's
    configuration, written to a folder of its own (None: the change leaves them alone), and
    what to tell the user. The configuration is the one a scan from the current folder finds
    (configfile.find), in that folder or any above it up to the root: a change that adds one in
    a subfolder, where a monorepo's job runs, is judged as much as one at the root (found by a
    review: only the root's files were watched)."""
    paths = config_paths(repo)
    baseline = _baseline_name(repo, head, paths)
    watched = [*paths, *((baseline,) if baseline else ())]
    changed = repo.lines("diff", "--name-only", base, head, "--", *watched)
    if baseline and _linked(repo, (base, head), baseline):
        changed = sorted({*changed, baseline})
    if not changed:
        return None, ""
    folder = Path(tempfile.mkdtemp(prefix="sgai-guard-base-config-"))
    atexit.register(shutil.rmtree, folder, True)  # read once by prepare(); gone at exit
    config = _write_base_files(repo, base, folder, paths)
    if named:  # ``base`` is the default branch's tip, ``named`` its name
        verb = "differs" if len(changed) == 1 else "differ"
        notice = (
            f"{', '.join(sorted(changed))} {verb} from the default branch's: this push is "
            f"judged by the configuration {named} has ({base[:12]}); the branch's own "
            "applies once it is merged there"
        )
        return config, notice
    notice = (
        f"{what} edits {', '.join(sorted(changed))}: it is judged by the configuration "
        f"its base ({base[:12]}) had; the new one applies to the changes after it"
    )
    return config, notice


def _linked(repo: Repository, revs: tuple[str, ...], path: str) -> bool:
    """Whether ``path`` goes through a symbolic link at any of ``revs``: the diff of the
    path never sees the file behind it change (found by a review: a change adding its key to
    the baseline behind `link -> data`, or adding the link, was judged by its own baseline,
    exit 0). Such a baseline counts as changed."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(
        line.startswith("120000 ")
        for rev in revs
        for line in repo.lines("ls-tree", rev, "--", *prefixes)
    )


def config_paths(repo: Repository) -> list[str]:
    """Where a scan from the current folder looks for its configuration, nearest first, as
    paths in the repository (see configfile.find); the root's alone from outside it."""
    here, top = Path.cwd().resolve(), Path(repo.path).resolve()
    parts = here.relative_to(top).parts if here.is_relative_to(top) else ()
    return [
        PurePosixPath(*parts[:depth], name).as_posix()
        for depth in range(len(parts), -1, -1)
        for name in CONFIG_FILES
    ]


def _config_at(repo: Repository, rev: str, paths: list[str]) -> tuple[str, bytes] | None:
    """The configuration file a scan would find at ``rev``, and its bytes."""
    for path in paths:
        text = _show(repo, rev, path)
        if text is not None and (not path.endswith("pyproject.toml") or configures(text)):
            return path, text
    return None


def _write_base_files(repo: Repository, base: str, folder: Path, paths: list[str]) -> Path:
    """The base's configuration file (an empty one when it had none) and its baseline."""
    found = _config_at(repo, base, paths)
    if found is None:
        (folder / CONFIG_FILES[0]).write_text("# the base had no configuration\n")
        return folder / CONFIG_FILES[0]
    path, text = found
    name = PurePosixPath(path).name
    (folder / name).write_bytes(text)
    baseline = _baseline_of(name, text)
    at = (PurePosixPath(path).parent / baseline).as_posix() if baseline else None
    content = _show(repo, base, at) if at else None
    if baseline and content is not None:
        (folder / baseline).parent.mkdir(parents=True, exist_ok=True)
        (folder / baseline).write_bytes(content)
    return folder / name


def _baseline_name(repo: Repository, rev: str, paths: list[str]) -> str | None:
    """Where in the repository the baseline the configuration at ``rev`` names is, or None."""
    found = _config_at(repo, rev, paths)
    baseline = _baseline_of(PurePosixPath(found[0]).name, found[1]) if found else None
    if found is None or baseline is None:
        return None
    return (PurePosixPath(found[0]).parent / baseline).as_posix()


def _baseline_of(name: str, text: bytes) -> str | None:
    """The baseline a configuration file names, relative to its folder: a plain relative
    path, or None."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib  # noqa: PLC0415

    try:
        data = tomllib.loads(text.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError:
        return None
    tool = data.get("tool", {}) if name == "pyproject.toml" else {"sgai-guard": data}
    table = tool.get("sgai-guard", {}) if isinstance(tool, dict) else None
    return _relative(table.get("baseline") if isinstance(table, dict) else None)


def _relative(value: object) -> str | None:
    """A plain relative path inside the repository, or None."""
    path = PurePosixPath(value) if isinstance(value, str) else None
    if path and not path.is_absolute() and ".." not in path.parts:
        return path.as_posix()
    return None


def _show(repo: Repository, rev: str, path: str) -> bytes | None:
    from sgai_guard.sources import gitcmd  # noqa: PLC0415

    proc = gitcmd.run(["cat-file", "blob", f"{rev}:{path}"], repo.path)
    return proc.stdout if proc.returncode == 0 else None
