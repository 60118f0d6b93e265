"""The CMDB demo: believable, related, idempotent, and showing the audit something to find."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count, Max
from django.utils import timezone

from opsassure.cmdb import demo_data, queries
from opsassure.cmdb.models import (
    CIAddress,
    CIChange,
    CIType,
    ConfigurationItem,
    Location,
    MaintenanceContract,
    Relation,
    Supplier,
    Tag,
)
from opsassure.core.demo import load_demo
from opsassure.core.models import AuditEvent, User

pytestmark = pytest.mark.django_db


def _state() -> dict[str, object]:
    models = (
        ConfigurationItem,
        Relation,
        CIChange,
        CIAddress,
        Location,
        MaintenanceContract,
        Supplier,
        Tag,
        CIType,
    )
    state: dict[str, object] = {m.__name__: m.objects.count() for m in models}
    state["events"] = AuditEvent.objects.count()
    for model in (ConfigurationItem, Relation, Location, MaintenanceContract, Supplier, Tag):
        state[f"{model.__name__}.updated"] = model.objects.aggregate(last=Max("updated_at"))["last"]
    state["tagged"] = ConfigurationItem.tags.through.objects.count()
    return state


def _ci(customer: str | None, name: str) -> ConfigurationItem:
    if customer is None:
        return ConfigurationItem.objects.get(customer__isnull=True, name=name)
    return ConfigurationItem.objects.get(customer__code=customer, name=name)


@pytest.fixture
def demo() -> None:
    load_demo()


@pytest.mark.usefixtures("demo")
def test_counts_per_customer_and_type() -> None:
    per_customer = dict(
        ConfigurationItem.objects.values_list("customer__code").annotate(n=Count("id"))
    )
    assert per_customer == {"JCH": 50, "RFS": 50, None: 2}
    per_type = dict(
        ConfigurationItem.objects.filter(customer__code="JCH")
        .values_list("ci_type__code")
        .annotate(n=Count("id"))
    )
    assert per_type == {
        "business_service": 4,
        "application": 5,
        "database": 5,
        "middleware": 5,
        "virtualization_cluster": 1,
        "virtual_machine": 11,
        "server": 8,
        "network_device": 4,
        "security_device": 1,
        "storage": 2,
        "power_cooling": 4,
    }
    assert Relation.objects.filter(customer__code="JCH").count() == 93
    assert Relation.objects.filter(customer__code="RFS").count() == 93
    assert Relation.objects.count() == 186
    # Every CI and relation has its "created" history, written by the services.
    assert CIChange.objects.filter(kind="created").count() == 102
    assert CIChange.objects.filter(kind="relation_added").count() == 2 * 186
    assert set(
        Location.objects.filter(customer__code="JCH", kind="rack").values_list("name", flat=True)
    ) == {"A01", "A02", "A03", "A04"}
    rack = _ci("JCH", "his-db-srv01")
    assert (rack.location.name, rack.location.parent.name, rack.rack_unit) == (
        "A01",
        demo_data.JCH_DC,
        10,
    )
    assert str(rack.location.parent.parent) == demo_data.JCH_SITE
    assert _ci("JCH", "esxi-01").vendor == "浪潮 Inspur"
    assert sorted(_ci("JCH", "esxi-01").addresses.values_list("address", flat=True)) == [
        "10.10.1.21",
        "10.10.9.21",
    ]


def test_second_load_changes_and_records_nothing() -> None:
    load_demo()
    before = _state()
    load_demo()
    assert _state() == before
    assert before["ConfigurationItem"] == 102
    assert before["events"] > 0


def test_a_deleted_ci_comes_back_with_its_relations(demo: None) -> None:
    relations_before = Relation.objects.count()
    ci = _ci("JCH", "his-app01")
    relations = (
        Relation.objects.filter(source=ci).count() + Relation.objects.filter(target=ci).count()
    )
    assert relations == 2  # runs_on the cluster; WebLogic node 1 runs on it
    ci.delete()
    assert Relation.objects.count() == relations_before - 2
    load_demo()
    assert Relation.objects.count() == relations_before
    assert _ci("JCH", "his-app01").changes.filter(kind="created").count() == 1


@pytest.mark.usefixtures("demo")
def test_relations_present_including_shared_provider_cis() -> None:
    def related(source: ConfigurationItem, kind: str, target: ConfigurationItem) -> bool:
        return Relation.objects.filter(source=source, relation_type=kind, target=target).exists()

    his = _ci("JCH", "HIS 医院信息系统 Hospital information system")
    rac1 = _ci("JCH", "HIS Oracle RAC 节点1 node 1")
    cluster = _ci("JCH", "VMware 生产集群 Production cluster")
    assert related(his, "depends_on", rac1)
    assert related(rac1, "runs_on", _ci("JCH", "his-db-srv01"))
    assert related(_ci("JCH", "esxi-02"), "member_of", cluster)
    assert related(_ci("JCH", "his-app01"), "runs_on", cluster)
    monitoring = _ci(None, "运维监控平台 Monitoring platform")
    bastion = _ci(None, "堡垒机 Bastion host")
    assert Relation.objects.filter(target=monitoring).count() == 9
    assert set(
        Relation.objects.filter(target=bastion).values_list("customer__code", flat=True)
    ) == {"JCH", "RFS"}
    assert Relation.objects.filter(target=bastion).count() == 4
    core = _ci("RFS", "集中交易核心 Trading core")
    assert related(core, "depends_on", _ci("RFS", "Kafka 节点2 node 2"))
    assert related(_ci("RFS", "Kafka 节点2 node 2"), "runs_on", _ci("RFS", "kafka-srv02"))
    assert _ci("RFS", "trade-srv01").attributes["os"] == "银河麒麟 Kylin V10 SP3"


@pytest.mark.usefixtures("demo")
def test_impact_of_a_database_reaches_business_services() -> None:
    manager = User.objects.get(username="manager")
    graph = queries.impact(_ci("JCH", "HIS Oracle RAC 节点1 node 1"), manager, depth=5)
    assert {s["name"] for s in graph.affected_services} == {
        "门诊挂号 Outpatient registration",
        "住院管理 Inpatient management",
    }
    rfs = queries.impact(_ci("RFS", "交易 MySQL 主库 primary"), manager, depth=5)
    assert {s["name"] for s in rfs.affected_services} == {
        "集中交易系统 Centralised trading",
        "网上交易 Online trading",
    }
    # A storage array failing: cluster hosts, the cluster, VMs, databases, apps, services.
    san = queries.impact(_ci("JCH", "存储阵列 Storage array"), manager, depth=6)
    assert {s["name"] for s in san.affected_services} == {
        "门诊挂号 Outpatient registration",
        "住院管理 Inpatient management",
        "影像归档 PACS Imaging archive",
        "检验 LIS Laboratory testing",
    }
    # Upstream: what outpatient registration needs, five hops down to the hardware.
    needs = queries.impact(
        _ci("JCH", "门诊挂号 Outpatient registration"), manager, depth=5, direction="upstream"
    )
    names = {node["name"] for node in needs.nodes.values()}
    assert {"his-db-srv01", "esxi-01", "VMware 生产集群 Production cluster", "防火墙 Firewall"} <= (
        names
    )
    assert max(node["level"] for node in needs.nodes.values()) == 5


@pytest.mark.usefixtures("demo")
def test_customer_users_see_their_own_estate_only() -> None:
    hosp_user = User.objects.get(username="hosp_user")
    visible = ConfigurationItem.objects.visible_to(hosp_user)
    assert visible.count() == 50
    assert set(visible.values_list("customer__code", flat=True)) == {"JCH"}
    graph = queries.impact(_ci("JCH", "his-db-srv01"), hosp_user, depth=3)
    assert "运维监控平台 Monitoring platform" not in {n["name"] for n in graph.nodes.values()}
    neteng = User.objects.get(username="neteng")  # NET serves JCH only
    assert set(
        ConfigurationItem.objects.visible_to(neteng).values_list("customer__code", flat=True)
    ) == {"JCH", None}


@pytest.mark.usefixtures("demo")
def test_planted_audit_findings_and_expiry() -> None:
    today = timezone.localdate()
    assert _ci("JCH", "pacs-srv02").serial_number == ""
    duplicates = (
        CIAddress.objects.filter(ci__customer__code="JCH")
        .values("address")
        .annotate(n=Count("ci", distinct=True))
        .filter(n__gt=1)
    )
    assert list(duplicates) == [{"address": "10.10.2.31", "n": 2}]
    orphans = ConfigurationItem.objects.filter(outgoing__isnull=True, incoming__isnull=True)
    assert list(orphans.values_list("name", flat=True)) == ["print-srv01"]
    expired_in_use = ConfigurationItem.objects.filter(status="in_use", warranty_end__lt=today)
    assert set(expired_in_use.values_list("name", flat=True)) == {
        "pacs-srv01",
        "行情专线路由器 Market data line router",
    }
    assert set(
        ConfigurationItem.objects.filter(verified_at__isnull=True).values_list("name", flat=True)
    ) == {"pacs-srv02", "lis-test01", "test-trade-srv01"}
    soon = queries.expiring(ConfigurationItem.objects.all(), 30)
    assert {"esxi-03", "PACS 影像存储 Archive storage", "F5 负载均衡1 load balancer 1"} <= set(
        soon.values_list("name", flat=True)
    )
    contracts = MaintenanceContract.objects.filter(customer__code="JCH")
    assert list(
        contracts.filter(
            ends_on__gte=today, ends_on__lte=today + dt.timedelta(days=30)
        ).values_list("number", flat=True)
    ) == ["JCH-WB-2025-001"]
    assert list(contracts.filter(ends_on__lt=today).values_list("number", flat=True)) == [
        "JCH-WB-2023-007"
    ]
    assert set(
        ConfigurationItem.objects.filter(monitoring_endpoint="127.0.0.1:8000").values_list(
            "name", flat=True
        )
    ) == {"运维监控平台 Monitoring platform", "his-db-srv01", "esxi-01", "trade-srv01", "db-srv01"}
