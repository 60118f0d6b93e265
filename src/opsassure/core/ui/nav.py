"""The sidebar registry, rendered by the web shell.

Each app declares its menu in ``<app>/menu.py``; apps that are not installed are not shown.

A menu entry that lists a model (``model=``) is also a UI list that the generic tenant
isolation test walks, so registering the menu is all a new list needs to be covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.functional import Promise

# Display order of the modules named in ARCHITECTURE.md.
SECTION_ORDER = [
    "web",
    "servicedesk",
    "alerting",
    "oncall",
    "monitoring",
    "cmdb",
    "problems",
    "changes",
    "knowledge",
    "automation",
    "continuity",
    "inventory",
    "people",
    "quality",
    "catalog",
    "core",
]


@dataclass(frozen=True)
class MenuItem:
    label: str | Promise
    url_name: str
    icon: str = "point"
    permission: str | None = None
    model: type[models.Model] | None = None
    staff_only: bool = False

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def visible_for(self, user: Any) -> bool:
        if not user.is_authenticated:
            return False
        if self.staff_only and getattr(user, "customer_id", None) is not None:
            return False
        return self.permission is None or user.has_perm(self.permission)


@dataclass
class MenuSection:
    app_label: str
    label: str | Promise
    icon: str
    items: list[MenuItem] = field(default_factory=list)


_sections: dict[str, MenuSection] = {}


def register(section: MenuSection) -> None:
    _sections[section.app_label] = section


def sections() -> list[MenuSection]:
    order = {label: index for index, label in enumerate(SECTION_ORDER)}
    return sorted(_sections.values(), key=lambda s: order.get(s.app_label, len(order)))


def menu_for(user: Any) -> list[tuple[MenuSection, list[MenuItem]]]:
    result = []
    for section in sections():
        items = [item for item in section.items if item.visible_for(user)]
        if items:
            result.append((section, items))
    return result


def list_items() -> list[MenuItem]:
    """Every UI list backed by a model (walked by the tenant isolation test)."""
    return [item for section in sections() for item in section.items if item.model is not None]


def load_app_menus() -> None:
    from opsassure.core.appmodules import import_app_modules

    for _label, module in import_app_modules("menu"):
        section = getattr(module, "MENU", None)
        if section is not None:
            register(section)
