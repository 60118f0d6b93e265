"""Panels other apps add to a page they do not own, without the page's app importing them.

The CI detail page (cmdb) renders every registered CI panel as a card whose body HTMX loads
from ``reverse(url_name, args=[ci.pk])`` once the page is shown. An app registers its panels in
its ``AppConfig.ready()``, e.g. monitoring's host metrics and checks:

    register_ci_panel("monitoring", _("Monitoring"), "monitoring:ci-panel",
                      permission="monitoring.view_monitor")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class Panel:
    key: str
    title: str | Promise
    url_name: str
    permission: str | None = None
    icon: str = "layout-cards"

    def visible_for(self, user: Any) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return self.permission is None or bool(user.has_perm(self.permission))


_ci_panels: dict[str, Panel] = {}


def register_ci_panel(
    key: str,
    title: str | Promise,
    url_name: str,
    *,
    permission: str | None = None,
    icon: str = "layout-cards",
) -> None:
    """Add (or replace, by ``key``) a lazily loaded card on the CI detail page."""
    _ci_panels[key] = Panel(key, title, url_name, permission, icon)


def ci_panels_for(user: Any) -> list[Panel]:
    """The CI panels ``user`` may see, in registration order."""
    return [panel for panel in _ci_panels.values() if panel.visible_for(user)]
