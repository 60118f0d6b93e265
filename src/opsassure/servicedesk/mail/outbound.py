"""Outbound mail (placeholder until the service desk core lands)."""


def connect() -> None:
    return None
