"""A large, believable CMDB estate written with bulk inserts (no services, no audit events).

Two customers (60 % / 40 % of the CIs) plus a few hundred shared provider CIs, ~20 CI types
with realistic field distributions, every IP address also as a CIAddress row, tags, racks,
contracts, and a layered relation graph in which failure travels upwards:

    business service → application → database / middleware → VM → cluster / server
                                                                 → storage / network / power

so an impact analysis to depth 5 crosses every layer. Edges never point from a lower layer to a
higher one (and within a layer only to an earlier CI), so no acyclic relation type cycles.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# code, share of a customer's CIs (%), name prefix, display name of a custom type (None: built in)
TYPES: list[tuple[str, float, str, str | None]] = [
    ("business_service", 0.5, "bs", None),
    ("application", 3.0, "app", None),
    ("database", 5.0, "db", None),
    ("middleware", 6.0, "mw", None),
    ("container_platform", 0.4, "k8s", None),
    ("virtual_machine", 30.0, "vm", None),
    ("virtualization_cluster", 0.3, "cl", "虚拟化集群 Virtualization cluster"),
    ("server", 12.0, "srv", None),
    ("storage", 1.0, "sto", None),
    ("san_switch", 0.5, "fcsw", "SAN 交换机 SAN switch"),
    ("network_device", 5.0, "sw", None),
    ("load_balancer", 0.4, "lb", "负载均衡 Load balancer"),
    ("security_device", 1.0, "sec", None),
    ("pdu", 1.0, "pdu", "PDU 配电单元"),
    ("power_cooling", 0.5, "pwr", None),
    ("tape_library", 0.1, "tape", "磁带库 Tape library"),
    ("workstation", 21.3, "pc", "终端 Workstation"),
    ("printer", 5.0, "prn", "打印机 Printer"),
    ("ip_phone", 4.0, "tel", "IP 电话 IP phone"),
    ("wireless_ap", 3.0, "ap", "无线 AP Wireless AP"),
]
HARDWARE = {
    "server", "storage", "san_switch", "network_device", "load_balancer", "security_device",
    "pdu", "power_cooling", "tape_library", "workstation", "printer", "ip_phone", "wireless_ap",
}  # fmt: skip
NO_ADDRESS = {"business_service", "application", "database", "middleware", "container_platform",
              "virtualization_cluster", "power_cooling", "tape_library"}  # fmt: skip
VENDORS = {
    "server": [("华为 Huawei", "FusionServer 2288H V6"), ("浪潮 Inspur", "NF5280M6"),
               ("新华三 H3C", "UniServer R4900 G5"), ("华为 Huawei", "TaiShan 200 2280"),
               ("联想 Lenovo", "ThinkSystem SR650")],
    "storage": [("华为 Huawei", "OceanStor 5310"), ("浪潮 Inspur", "AS5300G5"),
                ("华为 Huawei", "OceanStor Dorado 5000 V6")],
    "network_device": [("华为 Huawei", "CE6881-48S6CQ"), ("新华三 H3C", "S5130S-52S-EI"),
                       ("锐捷 Ruijie", "RG-S6120"), ("华为 Huawei", "S5735-L48T4X")],
    "security_device": [("新华三 H3C", "SecPath F1000"), ("华为 Huawei", "USG6620E"),
                        ("深信服 Sangfor", "AF-1000")],
    "workstation": [("联想 Lenovo", "启天 M437"), ("华为 Huawei", "擎云 W515"),
                    ("长城 Greatwall", "世恒 TD120")],
}  # fmt: skip
SERVICE_WORDS = ["门诊挂号", "住院管理", "影像归档", "检验", "集中交易", "行情", "清算", "网上交易",
                 "医保结算", "统一身份认证", "邮件", "OA 办公", "财务系统", "数据仓库"]  # fmt: skip
APP_WORDS = ["HIS", "EMR", "PACS", "LIS", "交易核心", "委托网关", "风控", "CRM", "ERP", "门户",
             "消息总线", "报表"]  # fmt: skip
OS = ["银河麒麟 Kylin V10", "统信 UOS 20", "CentOS 7.9", "Red Hat Enterprise Linux 8.6",
      "Windows Server 2019", "openEuler 22.03"]  # fmt: skip
TAGS = ["等保三级", "信创", "核心系统", "互联网暴露", "7×24", "待下线", "灾备", "国产化",
        "重点保障", "测试", "外包维护", "高可用", "双活", "老旧设备", "PCI-DSS"]  # fmt: skip
STATUS = (["in_use", "in_stock", "maintenance", "retired", "planned", "disposed"],
          [80, 5, 5, 5, 3, 2])  # fmt: skip
ENVIRONMENT = (["production", "test", "development", "dr"], [75, 15, 7, 3])
CRITICALITY = ([1, 2, 3, 4], [5, 15, 50, 30])

# source type, relation, target type, mean fan-out, source slice (fractions of the source pool)
RULES: list[tuple[str, str, str, float, tuple[float, float]]] = [
    ("business_service", "depends_on", "application", 4.0, (0, 1)),
    ("business_service", "depends_on", "business_service", 1.0, (0.8, 1)),
    ("application", "depends_on", "application", 1.5, (0.5, 1)),
    ("application", "depends_on", "database", 2.0, (0, 1)),
    ("application", "depends_on", "middleware", 2.0, (0, 1)),
    ("application", "runs_on", "container_platform", 1.0, (0, 0.15)),
    ("application", "depends_on", "load_balancer", 1.0, (0.15, 0.45)),
    ("database", "runs_on", "virtual_machine", 1.5, (0, 0.7)),
    ("database", "runs_on", "server", 1.5, (0.7, 1)),
    ("database", "backs_up", "database", 1.0, (0.7, 1)),
    ("middleware", "runs_on", "virtual_machine", 1.5, (0, 1)),
    ("container_platform", "runs_on", "virtual_machine", 5.0, (0, 1)),
    ("virtual_machine", "runs_on", "virtualization_cluster", 1.0, (0, 0.7)),
    ("virtual_machine", "runs_on", "server", 1.0, (0.7, 1)),
    ("virtual_machine", "connected_to", "network_device", 1.0, (0, 1)),
    ("server", "member_of", "virtualization_cluster", 1.0, (0, 0.25)),
    ("virtualization_cluster", "depends_on", "storage", 2.0, (0, 1)),
    ("server", "depends_on", "storage", 1.0, (0.25, 0.8)),
    ("server", "depends_on", "network_device", 2.0, (0, 1)),
    ("server", "connected_to", "network_device", 1.0, (0, 1)),
    ("server", "depends_on", "pdu", 2.0, (0, 1)),
    ("storage", "depends_on", "san_switch", 2.0, (0, 1)),
    ("storage", "depends_on", "pdu", 2.0, (0, 1)),
    ("san_switch", "depends_on", "pdu", 2.0, (0, 1)),
    ("network_device", "depends_on", "network_device", 2.0, (0.2, 1)),  # access → core
    ("network_device", "depends_on", "security_device", 1.0, (0, 0.2)),
    ("network_device", "depends_on", "pdu", 1.0, (0, 1)),
    ("load_balancer", "depends_on", "network_device", 2.0, (0, 1)),
    ("security_device", "connected_to", "network_device", 1.0, (0, 1)),
    ("pdu", "depends_on", "power_cooling", 1.0, (0, 1)),
    ("workstation", "connected_to", "network_device", 1.0, (0, 1)),
    ("printer", "connected_to", "network_device", 1.0, (0, 1)),
    ("ip_phone", "connected_to", "network_device", 1.0, (0, 1)),
    ("wireless_ap", "depends_on", "network_device", 1.0, (0, 1)),
    ("tape_library", "backs_up", "database", 20.0, (0, 1)),
]
BATCH = 1000


@dataclass
class Estate:
    customer_codes: list[str]
    personas: dict[str, Any]
    type_codes: list[str]
    tag_names: list[str]
    business_services: list[int] = field(default_factory=list)
    servers: list[int] = field(default_factory=list)
    visible_names: dict[str, list[str]] = field(default_factory=dict)
    visible_addresses: dict[str, list[str]] = field(default_factory=dict)


def _fanout(mean: float, rng: random.Random) -> int:
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


class _Addresses:
    """Unique addresses per customer from its own private range; ~0.1 % planted duplicates."""

    def __init__(self, first_octets: tuple[int, int], rng: random.Random) -> None:
        self.base = (first_octets[0] << 24) | (first_octets[1] << 16)
        self.next = 256
        self.rng = rng
        self.given: list[str] = []

    def take(self) -> str:
        if self.given and self.rng.random() < 0.001:
            return self.rng.choice(self.given)
        value = self.base + self.next
        self.next += 1 if (self.next & 0xFF) < 250 else 10  # skip .251–.255 and .0
        address = f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
        self.given.append(address)
        return address


def _attributes(code: str, rng: random.Random) -> dict[str, Any]:
    if code == "business_service":
        return {"service_hours": rng.choice(["7×24", "5×8"]), "business_owner": "业务部门"}
    if code == "application":
        return {"version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}"}
    if code == "database":
        engine = rng.choices(
            ["Oracle", "MySQL", "达梦 DM", "PostgreSQL", "Redis"], [30, 30, 15, 15, 10]
        )[0]
        return {"engine": engine, "version": "19c" if engine == "Oracle" else "8.0", "port": 1521}
    if code == "middleware":
        product = rng.choice(["Nginx", "Tomcat", "WebLogic", "Kafka", "RabbitMQ", "东方通 TongWeb"])
        return {"product": product, "version": "1.0", "port": 8080}
    if code in {"server", "virtual_machine"}:
        small = code == "virtual_machine"
        return {
            "cpu_count": rng.choice([2, 4, 8, 16] if small else [32, 48, 64, 96, 128]),
            "memory_gb": rng.choice([4, 8, 16, 32, 64] if small else [128, 256, 512, 768]),
            "os": rng.choice(OS),
        }
    if code == "virtualization_cluster":
        return {"platform": rng.choice(["VMware vSphere", "华为 FusionCompute", "KVM"])}
    if code == "network_device":
        return {"role": rng.choice(["核心 Core", "汇聚 Aggregation", "接入 Access"])}
    if code == "storage":
        return {"capacity_tb": str(rng.choice([50, 100, 200, 500])), "raid": "RAID 6"}
    if code == "power_cooling":
        return {"equipment": rng.choice(["UPS", "精密空调 Precision AC", "PDU"])}
    return {}


def _setup(rng: random.Random) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
    """Customers, a team serving both, the two personas, types, tags, suppliers."""
    from django.contrib.auth.models import Group

    from opsassure.cmdb.models import CIType, Supplier, Tag
    from opsassure.core.models import Customer, Team, User
    from opsassure.core.roles import sync_roles

    sync_roles()
    customers = [
        Customer.objects.create(code="HOSP", name="江城第二人民医院 (bench)"),
        Customer.objects.create(code="SEC", name="华信证券 (bench)"),
    ]
    team = Team.objects.create(code="BSYS", name="系统运维组 (bench)")
    team.customers.set(customers)
    engineer = User.objects.create_user("bench_engineer", password="x", display_name="Engineer")
    engineer.groups.add(Group.objects.get(name="engineer"))
    team.members.add(engineer)
    customer_user = User.objects.create_user(
        "bench_customer", password="x", customer=customers[0], display_name="Customer"
    )
    customer_user.groups.add(Group.objects.get(name="customer_user"))
    personas = {
        "engineer": User.objects.get(pk=engineer.pk),
        "customer": User.objects.get(pk=customer_user.pk),
    }
    existing = set(CIType.objects.values_list("code", flat=True))
    CIType.objects.bulk_create(
        [
            CIType(code=code, name=name, is_hardware=code in HARDWARE, sort_order=200 + n)
            for n, (code, _share, _prefix, name) in enumerate(TYPES)
            if name is not None and code not in existing
        ]
    )
    types = {t.code: t for t in CIType.objects.all()}
    Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
    Supplier.objects.bulk_create([Supplier(name=f"供应商 Supplier {n:02d}") for n in range(20)])
    return customers, personas, types


def _places(
    customers: list[Any], today: dt.date
) -> tuple[dict[int, list[Any]], dict[int, list[Any]]]:
    from opsassure.cmdb.models import Location, MaintenanceContract, Supplier

    suppliers = list(Supplier.objects.all())
    racks: dict[int, list[Any]] = {}
    contracts: dict[int, list[Any]] = {}
    for customer in customers:
        sites = Location.objects.bulk_create(
            [Location(customer=customer, kind="site", name=f"{customer.code} 园区 Site {n}")
             for n in range(2)]
        )  # fmt: skip
        rooms = Location.objects.bulk_create(
            [Location(customer=customer, kind="room", parent=site, name=f"机房 Room {n}")
             for site in sites for n in range(3)]
        )  # fmt: skip
        racks[customer.pk] = Location.objects.bulk_create(
            [Location(customer=customer, kind="rack", parent=room, name=f"R{n:02d}")
             for room in rooms for n in range(40)]
        )  # fmt: skip
        contracts[customer.pk] = MaintenanceContract.objects.bulk_create(
            [
                MaintenanceContract(
                    customer=customer, supplier=suppliers[n % len(suppliers)],
                    number=f"{customer.code}-WB-{n:04d}", service_level="7×24 4h",
                    starts_on=today - dt.timedelta(days=365 + 20 * n),
                    ends_on=today + dt.timedelta(days=30 * n - 300),
                )
                for n in range(40)
            ]
        )  # fmt: skip
    return racks, contracts


def _make_ci(code: str, name: str, customer: Any, ctx: dict[str, Any], rng: random.Random) -> Any:
    from opsassure.cmdb.models import ConfigurationItem

    now, today = ctx["now"], ctx["today"]
    hardware = code in HARDWARE
    host = code in {"server", "virtual_machine", "network_device", "security_device",
                    "workstation", "load_balancer"}  # fmt: skip
    ci = ConfigurationItem(
        customer=customer,
        ci_type=ctx["types"][code],
        name=name,
        status=rng.choices(*STATUS)[0],
        environment=rng.choices(*ENVIRONMENT)[0],
        criticality=rng.choices(*CRITICALITY)[0],
        owner_team=ctx["team"] if rng.random() < 0.95 else None,
        hostname=name if host else "",
        attributes=_attributes(code, rng),
        description="" if rng.random() < 0.8 else f"{name} 由系统运维组维护。Maintained by SYS.",
        verified_at=now - dt.timedelta(days=rng.randint(0, 180)) if rng.random() < 0.65 else None,
    )
    if code not in NO_ADDRESS and customer is not None:
        ci.primary_ip = ctx["addresses"][customer.pk].take()
        if code in {"server", "virtual_machine"} and rng.random() < 0.3:
            ci.monitoring_endpoint = f"{ci.primary_ip}:9100"
    if hardware:
        vendor, model = rng.choice(VENDORS.get(code, VENDORS["server"]))
        ci.vendor, ci.model = vendor, model
        ci.serial_number = "" if rng.random() < 0.02 else f"{rng.getrandbits(64):016X}"
        ci.asset_tag = f"ZC{rng.randint(2016, 2025)}{rng.randint(0, 999_999):06d}"
        purchased = today - dt.timedelta(days=rng.randint(30, 3300))
        ci.purchase_date = purchased
        if rng.random() < 0.9:
            ci.warranty_end = purchased + dt.timedelta(days=365 * rng.choice([3, 5]))
        if customer is not None:
            ci.location = rng.choice(ctx["racks"][customer.pk])
            ci.rack_unit = rng.randint(1, 42)
            if rng.random() < 0.5:
                ci.maintenance_contract = rng.choice(ctx["contracts"][customer.pk])
    return ci


def generate(
    n_cis: int, n_relations: int, rng: random.Random, progress: Callable[[str, str], None]
) -> Estate:
    from django.db import connection
    from django.utils import timezone

    from opsassure.cmdb.models import CIAddress, ConfigurationItem, Tag
    from opsassure.core.models import Team

    begin = time.perf_counter()
    customers, personas, types = _setup(rng)
    now = timezone.now()
    racks, contracts = _places(customers, timezone.localdate())
    ctx: dict[str, Any] = {
        "now": now,
        "today": timezone.localdate(),
        "types": types,
        "team": Team.objects.get(code="BSYS"),
        "racks": racks,
        "contracts": contracts,
        "addresses": {
            customers[0].pk: _Addresses((10, 16), rng),
            customers[1].pk: _Addresses((172, 16), rng),
        },
    }
    shared = 200
    split = [(customers[0], round((n_cis - shared) * 0.6)), (customers[1], 0)]
    split[1] = (customers[1], n_cis - shared - split[0][1])
    pools: dict[tuple[int, str], list[int]] = {}
    names: dict[int, list[str]] = {}
    addresses: dict[int, list[str]] = {}
    created = 0
    for customer, count in split:
        code_lower = customer.code.lower()
        batch: list[Any] = []
        kinds: list[str] = []
        for code, share, prefix, _name in TYPES:
            for seq in range(max(1, round(count * share / 100))):
                name = f"{prefix}-{code_lower}-{seq:06d}"
                if code == "business_service":
                    name = f"{name} {rng.choice(SERVICE_WORDS)}"
                elif code == "application":
                    name = f"{name} {rng.choice(APP_WORDS)}"
                batch.append(_make_ci(code, name, customer, ctx, rng))
                kinds.append(code)
        for start in range(0, len(batch), BATCH):
            ConfigurationItem.objects.bulk_create(batch[start : start + BATCH])
        for ci, code in zip(batch, kinds, strict=True):
            pools.setdefault((customer.pk, code), []).append(ci.pk)
        names[customer.pk] = [ci.name for ci, code in zip(batch, kinds, strict=True)
                              if code in {"server", "virtual_machine", "workstation"}]  # fmt: skip
        addresses[customer.pk] = [ci.primary_ip for ci in batch if ci.primary_ip]
        created += len(batch)
        _addresses_and_tags(batch, rng, ctx["addresses"][customer.pk])
    shared_cis = [
        _make_ci(rng.choice(["server", "security_device", "network_device"]),
                 f"ops-shared-{n:04d}", None, ctx, rng)
        for n in range(shared)
    ]  # fmt: skip
    ConfigurationItem.objects.bulk_create(shared_cis, batch_size=BATCH)
    created += len(shared_cis)
    progress("generate CIs (+ addresses, tags)", f"{created:,} CIs, {CIAddress.objects.count():,} addresses, "  # noqa: E501
             f"{time.perf_counter() - begin:.1f} s")  # fmt: skip

    begin = time.perf_counter()
    edges = _relations(customers, pools, n_relations, rng)
    _insert_relations(edges, now)
    progress("generate relations", f"{len(edges):,} relations, {time.perf_counter() - begin:.1f} s")

    begin = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    progress("ANALYZE", f"{time.perf_counter() - begin:.1f} s")

    estate = Estate(
        customer_codes=[c.code for c in customers],
        personas=personas,
        type_codes=[code for code, *_ in TYPES],
        tag_names=list(Tag.objects.values_list("name", flat=True)),
    )
    for customer in customers:
        estate.business_services += pools[(customer.pk, "business_service")]
        estate.servers += pools[(customer.pk, "server")]
    estate.visible_names = {
        "engineer": names[customers[0].pk] + names[customers[1].pk],
        "customer": names[customers[0].pk],
    }
    estate.visible_addresses = {
        "engineer": addresses[customers[0].pk] + addresses[customers[1].pk],
        "customer": addresses[customers[0].pk],
    }
    return estate


def _insert_relations(edges: dict[tuple[int, int, str], int], now: dt.datetime) -> None:
    """One executemany INSERT: bulk_create spends most of its time building 300,000 model
    instances that nobody reads. Values are adapted once, as Django would store them."""
    from django.db import connection, transaction

    from opsassure.cmdb.models import Relation

    stamp = connection.ops.adapt_datetimefield_value(now)
    table = connection.ops.quote_name(Relation._meta.db_table)
    sql = (
        f"INSERT INTO {table} (created_at, updated_at, customer_id, source_id, target_id, "
        "relation_type, note) VALUES (%s, %s, %s, %s, %s, %s, %s)"
    )
    rows = [(stamp, stamp, c, s, t, kind, "") for (s, t, kind), c in edges.items()]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), 10 * BATCH):
            cursor.executemany(sql, rows[start : start + 10 * BATCH])


def _addresses_and_tags(batch: list[Any], rng: random.Random, pool: _Addresses) -> None:
    from opsassure.cmdb.models import CIAddress, ConfigurationItem, Tag

    tag_ids = list(Tag.objects.values_list("id", flat=True))
    rows = []
    links = []
    through = ConfigurationItem.tags.through
    for ci in batch:
        if ci.primary_ip:
            rows.append(CIAddress(ci_id=ci.pk, address=ci.primary_ip))
            if ci.ci_type.code == "server" and rng.random() < 0.3:
                rows.append(CIAddress(ci_id=ci.pk, address=pool.take(), label="BMC"))
        if rng.random() < 0.3:
            for tag_id in rng.sample(tag_ids, rng.choice([1, 1, 2])):
                links.append(through(configurationitem_id=ci.pk, tag_id=tag_id))
    CIAddress.objects.bulk_create(rows, batch_size=BATCH * 2, ignore_conflicts=True)
    through.objects.bulk_create(links, batch_size=BATCH * 2)


def _relations(
    customers: list[Any], pools: dict[tuple[int, str], list[int]], target: int, rng: random.Random
) -> dict[tuple[int, int, str], int]:
    """The layered graph, scaled so that its size is ``target``; edge → customer id."""

    def sources(customer_id: int, code: str, part: tuple[float, float]) -> list[int]:
        pool = pools.get((customer_id, code), [])
        return pool[int(len(pool) * part[0]) : int(len(pool) * part[1])]

    base = sum(
        len(sources(c.pk, src, part)) * mean
        for c in customers
        for src, _kind, _dst, mean, part in RULES
    )
    scale = target / base if base else 1.0
    edges: dict[tuple[int, int, str], int] = {}
    for customer in customers:
        for src, kind, dst, mean, part in RULES:
            targets = pools.get((customer.pk, dst), [])
            if src == dst == "network_device":
                targets = targets[: max(1, len(targets) // 5)]  # access switches → core
            elif dst == "network_device":
                targets = targets[len(targets) // 5 :] or targets  # hosts → access switches
            pool = pools.get((customer.pk, src), [])
            start = int(len(pool) * part[0])
            within_layer = src == dst and kind != "backs_up" and dst != "network_device"
            for offset, source in enumerate(pool[start : int(len(pool) * part[1])]):
                # Within a layer, only towards an earlier CI: no cycles.
                candidates = targets[: start + offset] if within_layer else targets
                fanout = min(len(candidates), _fanout(mean * scale, rng))
                for target_id in rng.sample(candidates, fanout):
                    if target_id != source:
                        edges[(source, target_id, kind)] = customer.pk
    # Top up (duplicates and rounding) with cabling that carries no impact.
    infra = [(c.pk, pools[(c.pk, "server")], pools[(c.pk, "network_device")]) for c in customers]
    while len(edges) < target:
        customer_id, servers, switches = rng.choice(infra)
        edges.setdefault((rng.choice(servers), rng.choice(switches), "connected_to"), customer_id)
    for key in rng.sample(list(edges), max(0, len(edges) - target)):
        del edges[key]
    return edges
