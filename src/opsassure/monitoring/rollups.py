"""Hourly / daily rollups and retention. Being built for issue #6; see docs/monitoring.md."""


def rollup_recent() -> int:
    raise NotImplementedError


def purge_expired() -> int:
    raise NotImplementedError
