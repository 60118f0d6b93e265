"""Threshold rules over metric series. Being built for issue #6; see docs/monitoring.md."""


def evaluate_series(series_ids: list[int]) -> int:
    raise NotImplementedError


def evaluate_all() -> int:
    raise NotImplementedError
