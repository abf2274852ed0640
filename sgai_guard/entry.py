"""Console entry point. `sgai-guard hook` skips the full CLI (and click) to start fast."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing and collections stay off the commit hook's start-up
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["hook"]:
        from sgai_guard.hook import main as hook_main  # noqa: PLC0415

        return hook_main(args[1:])
    from sgai_guard.cli import main as cli_main  # noqa: PLC0415

    return cli_main(args)


def run() -> None:
    raise SystemExit(main())


def hook() -> None:
    """`sgai-guard-hook ARGS`: `sgai-guard hook ARGS` (see scripts/sgai-guard-hook)."""
    raise SystemExit(main(["hook", *sys.argv[1:]]))
