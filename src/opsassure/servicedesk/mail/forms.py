from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import Customer, Team, User
from opsassure.core.tenancy import scoped
from opsassure.servicedesk.models import Mailbox


class MailboxForm(forms.ModelForm[Mailbox]):
    """Create or edit a mailbox. The password is never shown; empty on edit keeps it."""

    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "customer",
            "imap_host",
            "imap_port",
            "imap_ssl",
            "imap_username",
            "imap_password",
            "imap_folder",
            "unknown_sender",
            "default_team",
            "is_active",
        ]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer_field: Any = self.fields["customer"]
        customer_field.queryset = scoped(Customer, user).order_by("name")
        team_field: Any = self.fields["default_team"]
        team_field.queryset = scoped(Team, user).order_by("name")
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select"
            else:
                field.widget.attrs["class"] = "form-control"
            field.widget.attrs.setdefault("data-field", name)
        if self.instance.pk is None:
            self.fields["imap_password"].required = True
            self.fields["imap_password"].help_text = ""

    def clean_imap_port(self) -> int:
        port = int(self.cleaned_data["imap_port"])
        if not 1 <= port <= 65535:
            raise forms.ValidationError(_("A port is between 1 and 65535."))
        return port

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        customer, team = cleaned.get("customer"), cleaned.get("default_team")
        if (
            customer is not None
            and team is not None
            and not team.customers.filter(pk=customer.pk).exists()
        ):
            self.add_error("default_team", _("This team does not serve the mailbox's customer."))
        return cleaned

    def save(self, commit: bool = True) -> Mailbox:
        mailbox = super().save(commit=False)
        password = self.cleaned_data.get("imap_password")
        if password:
            mailbox.imap_password = password
        elif self.instance.pk is not None:
            mailbox.imap_password = (
                Mailbox.objects.filter(pk=self.instance.pk)
                .values_list("imap_password", flat=True)
                .get()
            )
        if commit:
            mailbox.save()
        return mailbox
