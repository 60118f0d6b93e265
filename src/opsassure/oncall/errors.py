"""Errors a caller of the on-call services can cause: each is a 4xx with a clear message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _


class OncallError(Exception):
    status_code = 400
    code = "oncall_error"

    def __init__(self, message: str, *, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, Any] = dict(fields or {})

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class InvalidInputError(OncallError):
    code = "validation_error"

    def __init__(self, fields: Mapping[str, Sequence[str] | str]) -> None:
        normalised = {
            name: [str(problem)] if isinstance(problem, str) else [str(p) for p in problem]
            for name, problem in fields.items()
        }
        super().__init__(_("Invalid input."), fields=normalised)


class NotPermittedError(OncallError):
    status_code = 403
    code = "permission_denied"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("You are not allowed to do this."))


class ConflictError(OncallError):
    status_code = 409
    code = "conflict"


class InvalidLinkError(OncallError):
    status_code = 400
    code = "invalid_link"
