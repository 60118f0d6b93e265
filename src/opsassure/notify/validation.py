"""Checks on a destination's configuration, shared by the form and the API serializer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _

from opsassure.notify.channels.gateway import validate_gateway
from opsassure.notify.models import Channel, Severity

HTTP_KINDS = (Channel.WEBHOOK, Channel.DINGTALK, Channel.WECOM, Channel.FEISHU)


def destination_problems(kind: str, url: str, settings: Any) -> dict[str, list[str]]:
    """Field name → messages; empty when the destination can be used."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if not isinstance(settings, dict):
        add("settings", _("Settings must be a JSON object."))
        settings = {}
    if kind in HTTP_KINDS:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            add("url", _("Enter the robot's or webhook's http(s) URL."))
    elif kind == Channel.EMAIL:
        for address in [a.strip() for a in url.split(",") if a.strip()] or [""]:
            try:
                EmailValidator()(address)
            except ValidationError:
                add("url", _("Enter one or more e-mail addresses, separated by commas."))
                break
    elif kind in (Channel.SMS, Channel.VOICE):
        gateway = settings.get("gateway")
        if gateway is None:
            add("settings", _('An SMS or voice destination needs a "gateway" template.'))
        else:
            for problem in validate_gateway(gateway):
                add("settings", _("Gateway: %(problem)s") % {"problem": problem})
            target = str(gateway.get("url") or url) if isinstance(gateway, dict) else url
            if not target.startswith(("http://", "https://")):
                add("url", _("Enter the gateway's http(s) URL (here or in the template)."))
        phones = settings.get("phones", [])
        if not isinstance(phones, list | str):
            add("settings", _('"phones" must be a list of phone numbers.'))
    for key in ("at_mobiles", "mentions"):
        value = settings.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            add("settings", _('"%(key)s" must be a list of strings.') % {"key": key})
    headers = settings.get("headers", {})
    if not isinstance(headers, dict):
        add("settings", _('"headers" must be a JSON object.'))
    return problems


def severities_problems(values: Any) -> list[str]:
    if not isinstance(values, list) or any(v not in Severity.values for v in values):
        return [_("Choose severities from: %(list)s.") % {"list": ", ".join(Severity.values)}]
    return []


def user_channels_problems(values: Any) -> list[str]:
    allowed = [Channel.EMAIL, Channel.SMS, Channel.VOICE]
    if not isinstance(values, list) or not values or any(v not in allowed for v in values):
        return [_("Choose one or more channels from: %(list)s.") % {"list": ", ".join(allowed)}]
    return []
