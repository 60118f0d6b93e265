"""Service desk forms: queue filters, quick create, ticket actions, portal, rating.

Forms only check and shape input; every write goes through servicedesk.services. Related
choices (customers, contacts, services, CIs, teams, people) come from the user's tenant scope,
so a forged id of another customer's row is "Select a valid choice", never a write.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import Impact, Priority, Service, Urgency
from opsassure.cmdb.forms import flag_errors, style
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.models import Customer, CustomerContact, Team, User
from opsassure.core.tenancy import scoped
from opsassure.servicedesk.models import (
    Channel,
    PendingReason,
    ResolutionCode,
    Ticket,
    TicketKind,
    TicketStatus,
)

CI_CHOICES_LIMIT = 500
__all__ = ["flag_errors", "style"]


def _customers(request: HttpRequest | None) -> QuerySet[Customer]:
    if request is None:
        return Customer.objects.none()
    return scoped(Customer, request.user).order_by("name")


def _teams(request: HttpRequest | None) -> QuerySet[Team]:
    if request is None:
        return Team.objects.none()
    return scoped(Team, request.user).filter(is_active=True).order_by("code")


def staff_users(user: Any, customer: Customer | None = None) -> QuerySet[User]:
    """Provider staff who can be assignees: members of active teams (serving ``customer``)."""
    teams = scoped(Team, user).filter(is_active=True)
    if customer is not None:
        teams = teams.filter(customers=customer)
    return (
        User.objects.filter(customer__isnull=True, is_active=True, teams__in=teams)
        .distinct()
        .order_by("display_name", "username")
    )


def _assignees(request: HttpRequest | None) -> QuerySet[User]:
    if request is None:
        return User.objects.none()
    return staff_users(request.user)


class TicketFilterSet(django_filters.FilterSet):
    """The queue filters; every value lives in the URL so a filtered queue can be bookmarked."""

    q = django_filters.CharFilter(
        method="search", label=_("Search"), help_text=_("Number or words of the title")
    )
    customer = django_filters.ModelChoiceFilter(queryset=_customers, label=_("Customer"))
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices, label=_("Status"))
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, label=_("Priority"))
    kind = django_filters.ChoiceFilter(choices=TicketKind.choices, label=_("Type"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    team = django_filters.ModelChoiceFilter(queryset=_teams, label=_("Team"))
    assignee = django_filters.ModelChoiceFilter(queryset=_assignees, label=_("Assignee"))
    is_major = django_filters.BooleanFilter(
        label=_("Major incidents only"),
        widget=forms.CheckboxInput,
        method="major_only",
    )

    class Meta:
        model = Ticket
        fields = ["q", "customer", "status", "priority", "kind", "channel", "team", "assignee"]

    def search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__iexact=value) | Q(title__icontains=value))

    def major_only(self, queryset: QuerySet[Ticket], name: str, value: bool) -> QuerySet[Ticket]:
        return queryset.filter(is_major=True) if value else queryset


def _choices(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    return cast(forms.ModelChoiceField[Any], form.fields[name])


def _with_empty(choices: Any, label: Any = "—") -> list[tuple[Any, Any]]:
    return [("", label), *choices]


class PhoneTicketForm(forms.Form):
    """One screen for a phone call: who calls, about what, how bad. Priority is computed."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), label=_("Customer"))
    requester_contact = forms.ModelChoiceField(
        queryset=CustomerContact.objects.none(),
        required=False,
        label=_("Caller (contact)"),
        help_text=_("Or type the caller's name and phone below."),
    )
    requester_name = forms.CharField(max_length=120, required=False, label=_("Caller name"))
    requester_phone = forms.CharField(max_length=32, required=False, label=_("Caller phone"))
    kind = forms.ChoiceField(
        choices=TicketKind.choices, initial=TicketKind.INCIDENT, label=_("Type")
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), required=False, label=_("Service")
    )
    cis = forms.ModelMultipleChoiceField(
        queryset=ConfigurationItem.objects.none(),
        required=False,
        label=_("Affected configuration items"),
        help_text=_("Ctrl-click (⌘-click) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    impact = forms.TypedChoiceField(
        choices=Impact.choices, coerce=int, initial=Impact.MEDIUM, label=_("Impact")
    )
    urgency = forms.TypedChoiceField(
        choices=Urgency.choices, coerce=int, initial=Urgency.MEDIUM, label=_("Urgency")
    )
    title = forms.CharField(max_length=300, label=_("Title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, label=_("Description")
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label=_("Assignment team")
    )
    assign_to_me = forms.BooleanField(required=False, label=_("Assign to me"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        customers = scoped(Customer, user).filter(status=Customer.Status.ACTIVE).order_by("name")
        _choices(self, "customer").queryset = customers
        customer = self.selected_customer()
        _choices(self, "requester_contact").queryset = contacts_for(user, customer)
        _choices(self, "service").queryset = services_for(user, customer)
        _choices(self, "cis").queryset = cis_for(user, customer)
        _choices(self, "team").queryset = scoped(Team, user).filter(is_active=True).order_by("code")
        style(self)
        self.fields["customer"].widget.attrs["autofocus"] = True

    def selected_customer(self) -> Customer | None:
        raw = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if isinstance(raw, Customer):
            return raw
        if not raw:
            return None
        try:
            return scoped(Customer, self.user).filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            return None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            not cleaned.get("requester_contact")
            and not (cleaned.get("requester_name") or "").strip()
        ):
            self.add_error(
                "requester_name", _("Choose the calling contact or type the caller's name.")
            )
        return cleaned

    def requester_name_value(self) -> str:
        name = (self.cleaned_data.get("requester_name") or "").strip()
        phone = (self.cleaned_data.get("requester_phone") or "").strip()
        if name and phone:
            return f"{name} ({phone})"
        return name or phone


def contacts_for(user: Any, customer: Customer | None) -> QuerySet[CustomerContact]:
    if customer is None:
        return CustomerContact.objects.none()
    return scoped(CustomerContact, user).filter(customer=customer).order_by("-is_primary", "name")


def services_for(user: Any, customer: Customer | None) -> QuerySet[Service]:
    if customer is None:
        return Service.objects.none()
    return scoped(Service, user).filter(customer=customer, is_active=True).order_by("name")


def cis_for(user: Any, customer: Customer | None) -> QuerySet[ConfigurationItem]:
    if customer is None:
        return ConfigurationItem.objects.none()
    return scoped(ConfigurationItem, user).filter(customer=customer).order_by("name")


class PortalTicketForm(forms.Form):
    """What a customer user tells us when opening a ticket in the portal."""

    kind = forms.ChoiceField(
        choices=TicketKind.choices,
        initial=TicketKind.INCIDENT,
        label=_("What do you need?"),
        widget=forms.RadioSelect,
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), required=False, label=_("Service")
    )
    title = forms.CharField(max_length=300, label=_("Subject"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label=_("Description"))
    impact = forms.TypedChoiceField(
        choices=Impact.choices, coerce=int, initial=Impact.LOW, label=_("Who is affected?")
    )
    urgency = forms.TypedChoiceField(
        choices=Urgency.choices, coerce=int, initial=Urgency.MEDIUM, label=_("How urgent is it?")
    )
    attachment = forms.FileField(required=False, label=_("Attachment"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer = user.customer
        _choices(self, "service").queryset = services_for(user, customer)
        style(self)
        self.fields["kind"].widget.attrs["class"] = "form-check-input"


class CommentForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), label=_("Message"), max_length=20000
    )
    attachment = forms.FileField(required=False, label=_("Attachment"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, label=_("Team"))
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Assignee")
    )

    def __init__(self, *args: Any, user: User, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "team").queryset = (
            scoped(Team, user).filter(is_active=True, customers=ticket.customer_id).order_by("code")
        )
        _choices(self, "assignee").queryset = staff_users(user, ticket.customer)
        style(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("team") and not cleaned.get("assignee"):
            raise forms.ValidationError(_("Choose a team, an assignee or both."))
        return cleaned


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=TicketStatus.choices, label=_("New status"))
    pending_reason = forms.ChoiceField(
        choices=_with_empty(PendingReason.choices), required=False, label=_("Waiting for")
    )
    resolution_code = forms.ChoiceField(
        choices=_with_empty(ResolutionCode.choices), required=False, label=_("Resolution code")
    )
    resolution_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Resolution note")
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Comment")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        target = cleaned.get("to")
        if target == TicketStatus.PENDING and not cleaned.get("pending_reason"):
            self.add_error("pending_reason", _("Say what the ticket is waiting for."))
        if target == TicketStatus.RESOLVED:
            if not cleaned.get("resolution_code"):
                self.add_error("resolution_code", _("Choose a resolution code."))
            if not (cleaned.get("resolution_note") or "").strip():
                self.add_error("resolution_note", _("Describe how it was resolved."))
        return cleaned


class ClassifyForm(forms.Form):
    """Impact and urgency; the priority follows the policy's matrix unless overridden."""

    impact = forms.TypedChoiceField(choices=Impact.choices, coerce=int, label=_("Impact"))
    urgency = forms.TypedChoiceField(choices=Urgency.choices, coerce=int, label=_("Urgency"))
    priority = forms.TypedChoiceField(
        choices=_with_empty(Priority.choices, _("From impact × urgency")),
        coerce=int,
        empty_value=None,
        required=False,
        label=_("Priority"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    public = forms.BooleanField(required=False, initial=True, label=_("Visible to the customer"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        label=_("How satisfied are you?"),
        error_messages={"required": _("Choose from 1 (poor) to 5 (excellent).")},
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        label=_("Comment"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)
        self.fields["score"].widget.attrs["class"] = "form-selectgroup-input"


class ReopenForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Why is it not solved?"),
        max_length=20000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self)
