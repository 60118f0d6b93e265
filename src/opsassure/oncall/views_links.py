"""Pages that work without a login: signed action links and the iCalendar feeds.

An action link's GET only shows what would happen (link scanners and chat previews fetch
it); the POST from that page acts. The feeds are behind a secret token in the URL because
calendar apps cannot sign in.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from opsassure.core.models import User
from opsassure.oncall import feeds, links, services
from opsassure.oncall.errors import OncallError
from opsassure.oncall.models import EscalationRun, PersonalFeed, Schedule

TEMPLATE = "oncall/action_link.html"


def _already(run: EscalationRun, action: str) -> bool:
    state = EscalationRun.State
    if action == "ack":
        return run.state in (state.ACKNOWLEDGED, state.RESOLVED)
    if action == "resolve":
        return run.state == state.RESOLVED
    return run.state != state.ACTIVE


@never_cache
@require_http_methods(["GET", "POST"])
def action_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = links.read_token(token)
    except OncallError as error:
        return render(request, TEMPLATE, {"error": error.message}, status=error.status_code)
    run, action, user = link.run, link.action, link.user
    context: dict[str, object] = {"run": run, "action": action, "link_user": user}
    if _already(run, action):
        context["already"] = True
        return render(request, TEMPLATE, context)
    if request.method == "POST":
        try:
            if action == "ack":
                run = services.acknowledge(run, user=user, via="link")
            elif action == "resolve":
                run = services.resolve(run, user=user, via="link")
            else:
                run = services.escalate_now(run, user=user)
        except OncallError as error:
            context["error"] = error.message
            return render(request, TEMPLATE, context, status=error.status_code)
        context.update(run=EscalationRun.objects.get(pk=run.pk), done=True)
        return render(request, TEMPLATE, context)
    context["confirm"] = True
    return render(request, TEMPLATE, context)


def _ics(body: bytes, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{name}.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _window() -> tuple[dt.datetime, dt.datetime]:
    now = timezone.now()
    return now - dt.timedelta(days=feeds.PAST_DAYS), now + dt.timedelta(days=feeds.FUTURE_DAYS)


@require_GET
def schedule_feed(request: HttpRequest, token: str) -> HttpResponse:
    schedule = Schedule.objects.filter(feed_token=token, is_active=True).first()
    if schedule is None:
        raise Http404
    start, end = _window()
    return _ics(feeds.schedule_calendar(schedule, start, end), f"oncall-{schedule.pk}")


@require_GET
def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = PersonalFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        raise Http404
    user: User = feed.user
    start, end = _window()
    return _ics(feeds.person_calendar(user, start, end), f"oncall-{user.username}")
