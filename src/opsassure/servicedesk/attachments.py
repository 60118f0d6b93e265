"""Ticket attachments: size and type limits, storage per customer, safe download.

Files are stored content-addressed under ``attachments/<customer id>/…/<sha256>`` in the
default storage (``MEDIA_ROOT``); the name the user gave is kept in the row only, never in a
path. The type is taken from the file name (``mimetypes``), not from what the client claims,
and must be on the allow-list (``OPSASSURE_ATTACHMENT_TYPES``): HTML, SVG and scripts are
refused, so a file served back can never run in our origin. Downloads are sent as
attachments with ``nosniff``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse
from django.utils.translation import gettext as _

from opsassure.servicedesk import conf, timeline, workflow
from opsassure.servicedesk.access import check_sees
from opsassure.servicedesk.errors import (
    AttachmentTooLarge,
    AttachmentTypeRefused,
    InvalidInputError,
    NotPermittedError,
)
from opsassure.servicedesk.models import Attachment, Ticket, TicketEvent, attachment_path

if TYPE_CHECKING:
    from opsassure.core.models import User

# mimetypes does not know every type people send to a service desk.
_EXTRA_TYPES = {
    ".log": "text/plain",
    ".eml": "message/rfc822",
    ".7z": "application/x-7z-compressed",
}


def clean_filename(name: str) -> str:
    """The last path component, without control characters, at most 255 characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    if not cleaned:
        return "attachment"
    stem, dot, suffix = cleaned.rpartition(".")
    if len(cleaned) > 255:
        cleaned = (stem[: 254 - len(suffix)] + "." + suffix) if dot else cleaned[:255]
    return cleaned


def content_type_of(filename: str) -> str:
    """The MIME type the file name says (``application/octet-stream`` when unknown)."""
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _encoding = mimetypes.guess_type(filename, strict=False)
    if suffix in {".gz", ".tgz"}:
        return "application/gzip"
    return guessed or "application/octet-stream"


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    """(clean file name, content type) — or AttachmentTooLarge (413) / TypeRefused (415)."""
    limit = conf.attachment_max_bytes()
    size = upload.size or 0
    if size > limit:
        raise AttachmentTooLarge(size=size, limit=limit)
    filename = clean_filename(upload.name or "")
    content_type = content_type_of(filename)
    if content_type not in conf.attachment_types():
        raise AttachmentTypeRefused(content_type=content_type)
    return filename, content_type


def _digest(upload: UploadedFile) -> str:
    sha = hashlib.sha256()
    for chunk in upload.chunks():
        sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest()


@transaction.atomic
def add_attachment(
    ticket: Ticket,
    *,
    actor: User | None,
    upload: UploadedFile,
    public: bool = True,
    event: TicketEvent | None = None,
) -> Attachment:
    """Attach ``upload`` to ``ticket`` (and to ``event``, e.g. the reply it came with).

    Customer users attach public files to tickets they see; an attachment without an event
    gets its own timeline entry. Refused uploads write nothing.
    """
    kind = workflow.actor_kind(actor)
    if kind is None or (actor is not None and not actor.has_perm("servicedesk.add_attachment")):
        raise NotPermittedError(_("You are not allowed to add files."))
    check_sees(actor, ticket)
    if kind == workflow.CUSTOMER and not public:
        raise NotPermittedError(_("Internal files are for the service staff."))
    if event is not None and event.ticket_id != ticket.pk:
        raise InvalidInputError({"event": _("The entry belongs to another ticket.")})
    if ticket.status in workflow.FINAL_STATUSES and kind == workflow.CUSTOMER:
        raise InvalidInputError({"file": _("This ticket is closed; please open a new one.")})
    filename, content_type = check_upload(upload)
    attachment = Attachment(
        ticket=ticket,
        event=event,
        filename=filename,
        content_type=content_type,
        size=upload.size or 0,
        sha256=_digest(upload),
        is_public=public and (event is None or event.is_public),
        uploaded_by=actor,
    )
    name = attachment_path(attachment, filename)
    if default_storage.exists(name):  # same content, same customer: stored once
        attachment.file.name = name
    else:
        attachment.file.save(name, upload, save=False)
    if event is None:
        attachment.event = timeline.record(
            ticket,
            TicketEvent.Kind.ATTACHMENT,
            actor=actor,
            body=filename,
            public=attachment.is_public,
            data={"filename": filename, "size": attachment.size},
        )
    attachment.save()
    return attachment


def download_response(attachment: Attachment) -> FileResponse:
    """The file as a download (never rendered inline), with the name the user gave it."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
