"""The catalog demo: both customers' catalogues and policies, believable and idempotent."""

from __future__ import annotations

import pytest

from opsassure.catalog import catalogue, policies
from opsassure.catalog.models import Service, ServiceCalendar, SlaPolicy
from opsassure.core.demo import load_demo
from opsassure.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_demo_catalogue_and_policies() -> None:
    load_demo()
    his = Service.objects.get(customer__code="JCH", code="HIS-IF")
    assert [s.code for s in catalogue.ancestors(his)] == ["HIS"]
    assert policies.policy_for(his.customer_id, his).code == "core-7x24"  # type: ignore[union-attr]
    desk = Service.objects.get(customer__code="JCH", code="DESK-PC")
    desk_policy = policies.policy_for(desk.customer_id, desk)
    assert desk_policy is not None
    assert (desk_policy.code, desk_policy.calendar.code) == ("default", "5x8")
    assert Service.objects.filter(customer__code="JCH").count() == 16
    assert Service.objects.filter(customer__code="RFS", parent__isnull=True).count() == 4
    trading = SlaPolicy.objects.get(customer__code="RFS", code="trading")
    assert trading.calendar.customer_id == trading.customer_id
    assert trading.calendar.days.exists()  # holidays seeded
    assert policies.target_minutes(trading, 1, "response") == 5
    assert SlaPolicy.objects.filter(is_default=True, customer__code__in=["JCH", "RFS"]).count() == 2
    state = (
        Service.objects.count(),
        SlaPolicy.objects.count(),
        ServiceCalendar.objects.count(),
        AuditEvent.objects.count(),
    )
    load_demo()
    assert state == (
        Service.objects.count(),
        SlaPolicy.objects.count(),
        ServiceCalendar.objects.count(),
        AuditEvent.objects.count(),
    )
