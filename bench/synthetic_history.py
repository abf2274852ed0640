"""A large git history built locally with `git fast-import`, for audits to be measured on.

The machine has no network beyond package registries, so instead of mirroring a public
project this builds one from the standard library's own sources: an initial import, then
thousands of commits that edit files, with a few generated keys committed and later removed.
The result is repacked with deltas, as a real mirror would be.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import keys


def _sources(limit: int, rng: random.Random) -> dict[str, bytes]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)
    chosen = rng.sample(files, min(limit, len(files)))
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in chosen}


def _edit(text: bytes, pool: list[bytes], rng: random.Random) -> bytes:
    lines = text.split(b"\n")
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(lines) + 1)
        lines[at : at + rng.randint(0, 2)] = rng.sample(pool, rng.randint(1, 4))
    return b"\n".join(lines)


def _commit(out: list[bytes], n: int, changes: dict[str, bytes | None]) -> None:
    msg = f"change {n}".encode()
    out.append(
        b"commit refs/heads/main\n"
        + f"committer Bench <bench@example.invalid> {1_600_000_000 + n * 600} +0000\n".encode()
        + b"data %d\n%s\n" % (len(msg), msg)
    )
    for path, data in changes.items():
        if data is None:
            out.append(f"D {path}\n".encode())
        else:
            out.append(f"M 100644 inline {path}\n".encode() + b"data %d\n%s\n" % (len(data), data))


def build(
    target: Path, *, files: int = 4000, commits: int = 5000, per_commit: int = 20, seed: int = 11
) -> Path:
    """Create (once) a bare repository at ``target`` and return it."""
    if (target / "bench-complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)  # a build cut short: begun again from nothing
    rng = random.Random(seed)
    tree = _sources(files, rng)
    pool = [line for text in list(tree.values())[:300] for line in text.split(b"\n") if line]
    subprocess.run(["git", "init", "-q", "--bare", str(target)], check=True)
    importer = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=target, stdin=subprocess.PIPE
    )
    assert importer.stdin is not None
    stream: list[bytes] = []
    _commit(stream, 0, dict(tree))
    paths = sorted(tree)
    for n in range(1, commits + 1):
        changes: dict[str, bytes | None] = {}
        for path in rng.sample(paths, per_commit):
            tree[path] = _edit(tree[path], pool, rng)
            changes[path] = tree[path]
        if n % 1000 == 0:  # a leak, removed 50 commits later
            changes[f"leaks/leak{n}.env"] = f"TAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
        if n % 1000 == 50 and n > 1000:
            changes[f"leaks/leak{n - 50}.env"] = None
        _commit(stream, n, changes)
        if len(stream) > 2000:
            importer.stdin.write(b"".join(stream))
            stream.clear()
    importer.stdin.write(b"".join(stream))
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "repack", "-adq", "--window=10", "--depth=50"], cwd=target, check=True)
    pushed = f"main~{min(2000, commits)}"  # the last 2,000 commits are "local only"
    subprocess.run(
        ["git", "update-ref", "refs/remotes/origin/main", pushed], cwd=target, check=True
    )
    (target / "bench-complete").touch()
    return target
