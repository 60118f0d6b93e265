"""GET /api/v1/servicedesk/kpis/: figures, validation, permissions and tenant scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from opsassure.core.models import User
from tests.conftest import World, api_as
from tests.servicedesk.kpi_data import KpiWorld, build

pytestmark = pytest.mark.django_db

URL = "/api/v1/servicedesk/kpis/"


def may_view(user: User) -> User:
    """The roles grant ``servicedesk.view_ticket``; make sure of it for this test user."""
    if not user.has_perm("servicedesk.view_ticket"):
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="servicedesk", codename="view_ticket")
        )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def data(world: World) -> KpiWorld:
    return build(world)


def get(user: User, **params: Any) -> Any:
    return api_as(may_view(user)).get(URL, params, HTTP_ACCEPT_LANGUAGE="en")


def test_monthly_figures_in_the_users_zone(data: KpiWorld) -> None:
    response = get(data.world.engineer_a, month="2026-11")
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "start": "2026-10-31T16:00:00Z",
        "end": "2026-11-30T16:00:00Z",
        "time_zone": "Asia/Shanghai",
    }
    overall = body["overall"]
    assert overall["received"] == 8
    assert overall["resolved"] == 4
    assert overall["sla"]["response"]["achievement"] == 60.0
    assert overall["sla"]["resolution"]["achievement"] == 75.0
    assert overall["time_to_resolve"]["business"] == {
        "count": 4,
        "mean_seconds": 16200.0,
        "p90_seconds": 36000.0,
    }
    assert overall["satisfaction"]["mean"] == 3.5
    assert body["groups"] == []
    assert body["resolution_rate_variant"] == "resolved"
    assert set(body["definitions"]) >= {"sla_response", "time_to_resolve", "resolution_rate"}


def test_from_to_and_grouping(data: KpiWorld) -> None:
    response = get(
        data.world.engineer_a,
        **{"from": "2026-10-01", "to": "2026-11-30", "group_by": "month"},
    )
    assert response.status_code == 200
    groups = {g["key"]: g for g in response.json()["groups"]}
    assert {k: g["received"] for k, g in groups.items()} == {"2026-10": 2, "2026-11": 8}
    by_priority = get(data.world.engineer_a, month="2026-11", group_by="priority").json()
    assert [(g["key"], g["label"], g["received"]) for g in by_priority["groups"]] == [
        (1, "P1 critical", 1),
        (2, "P2 high", 2),
        (3, "P3 medium", 4),
        (4, "P4 low", 1),
    ]


def test_resolution_rate_variant(data: KpiWorld) -> None:
    body = get(data.world.engineer_a, month="2026-11", resolution_rate="within_sla").json()
    assert body["overall"]["resolution_rate"] == {"resolved": 2, "of": 7, "rate": 28.57}
    assert "within the resolution target" in body["definitions"]["resolution_rate"]


def test_tenant_scope(data: KpiWorld) -> None:
    world = data.world
    assert get(world.customer_a_admin, month="2026-11").json()["overall"]["received"] == 8
    theirs = get(world.customer_b_user, month="2026-11").json()["overall"]
    assert (theirs["received"], theirs["resolved"]) == (1, 1)
    # Asking for another customer's figures: refused like an unknown id, nothing of B shown.
    response = get(world.customer_a_admin, month="2026-11", customer=world.customer_b.pk)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"customer"}
    assert world.customer_b.name not in response.content.decode()
    engineer = get(world.engineer_a, month="2026-11", customer=world.customer_b.pk)
    assert engineer.status_code == 400


def test_customer_users_cannot_use_provider_dimensions(data: KpiWorld) -> None:
    world = data.world
    for params in ({"group_by": "team"}, {"group_by": "assignee"}, {"team": world.team_a.pk}):
        response = get(world.customer_a_admin, **params)
        assert response.status_code == 400, params
    assert get(world.engineer_a, group_by="team").status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "to"),
        ({"month": "2026-13"}, "month"),
        ({"from": "yesterday"}, "from"),
        ({"priority": "9"}, "priority"),
        ({"group_by": "colour"}, "group_by"),
        ({"resolution_rate": "made_up"}, "resolution_rate"),
        ({"customer": "abc"}, "customer"),
    ],
)
def test_bad_parameters_are_a_400_with_the_field(
    world: World, params: dict[str, str], field: str
) -> None:
    response = get(world.engineer_a, **params)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_permissions(world: World) -> None:
    assert api_as(world.outsider).get(URL).status_code == 403
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code in {401, 403}


def test_query_count_is_flat(data: KpiWorld, django_assert_max_num_queries: Any) -> None:
    user = may_view(data.world.engineer_a)
    client = api_as(user)
    with django_assert_max_num_queries(30):
        assert client.get(URL, {"group_by": "priority"}).status_code == 200
