"""CI import: encodings, formats, dry run, every row error, all or nothing, idempotence, API."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from opsassure.cmdb import services, tabular
from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.importing import MAX_FILE_BYTES, ImportTooLargeError, import_file
from opsassure.cmdb.models import CIChange, CIType, ConfigurationItem
from opsassure.core import audit
from opsassure.core.models import AuditEvent
from tests.cmdb.import_helpers import HEADER, csv_bytes, customer_importer, written, xlsx_bytes
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def cmdb(world: World) -> World:
    seed_builtins()
    return world


def server(name: str, world: World, **values: Any) -> ConfigurationItem:
    return services.create_ci(
        actor=None,
        customer_id=values.pop("customer_id", world.customer_a.pk),
        ci_type=CIType.objects.get(code="server"),
        name=name,
        **values,
    )


# --- Formats and encodings ---------------------------------------------------------------------


@pytest.mark.parametrize(("bom", "encoding"), [(False, "utf-8"), (True, "utf-8-sig")])
def test_utf8_csv_creates_cis_with_every_column(cmdb: World, bom: bool, encoding: str) -> None:
    rows = [
        [
            "名称",
            "客户",
            "类型",
            "状态",
            "环境",
            "重要性",
            "主机名",
            "IP地址",
            "序列号",
            "资产编号",
            "厂商",
            "型号",
            "负责团队",
            "保修到期",
            "采购日期",
            "成本",
            "标签",
            "描述",
            "监控端点",
            "attr:cpu_count",
            "属性:os",
        ],
        [
            "HIS-DB-01",
            "A",
            "server",
            "在用",
            "生产",
            "关键",
            "his-db-01",
            "10.1.1.5, 10.1.1.6;10.1.1.7",
            "SN001",
            "ZC-9",
            "华为",
            "RH2288",
            "TA",
            "2027/06/30",
            "2024-01-15",
            "¥45,000.50",
            "核心; 等保三级",
            "主数据库",
            "10.1.1.5:9100",
            "32",
            "麒麟 V10",
        ],
        ["HIS-APP-01", "A", "server", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
         "", "", ""],
    ]  # fmt: skip
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows, bom=bom), filename="cis.csv", dry_run=False
    )
    assert report.errors == []
    assert (report.encoding, report.rows, report.created, report.updated, report.unchanged) == (
        encoding,
        2,
        2,
        0,
        0,
    )
    ci = ConfigurationItem.objects.get(name="HIS-DB-01")
    assert ci.customer_id == cmdb.customer_a.pk
    assert ci.ci_type.code == "server"
    assert (ci.status, ci.environment, ci.criticality) == ("in_use", "production", 1)
    assert (ci.hostname, ci.serial_number, ci.asset_tag) == ("his-db-01", "SN001", "ZC-9")
    assert (ci.vendor, ci.model, ci.owner_team, ci.description) == (
        "华为",
        "RH2288",
        cmdb.team_a,
        "主数据库",
    )
    assert (ci.warranty_end, ci.purchase_date, ci.cost) == (
        dt.date(2027, 6, 30),
        dt.date(2024, 1, 15),
        Decimal("45000.50"),
    )
    assert ci.monitoring_endpoint == "10.1.1.5:9100"
    assert ci.attributes == {"cpu_count": 32, "os": "麒麟 V10"}
    assert ci.primary_ip == "10.1.1.5"
    assert sorted(ci.addresses.values_list("address", flat=True)) == [
        "10.1.1.5",
        "10.1.1.6",
        "10.1.1.7",
    ]
    assert sorted(ci.tags.values_list("name", flat=True)) == ["核心", "等保三级"]
    assert ci.created_by == cmdb.engineer_a
    plain = ConfigurationItem.objects.get(name="HIS-APP-01")
    assert (plain.status, plain.environment, plain.criticality, plain.attributes) == (
        "in_use",
        "production",
        3,
        {},
    )
    history = CIChange.objects.get(ci=ci)
    assert (history.kind, history.source, history.actor, history.actor_name) == (
        "created",
        "import",
        cmdb.engineer_a,
        "engineer_a",
    )
    assert history.changes["ip_addresses"] == [None, ["10.1.1.5", "10.1.1.6", "10.1.1.7"]]
    assert history.changes["tags"] == [None, ["核心", "等保三级"]]
    event = AuditEvent.objects.get(object_type="cmdb.configurationitem", object_id=str(ci.pk))
    assert (event.action, event.actor_username, event.customer_id) == (
        "create",
        "engineer_a",
        cmdb.customer_a.pk,
    )
    assert event.changes["name"] == [None, "HIS-DB-01"]
    assert event.changes["tags"] == [None, ["核心", "等保三级"]]
    after = written()
    assert after["cis"] == before["cis"] + 2
    assert after["changes"] == before["changes"] + 2
    # two CIs and two new tags, one event each
    assert after["audit"] == before["audit"] + 4
    assert audit.verify_chain().ok


def test_gbk_csv_is_detected_and_decoded(cmdb: World) -> None:
    rows = [["名称", "客户", "类型", "描述"], ["核心交换机-01", "A", "network_device", "机房三层"]]
    data = csv_bytes(rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = import_file(actor=cmdb.engineer_a, data=data, filename="设备.csv", dry_run=False)
    assert report.errors == []
    assert (report.encoding, report.created) == ("gb18030", 1)
    ci = ConfigurationItem.objects.get(name="核心交换机-01")
    assert (ci.ci_type.code, ci.description) == ("network_device", "机房三层")


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_csv_delimiter_is_sniffed(cmdb: World, delimiter: str) -> None:
    rows = [
        ["name", "customer", "type", "ip_addresses"],
        ["vm-1", "A", "virtual_machine", "10.0.0.1, 10.0.0.2"],
    ]
    data = csv_bytes(rows, delimiter=delimiter)
    report = import_file(actor=cmdb.engineer_a, data=data, filename="x.csv", dry_run=False)
    assert (report.errors, report.created) == ([], 1)
    ci = ConfigurationItem.objects.get(name="vm-1")
    assert sorted(ci.addresses.values_list("address", flat=True)) == ["10.0.0.1", "10.0.0.2"]


def test_xlsx_with_typed_cells(cmdb: World) -> None:
    data = xlsx_bytes(
        [
            ["名称", "客户", "类型", "序列号", "保修到期", "成本", "重要性", "attr:memory_gb",
             "attr:os"],
            ["srv-x", "A", "server", 123456, dt.datetime(2027, 1, 31), 45000.5, 2, 256.0, "Linux"],
        ]
    )  # fmt: skip
    report = import_file(actor=cmdb.engineer_a, data=data, filename="cis.xlsx", dry_run=False)
    assert report.errors == []
    assert (report.encoding, report.rows, report.created) == (None, 1, 1)
    ci = ConfigurationItem.objects.get(name="srv-x")
    assert (ci.serial_number, ci.warranty_end, ci.cost, ci.criticality) == (
        "123456",
        dt.date(2027, 1, 31),
        Decimal("45000.50"),
        2,
    )
    assert ci.attributes == {"memory_gb": 256, "os": "Linux"}


# --- Dry run, errors, all or nothing -----------------------------------------------------------


def test_dry_run_reports_and_writes_nothing(cmdb: World) -> None:
    server("existing", cmdb, status="in_use")
    rows = [
        HEADER,
        ["new-1", "A", "server", "", "10.0.0.1", "x", "4"],
        ["existing", "A", "server", "maintenance", "", "", ""],
        ["new-2", "A", "server", "", "", "", ""],
    ]
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=True
    )
    assert report.as_dict() == {
        "encoding": "utf-8",
        "rows": 3,
        "created": 2,
        "updated": 1,
        "unchanged": 0,
        "errors": [],
        "dry_run": True,
    }
    assert written() == before
    assert ConfigurationItem.objects.get(name="existing").status == "in_use"


def test_every_invalid_row_is_listed_and_nothing_is_written(cmdb: World) -> None:
    server("srv-old", cmdb, status="in_use")
    server("b-secret", cmdb, customer_id=cmdb.customer_b.pk)
    rows = [
        HEADER,
        ["ok-1", "A", "server", "in_use", "10.0.0.1", "", "8"],
        ["bad-type", "A", "toaster", "", "", "", ""],
        ["srv-old", "A", "server", "planned", "", "", ""],
        ["no-customer", "ZZ", "server", "", "", "", ""],
        ["b-secret", "B", "server", "", "", "", ""],
        ["bad-attr", "A", "server", "", "", "", "eight"],
        ["bad-ip", "A", "server", "", "10.0.0.999", "", ""],
        ["ok-1", "A", "server", "", "", "", ""],
        ["bad-status", "A", "server", "broken", "", "", ""],
        ["", "A", "server", "", "", "", ""],
        ["ok-2", "A", "server", "", "", "", ""],
    ]
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=False
    )
    statuses = "planned, ordered, in_stock, in_use, maintenance, retired, disposed"
    assert report.errors == [
        {"row": 3, "column": "type", "message": "Unknown type toaster."},
        {
            "row": 4,
            "column": "status",
            "message": "Cannot move from In use to Planned. "
            "Allowed: In stock, Under maintenance, Retired.",
        },
        {"row": 5, "column": "customer", "message": "Unknown customer ZZ."},
        # Another customer's code is answered exactly like a code that does not exist.
        {"row": 6, "column": "customer", "message": "Unknown customer B."},
        {"row": 7, "column": "attr:cpu_count", "message": "cpu_count: must be a whole number"},
        {"row": 8, "column": "ip_addresses", "message": "10.0.0.999 is not an IP address"},
        {
            "row": 9,
            "column": "name",
            "message": "The same name and customer as row 2: each CI may appear once.",
        },
        {
            "row": 10,
            "column": "status",
            "message": f"Unknown value broken. Use one of: {statuses}.",
        },
        {"row": 11, "column": "name", "message": "Required."},
    ]
    assert (report.rows, report.created, report.updated) == (11, 2, 0)
    assert written() == before
    assert not ConfigurationItem.objects.filter(name__in=["ok-1", "ok-2"]).exists()
    assert ConfigurationItem.objects.get(name="srv-old").status == "in_use"


def test_schema_errors_are_reported_per_attribute(cmdb: World) -> None:
    rows = [
        ["name", "customer", "type", "attr:engine", "attr:port", "attr:colour"],
        ["db-1", "A", "database", "", "5432", ""],
        ["db-2", "A", "database", "FoxPro", "x", ""],
        ["db-3", "A", "database", "MySQL", "3306", "red"],
    ]
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=True
    )
    engines = CIType.objects.get(code="database").attribute("engine")
    assert engines is not None
    assert report.errors == [
        {"row": 2, "column": "attr:engine", "message": "engine: required"},
        {
            "row": 3,
            "column": "attr:engine",
            "message": f"engine: must be one of: {', '.join(engines['choices'])}",
        },
        {"row": 3, "column": "attr:port", "message": "port: must be a whole number"},
        {"row": 4, "column": "attr:colour", "message": "colour: not an attribute of type Database"},
    ]
    assert written() == before


def test_missing_unknown_and_repeated_columns_are_file_errors(cmdb: World) -> None:
    rows = [["名称", "customer", "hostnme", "name", "attr:"], ["x", "A", "h", "x", ""]]
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=False
    )
    assert report.errors == [
        {"row": 1, "column": "hostnme", "message": "Unknown column."},
        {"row": 1, "column": "name", "message": "The column appears twice (also column 1)."},
        {"row": 1, "column": "attr:", "message": "An attribute column needs a name."},
        {"row": 1, "column": "type", "message": "Missing required column."},
    ]
    assert written() == before


def test_undecodable_file_is_refused(cmdb: World) -> None:
    report = import_file(
        actor=cmdb.engineer_a, data=b"name\n\x80\x80abc\n", filename="x.csv", dry_run=True
    )
    assert report.errors == [
        {
            "row": None,
            "column": "",
            "message": "The file could not be decoded as UTF-8 or GBK (GB18030) text.",
        }
    ]


def test_too_many_rows_is_refused(cmdb: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    rows = [["name", "customer", "type"], *[[f"n{i}", "A", "server"] for i in range(4)]]
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=False
    )
    assert report.errors == [
        {
            "row": None,
            "column": "",
            "message": "The file has more than 3 rows; split it into smaller files.",
        }
    ]
    assert written() == before


def test_oversized_file_raises_and_writes_nothing(cmdb: World) -> None:
    before = written()
    with pytest.raises(ImportTooLargeError):
        import_file(
            actor=cmdb.engineer_a, data=b"x" * (MAX_FILE_BYTES + 1), filename="x.csv", dry_run=False
        )
    assert written() == before


def test_importing_needs_the_add_permission(cmdb: World) -> None:
    rows = [["name", "customer", "type"], ["x", "A", "server"]]
    with pytest.raises(PermissionDenied):
        import_file(
            actor=cmdb.customer_a_user, data=csv_bytes(rows), filename="x.csv", dry_run=True
        )


# --- Matching, idempotence, updates -------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(cmdb: World) -> None:
    rows = [
        [*HEADER, "owner_team", "warranty_end", "cost"],
        ["a-1", "A", "server", "in_use", "10.0.0.1 10.0.0.2", "x; y", "8", "TA", "2027-01-01",
         "10.5"],
        ["a-2", "A", "server", "maintenance", "", "", "", "", "", ""],
        ["a-3", "A", "server", "", "10.0.0.9", "z", "", "", "", ""],
    ]  # fmt: skip
    data = csv_bytes(rows)
    first = import_file(actor=cmdb.engineer_a, data=data, filename="x.csv", dry_run=False)
    assert (first.created, first.errors) == (3, [])
    before = written()
    again = import_file(actor=cmdb.engineer_a, data=data, filename="x.csv", dry_run=False)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 3, [])
    assert written() == before
    assert audit.verify_chain().ok


def test_changed_rows_are_updated_with_history_and_audit(cmdb: World) -> None:
    ci = server("srv-1", cmdb, ip_addresses=["10.0.0.1", "10.0.0.2"], tags=["old"])
    other = server("srv-2", cmdb)
    rows = [
        ["name", "customer", "type", "status", "ip_addresses", "tags", "hostname",
         "attr:cpu_count"],
        ["srv-1", "A", "server", "maintenance", "10.0.0.2, 10.0.0.3", "new", "h1", "16"],
        ["srv-2", "A", "server", "", "", "", "", ""],
    ]  # fmt: skip
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=False
    )
    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 1, 1, [])
    ci.refresh_from_db()
    assert (ci.status, ci.hostname, ci.primary_ip, ci.attributes) == (
        "maintenance",
        "h1",
        "10.0.0.2",
        {"cpu_count": 16},
    )
    assert sorted(ci.addresses.values_list("address", flat=True)) == ["10.0.0.2", "10.0.0.3"]
    assert list(ci.tags.values_list("name", flat=True)) == ["new"]
    change = CIChange.objects.filter(ci=ci).order_by("-id").first()
    assert change is not None
    assert change.kind == "updated"
    assert change.changes == {
        "status": ["in_use", "maintenance"],
        "hostname": ["", "h1"],
        "primary_ip": ["10.0.0.1", "10.0.0.2"],
        "attributes": [{}, {"cpu_count": 16}],
        "ip_addresses": [["10.0.0.1"], ["10.0.0.3"]],
        "tags": [["old"], ["new"]],
    }
    event = AuditEvent.objects.get(
        object_type="cmdb.configurationitem", actor_username="engineer_a", action="update"
    )
    assert event.changes["status"] == ["in_use", "maintenance"]
    assert event.changes["tags"] == [["old"], ["new"]]
    assert event.customer_id == cmdb.customer_a.pk
    after = written()
    assert after["changes"] == before["changes"] + 1  # srv-2 unchanged: no history
    assert after["audit"] == before["audit"] + 2  # srv-1 and the new tag
    assert not CIChange.objects.filter(ci=other, kind="updated").exists()


def test_customer_and_type_parameters_apply_to_every_row(cmdb: World) -> None:
    rows = [["name", "customer"], ["p-1", ""], ["p-2", "A"], ["p-3", "B"]]
    report = import_file(
        actor=cmdb.engineer_a,
        data=csv_bytes(rows),
        filename="x.csv",
        dry_run=False,
        customer=cmdb.customer_a,
        ci_type=CIType.objects.get(code="application"),
    )
    assert report.errors == [
        {"row": 4, "column": "customer", "message": "Every row must belong to customer A."}
    ]
    assert not ConfigurationItem.objects.filter(name__startswith="p-").exists()
    report = import_file(
        actor=cmdb.engineer_a,
        data=csv_bytes(rows[:3]),
        filename="x.csv",
        dry_run=False,
        customer=cmdb.customer_a,
        ci_type=CIType.objects.get(code="application"),
    )
    assert (report.created, report.errors) == (2, [])
    assert set(
        ConfigurationItem.objects.filter(name__startswith="p-").values_list(
            "customer__code", "ci_type__code"
        )
    ) == {("A", "application")}


def test_customer_users_import_only_for_their_own_customer(cmdb: World) -> None:
    user = customer_importer(cmdb)
    rows = [["name", "type"], ["mine", "server"]]
    report = import_file(actor=user, data=csv_bytes(rows), filename="x.csv", dry_run=False)
    assert (report.created, report.errors) == (1, [])
    assert ConfigurationItem.objects.get(name="mine").customer_id == cmdb.customer_a.pk
    foreign = [["name", "customer", "type"], ["theirs", "B", "server"]]
    report = import_file(actor=user, data=csv_bytes(foreign), filename="x.csv", dry_run=False)
    assert report.errors == [{"row": 2, "column": "customer", "message": "Unknown customer B."}]
    report = import_file(
        actor=user, data=csv_bytes(rows), filename="x.csv", dry_run=True, customer=cmdb.customer_b
    )
    assert report.errors == [{"row": None, "column": "customer", "message": "Unknown customer."}]
    assert not ConfigurationItem.objects.filter(customer=cmdb.customer_b).exists()


def test_staff_leave_the_customer_empty_for_a_shared_provider_ci(cmdb: World) -> None:
    rows = [["name", "customer", "type"], ["jump-host", "", "server"]]
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=False
    )
    assert (report.created, report.errors) == (1, [])
    assert ConfigurationItem.objects.get(name="jump-host").customer_id is None


def test_two_thousand_rows_timing(cmdb: World) -> None:
    rows: list[list[Any]] = [["名称", "客户", "类型", "IP地址", "标签", "attr:cpu_count"]]
    rows += [
        [f"srv-{i}", "A", "server", f"10.9.{i // 250}.{i % 250}", "批量", 8] for i in range(2000)
    ]
    data = xlsx_bytes(rows)
    start = time.perf_counter()
    report = import_file(actor=cmdb.engineer_a, data=data, filename="big.xlsx", dry_run=False)
    seconds = time.perf_counter() - start
    print(f"\n2,000-row XLSX import: {seconds:.2f} s")
    assert (report.created, report.errors) == (2000, [])
    assert ConfigurationItem.objects.filter(name__startswith="srv-").count() == 2000
    assert audit.verify_chain().ok


def test_type_and_owner_team_changes_are_written(cmdb: World) -> None:
    ci = server("srv-t", cmdb, attributes={"cpu_count": 4, "os": "Linux"})
    rows = [
        ["name", "customer", "type", "owner_team", "attr:version"],
        ["srv-t", "A", "virtual_machine", "TA", ""],
    ]
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=False
    )
    assert (report.updated, report.errors) == (1, [])
    ci.refresh_from_db()
    assert (ci.ci_type.code, ci.owner_team) == ("virtual_machine", cmdb.team_a)
    # attributes the new type also defines are kept; "version" is not a VM attribute (empty)
    assert ci.attributes == {"cpu_count": 4, "os": "Linux"}
    change = CIChange.objects.filter(ci=ci, kind="updated").get()
    assert change.changes == {
        "ci_type_id": [CIType.objects.get(code="server").pk, ci.ci_type_id],
        "owner_team_id": [None, cmdb.team_a.pk],
    }


def test_a_competing_insert_is_reported_and_nothing_is_written(
    cmdb: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsassure.cmdb import import_rows

    real_plan = import_rows.RowPlanner.plan

    def plan_then_compete(self: Any, rows: Any, *, lock: bool) -> Any:
        plans = real_plan(self, rows, lock=lock)
        if lock:  # another writer creates the same CI between validation and the insert
            ConfigurationItem.objects.create(
                customer=cmdb.customer_a, ci_type=CIType.objects.get(code="server"), name="race"
            )
        return plans

    monkeypatch.setattr(import_rows.RowPlanner, "plan", plan_then_compete)
    rows = [["name", "customer", "type"], ["race", "A", "server"], ["calm", "A", "server"]]
    before = written()
    report = import_file(
        actor=cmdb.engineer_a, data=csv_bytes(rows), filename="x.csv", dry_run=False
    )
    assert report.errors == [
        {
            "row": None,
            "column": "",
            "message": "Another change to the same CIs happened at the same time; nothing was "
            "imported. Please try again.",
        }
    ]
    assert written() == before
