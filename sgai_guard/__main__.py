"""Entry point for ``python -m sgai_guard``."""

from sgai_guard.entry import main

raise SystemExit(main())
