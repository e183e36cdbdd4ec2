"""Operations: the on-call engineer's CLI (`python -m worker ops`, worker.ops.cli:main) and the
per-tenant runbook figures on the worker's /metrics (worker.ops.gauges.refresh_gauges)."""
