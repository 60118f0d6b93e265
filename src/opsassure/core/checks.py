"""System checks of our own (run by `opsassure check`, `--deploy` adds the deploy ones)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_secret_key(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Several web machines must share one secret key, or sessions break between them."""
    configured = os.environ.get("OPSASSURE_SECRET_KEY") or os.environ.get(
        "OPSASSURE_SECRET_KEY_FILE"
    )
    if settings.IS_SQLITE or configured:
        return []
    return [
        Warning(
            "OPSASSURE_SECRET_KEY is not set: each machine generates its own key in its data "
            "directory, so sessions and signed links break between web machines.",
            hint="Set OPSASSURE_SECRET_KEY (or OPSASSURE_SECRET_KEY_FILE) to the same value "
            "everywhere.",
            id="opsassure.W001",
        )
    ]
