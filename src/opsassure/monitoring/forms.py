"""Forms of the monitoring UI. They shape the input into the services' arguments; the
services validate (``services.validate_check``) and their reasons land on the fields."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import ServiceCalendar
from opsassure.cmdb.models import CIType, ConfigurationItem, Tag
from opsassure.core.models import Customer, User
from opsassure.core.tenancy import scoped
from opsassure.monitoring import services
from opsassure.monitoring.models import CheckKind, Monitor, Probe, Severity

ALL = tuple(CheckKind.values)
# Which kind-specific field shows for which kinds (the page hides the others).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "method": (CheckKind.HTTP,),
    "expected_status": (CheckKind.HTTP,),
    "keyword": (CheckKind.HTTP,),
    "json_path": (CheckKind.HTTP,),
    "json_expected": (CheckKind.HTTP,),
    "headers": (CheckKind.HTTP,),
    "follow_redirects": (CheckKind.HTTP,),
    "port": (CheckKind.TCP, CheckKind.TLS, CheckKind.DNS),
    "count": (CheckKind.ICMP,),
    "warn_days": (CheckKind.TLS,),
    "record_type": (CheckKind.DNS,),
    "expected": (CheckKind.DNS,),
    "nameservers": (CheckKind.DNS,),
    "max_response_ms": (
        CheckKind.HTTP,
        CheckKind.TCP,
        CheckKind.ICMP,
        CheckKind.DNS,
        CheckKind.NODE_EXPORTER,
    ),
}
TARGET_HINTS = {
    CheckKind.HTTP: "https://his.jch.example.cn/health",
    CheckKind.TCP: "10.10.1.21:1521",
    CheckKind.ICMP: "10.10.1.21",
    CheckKind.TLS: "his.jch.example.cn:443",
    CheckKind.DNS: "his.jch.example.cn",
    CheckKind.NODE_EXPORTER: "http://10.10.1.21:9100/metrics",
}


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _lines(value: str) -> list[str]:
    return [line.strip() for line in str(value or "").replace(",", "\n").splitlines() if line]


def _pairs(value: str, sep: str, field: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for line in str(value or "").splitlines():
        if not line.strip():
            continue
        key, found, item = line.partition(sep)
        if not found or not key.strip():
            raise forms.ValidationError(
                _("Write one %(example)s per line.") % {"example": f"name{sep}value"}, code=field
            )
        result[key.strip()] = item.strip()
    return result


class CheckForm(forms.Form):
    """One check: the common fields, then the options of its kind (``KIND_FIELDS``)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=CheckKind.choices)
    target = forms.CharField(
        label=_("Target"),
        max_length=2000,
        help_text=_("URL for HTTP and node_exporter; host name or IP (host:port for TCP)."),
    )
    ci = forms.ModelChoiceField(
        label=_("Configuration item"), queryset=ConfigurationItem.objects.none(), required=False
    )
    interval_seconds = forms.IntegerField(label=_("Interval (s)"), initial=60)
    timeout_seconds = forms.FloatField(label=_("Timeout (s)"), initial=10)
    retries = forms.IntegerField(label=_("Retries"), initial=0)
    failure_threshold = forms.IntegerField(
        label=_("Failure threshold"),
        initial=2,
        help_text=_("Consecutive failed runs before the check is down."),
    )
    success_threshold = forms.IntegerField(
        label=_("Success threshold"),
        initial=1,
        help_text=_("Consecutive successful runs before a down check is up again."),
    )
    severity = forms.ChoiceField(
        label=_("Severity when down"), choices=Severity.choices, initial=Severity.CRITICAL
    )
    probes = forms.ModelMultipleChoiceField(
        label=_("Probe locations"),
        queryset=Probe.objects.none(),
        required=False,
        help_text=_("None selected: the local probe."),
    )
    calendar = forms.ModelChoiceField(
        label=_("Service hours"),
        queryset=ServiceCalendar.objects.none(),
        required=False,
        help_text=_("Availability is computed inside these hours only (e.g. 5×8)."),
    )
    labels = forms.CharField(
        label=_("Labels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "team=sys\nsystem=HIS"}),
        help_text=_("One name=value per line; added to the alerts."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    # Kind options.
    method = forms.ChoiceField(
        label=_("HTTP method"),
        required=False,
        choices=[(m, m) for m in services.HTTP_METHODS],
        initial="GET",
    )
    expected_status = forms.CharField(
        label=_("Expected status"),
        required=False,
        help_text=_("e.g. 200, 2xx or 200-299, 301; empty: 200-399."),
    )
    keyword = forms.CharField(label=_("Body keyword"), required=False)
    json_path = forms.CharField(label=_("JSON path"), required=False, help_text=_("e.g. $.status"))
    json_expected = forms.CharField(
        label=_("Expected JSON value"),
        required=False,
        help_text=_('JSON, e.g. "ok" or true; empty: the path must exist.'),
    )
    headers = forms.CharField(
        label=_("Request headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Accept: application/json"}),
        help_text=_("One Name: value per line."),
    )
    follow_redirects = forms.BooleanField(label=_("Follow redirects"), required=False, initial=True)
    port = forms.IntegerField(label=_("Port"), required=False)
    count = forms.IntegerField(label=_("Pings per run"), required=False, initial=3)
    warn_days = forms.IntegerField(
        label=_("Warn days before expiry"),
        required=False,
        initial=14,
        help_text=_("Degraded when the certificate expires within this many days."),
    )
    record_type = forms.ChoiceField(
        label=_("Record type"),
        required=False,
        choices=[(t, t) for t in services.RECORD_TYPES],
        initial="A",
    )
    expected = forms.CharField(
        label=_("Expected answers"),
        required=False,
        help_text=_("Comma-separated; empty: any answer."),
    )
    nameservers = forms.CharField(
        label=_("Name servers"),
        required=False,
        help_text=_("Comma-separated IP addresses; empty: the probe's resolver."),
    )
    max_response_ms = forms.FloatField(
        label=_("Degraded above (ms)"),
        required=False,
        help_text=_("Response time above which a successful run counts as degraded."),
    )

    COMMON = (
        "name",
        "customer",
        "kind",
        "target",
        "ci",
        "interval_seconds",
        "timeout_seconds",
        "retries",
        "failure_threshold",
        "success_threshold",
        "severity",
        "probes",
        "calendar",
        "labels",
        "enabled",
    )

    def __init__(
        self, *args: Any, user: User, instance: Monitor | None = None, **kwargs: Any
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(instance)
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        customer_field: Any = self.fields["customer"]
        customer_field.queryset = scoped(Customer, user).order_by("name")
        ci_field: Any = self.fields["ci"]
        ci_field.queryset = scoped(ConfigurationItem, user).order_by("name", "pk")
        probe_field: Any = self.fields["probes"]
        probe_field.queryset = (
            scoped(Probe, user).filter(revoked_at__isnull=True, is_local=False).order_by("name")
        )
        calendar_field: Any = self.fields["calendar"]
        calendar_field.queryset = scoped(ServiceCalendar, user).order_by("name")
        if instance is not None:
            customer_field.disabled = True
        if user.customer_id is not None:
            customer_field.initial = user.customer_id
        _style(self)

    @staticmethod
    def initial_for(monitor: Monitor) -> dict[str, Any]:
        options = dict(monitor.settings or {})
        initial: dict[str, Any] = {
            name: getattr(monitor, name)
            for name in CheckForm.COMMON
            if name not in {"probes", "labels", "customer", "ci", "calendar"}
        }
        initial.update(
            customer=monitor.customer_id,
            ci=monitor.ci_id,
            calendar=monitor.calendar_id,
            probes=list(monitor.probes.values_list("pk", flat=True)) if monitor.pk else [],
            labels="\n".join(f"{k}={v}" for k, v in (monitor.labels or {}).items()),
        )
        for name in KIND_FIELDS:
            if name not in options:
                continue
            value = options[name]
            if name == "headers" and isinstance(value, dict):
                value = "\n".join(f"{k}: {v}" for k, v in value.items())
            elif name == "json_expected":
                value = json.dumps(value, ensure_ascii=False)
            elif name in {"expected", "nameservers", "expected_status"} and isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            initial[name] = value
        return initial

    def fields_for(self, kind: str) -> list[str]:
        return [name for name, kinds in KIND_FIELDS.items() if kind in kinds]

    def common_fields(self) -> list[Any]:
        return [self[name] for name in self.COMMON]

    def kind_fields(self) -> list[tuple[Any, str]]:
        """(bound field, the kinds it belongs to) for the page's show/hide script."""
        return [
            (self[name], " ".join(str(k) for k in kinds)) for name, kinds in KIND_FIELDS.items()
        ]

    def clean_labels(self) -> dict[str, str]:
        return _pairs(self.cleaned_data.get("labels", ""), "=", "labels")

    def clean_headers(self) -> dict[str, str]:
        return _pairs(self.cleaned_data.get("headers", ""), ":", "headers")

    def clean_json_expected(self) -> Any:
        text = str(self.cleaned_data.get("json_expected") or "").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("Not valid JSON (put text in double quotes): %s") % error.msg
            ) from error

    def clean_customer(self) -> Customer:
        if self.instance is not None:
            return self.instance.customer
        customer: Customer = self.cleaned_data["customer"]
        return customer

    def settings_data(self) -> dict[str, Any]:
        """The kind's options from the cleaned fields (empty ones left out)."""
        data = self.cleaned_data
        kind = data.get("kind", "")
        options: dict[str, Any] = {}
        for name in self.fields_for(kind):
            value = data.get(name)
            if name in {"expected", "nameservers"}:
                items = _lines(value or "")
                if items:
                    options[name] = items
            elif name == "expected_status":
                items = _lines(value or "")
                if items:
                    options[name] = [int(i) if i.isdigit() else i for i in items]
            elif name == "follow_redirects":
                if value is False:
                    options[name] = False
            elif name == "headers":
                if value:
                    options[name] = value
            elif name == "json_expected":
                if value is not None:
                    options[name] = value
            elif name == "max_response_ms" and value is not None:
                options[name] = int(value) if float(value).is_integer() else value
            elif value not in (None, ""):
                if name == "method" and value == "GET":
                    continue
                options[name] = value
        return options

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "target": data["target"],
            "settings": self.settings_data(),
            "interval_seconds": data["interval_seconds"],
            "timeout_seconds": data["timeout_seconds"],
            "retries": data["retries"],
            "failure_threshold": data["failure_threshold"],
            "success_threshold": data["success_threshold"],
            "severity": data["severity"],
            "labels": data["labels"],
            "enabled": data["enabled"],
            "ci": data["ci"],
            "calendar": data["calendar"],
            "probes": list(data["probes"]),
        }

    def add_service_errors(self, error: services.MonitoringError) -> None:
        for key, messages in error.fields.items():
            name = key.removeprefix("settings.")
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message if target else f"{key}: {message}")


class BulkCheckForm(forms.Form):
    """Checks for many CIs at once: a customer's CIs of a type and/or with a tag."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=CheckKind.choices, initial=CheckKind.ICMP)
    ci_type = forms.ModelChoiceField(
        label=_("CI type"), queryset=CIType.objects.none(), required=False
    )
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False)
    target = forms.CharField(
        label=_("Target pattern"),
        required=False,
        help_text=_(
            "{host} is the CI's primary IP (else its host name), {hostname} its host name; "
            "empty: the kind's default."
        ),
    )
    port = forms.IntegerField(label=_("Port"), required=False, help_text=_("TCP and TLS."))
    interval_seconds = forms.IntegerField(label=_("Interval (s)"), initial=60)
    timeout_seconds = forms.FloatField(label=_("Timeout (s)"), initial=5)
    failure_threshold = forms.IntegerField(label=_("Failure threshold"), initial=2)
    severity = forms.ChoiceField(
        label=_("Severity when down"), choices=Severity.choices, initial=Severity.CRITICAL
    )
    probes = forms.ModelMultipleChoiceField(
        label=_("Probe locations"),
        queryset=Probe.objects.none(),
        required=False,
        help_text=_("None selected: the local probe."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        customer_field: Any = self.fields["customer"]
        customer_field.queryset = scoped(Customer, user).order_by("name")
        type_field: Any = self.fields["ci_type"]
        type_field.queryset = scoped(CIType, user).order_by("name")
        tag_field: Any = self.fields["tag"]
        tag_field.queryset = scoped(Tag, user).order_by("name")
        probe_field: Any = self.fields["probes"]
        probe_field.queryset = (
            scoped(Probe, user).filter(revoked_at__isnull=True, is_local=False).order_by("name")
        )
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("ci_type") and not data.get("tag"):
            raise forms.ValidationError(_("Choose a CI type, a tag or both."))
        return data

    def cis(self) -> list[ConfigurationItem]:
        data = self.cleaned_data
        items = scoped(ConfigurationItem, self.user).filter(customer=data["customer"])
        if data.get("ci_type"):
            items = items.filter(ci_type=data["ci_type"])
        if data.get("tag"):
            items = items.filter(tags=data["tag"])
        return list(items.order_by("name", "pk")[:2000])

    def template(self) -> dict[str, Any]:
        data = self.cleaned_data
        template: dict[str, Any] = {
            "interval_seconds": data["interval_seconds"],
            "timeout_seconds": data["timeout_seconds"],
            "failure_threshold": data["failure_threshold"],
            "severity": data["severity"],
            "probes": list(data["probes"]) or None,
        }
        if data.get("target"):
            template["target"] = data["target"]
        if data.get("port") is not None and data["kind"] in {CheckKind.TCP, CheckKind.TLS}:
            template["settings"] = {"port": data["port"]}
        return template


class ProbeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    zone = forms.CharField(
        label=_("Network zone"),
        max_length=100,
        required=False,
        help_text=_("Where the probe runs, e.g. 'Shanghai IDC' or 'customer LAN'."),
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("Empty: a provider probe that may run any customer's checks."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer_field: Any = self.fields["customer"]
        customer_field.queryset = scoped(Customer, user).order_by("name")
        self.user = user
        _style(self)

    def clean_customer(self) -> Customer | None:
        customer: Customer | None = self.cleaned_data.get("customer")
        if customer is None and not (
            self.user.is_superuser or self.user.has_perm("core.access_all_customers")
        ):
            raise forms.ValidationError(_("Only service managers create provider-wide probes."))
        return customer
