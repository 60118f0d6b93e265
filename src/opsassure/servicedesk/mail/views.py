"""Mail channel pages: mailboxes (provider administration) and inbound mail inspection."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
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
from opsassure.servicedesk.mail import inbound, parsing
from opsassure.servicedesk.mail.forms import MailboxForm
from opsassure.servicedesk.models import InboundMail, Mailbox


class MailboxListView(ScopedListView):
    model = Mailbox
    permission_required = "servicedesk.view_mailbox"
    title = gettext_lazy("Mailboxes")
    ordering = ["name", "id"]
    create_url_name = "sdmail:mailbox-create"
    columns = [
        Column("name", gettext_lazy("name"), link=True),
        Column("address", gettext_lazy("address")),
        Column("customer", gettext_lazy("customer")),
        Column("is_active", gettext_lazy("active")),
        Column("last_polled_at", gettext_lazy("last polled")),
        Column("last_error", gettext_lazy("last error")),
    ]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("customer")


class MailboxDetailView(ScopedDetailView):
    model = Mailbox
    permission_required = "servicedesk.view_mailbox"
    template_name = "sdmail/mailbox_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        mailbox: Mailbox = context["object"]
        context["recent"] = (
            scoped(InboundMail, self.request.user)
            .filter(mailbox=mailbox)
            .defer("raw")
            .select_related("ticket")
            .order_by("-received_at", "-id")[:20]
        )
        context["can_change"] = self.request.user.has_perm("servicedesk.change_mailbox")
        return context


@login_required
@permission_required("servicedesk.add_mailbox", raise_exception=True)
def mailbox_create(request: HttpRequest) -> HttpResponse:
    return _mailbox_form(request, Mailbox())


@login_required
@permission_required("servicedesk.change_mailbox", raise_exception=True)
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = get_object_or_404(scoped(Mailbox, request_user(request)), pk=pk)
    return _mailbox_form(request, mailbox)


def _mailbox_form(request: HttpRequest, mailbox: Mailbox) -> HttpResponse:
    creating = mailbox.pk is None
    form = MailboxForm(request.POST or None, instance=mailbox, user=request_user(request))
    return save_or_show_form(
        request,
        form,
        "sdmail/mailbox_form.html",
        {"creating": creating, "mailbox": mailbox},
        lambda saved: _("Mailbox %(name)s saved.") % {"name": saved.name},
    )


class InboundMailListView(ScopedListView):
    model = InboundMail
    permission_required = "servicedesk.view_inboundmail"
    title = gettext_lazy("Inbound e-mail")
    template_name = "sdmail/inbound_list.html"
    columns = [
        Column("received_at", gettext_lazy("received"), link=True),
        Column("mailbox.name", gettext_lazy("mailbox")),
        Column("sender", gettext_lazy("from")),
        Column("subject", gettext_lazy("subject")),
        Column("state", gettext_lazy("state")),
        Column("attempts", gettext_lazy("attempts")),
        Column("error", gettext_lazy("error")),
        Column("ticket.number", gettext_lazy("ticket")),
    ]

    def get_queryset(self) -> Any:
        queryset = (
            super()
            .get_queryset()
            .defer("raw")
            .select_related("mailbox", "ticket")
            .order_by("-received_at", "-id")
        )
        state = self.request.GET.get("state", "problems")
        if state == "problems":
            queryset = queryset.filter(
                state__in=(InboundMail.State.FAILED, InboundMail.State.IGNORED)
            )
        elif state in InboundMail.State.values:
            queryset = queryset.filter(state=state)
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["state"] = self.request.GET.get("state", "problems")
        context["states"] = InboundMail.State.choices
        return context


class InboundMailDetailView(ScopedDetailView):
    model = InboundMail
    permission_required = "servicedesk.view_inboundmail"
    template_name = "sdmail/inbound_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        mail: InboundMail = context["object"]
        raw = bytes(mail.raw)
        try:
            parsed: parsing.ParsedMail | None = parsing.parse_message(raw)
        except parsing.MailRejected:
            parsed = None
        # Shown as text and escaped by the template: a <script> in a mail stays text.
        context["parsed"] = parsed
        context["headers"] = parsing.decode_bytes(
            raw[: min(parsing.header_block_size(raw), 20_000)], None
        )
        context["can_reprocess"] = (
            self.request.user.has_perm("servicedesk.change_inboundmail")
            and mail.state != InboundMail.State.PROCESSED
        )
        return context


@require_POST
@login_required
@permission_required("servicedesk.change_inboundmail", raise_exception=True)
def inbound_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    mail = get_object_or_404(scoped(InboundMail, request_user(request)).defer("raw"), pk=pk)
    if mail.state == InboundMail.State.PROCESSED:
        messages.error(request, _("This mail was already processed into a ticket."))
        return redirect(mail.get_absolute_url())
    result = inbound.process(mail.pk, force=True)
    if result is None:
        messages.error(request, _("This mail is being processed right now; try again shortly."))
    elif result.state == InboundMail.State.PROCESSED:
        messages.success(request, _("The mail was processed."))
    else:
        messages.warning(
            request,
            _("The mail is %(state)s: %(error)s")
            % {"state": result.get_state_display(), "error": result.error},
        )
    return redirect(mail.get_absolute_url())
