"""The attachment download for the web UI (the API has its own, same rules).

The attachment is looked up through ``Attachment.objects.visible_to(user)``: another
customer's file, a file of a ticket the user may not see, or (for customer users) a private
file is a 404, exactly like a file that does not exist.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404

from opsassure.servicedesk.attachments import download_response
from opsassure.servicedesk.models import Attachment


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """``GET`` an attachment as a download (mount it in the UI's urls)."""
    if not request.user.has_perm("servicedesk.view_attachment"):
        raise PermissionDenied
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=pk)
    return download_response(attachment)
