"""How to get past a block, in words that work for the setup the hook runs in."""

from __future__ import annotations

import os

from sgai_guard.models import MARKERS_OFF, REF_NAME, ScanResult

COMMIT, PUSH, RECEIVE = "commit", "push", "receive"  # the same names as hook.py's
BYPASS_OPTION = "sgai-guard.skip"
TAG_FIX = (
    "A key in a tag's message: delete the tag (`git tag -d <name>`) and create it again "
    "without the key, then push it again."
)
NAME_FIX = (
    "A key in the name of a branch or tag you push: rename it (`git branch -m <old> <new>`, "
    "or a new tag), and push it under the new name."
)


def hints(result: ScanResult, stage: str, *, bypass: bool = False) -> tuple[str, ...]:
    """Advice after the findings: the fix, revocation, a real false positive, a bypass."""
    blocking = result.blocking
    if not blocking:
        return ()
    envs = ", ".join(sorted({f.rule.provider.env_var for f in blocking}))
    fingerprints = list(dict.fromkeys(f.fingerprint for f in blocking))
    commits = sorted({f.commit[:12] for f in blocking if f.commit})
    markers = not any(notice.startswith(MARKERS_OFF) for notice in result.notices)
    return (
        _fixes(stage, envs, commits, {f.path for f in blocking}),
        _revoke(stage),
        _false_positive(stage, fingerprints, markers=markers),
        _bypass(stage, bypass),
    )


def _fixes(stage: str, envs: str, commits: list[str], paths: set[str]) -> str:
    """The fix for each place the keys are: files, a tag's message, a ref's name (a newcomer
    review: a key in a branch's name was told to amend commits, and that first)."""
    if stage == COMMIT:
        return _fix(stage, envs, commits)
    tags = {p for p in paths if p.startswith("(tag ")}  # a tag's message or headers
    names = paths & {REF_NAME}
    fixes = [_fix(stage, envs, commits)] if paths - tags - names else []
    fixes += [TAG_FIX] if tags else []
    fixes += [NAME_FIX] if names else []
    return " ".join(fixes)


def _fix(stage: str, envs: str, commits: list[str]) -> str:
    source = f"read the key from the environment instead ({envs}: the SDKs read it there)"
    if stage == COMMIT:
        return f"Remove the key from the file and {source}, then stage the file again."
    where = ", ".join(commits) or "the pushed commits"
    return (
        f"Remove the key from the commits that add it ({where}) and {source}: in the last "
        "commit, edit the file and run `git commit --amend`; in an older one, "
        "`git rebase -i <commit>^` and edit it. Then push again."
    )


def _revoke(stage: str) -> str:
    if stage == COMMIT:
        return (
            "Revoke the key as above even if it never left this machine: editor history, "
            "backups and synced folders keep copies."
        )
    return (
        "Revoke the key as above: the push was stopped, but the key may already be in other "
        "clones, forks or CI logs."
    )


def _false_positive(stage: str, fingerprints: list[str], *, markers: bool) -> str:
    """Each blocking key's fingerprint (a newcomer review: with two keys, the advice named
    the first only, and whoever followed it was blocked again)."""
    entry = _entries(fingerprints)
    if stage == RECEIVE:
        return (
            "A real false positive? Ask the server's administrators to add to its "
            f"configuration {entry}."
        )
    # no marker where the configuration turned them off (found by a newcomer review)
    marker = (
        "put `sgai-guard: allow <reason>` in a comment on the key's line, or " if markers else ""
    )
    marker += "add to "
    one = fingerprints[0] if len(fingerprints) == 1 else "<fingerprint>"
    each = "" if len(fingerprints) == 1 else ", once for each"
    command = (
        ""
        if os.environ.get("PRE_COMMIT")  # the framework's own venv: `sgai-guard` is not on PATH
        else f' (or run{each}: sgai-guard allow {one} --reason "...")'
    )
    return f"A real false positive? {marker}.sgai-guard.toml {entry}{command}."


_LISTED = 5  # fingerprints named in the advice; the findings above list every one


def _entries(fingerprints: list[str]) -> str:
    reason = 'reason = "why this is not a live key"'
    if len(fingerprints) == 1:
        return f'the entry [[allow]] with fingerprint = "{fingerprints[0]}" and {reason}'
    named = ", ".join(f'"{fp}"' for fp in fingerprints[:_LISTED])
    more = len(fingerprints) - _LISTED
    named += f" and {more} more (see above)" if more > 0 else ""
    return f"an [[allow]] entry with {reason} for each fingerprint: {named}"


def _bypass(stage: str, allowed: bool) -> str:
    if stage == RECEIVE:
        if allowed:
            return (
                f'To push anyway, deliberately: git push -o {BYPASS_OPTION}="<reason>" '
                "(the bypass, who pushed and the reason are logged on the server)."
            )
        return "This server allows no bypass: remove the key, or ask its administrators."
    framework = bool(os.environ.get("PRE_COMMIT"))
    hook = "sgai-guard" if stage == COMMIT else "sgai-guard-push"
    action = "git commit" if stage == COMMIT else "git push"
    how = f"SKIP={hook} {action}" if framework else f"{action} --no-verify"
    return f"To {action.split()[1]} anyway, deliberately (the key is still exposed): {how}."
