"""Errors a caller of the service desk can cause: each is a 4xx with a clear message.

Services raise them; the API turns them into the project's one error format
(``{"error": {"code", "message", "fields"}}``) and the UI shows the message. Nothing is
written when one is raised: every service runs in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.utils.translation import gettext as _

from opsassure.core.errors import ServiceError, field_problems


class ServiceDeskError(ServiceError):
    """Base class: ``status_code`` is the HTTP status, ``code`` a stable machine code."""

    status_code = 400
    code = "service_desk_error"


class InvalidInputError(ServiceDeskError):
    """Missing or invalid fields (400 with field errors)."""

    code = "validation_error"

    def __init__(self, fields: Mapping[str, Sequence[str] | str]) -> None:
        super().__init__(_("Invalid input."), fields=field_problems(fields))


class NotPermittedError(ServiceDeskError):
    """The actor's role does not allow this operation on this ticket (403)."""

    status_code = 403
    code = "permission_denied"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("You are not allowed to do this."))


class TransitionNotAllowed(ServiceDeskError):  # noqa: N818 (the agreed interface names it)
    """The status change is not allowed from here for this actor (409, lists what is)."""

    status_code = 409
    code = "transition_not_allowed"

    def __init__(self, *, current: str, to: str, allowed: Iterable[str], reason: str = "") -> None:
        self.current = current
        self.to = to
        self.allowed = sorted(allowed)
        message = reason or _(
            "The ticket cannot go from %(current)s to %(to)s. Allowed: %(allowed)s."
        ) % {
            "current": current,
            "to": to,
            "allowed": ", ".join(self.allowed) or _("none"),
        }
        super().__init__(message, fields={"allowed": self.allowed})


class ConflictError(ServiceDeskError):
    """The ticket's state does not allow this (409), e.g. rating an open ticket twice."""

    status_code = 409
    code = "conflict"


class AlreadyRatedError(ConflictError):
    code = "already_rated"

    def __init__(self) -> None:
        super().__init__(_("This ticket has already been rated."))


class InvalidRatingTokenError(ServiceDeskError):
    """The rating link is forged, for another ticket, or expired (400)."""

    code = "invalid_token"

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__(
            _("This rating link has expired.") if expired else _("This rating link is not valid.")
        )


class AttachmentTooLarge(ServiceDeskError):  # noqa: N818 (the agreed interface names it)
    status_code = 413
    code = "attachment_too_large"

    def __init__(self, *, size: int, limit: int) -> None:
        super().__init__(
            _("The file is too large (%(size)d bytes; at most %(limit)d bytes).")
            % {"size": size, "limit": limit},
            fields={"file": [_("At most %(limit)d bytes.") % {"limit": limit}]},
        )


class AttachmentTypeRefused(ServiceDeskError):  # noqa: N818 (the agreed interface names it)
    status_code = 415
    code = "attachment_type_refused"

    def __init__(self, *, content_type: str) -> None:
        super().__init__(
            _("Files of type %(type)s are not accepted.") % {"type": content_type[:100]},
            fields={"file": [_("This file type is not accepted.")]},
        )
