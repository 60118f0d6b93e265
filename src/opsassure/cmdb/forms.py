"""CMDB forms. They only check and shape input; every write goes through cmdb.services."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms.models import fields_for_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb import services
from opsassure.cmdb.models import (
    LIFECYCLE_TRANSITIONS,
    AttributeKind,
    CIType,
    ConfigurationItem,
    Lifecycle,
    Location,
    MaintenanceContract,
    RelationType,
    Supplier,
)
from opsassure.cmdb.schema import validate_schema
from opsassure.core.models import Customer, Team, User
from opsassure.core.tenancy import is_provider_staff, scoped

ATTRIBUTE_PREFIX = "attr__"
SHARED = "shared"
# Common CI fields on the create/edit form, by section (model field names).
SECTIONS: list[tuple[Any, list[str]]] = [
    (
        _("General"),
        ["name", "status", "environment", "criticality", "owner_team", "description"],
    ),
    (
        _("Network"),
        ["hostname", "primary_ip", "ip_addresses", "monitoring_endpoint"],
    ),
    (
        _("Asset and location"),
        [
            "vendor",
            "model",
            "serial_number",
            "asset_tag",
            "location",
            "rack_unit",
            "purchase_date",
            "cost",
            "supplier",
            "warranty_end",
            "maintenance_contract",
            "depreciation_months",
        ],
    ),
]
MODEL_FIELDS = [
    name for _title, names in SECTIONS for name in names if name not in {"ip_addresses"}
]
_SPLIT = re.compile(r"[\s,，;；]+")
_TAG_SPLIT = re.compile(r"[,，;；\n]+")


def split_addresses(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text or "") if part]


def split_tags(text: str) -> list[str]:
    return [part.strip() for part in _TAG_SPLIT.split(text or "") if part.strip()]


def style(form: forms.BaseForm) -> None:
    """Tabler classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def flag_errors(form: forms.BaseForm) -> None:
    """Mark the widgets of fields with errors (Bootstrap's is-invalid)."""
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class LifecycleField(forms.ChoiceField):
    """Offers only the allowed moves, but accepts any status so that a refused move gets the
    service's clear "Cannot move from … to …" message instead of "Select a valid choice"."""

    def valid_value(self, value: Any) -> bool:
        return value in Lifecycle.values


def attribute_field(spec: dict[str, Any]) -> forms.Field:
    """The form field for one schema attribute, with the widget its kind needs."""
    kind = spec.get("kind", AttributeKind.TEXT)
    required = bool(spec.get("required"))
    label = str(spec.get("label") or spec["name"])
    if kind == AttributeKind.INTEGER:
        return forms.IntegerField(label=label, required=required)
    if kind == AttributeKind.DECIMAL:
        return forms.DecimalField(label=label, required=required, max_digits=20)
    if kind == AttributeKind.BOOLEAN:
        return forms.TypedChoiceField(
            label=label,
            required=required,
            choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))],
            coerce=lambda value: value == "true",
            empty_value=None,
        )
    if kind == AttributeKind.DATE:
        return forms.DateField(
            label=label, required=required, widget=forms.DateInput(attrs={"type": "date"})
        )
    if kind == AttributeKind.CHOICE:
        choices = [("", "—")] + [(c, c) for c in spec.get("choices", [])]
        return forms.ChoiceField(label=label, required=required, choices=choices)
    if kind == AttributeKind.IP:
        return forms.GenericIPAddressField(label=label, required=required)
    return forms.CharField(label=label, required=required, max_length=2000)


def _initial_attribute(spec: dict[str, Any], value: Any) -> Any:
    if spec.get("kind") == AttributeKind.BOOLEAN and isinstance(value, bool):
        return "true" if value else "false"
    return value


def relation_candidates(
    ci: ConfigurationItem, user: User | AnonymousUser
) -> QuerySet[ConfigurationItem]:
    """CIs that may be related to ``ci``: same customer or shared provider CIs.

    A shared provider CI may be the target of any customer's CI, so for a shared CI every
    visible CI is a candidate (the service still refuses what the direction does not allow).
    """
    visible = scoped(ConfigurationItem, user).exclude(pk=ci.pk)
    if ci.customer_id is None:
        return visible
    return visible.filter(Q(customer_id=ci.customer_id) | Q(customer__isnull=True))


class CIForm(forms.Form):
    """Create or edit a CI: common fields plus one field per attribute of the chosen type."""

    customer = forms.ChoiceField(label=_("Customer"), choices=[])
    ci_type = forms.ModelChoiceField(queryset=CIType.objects.all(), label=_("Type"))
    ip_addresses = forms.CharField(
        label=_("IP addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("All addresses of the CI, one per line or separated by commas."),
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separated by commas, e.g. 等保三级, 信创")
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        instance: ConfigurationItem | None = None,
        ci_type: CIType | None = None,
        **kwargs: Any,
    ) -> None:
        self.user = user
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self._initial_from(instance)
        super().__init__(*args, **kwargs)
        fields = fields_for_model(ConfigurationItem, fields=MODEL_FIELDS)
        self.fields.update(fields)
        self._scope_choices()
        self._status_field()
        self.ci_type_obj = self._chosen_type(ci_type)
        self.attribute_names: list[str] = []
        if self.ci_type_obj is not None:
            for spec in self.ci_type_obj.attribute_schema:
                name = ATTRIBUTE_PREFIX + spec["name"]
                self.fields[name] = attribute_field(spec)
                self.attribute_names.append(name)
                if instance is not None and name not in self.initial:
                    self.initial[name] = _initial_attribute(
                        spec, instance.attributes.get(spec["name"])
                    )
        self.fields["ci_type"].widget.attrs["data-testid"] = "ci-type"
        style(self)

    @staticmethod
    def _initial_from(ci: ConfigurationItem) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(ci, f"{name}_id" if name in _FOREIGN_KEYS else name)
            for name in MODEL_FIELDS
        }
        initial["ci_type"] = ci.ci_type_id
        initial["ip_addresses"] = "\n".join(a.address for a in ci.addresses.all())
        initial["tags"] = ", ".join(t.name for t in ci.tags.all())
        return initial

    def _scope_choices(self) -> None:
        user = self.user
        # An explicit choice: a shared provider CI is never created by leaving the field empty.
        customers = list(scoped(Customer, user).order_by("code").only("id", "code", "name"))
        self._customers = {str(customer.pk): customer for customer in customers}
        choices: list[tuple[str, Any]] = [("", "—")]
        if is_provider_staff(user):
            choices.append((SHARED, _("Shared provider CI (no customer)")))
        choices += [(str(customer.pk), customer.name) for customer in customers]
        customer_field = self.fields["customer"]
        assert isinstance(customer_field, forms.ChoiceField)
        customer_field.choices = choices
        if self.instance is not None:
            del self.fields["customer"]  # a CI never changes customer
        querysets: dict[str, QuerySet[Any]] = {
            "owner_team": scoped(Team, user).filter(is_active=True).order_by("name"),
            "location": scoped(Location, user).select_related("parent").order_by("name"),
            "supplier": scoped(Supplier, user).order_by("name"),
            "maintenance_contract": scoped(MaintenanceContract, user)
            .select_related("supplier")
            .order_by("ends_on", "id"),
        }
        if self.instance is not None:
            customer_id = self.instance.customer_id
            querysets["location"] = querysets["location"].filter(
                Q(customer_id=customer_id) | Q(customer__isnull=True)
            )
            querysets["maintenance_contract"] = querysets["maintenance_contract"].filter(
                customer_id=customer_id
            )
        for name, queryset in querysets.items():
            model_field = self.fields[name]
            assert isinstance(model_field, forms.ModelChoiceField)
            model_field.queryset = queryset
            model_field.empty_label = "—"
        for name in ("purchase_date", "warranty_end"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["description"].widget.attrs["rows"] = 3

    def _status_field(self) -> None:
        current = self.instance.status if self.instance is not None else None
        allowed = (
            {current, *LIFECYCLE_TRANSITIONS.get(current, frozenset())}
            if current
            else set(Lifecycle.values)
        )
        self.fields["status"] = LifecycleField(
            label=capfirst(ConfigurationItem._meta.get_field("status").verbose_name),
            choices=[(value, label) for value, label in Lifecycle.choices if value in allowed],
            initial=Lifecycle.IN_USE,
        )

    def _chosen_type(self, given: CIType | None) -> CIType | None:
        if given is not None:
            return given
        raw: Any = self.data.get("ci_type") if self.is_bound else self.initial.get("ci_type")
        if isinstance(raw, CIType):
            return raw
        if raw in (None, ""):
            return None
        try:
            return CIType.objects.filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            return None

    @property
    def attribute_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.attribute_names]

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in SECTIONS]

    def clean_customer(self) -> Customer | None:
        value = self.cleaned_data["customer"]
        return None if value == SHARED else self._customers[value]

    def clean_status(self) -> str:
        status: str = self.cleaned_data["status"]
        if self.instance is not None:
            try:
                services.check_transition(self.instance, status)
            except ValidationError as error:
                raise ValidationError(error.message_dict.get("status", error.messages)) from error
        return status

    def clean_ip_addresses(self) -> list[str]:
        addresses = split_addresses(self.cleaned_data.get("ip_addresses", ""))
        try:
            return services.normalise_addresses(addresses)
        except ValidationError as error:
            raise ValidationError(error.message_dict.get("ip_addresses", error.messages)) from error

    def clean_tags(self) -> list[str]:
        tags = split_tags(self.cleaned_data.get("tags", ""))
        if any(len(tag) > 50 for tag in tags):
            raise ValidationError(_("A tag is at most 50 characters."))
        return tags

    def service_values(self) -> dict[str, Any]:
        """Keyword arguments for services.create_ci / update_ci."""
        data = self.cleaned_data
        values: dict[str, Any] = {}
        for name in MODEL_FIELDS:
            value = data.get(name)
            if value == "" and getattr(ConfigurationItem._meta.get_field(name), "null", False):
                value = None
            values[name] = value
        values["ci_type"] = data["ci_type"]
        attributes = {}
        for name in self.attribute_names:
            value = data.get(name)
            if value is not None and value != "":
                attributes[name.removeprefix(ATTRIBUTE_PREFIX)] = value
        values["attributes"] = attributes
        values["ip_addresses"] = data.get("ip_addresses", [])
        values["tags"] = data.get("tags", [])
        return values

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's ValidationError on the fields it names (attributes included)."""
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for key, messages in error.message_dict.items():
            for message in messages:
                if key == "attributes":
                    name, _sep, _rest = message.partition(":")
                    target = ATTRIBUTE_PREFIX + name.strip()
                    self.add_error(target if target in self.fields else None, message)
                elif key in self.fields:
                    self.add_error(key, message)
                elif key.removesuffix("_id") in self.fields:
                    self.add_error(key.removesuffix("_id"), message)
                else:
                    self.add_error(None, message)


_FOREIGN_KEYS = {"owner_team", "location", "supplier", "maintenance_contract"}


class BulkEditForm(forms.Form):
    """Status / owner team / tags for many CIs; the service applies all or nothing."""

    status = forms.ChoiceField(
        label=_("Set status"), required=False, choices=[("", "—"), *Lifecycle.choices]
    )
    owner_team = forms.ModelChoiceField(
        label=_("Set owner team"), queryset=Team.objects.none(), required=False, empty_label="—"
    )
    add_tags = forms.CharField(label=_("Add tags"), required=False, max_length=500)
    remove_tags = forms.CharField(label=_("Remove tags"), required=False, max_length=500)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["owner_team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = scoped(Team, user).filter(is_active=True).order_by("name")
        style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["add_tags"] = split_tags(data.get("add_tags", ""))
        data["remove_tags"] = split_tags(data.get("remove_tags", ""))
        if any(len(tag) > 50 for tag in data["add_tags"]):
            self.add_error("add_tags", _("A tag is at most 50 characters."))
        if not (
            data.get("status") or data.get("owner_team") or data["add_tags"] or data["remove_tags"]
        ):
            raise ValidationError(_("Choose at least one change to apply."))
        return data


class RelationForm(forms.Form):
    """Add a relation from (or to) the CI shown; the target comes from the search picker."""

    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[
            ("outgoing", _("This CI → the other CI")),
            ("incoming", _("The other CI → this CI")),
        ],
        initial="outgoing",
    )
    relation_type = forms.ChoiceField(label=_("Relation"), choices=RelationType.choices)
    other = forms.ModelChoiceField(
        label=_("Other CI"),
        queryset=ConfigurationItem.objects.none(),
        error_messages={"invalid_choice": _("Choose a CI from the search results.")},
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(
        self, *args: Any, ci: ConfigurationItem, user: User | AnonymousUser, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        other_field = self.fields["other"]
        assert isinstance(other_field, forms.ModelChoiceField)
        other_field.queryset = relation_candidates(ci, user)
        other_field.widget.choices = []  # options come from the search endpoint
        style(self)


_ICON = re.compile(r"^[a-z0-9-]{1,40}$")
_REQUIRED_CHOICES = sorted(set(services.EDITABLE_FIELDS) - {"name", "ci_type", "attributes"})


class CITypeForm(forms.ModelForm[CIType]):
    """A custom CI type; its attribute schema is edited as JSON and checked by validate_schema."""

    attribute_schema = forms.CharField(
        label=_("Attribute schema (JSON)"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 14, "spellcheck": "false", "class": "form-control font-monospace"}
        ),
        help_text=_(
            'A list of attributes, e.g. [{"name": "port", "label": "Port / 端口", '
            '"kind": "integer", "required": false}]. Kinds: text, integer, decimal, boolean, '
            'date, choice (with "choices": [...]), ip.'
        ),
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Common fields this type must fill (checked by the configuration audit)"),
        required=False,
        choices=[(name, name) for name in _REQUIRED_CHOICES],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = CIType
        fields = ["code", "name", "icon", "is_hardware", "sort_order", "required_fields"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        required_field = self.fields["required_fields"]
        assert isinstance(required_field, forms.MultipleChoiceField)
        from opsassure.cmdb.presenters import field_label

        required_field.choices = [(name, field_label(name)) for name in _REQUIRED_CHOICES]
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.initial["attribute_schema"] = json.dumps(
                self.instance.attribute_schema, ensure_ascii=False, indent=2
            )
        else:
            self.initial.setdefault("attribute_schema", "[]")
        self.fields["icon"].help_text = _("A Tabler icon name, e.g. server, database, router.")
        style(self)

    def clean_icon(self) -> str:
        icon: str = self.cleaned_data["icon"]
        if not _ICON.match(icon):
            raise ValidationError(_("Lower-case letters, digits and '-' only."))
        return icon

    def clean_attribute_schema(self) -> list[dict[str, Any]]:
        text = (self.cleaned_data.get("attribute_schema") or "").strip() or "[]"
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(
                _("Not valid JSON: %(problem)s (line %(line)d, column %(column)d).")
                % {"problem": error.msg, "line": error.lineno, "column": error.colno}
            ) from error
        return validate_schema(schema)

    def save(self, commit: bool = True) -> CIType:
        self.instance.attribute_schema = self.cleaned_data["attribute_schema"]
        return super().save(commit)
