"""The satisfaction page behind the e-mailed link: no login, the signed token is the
credential (``ratings``: salted, timestamped, one resolution). A bad, expired or used link
is a clear page with a 4xx, never a 500; the form shows only the ticket's number and title."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from opsassure.servicedesk import ratings
from opsassure.servicedesk.errors import ServiceDeskError
from opsassure.servicedesk.forms import RatingForm, flag_errors
from opsassure.servicedesk.models import Rating


@never_cache
@require_http_methods(["GET", "POST"])
def rate_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = ratings.ticket_for_token(token)
    except ServiceDeskError as error:
        return render(
            request,
            "servicedesk/rate_link.html",
            {"error": error.message},
            status=error.status_code,
        )
    context: dict[str, object] = {"ticket": ticket}
    existing = Rating.objects.filter(ticket=ticket).first()
    if existing is not None:
        context["rating"] = existing
        return render(request, "servicedesk/rate_link.html", context)
    status = 200
    form = RatingForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                context["rating"] = ratings.rate_with_token(
                    token, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
                )
                context["thanks"] = True
                return render(request, "servicedesk/rate_link.html", context)
            except ServiceDeskError as error:
                context["error"] = error.message
                status = error.status_code
        else:
            status = 400
        flag_errors(form)
    context["form"] = form
    return render(request, "servicedesk/rate_link.html", context, status=status)
