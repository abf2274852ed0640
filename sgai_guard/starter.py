"""What `sgai-guard init` writes and prints: a commented configuration and the hook block."""

from __future__ import annotations

import secrets

from sgai_guard import __version__

HOME = "https://github.com/OWNER/sgai-guard"  # the project's repository, as the README names it
SCHEMA_RESOURCE = "config.schema.json"  # shipped in the package: `sgai-guard init --schema`


def config_text() -> str:
    """A starting `.sgai-guard.toml`: every key explained, none set."""
    return f"""\
# sgai-guard configuration. Every key is checked on load; a mistake is an error (exit 2).
# Editor completion: save `sgai-guard init --schema` as a JSON Schema and point your TOML
# editor at it (for Taplo / Even Better TOML, put `#:schema ./sgai-guard.schema.json` on the
# first line).

# Fingerprints can be keyed with a secret of your own, so that a published baseline or
# allowlist reveals nothing to someone holding candidate keys: set it only where this file is
# not published with them, keep it once set (it changes every fingerprint), and use the same
# one across repositories you audit together (`audit --out` then `merge` refuses mixed salts).
# salt = "{secrets.token_hex(16)}"

# Paths never scanned for findings (gitignore semantics, relative to this file's folder).
# exclude-paths = ["fixtures/", "docs/**/*.md"]

# Also honour other tools' inline markers (gitleaks:allow, pragma: allowlist secret).
# other-markers = true

# Inline markers (`sgai-guard: allow <reason>`) let whoever adds a key allow it on its line.
# false: only this file's entries and the baseline allow keys (a pull request is judged by
# its base's copy of this file, so it cannot turn them back on).
# inline-markers = true

# Known secrets (`sgai-guard baseline . -o .sgai-guard-baseline.json`): used by every scan
# command, and by the commit hook, when the file exists.
# baseline = ".sgai-guard-baseline.json"

# max-file-size = "5MiB"   # skip larger files on purpose (listed); default: read in pieces
# fail-on-removed = false  # make "removed but still in history" findings block
# archive-depth = 3        # open archives and compressed files this deep (0: never)

# One secret, by the fingerprint printed next to it (`sgai-guard allow FP --reason "..."`):
# [[allow]]
# fingerprint = "0123456789abcdef0123"
# reason = "revoked on 2026-11-20; kept in a test of the rotation script"
# expires = 2027-03-31     # optional: after this date it blocks again

# A regex on the line (or, with target = "secret", on the key itself):
# [[allow-regex]]
# pattern = "^EXAMPLE_"
# reason = "documentation samples"
"""


def precommit_block() -> str:
    """The `.pre-commit-config.yaml` entry for the installed release."""
    return f"""\
repos:
- repo: {HOME}
  rev: v{__version__}
  hooks:
  - id: sgai-guard        # pre-commit (and manual) stage
  - id: sgai-guard-push   # pre-push stage
"""
