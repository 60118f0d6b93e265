"""Configuration audit engine: every rule kind, scores, totals, failure handling, idempotency."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from opsassure.cmdb import compliance
from opsassure.cmdb.models import (
    CIType,
    ConfigAuditFinding,
    ConfigAuditRule,
    ConfigAuditRun,
    ConfigAuditScore,
    Relation,
)
from opsassure.cmdb.tasks import run_config_audit
from tests.cmdb.audit_helpers import days_ago, failing, make_ci, only_rule, scores, server
from tests.conftest import World

Kind = ConfigAuditRule.Kind


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"  # details are stored in the installation's language


@pytest.mark.django_db
def test_missing_required_common_fields_and_schema_attributes(world: World) -> None:
    a = world.customer_a
    rule = only_rule(Kind.MISSING_REQUIRED)
    server(a, "srv-ok")
    server(a, "srv-bad", serial_number="", vendor="")
    make_ci(a, "db-ok", "database", hostname="db-ok", attributes={"engine": "MySQL"})
    make_ci(a, "db-no-engine", "database", hostname="db2", attributes={"version": "8"})
    make_ci(a, "db-empty", "database", hostname="", attributes={"engine": ""})
    make_ci(a, "db-null", "database", hostname="db4", attributes={"engine": None})
    make_ci(a, "svc", "business_service", attributes={})
    server(a, "srv-retired", serial_number="", status="retired")
    server(a, "srv-disposed", vendor="", status="disposed")

    run = compliance.run_audit()

    assert run.status == "done"
    assert failing(run, rule) == {
        "srv-bad": "missing: serial_number, vendor",
        "db-no-engine": "missing: engine",
        "db-empty": "missing: hostname, engine",
        "db-null": "missing: engine",
        "svc": "missing: owner_team, service_hours",
    }
    assert scores(run) == {
        ("required-attributes", "A", "server", 2, 1),
        ("required-attributes", "A", "database", 4, 3),
        ("required-attributes", "A", "business_service", 1, 1),
    }
    assert (run.checked, run.failed) == (7, 5)


@pytest.mark.django_db
def test_missing_required_follows_the_type_definition(world: World) -> None:
    """A type's requirement added later is audited; a stale field name is ignored."""
    only_rule(Kind.MISSING_REQUIRED)
    vm_type = CIType.objects.get(code="virtual_machine")
    vm_type.required_fields = ["hostname", "primary_ip", "no_such_field"]
    vm_type.save()
    make_ci(world.customer_a, "vm-ok", "virtual_machine", hostname="vm1", primary_ip="10.0.0.1")
    make_ci(world.customer_a, "vm-no-ip", "virtual_machine", hostname="vm2")

    run = compliance.run_audit()

    assert failing(run) == {"vm-no-ip": "missing: primary_ip"}


@pytest.mark.django_db
def test_missing_required_attribute_named_like_a_lookup(world: World) -> None:
    only_rule(Kind.MISSING_REQUIRED)
    CIType.objects.create(
        code="odd",
        name="Odd",
        attribute_schema=[
            {"name": "in", "kind": "text", "required": True},
            {"name": "contains", "kind": "text", "required": True},
        ],
    )
    make_ci(world.customer_a, "odd-ok", "odd", attributes={"in": "x", "contains": "y"})
    make_ci(world.customer_a, "odd-bad", "odd", attributes={"in": ""})

    run = compliance.run_audit()

    assert failing(run) == {"odd-bad": "missing: in, contains"}


@pytest.mark.django_db
def test_not_verified(world: World) -> None:
    a = world.customer_a
    rule = only_rule(Kind.NOT_VERIFIED, params={"days": 30})
    server(a, "fresh", verified_at=days_ago(10))
    server(a, "stale", verified_at=days_ago(40))
    server(a, "never")
    server(a, "stale-retired", verified_at=days_ago(400), status="retired")

    run = compliance.run_audit()

    assert failing(run, rule) == {"stale": "last verified 40 days ago", "never": "never verified"}
    assert scores(run) == {("verified-90d", "A", "server", 3, 2)}


@pytest.mark.django_db
def test_not_verified_defaults_to_90_days(world: World) -> None:
    only_rule(Kind.NOT_VERIFIED, params={})
    server(world.customer_a, "d89", verified_at=days_ago(89))
    server(world.customer_a, "d91", verified_at=days_ago(91))

    assert set(failing(compliance.run_audit())) == {"d91"}


@pytest.mark.django_db
def test_duplicate_serial_within_a_customer(world: World) -> None:
    a, b = world.customer_a, world.customer_b
    rule = only_rule(Kind.DUPLICATE_SERIAL)
    server(a, "a1", serial_number="SN1")
    server(a, "a2", serial_number="SN1")
    server(a, "a3", serial_number="SN2")
    server(a, "a4", serial_number="")
    server(a, "a5", serial_number="")
    server(a, "a6-retired", serial_number="SN2", status="retired")
    server(b, "b1", serial_number="SN1")
    server(None, "shared1", serial_number="SN9")
    server(None, "shared2", serial_number="SN9")

    run = compliance.run_audit()

    assert failing(run, rule) == {
        "a1": "same serial number as a2",
        "a2": "same serial number as a1",
        "shared1": "same serial number as shared2",
        "shared2": "same serial number as shared1",
    }
    assert scores(run) == {
        ("unique-serial", "A", "server", 5, 2),
        ("unique-serial", "B", "server", 1, 0),
        ("unique-serial", None, "server", 2, 2),
    }


@pytest.mark.django_db
def test_duplicate_detail_names_three_others_then_counts(world: World) -> None:
    only_rule(Kind.DUPLICATE_SERIAL)
    for index in range(1, 6):
        server(world.customer_a, f"n{index}", serial_number="SAME")

    details = failing(compliance.run_audit())

    assert details["n1"] == "same serial number as n2, n3, n4 (+1 more)"
    assert len(details) == 5


@pytest.mark.django_db
def test_rule_limited_to_types_compares_with_every_type(world: World) -> None:
    a = world.customer_a
    rule = only_rule(Kind.DUPLICATE_SERIAL)
    rule.ci_types.set([CIType.objects.get(code="server")])
    server(a, "srv", serial_number="SN3")
    make_ci(a, "switch", "network_device", serial_number="SN3")
    make_ci(a, "router", "network_device", serial_number="SN4")

    run = compliance.run_audit()

    assert failing(run) == {"srv": "same serial number as switch"}
    assert scores(run) == {("unique-serial", "A", "server", 1, 1)}
    assert (run.checked, run.failed) == (1, 1)


@pytest.mark.django_db
def test_duplicate_hostname_ignores_case_and_other_customers(world: World) -> None:
    a, b = world.customer_a, world.customer_b
    rule = only_rule(Kind.DUPLICATE_HOSTNAME)
    server(a, "x1", hostname="web01")
    make_ci(a, "x2", "virtual_machine", hostname="WEB01")
    server(a, "x3", hostname="web02")
    server(a, "x4", hostname="")
    server(a, "x5", hostname="")
    server(b, "y1", hostname="web02")

    run = compliance.run_audit()

    assert failing(run, rule) == {
        "x1": "same hostname as x2",
        "x2": "same hostname as x1",
    }
    assert scores(run) == {
        ("unique-hostname", "A", "server", 4, 1),
        ("unique-hostname", "A", "virtual_machine", 1, 1),
        ("unique-hostname", "B", "server", 1, 0),
    }


@pytest.mark.django_db
def test_duplicate_ip_over_primary_ip_and_addresses(world: World) -> None:
    a, b = world.customer_a, world.customer_b
    rule = only_rule(Kind.DUPLICATE_IP)
    server(a, "c1", primary_ip="10.0.0.1", addresses=("10.0.0.1",))
    server(a, "c2", addresses=("10.0.0.1",))  # second address row
    server(a, "c3", primary_ip="10.0.0.2")  # primary only ...
    server(a, "c4", addresses=("10.0.0.2", "10.0.0.5"))  # ... against an address row
    server(a, "c5", primary_ip="10.0.0.3", addresses=("10.0.0.3",))  # unique
    server(a, "c6", primary_ip="10.0.0.7")
    server(a, "c7", primary_ip="10.0.0.7")  # primary against primary
    server(a, "c8-retired", primary_ip="10.0.0.3", status="disposed")
    server(b, "b1", primary_ip="10.0.0.1", addresses=("10.0.0.1",))

    run = compliance.run_audit()

    assert failing(run, rule) == {
        "c1": "10.0.0.1 also on c2",
        "c2": "10.0.0.1 also on c1",
        "c3": "10.0.0.2 also on c4",
        "c4": "10.0.0.2 also on c3",
        "c6": "10.0.0.7 also on c7",
        "c7": "10.0.0.7 also on c6",
    }
    assert scores(run) == {("unique-ip", "A", "server", 7, 6), ("unique-ip", "B", "server", 1, 0)}


@pytest.mark.django_db
def test_orphan(world: World) -> None:
    a = world.customer_a
    rule = only_rule(Kind.ORPHAN)
    app = make_ci(a, "app", "application")
    vm = make_ci(a, "vm", "virtual_machine")
    make_ci(a, "lonely", "virtual_machine")
    Relation.objects.create(customer=a, source=app, target=vm, relation_type="runs_on")

    run = compliance.run_audit()

    assert failing(run, rule) == {"lonely": "no relation to any other CI"}
    assert scores(run) == {
        ("has-relations", "A", "application", 1, 0),
        ("has-relations", "A", "virtual_machine", 2, 1),
    }


@pytest.mark.django_db
def test_warranty_expired_in_use(world: World) -> None:
    a = world.customer_a
    rule = only_rule(Kind.WARRANTY_EXPIRED_IN_USE)
    today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    yesterday = today - dt.timedelta(days=1)
    server(a, "expired", warranty_end=yesterday)
    server(a, "ends-today", warranty_end=today)
    server(a, "in-repair", warranty_end=yesterday, status="maintenance")
    server(a, "no-warranty")

    run = compliance.run_audit()

    assert failing(run, rule) == {"expired": f"in use, warranty ended {yesterday.isoformat()}"}
    assert scores(run) == {("warranty-valid-in-use", "A", "server", 4, 1)}


@pytest.mark.django_db
def test_custom_filter(world: World) -> None:
    a = world.customer_a
    rule = only_rule(Kind.CUSTOM, failing_filter={"vendor": "", "environment__in": ["production"]})
    server(a, "prod-no-vendor", vendor="")
    server(a, "test-no-vendor", vendor="", environment="test")
    server(a, "prod-vendor")

    run = compliance.run_audit()

    assert failing(run, rule) == {
        "prod-no-vendor": "matches vendor='', environment__in=['production']"
    }
    assert scores(run) == {("custom-test", "A", "server", 3, 1)}


@pytest.mark.django_db
def test_all_builtin_rules_together_and_customer_restriction(world: World) -> None:
    a, b = world.customer_a, world.customer_b
    server(a, "a-srv", verified_at=days_ago(1))
    server(b, "b-srv", verified_at=days_ago(1))

    everyone = compliance.run_audit()
    only_b = compliance.run_audit(customer_ids=[b.pk])

    rules = set(ConfigAuditRule.objects.filter(is_enabled=True).values_list("code", flat=True))
    assert len(rules) == 7
    expected_a = {(code, "A", "server", 1, 1 if code == "has-relations" else 0) for code in rules}
    expected_b = {(code, "B", "server", 1, 1 if code == "has-relations" else 0) for code in rules}
    assert scores(everyone) == expected_a | expected_b
    assert scores(only_b) == expected_b
    assert (everyone.checked, everyone.failed) == (2, 2)
    assert failing(only_b) == {"b-srv": "no relation to any other CI"}


@pytest.mark.django_db
def test_an_invalid_custom_rule_fails_the_run_and_stores_nothing(world: World) -> None:
    server(world.customer_a, "s")
    ConfigAuditRule.objects.create(
        code="broken", name="Broken", kind=Kind.CUSTOM, failing_filter={"password__exact": "x"}
    )

    run = compliance.run_audit()

    assert run.status == "failed"
    assert run.finished_at is not None
    assert run.error.startswith("RuntimeError: rule broken:")
    assert "password__exact: unknown field password" in run.error
    assert ConfigAuditScore.objects.filter(run=run).count() == 0
    assert ConfigAuditFinding.objects.filter(run=run).count() == 0


@pytest.mark.django_db
def test_a_run_already_stored_is_not_stored_twice(world: World) -> None:
    only_rule(Kind.ORPHAN)
    server(world.customer_a, "s")
    run, created = compliance.start_run()
    assert created

    first = compliance.run_audit(run=run)
    finished_at = first.finished_at
    again = compliance.run_audit(run=run)  # e.g. a duplicate delivery that computed in parallel

    assert again.status == "done"
    assert again.finished_at == finished_at
    assert ConfigAuditFinding.objects.filter(run=run).count() == 1
    assert ConfigAuditScore.objects.filter(run=run).count() == 1


@pytest.mark.django_db
def test_task_fills_the_requested_run_once(world: World) -> None:
    only_rule(Kind.ORPHAN)
    server(world.customer_a, "s")
    run, _created = compliance.start_run()

    assert run_config_audit.delay(run.pk).get() == run.pk
    assert run_config_audit.delay(run.pk).get() is None  # redelivery: nothing to do

    run.refresh_from_db()
    assert run.status == "done"
    assert ConfigAuditFinding.objects.filter(run=run).count() == 1


@pytest.mark.django_db
def test_scheduled_task_does_nothing_while_a_fresh_run_is_running(world: World) -> None:
    busy = ConfigAuditRun.objects.create(started_at=timezone.now() - dt.timedelta(minutes=59))

    assert run_config_audit.delay().get() is None

    assert list(ConfigAuditRun.objects.values_list("pk", "status")) == [(busy.pk, "running")]


@pytest.mark.django_db
def test_scheduled_task_abandons_a_stale_run_and_starts_a_new_one(world: World) -> None:
    server(world.customer_a, "s")
    stale = ConfigAuditRun.objects.create(started_at=timezone.now() - dt.timedelta(minutes=61))

    new_id = run_config_audit.delay().get()

    stale.refresh_from_db()
    assert stale.status == "failed"
    assert stale.error == "abandoned: no result after 60 minutes"
    new = ConfigAuditRun.objects.get(pk=new_id)
    assert (new.status, new.checked, new.triggered_by) == ("done", 1, None)


@pytest.mark.django_db
def test_start_run_reuses_the_running_run(world: World) -> None:
    first, created = compliance.start_run(actor=world.manager)
    second, created_again = compliance.start_run(actor=world.engineer_a)

    assert (created, created_again) == (True, False)
    assert second.pk == first.pk
    assert ConfigAuditRun.objects.count() == 1


@pytest.mark.django_db
def test_daily_schedule_is_seeded_once(world: World) -> None:
    compliance.ensure_audit_schedule()
    compliance.ensure_audit_schedule()

    task = PeriodicTask.objects.get(task="opsassure.cmdb.tasks.run_config_audit")
    assert task.name == "cmdb: configuration audit"
    assert task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == (
        "0",
        "2",
        "Asia/Shanghai",
    )
    assert task.enabled


def _queries_of_a_run() -> int:
    with CaptureQueriesContext(connection) as captured:
        compliance.run_audit()
    return len(captured)


@pytest.mark.django_db
def test_run_queries_do_not_grow_with_the_number_of_cis(world: World) -> None:
    for index in range(5):
        server(world.customer_a, f"s{index}", serial_number="DUP" if index < 2 else f"S{index}")
    small = _queries_of_a_run()
    for index in range(5, 60):
        server(world.customer_b, f"s{index}", serial_number="DUP" if index < 9 else f"S{index}")
    large = _queries_of_a_run()

    # Bounded by rules and CI types (7 rules, 11 types), never by the number of CIs.
    assert large == small
    assert large <= 32
    run = ConfigAuditRun.objects.order_by("-id").first()
    assert run is not None
    assert run.failed == 60  # every CI is an orphan
    # orphan 60 + never verified 60 + duplicate serials 2 (in A) + 4 (in B)
    assert ConfigAuditFinding.objects.filter(run=run).count() == 60 + 60 + 2 + 4
