from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsassure.core import audit
from opsassure.core.auth import request_user
from opsassure.core.errors import UserFacingBadRequest
from opsassure.core.middleware import error_response
from opsassure.core.models import AuditEvent, Customer, Team
from opsassure.core.services import heartbeat_age
from opsassure.core.tenancy import scoped
from opsassure.web.forms import LanguageForm


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The landing page. Tiles are SQL aggregates; later modules add their own."""
    user = request.user
    customers = scoped(Customer, user)
    since = timezone.now() - dt.timedelta(days=14)
    activity = []
    if user.has_perm("core.view_auditevent"):
        zone = timezone.get_current_timezone()
        activity = list(
            scoped(AuditEvent, user)
            .filter(occurred_at__gte=since)
            .annotate(day=TruncDate("occurred_at", tzinfo=zone))
            .values("day")
            .annotate(count=Count("id"))
            .order_by("day")
        )
    # Every day of the window, quiet days included (a bar chart with gaps misleads).
    today = timezone.localdate()
    days = [today - dt.timedelta(days=offset) for offset in range(13, -1, -1)]
    counts = {row["day"]: row["count"] for row in activity}
    context = {
        "customer_count": customers.filter(status=Customer.Status.ACTIVE).count(),
        "team_count": scoped(Team, user).filter(is_active=True).count(),
        "worker_age": heartbeat_age("worker"),
        "heartbeat_max_age": settings.HEARTBEAT_MAX_AGE_SECONDS,
        "activity_days": [day.isoformat() for day in days] if activity else [],
        "activity_counts": [counts.get(day, 0) for day in days] if activity else [],
        "recent_customers": customers.order_by("-created_at")[:5],
    }
    return render(request, "web/dashboard.html", context)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch language; a signed-in user's choice is saved to their profile."""
    form = LanguageForm(request.POST)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if not form.is_valid():
        return response
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        user = request_user(request)
        user.language = language
        user.save(update_fields=["language", "updated_at"])
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    is_for_user = isinstance(exception, UserFacingBadRequest)
    message = str(exception) if is_for_user else _("Bad request.")
    if _wants_json(request):
        return error_response(400, "bad_request", message)
    return render(request, "web/error.html", {"code": 400, "message": message}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    user = getattr(request, "user", None)
    audit.record(
        AuditEvent.Action.PERMISSION_DENIED,
        object_type="page",
        object_repr=f"{request.method} {request.path}"[:200],
        customer_id=getattr(user, "customer_id", None),
    )
    if _wants_json(request):
        return error_response(
            403, "permission_denied", _("You do not have permission to perform this action.")
        )
    return render(
        request,
        "web/error.html",
        {"code": 403, "message": _("You do not have permission to see this page.")},
        status=403,
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return error_response(404, "not_found", _("Not found."))
    return render(
        request, "web/error.html", {"code": 404, "message": _("Page not found.")}, status=404
    )


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return error_response(500, "server_error", _("Internal error; it has been logged."))
    # Standalone template: the page shell itself may be what failed.
    return render(request, "web/500.html", status=500)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; send them to the static icon."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))
