"""``{% notification_deliveries obj %}``: the delivery state of the notifications about
``obj`` (an incident, alert group, escalation run …), for timelines. Scoped to the viewer."""

from __future__ import annotations

from typing import Any

from django import template

from opsassure.core.tenancy import scoped
from opsassure.notify.models import Notification, source_type_of

register = template.Library()


@register.inclusion_tag("notify/_deliveries.html", takes_context=True)
def notification_deliveries(context: Any, obj: Any, limit: int = 50) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or obj is None or not user.has_perm("notify.view_notification"):
        return {"deliveries": [], "allowed": False}
    deliveries = (
        scoped(Notification, user)
        .filter(source_type=source_type_of(obj), source_id=str(obj.pk))
        .select_related("user", "destination")
        .defer("body", "payload")
        .order_by("created_at", "id")[:limit]
    )
    return {"deliveries": list(deliveries), "allowed": True, "link": True}
