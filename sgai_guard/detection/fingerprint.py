"""Content fingerprints and redaction: the only forms in which a secret leaves the scanner.

A fingerprint is an HMAC-SHA-256 of the provider id and the secret, keyed by a salt. It never
depends on line numbers or paths, so allowlists and baselines survive rebases and Windows
checkouts. With the default salt anyone holding a candidate key can compute its fingerprint;
a repository that publishes its baseline sets its own ``salt`` in the configuration.
"""

from __future__ import annotations

from collections.abc import Sequence

from sgai_guard.detection.rules import SHOWN_PREFIXES

DEFAULT_SALT = "sgai-guard/v1"
FINGERPRINT_CHARS = 20
SHOWN_SUFFIX = 4


def fingerprint(provider_id: str, secret: str, salt: str = DEFAULT_SALT) -> str:
    """Stable, salted identifier of one secret of one provider."""
    import hashlib  # noqa: PLC0415 - kept off the commit hook's start-up path
    import hmac  # noqa: PLC0415

    digest = hmac.new(salt.encode(), f"{provider_id}:{secret}".encode(), hashlib.sha256)
    return digest.hexdigest()[:FINGERPRINT_CHARS]


def redact(secret: str, prefixes: Sequence[str] = SHOWN_PREFIXES) -> str:
    """The static prefix (the longest of ``prefixes`` it starts with), a mask and the last four
    characters: enough to recognise a key."""
    shown = max((p for p in prefixes if secret.startswith(p)), key=len, default="")
    if len(secret) - len(shown) <= 2 * SHOWN_SUFFIX:
        return shown + "****"
    return f"{shown}****{secret[-SHOWN_SUFFIX:]}"
