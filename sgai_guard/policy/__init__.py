"""Policy: the configuration, allowlists, inline markers and baselines that decide which
candidates are reported."""
