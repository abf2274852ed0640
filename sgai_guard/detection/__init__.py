"""Detection: the providers as data, the rules derived from them, and what finds a key in bytes
(encodings, containers, placeholder checks, fingerprints and redaction)."""
