"""Audits of many repositories: one idempotent job each, on a local pool or Dask, merged later."""
