"""The KPI dashboard page: tiles, charts data, definitions, filters, scope."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from opsassure.core.models import User
from tests.conftest import World
from tests.servicedesk.kpi_data import KpiWorld, build
from tests.servicedesk.test_kpi_api import may_view

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.servicedesk.urls_kpi_test")]


@pytest.fixture
def data(world: World) -> KpiWorld:
    return build(world)


def page(user: User, **params: str) -> tuple[int, str]:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(may_view(user))
    response = client.get(reverse("servicedesk:kpi-dashboard"), params)
    return response.status_code, response.content.decode()


def charts(html: str) -> dict[str, object]:
    start = html.index(">", html.index('id="kpi-charts"')) + 1
    data: dict[str, object] = json.loads(html[start : html.index("</script>", start)])
    return data


def test_tiles_charts_and_definitions(data: KpiWorld) -> None:
    status, html = page(data.world.engineer_a, month="2026-11")
    assert status == 200
    assert 'data-testid="tile-sla_response"' in html
    assert "60.0 %" in html  # response SLA
    assert "75.0 %" in html  # resolution SLA and all targets
    assert "4.5 h" in html  # MTTR 16,200 business seconds
    assert "3.50 / 5" in html
    assert "Response SLA achievement = response targets met" in html  # definition shown
    series = charts(html)
    assert series["satisfaction"] == {"scores": ["1", "2", "3", "4", "5"], "data": [0, 1, 1, 1, 1]}
    sla = series["sla_by_priority"]
    assert isinstance(sla, dict)
    assert sla["priorities"] == ["P1 critical", "P2 high", "P3 medium", "P4 low"]
    assert sla["series"][0]["data"] == [0.0, 50.0, 100.0, None]
    weekly = series["weekly"]
    assert isinstance(weekly, dict)
    assert sum(weekly["series"][0]["data"]) + sum(weekly["series"][1]["data"]) == 10
    assert "vendor/echarts/echarts.min.js" in html


def test_customer_page_shows_only_their_figures(data: KpiWorld) -> None:
    world = data.world
    status, html = page(world.customer_a_admin, month="2026-11")
    assert status == 200
    assert world.customer_b.name not in html
    assert 'name="team"' not in html
    assert 'name="assignee"' not in html
    status, html = page(world.customer_b_user, month="2026-11")
    assert status == 200
    assert world.customer_a.name not in html
    assert charts(html)["satisfaction"] == {
        "scores": ["1", "2", "3", "4", "5"],
        "data": [1, 0, 0, 0, 0],
    }


def test_bad_filter_shows_the_error_and_this_month(world: World) -> None:
    status, html = page(world.engineer_a, **{"from": "2026-11-30", "to": "2026-11-01"})
    assert status == 200
    assert "The last day is before the first." in html


def test_needs_the_permission(world: World) -> None:
    client = Client()
    client.force_login(world.outsider)
    assert client.get(reverse("servicedesk:kpi-dashboard")).status_code == 403
    anonymous = Client().get(reverse("servicedesk:kpi-dashboard"))
    assert anonymous.status_code == 302
