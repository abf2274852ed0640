"""The trust boundary of every git process, in one place: what is dropped from the
environment, which configuration keys that can name a program are overridden, which transports
a fetch may use, and which metadata files are refused before git opens them.

Three mechanisms, each closing a whole class:

1. The environment is an allowlist. Every ``GIT_*`` variable of the caller is dropped (they can
   name programs, other repositories, other config files or a different exec path) except the
   few a git hook is handed by git itself for this very repository (``inherit``).
2. ``PROGRAM_KEYS``: every configuration key that can name a program is either overridden on
   the command line (the command scope is read last and is "protected", so it beats the
   repository's own value) or, for keys under a subsection (``diff.<driver>.textconv``), never
   consulted by any command we run: plumbing with ``--raw`` and ``-z``, ``cat-file`` without
   ``--textconv``/``--filters``, no porcelain that diffs content, merges, signs or edits.
   tests/test_program_keys.py enumerates the installed git's own list of keys and plants each.
3. Transports: ``GIT_ALLOW_PROTOCOL`` overrides every ``protocol.*.allow`` in any config. It is
   empty (nothing may be fetched, so a partial clone never fetches a missing object) except for
   sources.fetch: https, ssh and git, plus file only for a URL the user gave.
"""

from __future__ import annotations

import os

# The commit hook imports this on every commit: no typing, no enum (errors) unless needed.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from _typeshed import StrPath

# key: how it is neutralised. A value is the -c override; None: no command we run reads it.
PROGRAM_KEYS: dict[str, str | None] = {
    "core.fsmonitor": "false",
    "core.hooksPath": os.devnull,
    "core.sshCommand": "false",
    "core.askPass": "",
    "core.editor": "false",
    "core.pager": "cat",
    "core.gitProxy": None,  # multi-valued: GIT_PROXY_COMMAND="" below overrides it
    "core.alternateRefsCommand": "",
    "sequence.editor": "false",
    "diff.external": "",
    "diff.tool": "",
    "diff.guitool": "",
    "merge.tool": "",
    "merge.guitool": "",
    "credential.helper": "",  # an empty value resets the list of helpers
    "gpg.program": "false",
    "gpg.openpgp.program": "false",
    "gpg.x509.program": "false",
    "gpg.ssh.program": "false",
    "gpg.ssh.defaultKeyCommand": "",
    "log.showSignature": "false",
    "uploadpack.packObjectsHook": "",
    "help.browser": "",
    "web.browser": "",
    "instaweb.browser": "",
    "sendemail.smtpServer": "",
    "sendemail.toCmd": "",
    "sendemail.ccCmd": "",
    "sendemail.sendmailCmd": "",
    "interactive.diffFilter": "",
    "http.proxy": "",
    "maintenance.auto": "false",
    "gc.auto": "0",
    "fetch.recurseSubmodules": "false",
    "submodule.recurse": "false",
    "protocol.allow": "never",
    # Subsections: read only by porcelain we never run (diffs of content, merges, tools,
    # remotes by name, aliases). The planted-program test proves each stays silent.
    "diff.<driver>.textconv": None,
    "diff.<driver>.command": None,
    "filter.<driver>.clean": None,
    "filter.<driver>.smudge": None,
    "filter.<driver>.process": None,
    "merge.<driver>.driver": None,
    "difftool.<tool>.cmd": None,
    "difftool.<tool>.path": None,
    "mergetool.<tool>.cmd": None,
    "mergetool.<tool>.path": None,
    "guitool.<name>.cmd": None,
    "browser.<tool>.cmd": None,
    "browser.<tool>.path": None,
    "man.<tool>.cmd": None,
    "man.<tool>.path": None,
    "trailer.<token>.command": None,
    "trailer.<token>.cmd": None,
    "credential.<url>.helper": None,  # credential.helper="" resets these too
    "remote.<name>.uploadpack": None,  # fetches go to an explicit URL, never a named remote
    "remote.<name>.receivepack": None,
    "remote.<name>.vcs": None,
    "remote.<name>.proxy": None,
    "url.<base>.insteadOf": None,  # whatever it rewrites to, GIT_ALLOW_PROTOCOL decides
    "url.<base>.pushInsteadOf": None,
    "protocol.<name>.allow": None,  # GIT_ALLOW_PROTOCOL overrides it
    "gpg.<format>.program": None,  # the three formats git knows are overridden above
    "pager.<cmd>": None,  # --no-pager
    "alias.<name>": None,  # aliases never shadow the built-in commands we call
    "submodule.<name>.update": None,  # nothing we run updates submodules
}

# Variables git sets for a hook it runs: they name this repository, never a program.
HOOK_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")
_SET = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_NO_LAZY_FETCH": "1",
    # every pathspec we pass is a name (a file the hook is handed, a folder to scan, a
    # configuration file): never `:(glob)`, `:/`, `*` or `[a]` magic
    "GIT_LITERAL_PATHSPECS": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_ALLOW_PROTOCOL": "",
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_PROXY_COMMAND": "",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    # info/grafts rewrites parents, so a planted one would hide the commits adding a key
    "GIT_GRAFT_FILE": os.devnull,
    "LC_ALL": "C",
}
_DROP_ALSO = ("SSH_ASKPASS", "PAGER", "EDITOR", "VISUAL")
# Where the user's own configuration lives: kept only for reading that configuration.
_USER_CONFIG = ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM")
_inherited: set[str] = set()
_safe_dirs: list[str] = []  # the user's own safe.directory entries, once git refused a repo

SAFE_CONFIG: tuple[str, ...] = (
    *(f"{key}={value}" for key, value in PROGRAM_KEYS.items() if value is not None),
    "core.quotePath=false",
    # git trusts a commit-graph's parents and trees over the commits themselves: a planted
    # one would make the commits adding a key look unreachable
    "core.commitGraph=false",
    # git 2.39 lists packed objects from each pack's own index but looks them up through a
    # multi-pack-index first: a planted index that leaves a key's blob out, beside one that
    # still maps it, hid the key from the audit's listing while git read it (found by a
    # review: exit 0). Without it, git finds what it lists and lists what it finds.
    "core.multiPackIndex=false",
    # git 2.41 and later (which write a `.rev` beside every pack) then make each pack's
    # order in memory from its index, whatever a planted `.rev` says; older git ignores
    # the setting and reads them, and the audit checks each first (packindex.revs_agree)
    "pack.readReverseIndex=false",
    # the triage's `git log -m --raw` as git's defaults make it, whatever the repository
    # says: with log.showRoot=false a key pushed in a root commit looked local and
    # unreachable (found by an attacker review); log.diffMerges picks what -m shows
    "log.showRoot=true",
    "log.diffMerges=separate",
    # ...in UTF-8 (UTF-16 re-encoded its headers and the triage crashed: an attacker
    # review), and without colour codes
    "i18n.logOutputEncoding=UTF-8",
    "color.ui=false",
)


def inherit(names: Sequence[str]) -> None:
    """Keep these caller variables from now on: only for a hook, whose environment git set."""
    _inherited.update(names)


def git_env(*, isolate: bool = True, keep: Sequence[str] = ()) -> dict[str, str]:
    """An environment in which git reads only the repository's own data."""
    kept = _inherited.union(keep, () if isolate else _USER_CONFIG)
    env = {
        k: v
        for k, v in os.environ.items()
        if (not k.startswith("GIT_") and k not in _DROP_ALSO) or k in kept
    }
    env.update({k: v for k, v in _SET.items() if isolate or k not in _USER_CONFIG})
    if "PATH" in env:
        env["PATH"] = absolute_path(env["PATH"])
    return env


def absolute_path(path: str) -> str:
    """PATH with its relative and empty entries dropped: git runs in the scanned repository
    and runs ssh (and other programs) by name, so `.` in PATH ran an `ssh` the checkout
    holds (found by an attacker review); git itself is found the same way (gitargs)."""
    return os.pathsep.join(f for f in path.split(os.pathsep) if os.path.isabs(f))


def remember_safe_directories(entries: Sequence[str]) -> None:
    """The user's own safe.directory entries, passed on with -c from now on."""
    _safe_dirs[:] = entries


def safe_directories() -> tuple[str, ...]:
    return tuple(f"safe.directory={d}" for d in _safe_dirs)


# Files git opens at start-up or while listing; a FIFO or device there would block it forever.
_METADATA = (
    "config",
    "config.worktree",
    "HEAD",
    "index",
    "packed-refs",
    "shallow",
    "commondir",
    "MERGE_HEAD",
    "info/exclude",
    "info/attributes",
    "objects/info/alternates",
)


def check_metadata(folder: StrPath) -> None:
    """Refuse a repository whose git metadata files are FIFOs, sockets or devices (checked
    through symlinks), before any git process can block on one. A few lstat calls: cheap
    enough for the commit hook. What this cannot see (an include.path naming a FIFO) is left
    to the timeout."""
    import stat  # noqa: PLC0415 - os has already imported it

    dot_git = os.path.join(folder, ".git")
    # a work tree's own files named like git's (a folder called "config") are not metadata
    for base in (dot_git,) if os.path.lexists(dot_git) else (os.fspath(folder),):
        for name in _METADATA:
            path = os.path.join(base, name)
            try:
                mode = os.stat(path).st_mode
            except OSError:
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                _refuse(path)
        check_objects(os.path.join(base, "objects"), loose=False)


def check_objects(objects: StrPath, *, loose: bool) -> None:
    """Refuse an object store whose pack files (and, with ``loose``, loose objects) are
    FIFOs, sockets or devices: git opens each index, reverse index and multi-pack-index as it
    starts reading objects, and a loose object as it reads it, and would block forever.
    git 2.47 and later also open every layer of an incremental multi-pack-index."""
    packs = [os.path.join(objects, "pack"), os.path.join(objects, "pack", "multi-pack-index.d")]
    fans = [os.path.join(objects, f"{n:02x}") for n in range(256)] if loose else []
    for folder in packs + fans:
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_file() or entry.is_dir() or not os.path.exists(entry.path):
                        continue  # (through symlinks; a dangling one git cannot open either)
                    _refuse(entry.path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            if folder in fans:
                _refuse_folder(folder, exc)


def _refuse_folder(folder: str, exc: OSError) -> None:
    """A loose objects' folder git cannot open (a planted file named `00`, a link loop): git
    stops listing loose objects there, says nothing in its exit status, and the objects in
    every folder after it go unread (found by a review: a key hidden, exit 0)."""
    from sgai_guard.errors import GitError  # noqa: PLC0415

    raise GitError(
        f"{folder} cannot be opened as a folder ({exc.strerror or type(exc).__name__}): git "
        "would stop listing loose objects there and leave the rest unread; refusing to "
        "audit. Move it aside and audit again"
    )


def check_refs(refs: StrPath) -> None:
    """Refuse loose refs that are FIFOs, sockets or devices: git opens every one of them to
    list the refs, and would block until its timeout. One walk of the folder (20,000 refs
    take a few tens of milliseconds)."""
    for folder, _, files in os.walk(refs):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.isfile(path) and os.path.exists(path):
                _refuse(path)


def _refuse(path: str) -> None:
    from sgai_guard.errors import GitError  # noqa: PLC0415

    raise GitError(f"{path} is not a regular file: refusing to let git open it")
