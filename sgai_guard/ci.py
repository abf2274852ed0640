"""Where `sgai-guard ci` runs and what it must scan, read from the CI system's environment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sgai_guard.errors import UsageError


@dataclass(frozen=True, slots=True)
class Plan:
    system: str  # "github", "gitlab" or "manual"
    event: str
    base: str | None  # None: a new branch (scan what no other branch has) or an audit
    head: str
    audit: bool = False
    branch: str | None = None  # the pushed branch, excluded when looking for "other branches"
    default_branch: str | None = None  # the repository's, as the platform says (a new branch)
    tag: str | None = None  # a pushed tag's name: its message is published with it
    deleted: bool = False  # the push deleted its ref: it publishes nothing
    notes: tuple[str, ...] = field(default_factory=tuple)


def plan(env: Mapping[str, str], base: str | None, head: str | None) -> Plan:
    """The range to scan: explicit options win, then GitHub Actions, then GitLab CI."""
    if base:
        return Plan("manual", "manual", base, head or "HEAD")
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env)
    if env.get("GITLAB_CI") == "true":
        return _gitlab(env)
    raise UsageError(
        "not running in GitHub Actions or GitLab CI: say what to scan with --base REF [--head REF]"
    )


def _github(env: Mapping[str, str]) -> Plan:
    event = env.get("GITHUB_EVENT_NAME", "")
    payload = _event(env.get("GITHUB_EVENT_PATH"))
    if event in ("pull_request", "pull_request_target"):
        base = _field(payload, "pull_request", "base", "sha")
        head = _field(payload, "pull_request", "head", "sha")
        if not base or not head:
            raise UsageError(f"the {event} event payload has no base/head sha")
        return Plan("github", event, base, head)
    if event == "push":
        before = _field(payload, "before")
        after = _field(payload, "after") or env.get("GITHUB_SHA")
        if not after:
            raise UsageError("the push event payload has no 'after' sha")
        ref = _field(payload, "ref") or env.get("GITHUB_REF", "")
        branch = ref.removeprefix("refs/heads/")
        tag = ref.removeprefix("refs/tags/") if ref.startswith("refs/tags/") else None
        default = _field(payload, "repository", "default_branch")
        base = None if _zero(before) else before
        return Plan(
            *("github", event, base, after),
            branch=branch,
            default_branch=default,
            tag=tag,
            deleted=_zero(after),
        )
    if event in ("workflow_dispatch", "schedule"):
        return Plan("github", event, None, env.get("GITHUB_SHA", "HEAD"), audit=True)
    raise UsageError(f"GitHub event {event!r} is not supported: pass --base REF [--head REF]")


def _gitlab(env: Mapping[str, str]) -> Plan:
    head = env.get("CI_COMMIT_SHA", "HEAD")
    if env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        return Plan("gitlab", "merge_request", env["CI_MERGE_REQUEST_DIFF_BASE_SHA"], head)
    before = env.get("CI_COMMIT_BEFORE_SHA", "")
    branch = env.get("CI_COMMIT_BRANCH") or env.get("CI_COMMIT_REF_NAME")
    if env.get("CI_PIPELINE_SOURCE") in ("schedule", "web") and _zero(before):
        return Plan("gitlab", "schedule", None, head, audit=True)
    base = None if _zero(before) else before
    default = env.get("CI_DEFAULT_BRANCH") or None
    tag = env.get("CI_COMMIT_TAG") or None
    return Plan("gitlab", "branch", base, head, branch=branch, default_branch=default, tag=tag)


def _field(data: object, *keys: str) -> str | None:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) and data else None


def _zero(sha: str | None) -> bool:
    return not sha or set(sha) == {"0"}


def _event(path: str | None) -> dict[str, object]:
    if not path:
        raise UsageError("GITHUB_EVENT_PATH is not set: cannot tell what this run should scan")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the GitHub event payload {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"the GitHub event payload {path} is not a JSON object")
    return data


def fix_command(system: str) -> str:
    """The line to add to the workflow so the range can be resolved."""
    if system == "github":
        return (
            "give actions/checkout the history it needs: `with: fetch-depth: 0` "
            "(or run `git fetch --unshallow origin` before sgai-guard)"
        )
    if system == "gitlab":
        return "set `variables: GIT_DEPTH: 0` on the job (or run `git fetch --unshallow origin`)"
    return "run `git fetch --unshallow origin` (or clone with full history) before sgai-guard"
