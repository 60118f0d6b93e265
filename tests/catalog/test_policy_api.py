"""Service catalogue and SLA policy API: tree info, whole-policy writes, rules, preview, roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsassure.catalog import catalogue, policies, services, sla_policies
from opsassure.catalog.models import (
    OlaTarget,
    PriorityMatrixCell,
    Service,
    ServiceCalendar,
    SlaPolicy,
    SlaTarget,
)
from opsassure.core.models import AuditEvent, Customer
from tests.catalog.test_api import api_as
from tests.conftest import World

pytestmark = pytest.mark.django_db
SERVICES = "/api/v1/catalog/services/"
POLICIES = "/api/v1/catalog/sla-policies/"

MATRIX = [
    {"impact": i, "urgency": u, "priority": p}
    for (i, u), p in sorted(policies.DEFAULT_MATRIX.items())
]
TARGETS = [
    {"priority": 1, "response_minutes": 15, "arrival_minutes": 60, "resolution_minutes": 240},
    {"priority": 2, "response_minutes": 30, "arrival_minutes": None, "resolution_minutes": 480},
    {"priority": 3, "response_minutes": 120, "resolution_minutes": 1440},
    {"priority": 4, "response_minutes": 480, "resolution_minutes": 2400},
]


def _default(customer: Customer) -> SlaPolicy:
    return SlaPolicy.objects.get(customer=customer, is_default=True)


def _counts() -> tuple[int, int, int, int, int]:
    return (
        SlaPolicy.objects.count(),
        PriorityMatrixCell.objects.count(),
        SlaTarget.objects.count(),
        OlaTarget.objects.count(),
        AuditEvent.objects.count(),
    )


# --- the default policy of every customer ---------------------------------------------------


def test_a_new_customer_gets_the_default_policy_with_audit_records(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    before = AuditEvent.objects.count()
    customer = Customer.objects.create(code="NEW", name="新客户")
    policy = _default(customer)
    assert (policy.code, policy.calendar.code, policy.is_active) == ("default", "5x8", True)
    cells = {(c.impact, c.urgency): c.priority for c in policy.matrix.all()}
    assert cells == policies.DEFAULT_MATRIX
    assert {
        t.priority: (t.response_minutes, t.arrival_minutes, t.resolution_minutes)
        for t in policy.targets.all()
    } == policies.DEFAULT_TARGETS
    events = AuditEvent.objects.filter(seq__gt=before, customer_id=customer.pk)
    by_type = sorted(events.values_list("object_type", flat=True))
    assert by_type.count("catalog.slapolicy") == 1
    assert by_type.count("catalog.prioritymatrixcell") == 9
    assert by_type.count("catalog.slatarget") == 4
    # idempotent: a second call returns the same policy and writes nothing
    count = AuditEvent.objects.count()
    assert policies.ensure_default_policy(customer).pk == policy.pk
    assert AuditEvent.objects.count() == count


def test_world_customers_have_their_default(world: World) -> None:
    assert SlaPolicy.objects.filter(is_default=True).count() == Customer.objects.count()


# --- services -------------------------------------------------------------------------------


def _tree(world: World) -> dict[str, Service]:
    his = catalogue.create_service(customer=world.customer_a, code="HIS", name="HIS 系统运维")
    db = catalogue.create_service(
        customer=world.customer_a, code="HIS-DB", name="HIS 数据库", parent=his
    )
    backup = catalogue.create_service(
        customer=world.customer_a, code="HIS-DB-BAK", name="备份检查", parent=db
    )
    trade = catalogue.create_service(customer=world.customer_b, code="TRD", name="交易系统运维")
    return {"his": his, "db": db, "backup": backup, "trade": trade}


def test_service_list_carries_tree_info_in_constant_queries(world: World) -> None:
    tree = _tree(world)
    client = api_as(world.manager)
    client.get(SERVICES)
    with CaptureQueriesContext(connection) as few:
        body = client.get(SERVICES, {"customer": world.customer_a.pk}).json()
    rows = {row["code"]: row for row in body["results"]}
    assert rows["HIS-DB-BAK"]["depth"] == 2
    assert rows["HIS-DB-BAK"]["path"] == ["HIS 系统运维", "HIS 数据库", "备份检查"]
    assert rows["HIS"]["children"] == [tree["db"].pk]
    assert rows["HIS"]["effective_sla_policy"] == _default(world.customer_a).pk
    for i in range(10):
        catalogue.create_service(
            customer=world.customer_a, code=f"X{i}", name=f"x{i}", parent=tree["db"]
        )
    with CaptureQueriesContext(connection) as many:
        body = client.get(SERVICES, {"customer": world.customer_a.pk}).json()
    assert body["count"] == 13
    assert len(many) == len(few)


def test_customer_users_read_their_catalogue_only(world: World) -> None:
    _tree(world)
    codes = [r["code"] for r in api_as(world.customer_a_user).get(SERVICES).json()["results"]]
    assert codes == ["HIS", "HIS-DB", "HIS-DB-BAK"]
    response = api_as(world.customer_a_user).post(
        SERVICES, {"customer": world.customer_a.pk, "code": "X", "name": "x"}, format="json"
    )
    assert response.status_code == 403
    assert api_as(world.outsider).get(SERVICES).status_code == 403
    assert api_as(world.auditor).get(SERVICES).status_code == 200


def test_service_rules_are_all_reported_and_nothing_written(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    tree = _tree(world)
    foreign_calendar = services.create_calendar(customer=world.customer_b, code="B", name="b")
    foreign_policy = _default(world.customer_b)
    client = api_as(world.manager)
    before = (Service.objects.count(), AuditEvent.objects.count())
    response = client.post(
        SERVICES,
        {
            "customer": world.customer_a.pk,
            "code": "HIS",  # taken
            "name": "",
            "parent": tree["trade"].pk,  # customer B's
            "service_hours": foreign_calendar.pk,
            "sla_policy": foreign_policy.pk,
            "owner_team": world.team_b.pk,  # serves B only
            "delivery_mode": "carrier-pigeon",
        },
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert sorted(error["fields"]) == ["delivery_mode", "name"]  # type errors come first
    response = client.post(
        SERVICES,
        {
            "customer": world.customer_a.pk,
            "code": "HIS",
            "name": "again",
            "parent": tree["trade"].pk,
            "service_hours": foreign_calendar.pk,
            "sla_policy": foreign_policy.pk,
            "owner_team": world.team_b.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert sorted(fields) == ["code", "owner_team", "parent", "service_hours", "sla_policy"]
    assert fields["parent"] == ["The parent service belongs to another customer."]
    assert (Service.objects.count(), AuditEvent.objects.count()) == before


def test_no_cycles_and_no_customer_move(world: World) -> None:
    tree = _tree(world)
    client = api_as(world.manager)
    url = f"{SERVICES}{tree['his'].pk}/"
    response = client.patch(url, {"parent": tree["backup"].pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["parent"] == [
        "A service cannot be placed below itself or one of its sub-services."
    ]
    assert client.patch(url, {"parent": tree["his"].pk}, format="json").status_code == 400
    response = client.patch(
        url, {"customer": world.customer_b.pk, "name": "HIS 运维"}, format="json"
    )
    assert response.status_code == 200
    tree["his"].refresh_from_db()
    assert (tree["his"].customer_id, tree["his"].name, tree["his"].parent_id) == (
        world.customer_a.pk,
        "HIS 运维",
        None,
    )
    # moving a leaf under another branch is fine
    response = client.patch(
        f"{SERVICES}{tree['backup'].pk}/", {"parent": tree["his"].pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["depth"] == 1


def test_delete_refuses_a_service_with_children(world: World) -> None:
    tree = _tree(world)
    client = api_as(world.manager)
    response = client.delete(f"{SERVICES}{tree['db'].pk}/")
    assert response.status_code == 409
    assert Service.objects.filter(pk=tree["db"].pk).exists()
    assert client.delete(f"{SERVICES}{tree['backup'].pk}/").status_code == 204
    assert not Service.objects.filter(pk=tree["backup"].pk).exists()
    deleted = AuditEvent.objects.filter(
        action=AuditEvent.Action.DELETE, object_type="catalog.service"
    )
    assert list(deleted.values_list("object_id", flat=True)) == [str(tree["backup"].pk)]


# --- policies -------------------------------------------------------------------------------


def _policy_body(world: World, calendar: ServiceCalendar, **extra: Any) -> dict[str, Any]:
    return {
        "customer": world.customer_a.pk,
        "code": "core-7x24",
        "name": "核心系统 7×24",
        "calendar": calendar.pk,
        "matrix": MATRIX,
        "targets": TARGETS,
        "ola_targets": [
            {
                "team": world.team_a.pk,
                "priority": 1,
                "response_minutes": 10,
                "resolution_minutes": 120,
            },
        ],
        **extra,
    }


def test_create_a_policy_as_a_whole(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    response = api_as(world.manager).post(
        POLICIES, _policy_body(world, calendars["7x24"]), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["matrix"] == MATRIX
    assert body["targets"][0] == TARGETS[0]
    assert body["targets"][2]["arrival_minutes"] is None
    assert body["ola_targets"] == [
        {"team": world.team_a.pk, "priority": 1, "response_minutes": 10, "resolution_minutes": 120}
    ]
    assert body["calendar_warning"] == ""
    policy = SlaPolicy.objects.get(pk=body["id"])
    assert policy.is_default is False
    assert OlaTarget.objects.filter(policy=policy).count() == 1
    # customers read their policy, without the provider's internal OLA targets
    mine = api_as(world.customer_a_user).get(f"{POLICIES}{policy.pk}/").json()
    assert mine["code"] == "core-7x24"
    assert "ola_targets" not in mine
    assert api_as(world.customer_b_user).get(f"{POLICIES}{policy.pk}/").status_code == 404


def test_omitted_matrix_and_targets_start_from_the_defaults(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    response = api_as(world.manager).post(
        POLICIES,
        {
            "customer": world.customer_a.pk,
            "code": "p",
            "name": "p",
            "calendar": calendars["5x8"].pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert len(response.json()["matrix"]) == 9
    assert [t["priority"] for t in response.json()["targets"]] == [1, 2, 3, 4]


def test_bad_policy_lists_every_problem_and_writes_nothing(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    foreign = services.create_calendar(customer=world.customer_b, code="BCAL", name="b")
    client = api_as(world.manager)
    before = _counts()
    body = _policy_body(
        world,
        foreign,
        code="default",  # taken by the customer's default
        warn_percent_first=95,
        warn_percent_second=80,
        matrix=[*MATRIX[:7], {"impact": 1, "urgency": 1, "priority": 9}],
        targets=[
            {"priority": 1, "response_minutes": 60, "resolution_minutes": 30},
            {"priority": 2, "response_minutes": 0, "resolution_minutes": 480},
            {"priority": 2, "response_minutes": 30, "resolution_minutes": 480},
        ],
        ola_targets=[{"team": world.team_b.pk, "priority": 1}],
    )
    response = client.post(POLICIES, body, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert sorted(fields) == [
        "calendar",
        "code",
        "matrix",
        "ola_targets",
        "targets",
        "warn_percent_second",
    ]
    assert fields["calendar"] == [
        "Use a provider-wide calendar or one of this customer's calendars."
    ]
    assert fields["matrix"] == [
        "1×1 appears more than once.",
        "1×1: the priority is 1 to 4.",
        "Impact 3 × urgency 2 has no priority.",
        "Impact 3 × urgency 3 has no priority.",
    ]
    assert fields["targets"] == [
        "P1: the resolution target must not be shorter than the response target.",
        "P2: the response target is 1 minute to 366 days.",
        "P2 appears more than once.",
        "P3 is used by the priority matrix but has no targets.",
        "P4 is used by the priority matrix but has no targets.",
    ]
    assert fields["ola_targets"] == [
        "TB P1: the team does not serve this customer.",
        "TB P1: give a response or a resolution target.",
    ]
    assert fields["warn_percent_second"] == [
        "The second warning must not come before the first (95 % > 80 %)."
    ]
    assert _counts() == before


def test_update_replaces_rows_in_place_and_audits_only_changes(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    policy = _default(world.customer_a)
    cell_ids = set(policy.matrix.values_list("pk", flat=True))
    client = api_as(world.manager)
    before = AuditEvent.objects.count()
    matrix = [dict(c, priority=1) if (c["impact"], c["urgency"]) == (2, 1) else c for c in MATRIX]
    response = client.patch(
        f"{POLICIES}{policy.pk}/", {"matrix": matrix, "warn_percent_first": 80}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert set(policy.matrix.values_list("pk", flat=True)) == cell_ids
    assert policies.priority_for(policy, 2, 1) == 1
    changes = list(
        AuditEvent.objects.filter(seq__gt=before)
        .order_by("seq")
        .values_list("object_type", "changes")
    )
    assert changes == [
        ("catalog.slapolicy", {"warn_percent_first": [75, 80]}),
        ("catalog.prioritymatrixcell", {"priority": [2, 1]}),
    ]
    # targets are replaced as a whole: a missing priority is removed, unless the matrix uses it
    response = api_as(world.manager).patch(
        f"{POLICIES}{policy.pk}/", {"targets": TARGETS[:3]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["targets"] == [
        "P4 is used by the priority matrix but has no targets."
    ]
    assert policy.targets.count() == 4


def test_one_default_per_customer(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    old = _default(world.customer_a)
    client = api_as(world.manager)
    response = client.post(
        POLICIES, _policy_body(world, calendars["7x24"], is_default=True), format="json"
    )
    assert response.status_code == 201
    old.refresh_from_db()
    assert old.is_default is False
    assert _default(world.customer_a).pk == response.json()["id"]
    # the default cannot just be switched off, nor deleted, nor deactivated
    new_url = f"{POLICIES}{response.json()['id']}/"
    response = client.patch(new_url, {"is_default": False}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "is_default": [
            "A customer keeps one default policy: make another policy the default instead."
        ]
    }
    response = client.patch(new_url, {"is_active": False}, format="json")
    assert response.json()["error"]["fields"] == {
        "is_active": ["The customer's default policy must stay active."]
    }
    assert client.delete(new_url).status_code == 409
    # the old one is free to go once no service uses it
    service = catalogue.create_service(
        customer=world.customer_a, code="S", name="s", sla_policy=old
    )
    assert client.delete(f"{POLICIES}{old.pk}/").status_code == 409
    catalogue.update_service(service, sla_policy=None)
    assert client.delete(f"{POLICIES}{old.pk}/").status_code == 204


def test_roles(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    body = _policy_body(world, calendars["5x8"])
    for user in (world.engineer_a, world.operator_a, world.auditor, world.customer_a_admin):
        client = api_as(user)
        assert client.get(POLICIES).status_code == 200
        assert client.post(POLICIES, body, format="json").status_code == 403
    assert api_as(world.outsider).get(POLICIES).status_code == 403
    codes = [r["code"] for r in api_as(world.customer_a_admin).get(POLICIES).json()["results"]]
    assert codes == ["default"]


def test_policy_list_query_count_does_not_grow(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    client = api_as(world.manager)
    client.get(POLICIES)
    with CaptureQueriesContext(connection) as few:
        client.get(POLICIES)
    for i in range(8):
        sla_policies.create_policy(
            customer=world.customer_a, code=f"p{i}", name=f"p{i}", calendar=calendars["5x8"]
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(POLICIES).json()["count"] == 10
    assert len(many) == len(few)


# --- preview --------------------------------------------------------------------------------


def test_preview_on_a_5x8_calendar(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    policy = sla_policies.create_policy(
        customer=world.customer_a, code="p", name="p", calendar=calendars["5x8"]
    )
    url = f"{POLICIES}{policy.pk}/preview/"
    # Friday 2026-11-20 17:30 Beijing; P2 = 30 min / 4 h / 8 h, 5×8 with the lunch break.
    response = api_as(world.customer_a_user).get(
        url, {"start": "2026-11-20T17:30:00+08:00", "impact": 2, "urgency": 1}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["priority"] == 2
    due = {row["metric"]: row for row in body["targets"]}
    assert due["response"]["due_at_local"] == "2026-11-20T18:00:00+08:00"  # end of Friday
    assert due["response"]["duration"] == "30 min"
    assert due["arrival"]["due_at_local"] == "2026-11-23T11:30:00+08:00"
    assert due["resolution"]["duration"] == "8 h"
    assert due["resolution"]["due_at_local"] == "2026-11-23T17:30:00+08:00"
    # 75 % of 480 min = 360 min: 30 min Friday + 330 min Monday (lunch 12–14)
    assert due["resolution"]["first_warning_at"] == "2026-11-23T07:30:00Z"
    assert body["warnings"] == []
    assert body["ola_targets"] == []


def test_preview_across_national_day_and_ola(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    policy = sla_policies.create_policy(
        customer=world.customer_a,
        code="p",
        name="p",
        calendar=calendars["5x8"],
        ola_targets=[sla_policies.OlaEntry(team=world.team_a, priority=1, response_minutes=10)],
    )
    response = api_as(world.engineer_a).get(
        f"{POLICIES}{policy.pk}/preview/",
        {"start": "2026-09-30T17:55:00+08:00", "priority": 1, "team": world.team_a.pk},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    response_due = next(r for r in body["targets"] if r["metric"] == "response")
    # 5 min on 30 September, then the National Day holiday (1–7 October 2026) and
    # Thursday 8 October is the first working day again.
    assert response_due["due_at_local"] == "2026-10-08T08:10:00+08:00"
    assert body["ola_targets"][0]["due_at_local"] == "2026-10-08T08:05:00+08:00"


def test_preview_warns_about_a_year_without_holiday_data(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    policy = sla_policies.create_policy(
        customer=world.customer_a, code="p", name="p", calendar=calendars["5x8"]
    )
    body = (
        api_as(world.manager)
        .get(
            f"{POLICIES}{policy.pk}/preview/", {"start": "2099-01-01T09:00:00+08:00", "priority": 4}
        )
        .json()
    )
    assert body["warnings"] == ["No public holiday data for 2099: plain weekdays were used."]
    # Thursday 1 January 2099 counts as a plain weekday: 8 h of P4 response ends that day.
    response_due = next(r for r in body["targets"] if r["metric"] == "response")
    assert response_due["due_at_local"] == "2099-01-02T09:00:00+08:00"
    listed = api_as(world.manager).get(f"{POLICIES}{policy.pk}/").json()
    assert listed["calendar_warning"] == (
        "The calendar has no public holiday data for 2099: plain weekdays are used for those years."
    )


def test_preview_bad_input_lists_every_problem(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    policy = _default(world.customer_a)
    response = api_as(world.manager).get(
        f"{POLICIES}{policy.pk}/preview/",
        {"start": "tomorrow", "priority": 7, "impact": "x", "team": "-1"},
    )
    assert response.status_code == 400
    assert sorted(response.json()["error"]["fields"]) == ["impact", "priority", "start", "team"]
    response = api_as(world.manager).get(
        f"{POLICIES}{policy.pk}/preview/", {"start": "2026-10-09T09:00:00+08:00"}
    )
    assert response.json()["error"]["fields"] == {
        "priority": ["Give a priority, or an impact and an urgency."]
    }
    response = api_as(world.manager).get(
        f"{POLICIES}{policy.pk}/preview/",
        {"start": "2026-10-09T09:00:00+08:00", "priority": 1, "team": world.team_b.pk},
    )
    assert response.status_code == 200  # the manager sees every team; B has no OLA here
    assert response.json()["ola_targets"] == []
    response = api_as(world.engineer_a).get(
        f"{POLICIES}{policy.pk}/preview/",
        {"start": "2026-10-09T09:00:00+08:00", "priority": 1, "team": 987654},
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"team": ["No such team."]}
