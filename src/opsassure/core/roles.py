"""Roles named after the standard's post structure, seeded as groups with permissions.

Each app may add a ``roles.py`` module with ``PERMISSIONS = {role_code: ["app.codename", …]}``;
the lists are merged and applied after every ``migrate``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

SERVICE_MANAGER = "service_manager"
ENGINEER = "engineer"
OPERATOR = "operator"
AUDITOR = "auditor"
CUSTOMER_ADMIN = "customer_admin"
CUSTOMER_USER = "customer_user"

ROLE_LABELS = {
    SERVICE_MANAGER: _("Service manager (管理岗)"),
    ENGINEER: _("Engineer (技术支持岗)"),
    OPERATOR: _("Operator (操作岗)"),
    AUDITOR: _("Auditor (read-only + audit log)"),
    CUSTOMER_ADMIN: _("Customer admin"),
    CUSTOMER_USER: _("Customer user"),
}
PROVIDER_ROLES = (SERVICE_MANAGER, ENGINEER, OPERATOR, AUDITOR)
CUSTOMER_ROLES = (CUSTOMER_ADMIN, CUSTOMER_USER)

PERMISSIONS: dict[str, list[str]] = {
    SERVICE_MANAGER: [
        "core.access_all_customers",
        "core.view_customer",
        "core.add_customer",
        "core.change_customer",
        "core.view_customercontact",
        "core.add_customercontact",
        "core.change_customercontact",
        "core.delete_customercontact",
        "core.view_team",
        "core.add_team",
        "core.change_team",
        "core.view_user",
        "core.view_auditevent",
    ],
    ENGINEER: [
        "core.view_customer",
        "core.view_customercontact",
        "core.view_team",
        "core.view_user",
    ],
    OPERATOR: [
        "core.view_customer",
        "core.view_customercontact",
        "core.view_team",
        "core.view_user",
    ],
    AUDITOR: [
        "core.access_all_customers",
        "core.view_customer",
        "core.view_customercontact",
        "core.view_team",
        "core.view_user",
        "core.view_auditevent",
    ],
    CUSTOMER_ADMIN: [
        "core.view_customer",
        "core.view_customercontact",
        "core.change_customercontact",
        "core.add_customercontact",
        "core.view_user",
    ],
    CUSTOMER_USER: ["core.view_customer", "core.view_customercontact"],
}


def collect_permissions() -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {code: set(perms) for code, perms in PERMISSIONS.items()}
    for config in apps.get_app_configs():
        if not config.name.startswith("opsassure.") or config.name == "opsassure.core":
            continue
        try:
            module = import_module(f"{config.name}.roles")
        except ModuleNotFoundError as error:
            if error.name == f"{config.name}.roles":
                continue
            raise
        extra: dict[str, list[str]] = getattr(module, "PERMISSIONS", {})
        for code, perms in extra.items():
            merged.setdefault(code, set()).update(perms)
    return merged


def sync_roles(**_: Any) -> None:
    """Create the role groups and set exactly the declared permissions (idempotent)."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for code, perms in collect_permissions().items():
        group, _created = group_model.objects.get_or_create(name=code)
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".", 1)
            found = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)


def connect() -> None:
    post_migrate.connect(sync_roles, dispatch_uid="opsassure_sync_roles")
