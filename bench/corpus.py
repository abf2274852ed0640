"""A generated corpus of source-like text with keys sprinkled in, written once and reused."""

from __future__ import annotations

import random
import string
import uuid
from pathlib import Path

IDENTS = [
    "client",
    "result",
    "value",
    "config",
    "session",
    "items",
    "index",
    "response",
    "payload",
    "headers",
    "search",
    "graph",
    "scrape",
    "url",
    "data",
    "query",
]
# Lines of a project that uses both SDKs the right way: they wake the prefilter, not the alarm.
SDK_LINES = [
    "from tavily import TavilyClient\n",
    'tavily = TavilyClient(api_key=os.environ["TAVILY_API_KEY"])\n',
    'sgai = ScrapeGraphAI(api_key=os.getenv("SGAI_API_KEY"))\n',
    "# see https://docs.tavily.com/ and the scrapegraph docs\n",
]
TEMPLATES = [
    "def {a}_{b}({c}, {d}=None):\n",
    "    {a} = {b}.get('{c}', {n})\n",
    "    return [{a} for {a} in {b} if {a} - {n} > 0]\n",
    "# {a} {b} {c}: see https://example.org/{d}/{n}\n",
    '    logger.info("{a} %s {b} %d", {c}, {n})\n',
    'class {A}{B}(Base):\n    """{A} of {b} and {c}."""\n',
    '{A}_{B} = os.environ.get("{A}_{B}", "")\n',
    "    if {a} is not None and len({b}) >= {n}:\n        raise ValueError('{c}-{d}')\n",
    '  "{a}": {{"{b}": {n}, "{c}": "{d}-{n}"}},\n',
]


def _line(rng: random.Random) -> str:
    words = {k: rng.choice(IDENTS) for k in "abcd"}
    words.update({k.upper(): words[k].upper() for k in "ab"})
    return rng.choice(TEMPLATES).format(n=rng.randint(0, 9999), **words)


def _key(rng: random.Random) -> str:
    if rng.random() < 0.5:
        alnum = string.ascii_letters + string.digits
        seg = "".join(rng.choice(alnum) for _ in range(5))
        return f"tvly-dev-{seg}-" + "".join(rng.choice(alnum) for _ in range(42))
    return "sgai-" + str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build(
    root: Path, total_mb: int = 200, file_kb: int = 10, seed: int = 7, sdk_every: int = 20
) -> list[Path]:
    """Write the corpus under ``root`` (unless already there) and return its files.

    One file in ``sdk_every`` uses the SDKs (``sdk_every=1``: every file, the dense worst case);
    one in 500 holds a key.
    """
    root = root / f"{total_mb}mb-{file_kb}kb-{seed}-sdk{sdk_every}"
    marker = root / ".complete"
    count = total_mb * 1024 // file_kb
    files = [root / f"d{i // 1000:03d}" / f"f{i:06d}.py" for i in range(count)]
    if marker.exists():
        return files
    rng = random.Random(seed)
    pool = [_line(rng) for _ in range(20_000)]
    for i, path in enumerate(files):
        path.parent.mkdir(parents=True, exist_ok=True)
        chunks, size = [], 0
        while size < file_kb * 1024:
            line = rng.choice(pool)
            chunks.append(line)
            size += len(line)
        if i % sdk_every == 0:
            for line in SDK_LINES:
                chunks.insert(rng.randrange(len(chunks)), line)
        if i % 500 == 0:
            chunks.insert(len(chunks) // 2, f'API_KEY = "{_key(rng)}"\n')
        path.write_text("".join(chunks))
    marker.touch()
    return files
