"""Errors a caller of the on-call services can cause: each is a 4xx with a clear message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from opsassure.core.errors import ServiceError, field_problems


class OncallError(ServiceError):
    status_code = 400
    code = "oncall_error"


class InvalidInputError(OncallError):
    code = "validation_error"

    def __init__(self, fields: Mapping[str, Sequence[str] | str]) -> None:
        super().__init__(_("Invalid input."), fields=field_problems(fields))


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
