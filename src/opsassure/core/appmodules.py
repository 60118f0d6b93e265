"""Find the optional modules each OpsAssure app may provide (api.urls, urls, menu, demo…)."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from django.apps import apps


def import_app_modules(suffix: str) -> list[tuple[str, ModuleType]]:
    """Import ``<app>.<suffix>`` for every OpsAssure app that has one (web excluded)."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("opsassure.") or config.label == "web":
            continue
        module_name = f"{config.name}.{suffix}"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is not None and module_name.startswith(error.name):
                continue
            raise
        found.append((config.label, module))
    return found
