from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from opsassure.core.ui import nav


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "menu": nav.menu_for(user) if user is not None else [],
        "LANGUAGES_AVAILABLE": settings.LANGUAGES,
        "embedded_mode": settings.IS_SQLITE,
    }
