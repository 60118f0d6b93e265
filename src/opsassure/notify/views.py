"""Notification pages: destinations (administration), the outbox, and one's own rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsassure.core.auth import request_user
from opsassure.core.tenancy import scoped
from opsassure.core.ui.generic import (
    Column,
    ScopedDetailView,
    ScopedListView,
    save_or_show_form,
)
from opsassure.notify import services
from opsassure.notify.filtersets import NotificationFilterSet
from opsassure.notify.forms import DestinationForm, NotificationRuleForm
from opsassure.notify.models import Destination, Notification, NotificationRule


class DestinationListView(ScopedListView):
    model = Destination
    permission_required = "notify.view_destination"
    title = gettext_lazy("Notification destinations")
    template_name = "notify/destination_list.html"
    ordering = ["name", "id"]
    columns = [
        Column("name", gettext_lazy("name"), link=True),
        Column("kind", gettext_lazy("kind")),
        Column("customer", gettext_lazy("customer")),
        Column("masked_url", gettext_lazy("URL or address")),
        Column("effective_rate_limit", gettext_lazy("messages per minute")),
        Column("enabled", gettext_lazy("enabled")),
    ]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("customer")


class DestinationDetailView(ScopedDetailView):
    model = Destination
    permission_required = "notify.view_destination"
    template_name = "notify/destination_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["deliveries"] = (
            scoped(Notification, self.request.user)
            .filter(destination=context["object"])
            .select_related("user", "destination")
            .order_by("-created_at", "-id")[:20]
        )
        context["can_change"] = self.request.user.has_perm("notify.change_destination")
        return context


@login_required
@permission_required("notify.add_destination", raise_exception=True)
def destination_create(request: HttpRequest) -> HttpResponse:
    return _destination_form(request, Destination())


@login_required
@permission_required("notify.change_destination", raise_exception=True)
def destination_edit(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(scoped(Destination, request_user(request)), pk=pk)
    return _destination_form(request, destination)


def _destination_form(request: HttpRequest, destination: Destination) -> HttpResponse:
    creating = destination.pk is None
    form = DestinationForm(request.POST or None, instance=destination, user=request_user(request))
    return save_or_show_form(
        request,
        form,
        "notify/destination_form.html",
        {"creating": creating, "destination": destination},
        lambda saved: _("Destination %(name)s saved.") % {"name": saved.name},
    )


@require_POST
@login_required
@permission_required("notify.change_destination", raise_exception=True)
def destination_test(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(scoped(Destination, request_user(request)), pk=pk)
    services.send_test_message(destination, user=request_user(request))
    messages.success(
        request, _("Test message queued. Its delivery state shows below (refresh to update).")
    )
    return redirect(destination.get_absolute_url())


class NotificationListView(ScopedListView):
    model = Notification
    permission_required = "notify.view_notification"
    title = gettext_lazy("Notifications")
    filterset_class = NotificationFilterSet
    ordering = ["-created_at", "-id"]
    columns = [
        Column("created_at", gettext_lazy("created"), link=True),
        Column("channel", gettext_lazy("channel")),
        Column("shown_address", gettext_lazy("address")),
        Column("severity", gettext_lazy("severity")),
        Column("subject", gettext_lazy("subject")),
        Column("state", gettext_lazy("state")),
        Column("attempts", gettext_lazy("attempts")),
        Column("last_error", gettext_lazy("last error")),
    ]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("destination", "user").defer("body", "payload")


class NotificationDetailView(ScopedDetailView):
    model = Notification
    permission_required = "notify.view_notification"
    template_name = "notify/notification_detail.html"

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("destination", "user", "digest")


@login_required
@permission_required("notify.view_notificationrule", raise_exception=True)
def my_rules(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own rules, and what applies when none matches."""
    user = request_user(request)
    rules = scoped(NotificationRule, user).filter(user=user).order_by("order", "id")
    return render(
        request,
        "notify/rule_list.html",
        {
            "rules": rules,
            "profile": user,
            "can_add": user.has_perm("notify.add_notificationrule"),
        },
    )


@login_required
@permission_required("notify.add_notificationrule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, NotificationRule(user=request_user(request)))


@login_required
@permission_required("notify.change_notificationrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = get_object_or_404(scoped(NotificationRule, user).filter(user=user), pk=pk)
    return _rule_form(request, rule)


def _rule_form(request: HttpRequest, rule: NotificationRule) -> HttpResponse:
    creating = rule.pk is None
    form = NotificationRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, _("Notification rule saved."))
        return redirect("notify:rules")
    return render(
        request,
        "notify/rule_form.html",
        {"form": form, "creating": creating, "rule": rule},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
@permission_required("notify.delete_notificationrule", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = get_object_or_404(scoped(NotificationRule, user).filter(user=user), pk=pk)
    with transaction.atomic():
        rule.delete()
    messages.success(request, _("Notification rule deleted."))
    return redirect("notify:rules")
