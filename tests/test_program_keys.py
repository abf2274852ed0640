"""Every git setting and variable that can name a program, against every scan mode.

The lists come from the installed git's own documentation (`git help --config`, `git help git`,
`git help config`), so a git that documents a new program key fails here until
sgai_guard.sources.hardening.PROGRAM_KEYS says how it is neutralised.
"""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import pytest

from sgai_guard.sources import hardening
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo, git_env
from tests.hostile import add_signed_commit, origin_with_feature, shallow_clone
from tests.traps import Traps

# Names the classifier below matches that do not name a program, each with why.
NOT_PROGRAMS = {
    "color.pager": "a boolean",
    "column.clean": "a column layout",
    "core.quotepath": "a boolean",
    "credential.usehttppath": "a boolean",
    "diff.<>.cachetextconv": "a boolean",
    "fsck.gitmodulespath": "an fsck message severity",
    "fsck.gitmodulesupdate": "an fsck message severity",
    "receive.fsck.gitmodulespath": "an fsck message severity",
    "receive.fsck.gitmodulesupdate": "an fsck message severity",
    "gitcvs.dbdriver": "a database driver name for git-cvsserver",
    "help.htmlpath": "where the HTML documentation lives",
    "http.sslcapath": "a folder of certificates",
    "sendemail.smtpsslcertpath": "a folder of certificates",
    "include.path": "a config file: every key it brings is handled like the repository's own",
    "includeif.<>.path": "as include.path",
    "instaweb.modulepath": "Apache modules, for git instaweb only",
    "rebase.reschedulefailedexec": "a boolean",
    "receive.shallowupdate": "a boolean",
    "remote.<>.partialclonefilter": "a filter spec",
    "remote.<>.skipdefaultupdate": "a boolean",
    "rerere.autoupdate": "a boolean",
    "uploadpack.allowfilter": "a boolean",
}
_PROGRAM_LIKE = re.compile(
    r"(cmd|command|program|proxy|textconv|clean|smudge|process|driver|helper|askpass|editor"
    r"|pager|hookspath|hook|fsmonitor|uploadpack|receivepack|insteadof|vcs|browser|tool"
    r"|difffilter|path|smtpserver|update|showsignature)$",
    re.IGNORECASE,
)


def _normal(key: str) -> str:
    return re.sub(r"<[^>]*>", "<>", key).lower()


def _documented_keys() -> list[str]:
    out = subprocess.run(["git", "help", "--config"], capture_output=True, text=True, check=True)
    return [k for k in out.stdout.split() if "." in k and not k.startswith("advice.")]


def test_every_documented_program_key_is_neutralised() -> None:
    known = {_normal(k) for k in hardening.PROGRAM_KEYS}
    documented = [k for k in _documented_keys() if _PROGRAM_LIKE.search(k)]
    assert len(documented) > 40, documented  # the documentation was read
    missing = [k for k in documented if _normal(k) not in known | set(NOT_PROGRAMS)]
    assert missing == [], f"add these to hardening.PROGRAM_KEYS: {missing}"


def _documented_variables() -> set[str]:
    names: set[str] = set()
    for page in ("git", "config"):
        text = subprocess.run(
            ["git", "help", page], capture_output=True, text=True, check=True, env=git_env()
        ).stdout
        names |= {n.rstrip("_") for n in re.findall(r"GIT_[A-Z0-9_]+", text)}
    return names


def test_no_documented_git_variable_reaches_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's environment is an allowlist: each documented variable, set to a value that
    would name a program, is gone or replaced by sgai-guard's own safe value."""
    variables = _documented_variables() | {"GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"}
    assert {"GIT_EXEC_PATH", "GIT_SSH_COMMAND", "GIT_PROXY_COMMAND", "GIT_EXTERNAL_DIFF"} <= (
        variables
    )
    for name in variables:
        monkeypatch.setenv(name, "/tmp/trap")
    env = hardening.git_env()
    leaked = {n for n in variables if n in env and env[n] == "/tmp/trap"}
    assert leaked == set()
    assert env["GIT_ALLOW_PROTOCOL"] == "" and env["GIT_PROXY_COMMAND"] == ""


def _plant_config(repo: Repo, traps: Traps, hooks: Path) -> dict[str, str]:
    """A value that would run a trap for every key of PROGRAM_KEYS (concrete names for the
    <placeholders>), plus the settings that make git consult them."""
    special = {
        "core.hooksPath": str(hooks),
        "protocol.allow": "always",
        "protocol.<name>.allow": "always",
        "log.showSignature": "true",
        "gc.auto": "1",
        "maintenance.auto": "true",
        "fetch.recurseSubmodules": "true",
        "submodule.recurse": "true",
        "http.proxy": "http://127.0.0.1:9",
        "remote.<name>.proxy": "http://127.0.0.1:9",
        "diff.tool": "evil",
        "diff.guitool": "evil",
        "merge.tool": "evil",
        "merge.guitool": "evil",
        "remote.<name>.vcs": "evil",
        "submodule.<name>.update": f"!{traps.make('submodule-update')}",
        "alias.<name>": f"!{traps.make('alias')}",
    }
    names = {"<driver>": "evil", "<tool>": "evil", "<name>": "origin", "<token>": "evil"}
    names |= {"<url>": "https://example.invalid", "<format>": "openpgp", "<cmd>": "log"}
    planted: dict[str, str] = {}
    for key in hardening.PROGRAM_KEYS:
        concrete = re.sub(r"<[^>]*>", lambda m: names.get(m.group(), "x"), key)
        if key.startswith("url."):
            concrete = f"url.ext::{traps.make('insteadof')}.{key.rsplit('.', 1)[1]}"
            value = repo.path.parent.joinpath("origin").as_uri()
        elif key.startswith("protocol."):
            concrete = key.replace("<name>", "ext")
            value = special[key]
        else:
            value = special.get(key) or traps.make(re.sub(r"\W", "-", concrete))
        repo.git("config", "--add", concrete, value)
        planted[concrete] = value
    for name in ("cat-file", "rev-list", "ls-files", "diff-tree", "diff-index", "fetch"):
        repo.git("config", f"pager.{name}", traps.make(f"pager-{name}"))
    traps.make("git-remote-evil")  # what remote.origin.vcs=evil runs, found on PATH
    return planted


def _plant_hooks_and_attributes(repo: Repo, traps: Traps) -> Path:
    hooks = traps.bin.parent / "hooks"
    hooks.mkdir()
    for hook in ("pre-commit", "post-checkout", "reference-transaction", "pre-auto-gc"):
        traps.make(f"hook-{hook}")
        (hooks / hook).write_text(Path(traps.bin / f"hook-{hook}").read_text())
        (hooks / hook).chmod(0o755)
        (repo.path / ".git" / "hooks" / hook).write_text((hooks / hook).read_text())
        (repo.path / ".git" / "hooks" / hook).chmod(0o755)
    (repo.path / ".gitattributes").write_text("* diff=evil filter=evil merge=evil\n")
    return hooks


@pytest.fixture
def armed(tmp_path: Path, rng: random.Random) -> tuple[Repo, Traps, str, str, dict[str, str]]:
    """A shallow CI clone holding a key, with every program key planted in its config, in the
    user's global config, and every program-naming variable in the environment."""
    origin, base, head, _ = origin_with_feature(tmp_path, rng)
    work = shallow_clone(origin, tmp_path / "work")
    add_signed_commit(work)
    work.write("staged.txt", keys.sgai_uuid(rng))
    work.add("staged.txt")
    # objects/info/alternates makes fetch ask core.alternateRefsCommand
    alternates = work.path / ".git" / "objects" / "info" / "alternates"
    alternates.write_text(str(origin.path / ".git" / "objects") + "\n")
    traps = Traps(tmp_path)
    hooks = _plant_hooks_and_attributes(work, traps)
    _plant_config(work, traps, hooks)
    global_config = tmp_path / "global.gitconfig"
    global_config.write_text(
        "".join(
            f"[{section}]\n\t{key} = {traps.make('global-' + key)}\n"
            for section, key in (
                ("core", "fsmonitor"),
                ("core", "pager"),
                ("uploadpack", "packObjectsHook"),
                ("gpg", "program"),
            )
        )
        + "[log]\n\tshowSignature = true\n"
    )
    exec_path = tmp_path / "exec-path"
    exec_path.mkdir()
    for program in ("git-upload-pack", "git-remote-https", "git-remote-ext", "git-cat-file"):
        traps.make(program, exec_path)
    env = {
        "GIT_CONFIG_GLOBAL": str(global_config),
        "PATH": f"{traps.bin}:/usr/bin:/bin",
        "GIT_EXEC_PATH": str(exec_path),
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "core.fsmonitor",
        "GIT_CONFIG_VALUE_0": traps.make("config-count"),
        "GIT_CONFIG_PARAMETERS": f"'core.fsmonitor'='{traps.make('config-parameters')}'",
    }
    for variable in ("GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR"):
        env[variable] = traps.make(variable.lower())
    for variable in ("GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS"):
        env[variable] = traps.make(variable.lower())
    env["GIT_PROXY_COMMAND"] = traps.make("git_proxy_command")
    env["PAGER"] = env["EDITOR"] = traps.make("pager-editor")
    return work, traps, base, head, env


def test_the_planted_traps_are_live(
    armed: tuple[Repo, Traps, str, str, dict[str, str]],
) -> None:
    """Plain git, in the same repository and environment, runs them."""
    work, traps, base, _, env = armed
    full = {**git_env(), **env}
    for args in (
        ["status"],
        ["log", "-1"],
        ["diff", "HEAD~1", "HEAD"],
        ["fetch", "origin"],
        ["-c", "core.pager=", "log", "-1", "--show-signature"],
    ):
        subprocess.run(["git", *args], cwd=work.path, env=full, capture_output=True, check=False)
    fired = set(traps.fired())
    # GIT_CONFIG_PARAMETERS wins over core.fsmonitor; gpg.openpgp.program over gpg.program
    assert {"config-parameters", "filter-evil-process", "gpg-openpgp-program"} <= fired, fired
    assert "insteadof" in fired, fired  # the fetch went to the rewritten ext:: URL
    assert base  # the clone lacks it: `ci` below must fetch


MODES = [
    ["scan", "."],
    ["scan", "--staged"],
    ["scan", "--range", "HEAD~1..HEAD"],
    ["audit", "."],
    ["audit", ".", "--include-reflog", "--include-unreachable"],
    ["baseline", ".", "-o", "/dev/null"],
    ["hook"],
    ["hook", "--", "staged.txt", "app/settings.py"],
    ["hook", "--pre-push"],
    ["ci", "--base", "BASE", "--head", "HEAD"],
    ["ci", "--base", "BASE", "--head", "HEAD", "--remote-url", "ORIGIN"],
]


@pytest.mark.parametrize("args", MODES, ids=[" ".join(a[:3]) for a in MODES])
def test_no_scan_mode_runs_a_planted_program(
    armed: tuple[Repo, Traps, str, str, dict[str, str]], args: list[str]
) -> None:
    work, traps, base, head, env = armed
    origin = work.path.parent.joinpath("origin").as_uri()
    args = [{"BASE": base, "ORIGIN": origin}.get(a, a) for a in args]
    stdin = f"refs/heads/feature {head} refs/heads/feature {'0' * 40}\n".encode()
    proc = run_cli(*args, cwd=work.path, env=env, stdin=stdin)
    assert proc.returncode in (0, 1, 2, 3), proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert traps.fired() == [], proc.stdout + proc.stderr
