"""Vocabulary shared by the monitoring models."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    """The alert severities monitoring raises (the alerting pipeline's own vocabulary)."""

    CRITICAL = "critical", _("Critical")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


class Period(models.TextChoices):
    HOUR = "h", _("Hour")
    DAY = "d", _("Day")


def new_key_id() -> str:
    """The public part of a probe or agent token (``opsp_<key_id>_<secret>``)."""
    return secrets.token_hex(6)
