from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opsassure.cmdb import queries, services
from opsassure.cmdb.models import CIChange, CIType, ConfigurationItem, Relation
from opsassure.cmdb.schema import validate_schema
from opsassure.core.models import AuditEvent
from tests.conftest import World

pytestmark = pytest.mark.django_db
MakeCI = Callable[..., ConfigurationItem]


def test_builtin_types_are_seeded_once(builtin_types: None) -> None:
    codes = set(CIType.objects.values_list("code", flat=True))
    assert {
        "business_service",
        "application",
        "database",
        "middleware",
        "server",
        "virtual_machine",
        "container_platform",
        "network_device",
        "security_device",
        "storage",
        "power_cooling",
    } <= codes
    from opsassure.cmdb.builtin import seed_builtins

    seed_builtins()
    assert CIType.objects.count() == len(codes)


def test_create_ci_checks_the_type_schema(world: World, make_ci: MakeCI) -> None:
    with pytest.raises(ValidationError) as error:
        make_ci(
            world.customer_a,
            "db-1",
            "database",
            attributes={"engine": "FoxPro", "port": "abc", "colour": "red"},
        )
    problems = error.value.message_dict["attributes"]
    assert len(problems) == 3
    assert any(p.startswith("engine:") for p in problems)
    assert any(p.startswith("port:") for p in problems)
    assert any(p.startswith("colour:") for p in problems)
    assert ConfigurationItem.objects.count() == 0
    ci = make_ci(
        world.customer_a, "db-1", "database", attributes={"engine": "PostgreSQL", "port": "5432"}
    )
    assert ci.attributes == {"engine": "PostgreSQL", "port": 5432}


def test_required_schema_attribute(world: World, make_ci: MakeCI) -> None:
    with pytest.raises(ValidationError) as error:
        make_ci(world.customer_a, "db-2", "database", attributes={})
    assert error.value.message_dict["attributes"] == ["engine: required"]


def test_schema_validation_lists_every_problem() -> None:
    with pytest.raises(ValidationError) as error:
        validate_schema(
            [
                {"name": "OK"},
                {"name": "a", "kind": "colour"},
                {"name": "a"},
                {"name": "c", "kind": "choice"},
                "x",
                {"name": "d", "extra": 1},
            ]
        )
    assert len(error.value.messages) == 6


def test_addresses_and_names_are_validated(world: World, make_ci: MakeCI) -> None:
    with pytest.raises(ValidationError) as error:
        make_ci(world.customer_a, "vm", ip_addresses=["10.0.0.1", "300.1.1.1", "x"])
    assert len(error.value.message_dict["ip_addresses"]) == 2
    ci = make_ci(world.customer_a, "vm", ip_addresses=["10.0.0.1", " 10.0.0.2 ", "10.0.0.1"])
    assert ci.primary_ip == "10.0.0.1"
    assert sorted(ci.addresses.values_list("address", flat=True)) == ["10.0.0.1", "10.0.0.2"]
    with pytest.raises(ValidationError):
        make_ci(world.customer_a, "vm")  # same name for the same customer
    make_ci(world.customer_b, "vm")  # another customer may use the name


def test_lifecycle_transitions_are_enforced(world: World, make_ci: MakeCI) -> None:
    ci = make_ci(world.customer_a, "vm", status="in_use")
    with pytest.raises(ValidationError) as error:
        services.update_ci(ci, actor=None, status="ordered")
    assert "Cannot move" in error.value.message_dict["status"][0]
    ci = services.update_ci(ci, actor=None, status="retired")
    ci = services.update_ci(ci, actor=None, status="disposed")
    with pytest.raises(ValidationError):
        services.update_ci(ci, actor=None, status="in_use")
    assert ConfigurationItem.objects.get(pk=ci.pk).status == "disposed"


def test_update_records_a_diff_and_a_noop_records_nothing(world: World, make_ci: MakeCI) -> None:
    ci = make_ci(world.customer_a, "vm", hostname="vm01", tags=["核心"])
    assert ci.changes.count() == 1
    services.update_ci(
        ci,
        actor=world.engineer_a,
        hostname="vm01.jch.local",
        tags=["核心", "等保三级"],
        source="api",
    )
    change = ci.changes.order_by("-id").first()
    assert change is not None
    assert change.kind == CIChange.Kind.UPDATED
    assert change.actor_name == "engineer_a"
    assert change.changes == {"hostname": ["vm01", "vm01.jch.local"], "tags": [[], ["等保三级"]]}
    services.update_ci(
        ConfigurationItem.objects.get(pk=ci.pk),
        actor=None,
        hostname="vm01.jch.local",
        tags=["核心", "等保三级"],
    )
    assert ci.changes.count() == 2
    updates = AuditEvent.objects.filter(
        object_type="cmdb.configurationitem", object_id=str(ci.pk), action="update"
    ).order_by("seq")
    assert [event.changes for event in updates] == [
        {"tags": {"added": ["核心"]}},
        {"hostname": ["vm01", "vm01.jch.local"]},
        {"tags": {"added": ["等保三级"]}},
    ]


def test_relation_rules(world: World, make_ci: MakeCI) -> None:
    app = make_ci(world.customer_a, "app", "application")
    vm = make_ci(world.customer_a, "vm")
    other = make_ci(world.customer_b, "vm-b")
    shared = make_ci(None, "bastion")
    services.add_relation(actor=None, source=app, target=vm, relation_type="runs_on")
    services.add_relation(actor=None, source=app, target=shared, relation_type="depends_on")
    cases = [
        (app, app, "depends_on", "itself"),
        (app, vm, "runs_on", "already exists"),
        (app, other, "depends_on", "cross customers"),
        (vm, app, "runs_on", "cycle"),
    ]
    for source, target, kind, message in cases:
        with pytest.raises(ValidationError) as error:
            services.add_relation(actor=None, source=source, target=target, relation_type=kind)
        assert message in " ".join(error.value.messages), message
    # A cycle is fine for relation types that allow it.
    services.add_relation(actor=None, source=vm, target=app, relation_type="connected_to")
    assert Relation.objects.count() == 3


def test_longer_cycles_are_refused(world: World, make_ci: MakeCI) -> None:
    a, b, c = (make_ci(world.customer_a, n) for n in "abc")
    services.add_relation(actor=None, source=a, target=b, relation_type="depends_on")
    services.add_relation(actor=None, source=b, target=c, relation_type="depends_on")
    with pytest.raises(ValidationError):
        services.add_relation(actor=None, source=c, target=a, relation_type="depends_on")


def _stack(world: World, make_ci: MakeCI) -> dict[str, ConfigurationItem]:
    cis = {
        "service": make_ci(
            world.customer_a, "门诊挂号", "business_service", attributes={"service_hours": "7×24"}
        ),
        "app": make_ci(world.customer_a, "HIS", "application"),
        "db": make_ci(world.customer_a, "HIS-DB", "database", attributes={"engine": "Oracle"}),
        "vm": make_ci(world.customer_a, "vm-db-01"),
        "host": make_ci(world.customer_a, "esxi-01", "server"),
        "switch": make_ci(world.customer_a, "core-sw", "network_device"),
    }
    rel = services.add_relation
    rel(actor=None, source=cis["service"], target=cis["app"], relation_type="depends_on")
    rel(actor=None, source=cis["app"], target=cis["db"], relation_type="depends_on")
    rel(actor=None, source=cis["db"], target=cis["vm"], relation_type="runs_on")
    rel(actor=None, source=cis["host"], target=cis["vm"], relation_type="hosts")
    rel(actor=None, source=cis["host"], target=cis["switch"], relation_type="connected_to")
    return cis


def test_impact_finds_the_business_services_a_failure_reaches(
    world: World, make_ci: MakeCI
) -> None:
    cis = _stack(world, make_ci)
    graph = queries.impact(cis["host"], world.manager, depth=5)
    assert {n["name"] for n in graph.nodes.values()} == {
        "esxi-01",
        "vm-db-01",
        "HIS-DB",
        "HIS",
        "门诊挂号",
    }
    assert [s["name"] for s in graph.affected_services] == ["门诊挂号"]
    assert graph.nodes[cis["service"].pk]["level"] == 4
    shallow = queries.impact(cis["host"], world.manager, depth=2)
    assert shallow.affected_services == []
    upstream = queries.impact(cis["service"], world.manager, depth=5, direction="upstream")
    assert {n["name"] for n in upstream.nodes.values()} == {
        "门诊挂号",
        "HIS",
        "HIS-DB",
        "vm-db-01",
        "esxi-01",
    }
    assert queries.impact(cis["switch"], world.manager).nodes.keys() == {cis["switch"].pk}


def test_impact_hides_what_the_user_may_not_see(world: World, make_ci: MakeCI) -> None:
    cis = _stack(world, make_ci)
    graph = queries.impact(cis["host"], world.customer_b_user, depth=5)
    assert graph.nodes == {}
    assert graph.edges == []


def test_ci_as_of_a_past_date(world: World, make_ci: MakeCI) -> None:
    ci = make_ci(world.customer_a, "vm", hostname="old", ip_addresses=["10.0.0.1"], tags=["a"])
    other = make_ci(world.customer_a, "db", "database", attributes={"engine": "MySQL"})
    CIChange.objects.update(at=timezone.now() - dt.timedelta(days=10))
    moment = timezone.now() - dt.timedelta(days=5)
    services.update_ci(ci, actor=None, hostname="new", ip_addresses=["10.0.0.2"], tags=["b"])
    services.add_relation(actor=None, source=other, target=ci, relation_type="runs_on")
    past = queries.ci_as_of(ci, moment)
    assert past is not None
    assert (past["hostname"], past["ip_addresses"], past["tags"], past["relations"]) == (
        "old",
        ["10.0.0.1"],
        ["a"],
        [],
    )
    now = queries.ci_as_of(ConfigurationItem.objects.get(pk=ci.pk), timezone.now())
    assert now is not None
    assert (now["hostname"], now["ip_addresses"], now["tags"]) == ("new", ["10.0.0.2"], ["b"])
    assert len(now["relations"]) == 1
    assert queries.ci_as_of(ci, timezone.now() - dt.timedelta(days=30)) is None


def test_relation_removal_is_in_both_timelines(world: World, make_ci: MakeCI) -> None:
    a, b = make_ci(world.customer_a, "a"), make_ci(world.customer_a, "b")
    relation = services.add_relation(actor=None, source=a, target=b, relation_type="depends_on")
    services.remove_relation(relation, actor=world.manager)
    for ci in (a, b):
        kinds = list(ci.changes.order_by("id").values_list("kind", flat=True))
        assert kinds == ["created", "relation_added", "relation_removed"]


def test_bulk_update_is_all_or_nothing(world: World, make_ci: MakeCI) -> None:
    ok = make_ci(world.customer_a, "ok", status="in_use")
    stuck = make_ci(world.customer_a, "stuck", status="planned")
    with pytest.raises(ValidationError) as error:
        services.bulk_update([ok, stuck], actor=None, status="maintenance")
    assert "stuck" in error.value.message_dict
    assert ConfigurationItem.objects.get(pk=ok.pk).status == "in_use"
    count = services.bulk_update([ok], actor=None, status="maintenance", add_tags=["维保中"])
    assert count == 1
    assert list(ok.tags.values_list("name", flat=True)) == ["维保中"]


def test_expiring_lists_warranties_and_contracts(world: World, make_ci: MakeCI) -> None:
    today = timezone.localdate()
    soon = make_ci(world.customer_a, "soon", warranty_end=today + dt.timedelta(days=10))
    make_ci(world.customer_a, "later", warranty_end=today + dt.timedelta(days=200))
    make_ci(world.customer_a, "past", warranty_end=today - dt.timedelta(days=1))
    found = queries.expiring(ConfigurationItem.objects.all(), 30)
    assert [c.pk for c in found] == [soon.pk]


def test_changing_the_primary_ip_replaces_it_in_the_address_list(
    world: World, make_ci: MakeCI
) -> None:
    ci = make_ci(world.customer_a, "vm", ip_addresses=["10.0.0.1", "10.0.0.2"])
    ci = services.update_ci(ci, actor=None, primary_ip="10.0.0.3")
    assert sorted(ci.addresses.values_list("address", flat=True)) == ["10.0.0.2", "10.0.0.3"]
    change = ci.changes.order_by("-id").first()
    assert change is not None
    assert change.changes["ip_addresses"] == [["10.0.0.1"], ["10.0.0.3"]]
