"""Which files under a scanned folder are ignored: git's answer inside a repository, the
.gitignore files themselves (through pathspec) outside one, nothing with --no-gitignore."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Protocol

from sgai_guard import fsread
from sgai_guard.sources import gitcmd

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


class Rules(Protocol):
    """Paths are as shown (relative to the scan's root); folders end without a slash."""

    def ignored(self, path: str, *, is_dir: bool) -> bool: ...
    def tracked_ignored(self, path: str) -> bool: ...
    def nested(self, folder: str, rel: str) -> Rules: ...
    def entering(self, folder: str, rel: str) -> Rules: ...


class NoRules:
    def ignored(self, path: str, *, is_dir: bool) -> bool:
        return False

    def tracked_ignored(self, path: str) -> bool:
        return False

    def nested(self, folder: str, rel: str) -> Rules:
        return self

    def entering(self, folder: str, rel: str) -> Rules:
        return self


class GitRules:
    """What one repository's git ignores, asked once for the whole scanned part of it."""

    def __init__(self, base: str, listed: list[str], tracked: list[str], top: str = "") -> None:
        self.base = base  # the repository's root, as a shown path prefix ("" or "sub/")
        self.top = top  # the repository's root folder
        # `ls-files --others --ignored --directory` also names the folders on the way to an
        # ignored file; a folder is ignored as a whole only when nothing inside it is listed.
        ordered = sorted(listed)  # a folder's contents sort right after it
        self.dirs = {
            d
            for d, after in zip(ordered, [*ordered[1:], ""][: len(ordered)], strict=True)
            if d.endswith("/") and not after.startswith(d)
        }
        self.files = {f for f in listed if not f.endswith("/")}
        self.tracked = set(tracked)

    @classmethod
    def load(cls, top: str, prefix: str, base: str) -> GitRules:
        def names(*args: str) -> list[str]:
            raw = gitcmd.output(
                [gitcmd.work_tree(top), "ls-files", "-z", "--exclude-standard", *args],
                top,
                extra_config=_global_excludes(),
            )
            return [os.fsdecode(p) for p in raw.split(b"\0") if p]

        spec = ["--", prefix] if prefix else []
        return cls(
            base,
            names("--others", "--ignored", "--directory", *spec),
            names("--cached", "--ignored", *spec),
            top,
        )

    def _key(self, path: str) -> str:
        return path[len(self.base) :]

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        key = self._key(path)
        return key + "/" in self.dirs if is_dir else key in self.files

    def tracked_ignored(self, path: str) -> bool:
        return self._key(path) in self.tracked

    def nested(self, folder: str, rel: str) -> Rules:
        """A repository inside this one (nested clone or submodule): its own rules, but never
        over a file this one tracks there (found by a review: a planted `sub/.git` whose
        exclude file said `*` hid a tracked key, exit 0, which git still lists)."""
        if not gitcmd.toplevel(folder):
            return self
        inner = GitRules.load(folder, "", rel)
        if not self.top:
            return inner
        raw = gitcmd.output(["ls-files", "-z", "--", self._key(rel)], self.top)
        kept = {self.base + os.fsdecode(name) for name in raw.split(b"\0") if name}
        return KeepTracked(inner, frozenset(kept)) if kept else inner

    def entering(self, folder: str, rel: str) -> Rules:
        return self


class KeepTracked:
    """A nested repository's rules over files the outer one tracks: those are never ignored
    (nor the folders on their way)."""

    def __init__(self, inner: Rules, kept: frozenset[str]) -> None:
        self.inner, self.kept = inner, kept
        self.folders = {path[: at + 1] for path in kept for at in _slashes(path)}

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        kept = path + "/" in self.folders if is_dir else path in self.kept
        return not kept and self.inner.ignored(path, is_dir=is_dir)

    def tracked_ignored(self, path: str) -> bool:
        if path in self.kept and self.inner.ignored(path, is_dir=False):
            return True
        return self.inner.tracked_ignored(path)

    def nested(self, folder: str, rel: str) -> Rules:
        return KeepTracked(self.inner.nested(folder, rel), self.kept)

    def entering(self, folder: str, rel: str) -> Rules:
        return KeepTracked(self.inner.entering(folder, rel), self.kept)


def _slashes(path: str) -> list[int]:
    return [at for at, char in enumerate(path) if char == "/"]


@cache
def _global_excludes() -> tuple[str, ...]:
    """The user's own core.excludesFile, which isolated git calls would otherwise not see."""
    proc = gitcmd.run(
        ["config", "--global", "--path", "--get", "core.excludesFile"], os.sep, isolate=False
    )
    value = proc.stdout.decode("utf-8", "surrogateescape").strip()
    return (f"core.excludesFile={value}",) if proc.returncode == 0 and value else ()


class SpecRules:
    """Outside git: the .gitignore files met on the way down, deepest deciding."""

    def __init__(self, specs: tuple[tuple[str, GitIgnoreSpec], ...]) -> None:
        self.specs = specs  # (folder as a shown prefix, its rules)

    @classmethod
    def empty(cls) -> SpecRules:
        return cls(())

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        for base, spec in reversed(self.specs):
            if path.startswith(base):
                result = spec.check_file(path[len(base) :] + ("/" if is_dir else ""))
                if result.include is not None:
                    return bool(result.include)
        return False

    def tracked_ignored(self, path: str) -> bool:
        return False

    def nested(self, folder: str, rel: str) -> Rules:
        return GitRules.load(folder, "", rel) if gitcmd.toplevel(folder) else self

    def entering(self, folder: str, rel: str) -> Rules:
        try:
            text = fsread.read_small(os.path.join(folder, ".gitignore")).decode("utf-8", "replace")
        except (OSError, fsread.NotRegularError):
            return self
        return SpecRules((*self.specs, (rel, _spec(text.splitlines()))))


def _spec(lines: list[str]) -> GitIgnoreSpec:
    """The lines' rules, less any line pathspec cannot compile (`!`, `a\\`, `[z-a]`, a POSIX
    class): git skips such a line, and one of them ended the whole scan, its findings unsaid
    (found by a review). What is skipped is ignored by nothing: scanned, the safe side."""
    import warnings  # noqa: PLC0415

    from pathspec import GitIgnoreSpec  # noqa: PLC0415 - slow to import; only outside git

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re's FutureWarning on "[[" in a hostile line
        try:
            return GitIgnoreSpec.from_lines(lines)
        except Exception:
            return GitIgnoreSpec.from_lines([line for line in lines if _compiles(line)])


def _compiles(line: str) -> bool:
    from pathspec import GitIgnoreSpec  # noqa: PLC0415

    try:
        GitIgnoreSpec.from_lines([line])
    except Exception:
        return False
    return True
