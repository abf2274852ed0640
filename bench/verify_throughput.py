"""Live verification throughput: 1,000 distinct keys against the loopback stand-in.

    python -m bench.verify_throughput [--keys 1000] [--latency 0.05] [--rate-limit 400]
                                      [--concurrency 8]

The stand-in (tests/standin_providers.py) adds ``--latency`` to every answer and answers 429
when a provider gets more than ``--rate-limit`` requests in a second. Half the keys are
Tavily keys and half ScrapeGraphAI keys, as an audit finds them; each provider has its own
concurrency limit (the default, 8). Printed side by side: the wall time, the serial floor
(one request after another: keys x latency) and the ratio, plus the 429s the stand-in sent.
"""

from __future__ import annotations

import argparse
import random
import time

from sgai_guard.verify import VerifyOptions, verify
from tests import keys
from tests.standin_providers import Behaviour, StandIn, findings


def _keys(count: int) -> tuple[list[str], list[str]]:
    rng = random.Random(7)
    tavily = {keys.tavily_current(rng) for _ in range(count // 2)}
    sgai = {keys.sgai_uuid(rng) for _ in range(count - len(tavily))}
    return sorted(tavily), sorted(sgai)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate-limit", type=int, default=400, help="per provider per second")
    parser.add_argument("--concurrency", type=int, default=VerifyOptions().concurrency)
    args = parser.parse_args()
    tavily, sgai = _keys(args.keys)
    found = findings(*tavily, *sgai)
    with StandIn(latency=args.latency, rate_limit=args.rate_limit) as server:
        for key in tavily:
            server.tavily(key, Behaviour())
        for key in sgai:
            server.sgai(key, Behaviour())
        options = VerifyOptions(server.endpoints(), concurrency=args.concurrency)
        start = time.perf_counter()
        outcome = verify(found, options)
        wall = time.perf_counter() - start
    serial = len(found) * args.latency
    print(f"{'keys':<28}{len(found):>10}")
    print(f"{'requests received':<28}{len(server.received):>10}")
    print(f"{'429 answers':<28}{server.throttled:>10}")
    print(f"{'verdicts live/dead/unknown':<28}{outcome.live:>4}/{outcome.dead}/{outcome.unknown}")
    print(f"{'concurrency per provider':<28}{args.concurrency:>10}")
    print(f"{'rate limit per provider/s':<28}{args.rate_limit:>10}")
    print(f"{'added latency (ms)':<28}{args.latency * 1000:>10.0f}")
    print(f"{'peak in flight per provider':<28}{dict(server.peak)!s:>10}")
    print(f"{'wall time (s)':<28}{wall:>10.2f}")
    print(f"{'serial floor (s)':<28}{serial:>10.2f}")
    print(f"{'serial / wall':<28}{serial / wall:>9.1f}x")


if __name__ == "__main__":
    main()
