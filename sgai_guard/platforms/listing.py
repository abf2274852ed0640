"""GitHub organisations and GitLab groups as targets lists: one clone URL a line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from sgai_guard.errors import UsageError
from sgai_guard.fleet.targets import refusal
from sgai_guard.platforms.api import Api, ApiError, NotFoundError, base_url

if TYPE_CHECKING:
    import httpx

GITHUB = "https://api.github.com"
GITLAB = "https://gitlab.com/api/v4"


class Filters(NamedTuple):
    archived: bool = True  # archived repositories can hold live keys too: listed by default
    forks: bool = True
    ssh: bool = False  # ssh clone URLs instead of https


def link_next(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of a Link header (both platforms send one)."""
    for part in response.headers.get("link", "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            return str(url.strip().strip("<>"))
    return None


def gitlab_next(response: httpx.Response) -> str | None:
    """GitLab's ``X-Next-Page`` (empty on the last page), else its Link header."""
    page = response.headers.get("x-next-page", "").strip()
    if not page.isdigit():
        return link_next(response)
    parts = urlsplit(str(response.request.url))
    query = [p for p in parts.query.split("&") if p and not p.startswith("page=")]
    return urlunsplit(parts._replace(query="&".join([*query, f"page={page}"])))


# What a hosting platform lists: a remote URL with a host. A local path, `file:` or a bare name
# from a server would make the audit read this machine's own repositories. The user, host and
# path hold only the characters the platforms allow in names: a targets file is pasted into
# shell scripts and CI templates, where `$(...)`, quotes or `;` from a server would run.
_WORD = r"[A-Za-z0-9._][A-Za-z0-9._-]*"  # never a leading "-": ssh and git take it as an option
_HOST = rf"(?:{_WORD}|\[[0-9A-Fa-f:.]+\])"  # a name (docker's may hold "_"), or an IPv6 literal
_PATH = rf"{_WORD}(?:/[A-Za-z0-9._-]*)*"
_REMOTE = re.compile(
    rf"(?:https|ssh|git)://(?:{_WORD}@)?{_HOST}(?::[0-9]{{1,5}})?/{_PATH}|{_WORD}@{_HOST}:{_PATH}"
)


def _clean(urls: Iterator[str], api: Api) -> Iterator[str]:
    """Only URLs fit for a targets file: a server cannot smuggle in a second line, nor
    anything a shell would act on; what is left out is said and counted (Api.complete)."""
    for url in urls:
        problem = refusal(url) if isinstance(url, str) and url else "no clone URL"
        if not problem and not _REMOTE.fullmatch(url):
            problem = (
                "only https://, ssh://, git:// or user@host:path URLs whose names hold "
                "letters, digits, '.', '_', '-' and '/' are taken from it"
            )
        if problem:
            api.skipped(problem)
            continue
        yield url


def _token(environ: Mapping[str, str], variable: str) -> str:
    """The token, without the line end a file or a paste leaves; one holding any other space
    or control character is refused, never shown (httpx would put it in its error)."""
    token = environ.get(variable, "").strip()
    if any(not char.isprintable() or char.isspace() for char in token):
        raise UsageError(f"{variable} holds a space or control character: set it to the token")
    return token


def github(
    org: str,
    filters: Filters,
    *,
    api_url: str | None,
    max_wait: float,
    environ: Mapping[str, str] = os.environ,
) -> Iterator[str]:
    base = base_url(api_url, environ, "SGAI_GUARD_GITHUB_API", GITHUB)
    token = _token(environ, "GITHUB_TOKEN")
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    api = Api(
        base, {**headers, **({"Authorization": f"Bearer {token}"} if token else {})}, max_wait
    )
    query = urlencode({"per_page": 100, "type": "all"})
    name = quote(org, safe="")
    try:
        try:
            pages = api.pages(f"{base}/orgs/{name}/repos?{query}", link_next)
            yield from _clean(_urls(pages, filters, _GITHUB), api)
        except NotFoundError:  # a user's repositories, not an organisation's
            pages = api.pages(f"{base}/users/{name}/repos?{query}", link_next)
            yield from _clean(_urls(pages, filters, _GITHUB), api)
        api.complete()
    finally:
        api.close()


class _Fields(NamedTuple):
    """Where a platform's repository record says what the listing needs."""

    fork: str
    ssh: str
    https: str


_GITHUB = _Fields("fork", "ssh_url", "clone_url")
_GITLAB = _Fields("forked_from_project", "ssh_url_to_repo", "http_url_to_repo")


def _urls(items: Iterator[Any], filters: Filters, fields: _Fields) -> Iterator[str]:
    """The clone URL of each repository the filters keep."""
    for repo in items:
        if (repo.get("archived") and not filters.archived) or (
            repo.get(fields.fork) and not filters.forks
        ):
            continue
        yield repo.get(fields.ssh if filters.ssh else fields.https)


def gitlab(
    group: str,
    filters: Filters,
    *,
    api_url: str | None,
    max_wait: float,
    environ: Mapping[str, str] = os.environ,
) -> Iterator[str]:
    base = base_url(api_url, environ, "SGAI_GUARD_GITLAB_API", GITLAB)
    token = _token(environ, "GITLAB_TOKEN")
    api = Api(base, {"PRIVATE-TOKEN": token} if token else {}, max_wait)
    params: dict[str, Any] = {"include_subgroups": "true", "per_page": 100}
    if not filters.archived:
        params["archived"] = "false"
    try:
        first = f"{base}/groups/{quote(group, safe='')}/projects?{urlencode(params)}"
        yield from _clean(_urls(api.pages(first, gitlab_next), filters, _GITLAB), api)
        api.complete()
    finally:
        api.close()


__all__ = ["ApiError", "Filters", "github", "gitlab"]
