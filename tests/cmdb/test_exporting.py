"""CI export: tenant scope, filters, audit, and the export → import round trip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import translation

from opsassure.cmdb import services
from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.importing import import_file
from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.core.models import AuditEvent, User
from tests.cmdb.import_helpers import body, read_csv, read_xlsx, written
from tests.conftest import World, api_as, make_user

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/cmdb/exports/cis/"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def cmdb(world: World) -> World:
    seed_builtins()
    return world


def make(world: World, name: str, type_code: str = "server", **values: Any) -> ConfigurationItem:
    customer = values.pop("customer", world.customer_a)
    return services.create_ci(
        actor=None,
        customer_id=customer.pk if customer is not None else None,
        ci_type=CIType.objects.get(code=type_code),
        name=name,
        **values,
    )


def rich_cis(world: World) -> list[ConfigurationItem]:
    """CIs using every exported column, awkward values included."""
    return [
        make(
            world,
            "HIS-DB-01",
            "database",
            status="maintenance",
            environment="dr",
            criticality=1,
            hostname="his-db-01",
            ip_addresses=["10.1.1.7", "10.1.1.5", "fe80::1"],
            serial_number="00123",
            asset_tag="ZC-1",
            vendor="华为",
            model="RH2288 V5",
            owner_team=world.team_a,
            warranty_end=dt.date(2027, 6, 30),
            purchase_date=dt.date(2022, 1, 1),
            cost=Decimal("45000.50"),
            tags=["等保三级", "核心"],
            description='多行\n描述, with "quotes"; and =1+1',
            monitoring_endpoint="10.1.1.5:9100",
            attributes={"engine": "达梦 DM", "version": "8", "port": 5236},
        ),
        make(world, "=cmd|' /C calc'!A0", "application", attributes={"version": "-1"}),
        make(world, "plain-vm", "virtual_machine", attributes={"cpu_count": 4, "os": "@home"}),
    ]


def test_export_is_limited_to_the_users_customers(cmdb: World) -> None:
    make(cmdb, "a-one")
    make(cmdb, "a-two")
    make(cmdb, "b-secret", customer=cmdb.customer_b)
    make(cmdb, "shared-jump", customer=None)
    for user, expected in (
        (cmdb.customer_a_user, ["a-one", "a-two"]),
        (cmdb.engineer_a, ["a-one", "a-two", "shared-jump"]),
        (cmdb.customer_b_user, ["b-secret"]),
    ):
        response = api_as(user).get(EXPORT, {"format": "csv"})
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = read_csv(body(response))
        assert [row[0] for row in rows[1:]] == expected, user.username
    # An explicit filter for another customer is refused, not answered with its rows.
    response = api_as(cmdb.customer_a_user).get(EXPORT, {"customer": cmdb.customer_b.pk})
    assert response.status_code == 400
    assert b"b-secret" not in body(response)


def test_export_follows_the_list_filters_and_is_audited(cmdb: World) -> None:
    make(cmdb, "in-use-1")
    make(cmdb, "retired-1", status="retired")
    make(cmdb, "vm-1", "virtual_machine")
    client = api_as(cmdb.engineer_a)
    response = client.get(EXPORT, {"format": "xlsx", "ci_type": "server", "status": "in_use"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="cis-')
    rows = read_xlsx(body(response))
    assert rows[0][:3] == ["名称", "客户", "类型"]  # the default language is zh-hans
    assert [row[0] for row in rows[1:]] == ["in-use-1"]
    event = AuditEvent.objects.get(action="export", object_type="cmdb.configurationitem")
    assert (event.actor_username, event.customer_id) == ("engineer_a", None)
    assert event.changes == {
        "filter": {"ci_type": "server", "status": "in_use"},
        "format": "xlsx",
        "rows": 1,
    }


def test_export_headers_follow_the_language(cmdb: World) -> None:
    make(cmdb, "x")
    client = api_as(cmdb.engineer_a)
    chinese = read_csv(body(client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="zh-hans")))
    english = read_csv(body(client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="en")))
    assert chinese[0][:4] == ["名称", "客户", "类型", "状态"]
    assert english[0][:4] == ["name", "customer", "type", "status"]
    assert chinese[0][-3:] == english[0][-3:] == ["attr:cpu_count", "attr:memory_gb", "attr:os"]


def test_export_bad_format_or_filter_is_a_400(cmdb: World) -> None:
    client = api_as(cmdb.engineer_a)
    response = client.get(EXPORT, {"format": "pdf"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"format": ["Use csv or xlsx."]}
    response = client.get(EXPORT, {"status": "exploded"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not AuditEvent.objects.filter(action="export").exists()


def test_export_needs_the_view_permission(cmdb: World) -> None:
    make(cmdb, "a-one")
    response = api_as(cmdb.outsider).get(EXPORT)
    assert response.status_code == 403
    assert b"a-one" not in body(response)


def test_export_query_count_does_not_grow_with_rows(
    cmdb: World, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        make(cmdb, f"ci-{i}", ip_addresses=[f"10.0.0.{i}"], tags=["t"])
    client = api_as(cmdb.engineer_a)
    client.get(EXPORT)  # warm the session and permission caches
    # session, user, 2x permissions, scope, count, audit (4 with the savepoint), types, rows,
    # and one query each for the chunk's addresses and tags: the same for 30 rows as for 3.
    # PostgreSQL adds the audit chain's advisory lock.
    with django_assert_max_num_queries(14 + (connection.vendor == "postgresql")):
        response = client.get(EXPORT, {"format": "csv"})
        assert len(read_csv(body(response))) == 31


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(cmdb: World, file_format: str) -> None:
    cis = rich_cis(cmdb)
    client = api_as(cmdb.engineer_a)
    response = client.get(EXPORT, {"format": file_format})
    assert response.status_code == 200
    data = body(response)
    if file_format == "csv":
        rows = read_csv(data)
        by_name = {row[0]: row for row in rows[1:]}
        # Formula-looking text is exported as text (Excel's apostrophe), never as a formula.
        assert "'=cmd|' /C calc'!A0" in by_name
        assert by_name["HIS-DB-01"][7] == "10.1.1.7, 10.1.1.5, fe80::1"
    else:
        names = [row[0] for row in read_xlsx(data)[1:]]
        assert "=cmd|' /C calc'!A0" in names
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=data, filename=f"cis.{file_format}", dry_run=False
    )
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(cis))
    assert written() == before


def test_customer_user_round_trip_keeps_the_team_they_cannot_look_up(cmdb: World) -> None:
    make(cmdb, "a-server", owner_team=cmdb.team_a, tags=["x"])
    user = make_user("a_editor", "customer_user", customer=cmdb.customer_a)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_configurationitem", "change_configurationitem"]
        )
    )
    user = User.objects.get(pk=user.pk)
    data = body(api_as(user).get(EXPORT))
    assert read_csv(data)[1][12] == "TA"
    report = import_file(actor=user, data=data, filename="cis.csv", dry_run=True)
    assert (report.errors, report.unchanged) == ([], 1)
