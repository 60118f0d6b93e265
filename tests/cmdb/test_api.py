from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from opsassure.cmdb.models import CIChange, ConfigurationItem, Relation
from tests.conftest import World, api_as

pytestmark = pytest.mark.django_db
MakeCI = Callable[..., ConfigurationItem]


def _payload(**extra: object) -> dict[str, object]:
    return {
        "customer": None,
        "ci_type": "database",
        "name": "HIS-DB",
        "attributes": {"engine": "Oracle", "port": 1521},
        "ip_addresses": ["10.1.1.10", "10.1.1.11"],
        "tags": ["核心"],
        **extra,
    }


def test_create_read_and_update_a_ci(world: World, builtin_types: None) -> None:
    client = api_as(world.engineer_a)
    created = client.post(
        "/api/v1/cmdb/cis/", _payload(customer=world.customer_a.pk), format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["primary_ip"], body["ip_addresses"], body["tags"]) == (
        "10.1.1.10",
        ["10.1.1.10", "10.1.1.11"],
        ["核心"],
    )
    url = f"/api/v1/cmdb/cis/{body['id']}/"
    patched = client.patch(url, {"status": "maintenance", "hostname": "his-db"}, format="json")
    assert patched.status_code == 200
    history = client.get(f"{url}history/").json()["results"]
    assert [h["kind"] for h in history] == ["updated", "created"]
    assert history[0]["changes"]["status"] == ["in_use", "maintenance"]
    assert history[0]["actor_name"] == "engineer_a"


def test_schema_and_transition_errors_are_400_and_write_nothing(
    world: World, builtin_types: None
) -> None:
    client = api_as(world.engineer_a)
    bad = client.post(
        "/api/v1/cmdb/cis/",
        _payload(
            customer=world.customer_a.pk,
            attributes={"engine": "dBase", "port": "x"},
            ip_addresses=["999.1.1.1"],
        ),
        format="json",
    )
    assert bad.status_code == 400
    fields = bad.json()["error"]["fields"]
    assert set(fields) == {"attributes"} or set(fields) == {"attributes", "ip_addresses"}
    assert ConfigurationItem.objects.count() == 0
    unknown_type = client.post(
        "/api/v1/cmdb/cis/",
        _payload(customer=world.customer_a.pk, ci_type="toaster"),
        format="json",
    )
    assert unknown_type.status_code == 400
    assert "ci_type" in unknown_type.json()["error"]["fields"]
    ok = client.post(
        "/api/v1/cmdb/cis/", _payload(customer=world.customer_a.pk), format="json"
    ).json()
    refused = client.patch(f"/api/v1/cmdb/cis/{ok['id']}/", {"status": "ordered"}, format="json")
    assert refused.status_code == 400
    assert "status" in refused.json()["error"]["fields"]
    assert ConfigurationItem.objects.get(pk=ok["id"]).status == "in_use"
    assert CIChange.objects.filter(ci_id=ok["id"]).count() == 1


def test_customer_users_create_only_their_own_customers_cis(
    world: World, builtin_types: None
) -> None:
    from django.contrib.auth.models import Permission

    world.customer_a_admin.user_permissions.add(
        Permission.objects.get(codename="add_configurationitem")
    )
    client = api_as(world.fresh(world.customer_a_admin))
    own = client.post("/api/v1/cmdb/cis/", _payload(customer=None), format="json")
    assert own.status_code == 201
    assert own.json()["customer"] == world.customer_a.pk
    theirs = client.post(
        "/api/v1/cmdb/cis/", _payload(customer=world.customer_b.pk, name="x"), format="json"
    )
    assert theirs.status_code == 400
    assert ConfigurationItem.objects.filter(customer=world.customer_b).count() == 0


def test_relations_impact_and_as_of_through_the_api(world: World, make_ci: MakeCI) -> None:
    service = make_ci(
        world.customer_a, "门诊挂号", "business_service", attributes={"service_hours": "7×24"}
    )
    app = make_ci(world.customer_a, "HIS", "application")
    client = api_as(world.engineer_a)
    created = client.post(
        "/api/v1/cmdb/relations/",
        {"source": service.pk, "target": app.pk, "relation_type": "depends_on"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    cycle = client.post(
        "/api/v1/cmdb/relations/",
        {"source": app.pk, "target": service.pk, "relation_type": "depends_on"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert cycle.status_code == 400
    assert "cycle" in str(cycle.json()["error"]["fields"])
    impact = client.get(f"/api/v1/cmdb/cis/{app.pk}/impact/", {"depth": 3}).json()
    assert [s["name"] for s in impact["affected_services"]] == ["门诊挂号"]
    assert (
        client.get(f"/api/v1/cmdb/cis/{app.pk}/impact/", {"direction": "sideways"}).status_code
        == 400
    )
    as_of = client.get(f"/api/v1/cmdb/cis/{app.pk}/as-of/", {"at": timezone.now().isoformat()})
    assert as_of.status_code == 200
    assert len(as_of.json()["relations"]) == 1
    assert client.get(f"/api/v1/cmdb/cis/{app.pk}/as-of/", {"at": "yesterday"}).status_code == 400
    assert client.delete(f"/api/v1/cmdb/relations/{created.json()['id']}/").status_code == 204
    assert Relation.objects.count() == 0


def test_relation_to_another_customers_ci_is_refused(world: World, make_ci: MakeCI) -> None:
    mine = make_ci(world.customer_a, "mine")
    theirs = make_ci(world.customer_b, "theirs")
    response = api_as(world.manager).post(
        "/api/v1/cmdb/relations/",
        {"source": mine.pk, "target": theirs.pk, "relation_type": "depends_on"},
        format="json",
    )
    assert response.status_code == 400
    # A scoped engineer cannot even name B's CI.
    response = api_as(world.engineer_a).post(
        "/api/v1/cmdb/relations/",
        {"source": mine.pk, "target": theirs.pk, "relation_type": "depends_on"},
        format="json",
    )
    assert response.status_code == 400
    assert "target" in response.json()["error"]["fields"]
    assert Relation.objects.count() == 0


def test_bulk_update_via_api(world: World, make_ci: MakeCI) -> None:
    a, b = make_ci(world.customer_a, "a"), make_ci(world.customer_a, "b")
    other = make_ci(world.customer_b, "other")
    client = api_as(world.engineer_a)
    response = client.post(
        "/api/v1/cmdb/cis/bulk-update/",
        {"ids": [a.pk, b.pk], "status": "maintenance", "add_tags": ["巡检"]},
        format="json",
    )
    assert response.json() == {"updated": 2}
    assert set(
        ConfigurationItem.objects.filter(status="maintenance").values_list("name", flat=True)
    ) == {"a", "b"}
    leak = client.post(
        "/api/v1/cmdb/cis/bulk-update/",
        {"ids": [a.pk, other.pk], "status": "in_use"},
        format="json",
    )
    assert leak.status_code == 404
    assert ConfigurationItem.objects.get(pk=a.pk).status == "maintenance"


def test_ci_list_filters_and_search(world: World, make_ci: MakeCI) -> None:
    make_ci(world.customer_a, "his-app", "application", hostname="his01")
    make_ci(
        world.customer_a,
        "db",
        "database",
        attributes={"engine": "MySQL"},
        ip_addresses=["10.9.9.9"],
        serial_number="SN123",
    )
    client = api_as(world.engineer_a)

    def names(**params: object) -> list[str]:
        return [r["name"] for r in client.get("/api/v1/cmdb/cis/", params).json()["results"]]

    assert names(ci_type="database") == ["db"]
    assert names(q="10.9.9.9") == ["db"]
    assert names(q="SN12") == ["db"]
    assert names(q="his") == ["his-app"]
    assert names(status="retired") == []
    assert client.get("/api/v1/cmdb/cis/", {"ci_type": "nope"}).status_code == 400


def test_ci_list_query_count_is_bounded(
    world: World, make_ci: MakeCI, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for index in range(30):
        make_ci(
            world.customer_a, f"vm-{index}", ip_addresses=[f"10.0.0.{index + 1}"], tags=["t1", "t2"]
        )
    client = api_as(world.engineer_a)
    client.get("/api/v1/cmdb/cis/")  # warm session/permission caches
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/cmdb/cis/", {"page_size": 30})
    assert len(response.json()["results"]) == 30
