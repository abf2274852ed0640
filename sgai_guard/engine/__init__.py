"""The engine: blobs from any source in, one ScanResult out; the exit code; the audit's triage."""
