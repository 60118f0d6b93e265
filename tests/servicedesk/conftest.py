"""Service-desk fixtures: the personas' world plus seeded calendars and default SLA policies."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from opsassure.catalog import builtin
from opsassure.catalog.models import ServiceCalendar, SlaPolicy
from opsassure.catalog.policies import ensure_default_policy
from tests.conftest import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# Fixed years, so that no test depends on today's date (2099: no holiday data).
YEARS = [2025, 2026]


def sh(*args: int) -> dt.datetime:
    """An instant given as Asia/Shanghai wall time."""
    return dt.datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def calendars(db: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, ServiceCalendar]:
    monkeypatch.setattr(builtin, "default_years", lambda today=None: list(YEARS))
    builtin.seed_builtin_calendars(years=YEARS)
    return {c.code: c for c in ServiceCalendar.objects.filter(is_builtin=True)}


@pytest.fixture
def sd(world: World, calendars: dict[str, ServiceCalendar]) -> World:
    """The personas' world; customers A and B on the default 5×8 policy."""
    ensure_default_policy(world.customer_a, calendars["5x8"])
    ensure_default_policy(world.customer_b, calendars["5x8"])
    world.team_a.lead = world.manager
    world.team_a.save()
    return world


@pytest.fixture
def policy_a(sd: World) -> SlaPolicy:
    return SlaPolicy.objects.get(customer=sd.customer_a, is_default=True)
