"""Notification demo data: a provider-wide NOC mailing list and a (disabled) DingTalk robot
for the hospital customer, to show the destinations page. Idempotent (by name)."""

from __future__ import annotations

from typing import Any

from opsassure.core.models import Customer
from opsassure.notify.models import Destination


def load(console: Any = None) -> None:
    Destination.objects.get_or_create(
        name="NOC 值班邮件组",
        defaults={"kind": "email", "url": "noc@example.cn", "enabled": True},
    )
    hospital = Customer.objects.filter(code="JCH").first()
    if hospital is not None:
        Destination.objects.get_or_create(
            name="JCH 运维钉钉群",
            defaults={
                "customer": hospital,
                "kind": "dingtalk",
                # A placeholder: enter the robot's real URL and secret, then enable it.
                "url": "https://oapi.dingtalk.com/robot/send?access_token=REPLACE_ME",
                "enabled": False,
            },
        )
    if console is not None:
        console.print("notify: demo destinations")
