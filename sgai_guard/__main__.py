"""Entry point for ``python -m sgai_guard``."""

from sgai_guard.cli import main

raise SystemExit(main())
