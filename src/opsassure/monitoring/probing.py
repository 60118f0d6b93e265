"""The probe protocol, server side (assignments, results, heartbeats, staleness).

Being built for issue #6; see docs/monitoring.md.
"""


def sweep_stale() -> int:
    raise NotImplementedError
