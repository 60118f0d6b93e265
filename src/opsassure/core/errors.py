"""The base of every app's service errors: a 4xx a caller can cause, with a clear message.

Each app keeps its own hierarchy (``ServiceDeskError``, ``OncallError``, …) so callers catch
only the refusals of the services they call; the behaviour below is shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import BadRequest


class UserFacingBadRequest(BadRequest):
    """A 400 whose message is written for the user (the 400 handler shows it)."""


class ServiceError(Exception):
    """``status_code`` is the HTTP status, ``code`` a stable machine code; the API turns it
    into the project's one error format ``{"error": {"code", "message", "fields"}}``."""

    status_code = 400
    code = "service_error"

    def __init__(self, message: str, *, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, Any] = dict(fields or {})

    def as_dict(self) -> dict[str, Any]:
        """The body of the API's error response."""
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


def field_problems(fields: Mapping[str, Sequence[str] | str]) -> dict[str, list[str]]:
    """Field errors as lists of strings, whether given one message or several per field."""
    return {
        name: [str(problem)] if isinstance(problem, str) else [str(p) for p in problem]
        for name, problem in fields.items()
    }
