"""What the CMDB demo contains: two customers' estates, shared provider CIs, their relations.

Plain data, read by ``cmdb/demo.py``. Every CI has a short key (used by the relation lists)
and a bilingual name (its natural key in the database). Dates are offsets in days from the
day of the first load, so "ends within 30 days" holds on a fresh demo; ``verified`` is days
ago, None = never verified.

Configuration-audit findings planted on purpose (the demo should show the audit working):
- a server without serial number: ``pacs-srv02``;
- a duplicate IP address: ``lis-db01`` and its clone ``lis-test01`` both carry 10.10.2.31;
- an orphan CI (no relation at all): ``print-srv01``;
- in use with an expired warranty: ``pacs-srv01`` and the RFS market-data line router;
- never verified: ``pacs-srv02``, ``lis-test01``, ``test-trade-srv01``; verified 400 days
  ago: the retired ``old-md-srv``.
"""

from __future__ import annotations

from typing import Any

TAGS = {"核心系统": "red", "等保三级": "purple", "信创": "green", "互联网暴露": "orange"}

# name -> (contact, phone)
SUPPLIERS = {
    "江城鼎信科技有限公司 Dingxin Tech": ("黄工 Huang", "027-85550101"),
    "华东动力设备服务有限公司 East China Power Services": ("钱工 Qian", "021-65550202"),
    "上海瑞联系统集成有限公司 Ruilian Systems": ("郑工 Zheng", "021-50550303"),
    "江城网联通信技术有限公司 Wanglian Networks": ("冯工 Feng", "027-85550404"),
}

# A custom CI type next to the built-in ones (seeded by migrate): types are data, not code.
CLUSTER_TYPE: dict[str, Any] = {
    "code": "virtualization_cluster",
    "name": "虚拟化集群 Virtualization cluster",
    "icon": "server-2",
    "sort_order": 55,
    "attribute_schema": [
        {
            "name": "platform",
            "label": "Platform / 平台",
            "kind": "choice",
            "required": True,
            "choices": ["VMware vSphere", "华为 FusionCompute", "KVM", "其他 Other"],
        },
        {"name": "version", "label": "Version / 版本", "kind": "text", "required": False},
        {"name": "host_count", "label": "Hosts / 主机数", "kind": "integer", "required": False},
    ],
}

NOC, NOC_ROOM = "运维中心 Operations centre", "监控机房 NOC room"
JCH_SITE, JCH_DC = "江城一院本部 Main campus", "信息中心机房 Data centre (门诊楼 3F)"
JCH_CLOSET = "门诊楼弱电间 Outpatient wiring closet"
RFS_SITE, RFS_ROOM = "上海外高桥数据中心 Waigaoqiao IDC", "M201 机房 Room M201"
RFS_DR, RFS_DR_ROOM = "深圳灾备中心 Shenzhen DR centre", "DR-1 机房 Room DR-1"

# customer code (None: the provider's own) -> (kind, name, parent name); parents first.
LOCATIONS: dict[str | None, list[tuple[str, str, str | None]]] = {
    None: [("site", NOC, None), ("room", NOC_ROOM, NOC), ("rack", "N01", NOC_ROOM)],
    "JCH": [
        ("site", JCH_SITE, None),
        ("room", JCH_DC, JCH_SITE),
        ("room", JCH_CLOSET, JCH_SITE),
        *[("rack", rack, JCH_DC) for rack in ("A01", "A02", "A03", "A04")],
    ],
    "RFS": [
        ("site", RFS_SITE, None),
        ("room", RFS_ROOM, RFS_SITE),
        *[("rack", rack, RFS_ROOM) for rack in ("R01", "R02", "R03")],
        ("site", RFS_DR, None),
        ("room", RFS_DR_ROOM, RFS_DR),
        ("rack", "D01", RFS_DR_ROOM),
    ],
}

DINGXIN, POWER = (
    "江城鼎信科技有限公司 Dingxin Tech",
    "华东动力设备服务有限公司 East China Power Services",
)
RUILIAN, WANGLIAN = (
    "上海瑞联系统集成有限公司 Ruilian Systems",
    "江城网联通信技术有限公司 Wanglian Networks",
)
# customer code -> (number, supplier, service level, start offset, end offset)
CONTRACTS: dict[str, list[tuple[str, str, str, int, int]]] = {
    "JCH": [
        ("JCH-WB-2025-001", DINGXIN, "7×24 4 小时到场 4-hour on-site", -345, 20),  # ends soon
        ("JCH-WB-2023-007", POWER, "5×8 次日到场 next-day on-site", -1125, -30),  # expired
        ("JCH-WB-2025-012", WANGLIAN, "7×24 2 小时响应 2-hour response", -100, 265),
    ],
    "RFS": [
        ("RFS-WB-2025-003", RUILIAN, "7×24 2 小时到场 2-hour on-site", -185, 180),
        ("RFS-WB-2024-011", RUILIAN, "5×8 4 小时到场 4-hour on-site", -338, 27),  # ends soon
    ],
}


def _ci(key: str, name: str, type_code: str, **spec: Any) -> dict[str, Any]:
    return {"key": key, "name": name, "type": type_code, **spec}


def _svc(key: str, name: str, hours: str, owner: str, **spec: Any) -> dict[str, Any]:
    attrs = {"service_hours": hours, "business_owner": owner}
    return _ci(key, name, "business_service", team="SD", criticality=1, attrs=attrs, **spec)


def _app(key: str, name: str, version: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("criticality", 1)
    return _ci(key, name, "application", team="SYS", attrs={"version": version}, **spec)


def _db(key: str, name: str, engine: str, version: str, port: int, **spec: Any) -> dict[str, Any]:
    attrs = {"engine": engine, "version": version, "port": port}
    spec.setdefault("criticality", 1)
    domain = spec.pop("domain")
    return _ci(key, name, "database", team="SYS", hostname=f"{key}.{domain}", attrs=attrs, **spec)


def _mw(key: str, name: str, product: str, version: str, port: int, **spec: Any) -> dict[str, Any]:
    attrs = {"product": product, "version": version, "port": port}
    spec.setdefault("criticality", 2)
    domain = spec.pop("domain")
    return _ci(key, name, "middleware", team="SYS", hostname=f"{key}.{domain}", attrs=attrs, **spec)


def _vm(key: str, ip: str, cpu: int, memory: int, os: str, **spec: Any) -> dict[str, Any]:
    attrs = {"cpu_count": cpu, "memory_gb": memory, "os": os, "hypervisor": "VMware"}
    spec.setdefault("criticality", 2)
    return _ci(key, key, "virtual_machine", team="SYS", hostname=key, ip=[ip], attrs=attrs, **spec)


def _srv(key: str, vendor: str, model: str, serial: str, ip: str, **spec: Any) -> dict[str, Any]:
    """A physical server; ``at`` is (rack, unit)."""
    rack, unit = spec.pop("at")
    spec.setdefault("criticality", 2)
    spec.setdefault("warranty", 540)
    spec.setdefault("team", "SYS")
    name = spec.pop("name", key)
    ips = [ip, *spec.pop("more_ips", [])]
    return _ci(
        key, name, "server", vendor=vendor, model=model, serial_number=serial,
        hostname=key, ip=ips, rack=rack, rack_unit=unit, **spec,
    )  # fmt: skip


def _hw(
    key: str, name: str, type_code: str, vendor: str, model: str, serial: str, **spec: Any
) -> dict[str, Any]:
    spec.setdefault("criticality", 2)
    spec.setdefault("warranty", 720)
    if "at" in spec:
        spec["rack"], spec["rack_unit"] = spec.pop("at")
    return _ci(key, name, type_code, vendor=vendor, model=model, serial_number=serial, **spec)


HUAWEI, INSPUR, H3C = "华为 Huawei", "浪潮 Inspur", "新华三 H3C"
TAISHAN, NF5280, R4900 = "TaiShan 200 2280", "NF5280M6", "UniServer R4900 G5"
KYLIN = "银河麒麟 Kylin V10 SP3"
SELF = "127.0.0.1:8000"  # the app's own /metrics: Prometheus service discovery shows targets
ESX = {"cpu_count": 96, "memory_gb": 768, "os": "VMware ESXi 7.0 U3"}
RAC = {"cpu_count": 64, "memory_gb": 512, "os": "Oracle Linux 7.9"}
WIN = {"cpu_count": 48, "memory_gb": 256, "os": "Windows Server 2019"}
TRADE = {"cpu_count": 128, "memory_gb": 512, "os": KYLIN}
NODE = {"cpu_count": 64, "memory_gb": 256, "os": KYLIN}
J, R = "jch.local", "rfs.local"

# fmt: off
SHARED_CIS = [
    _srv("noc-mon01", INSPUR, NF5280, "INS-219255101", "192.168.100.10", at=("N01", 20),
         name="运维监控平台 Monitoring platform", monitoring_endpoint=SELF,
         attrs={"cpu_count": 32, "memory_gb": 128, "os": KYLIN},
         description="Prometheus + Alertmanager，统一监控各客户。Monitors every customer."),
    _hw("bastion", "堡垒机 Bastion host", "security_device", H3C, "SecPath A2000-G",
        "H3C-210235A2K9", ip=["192.168.100.20"], team="NET", at=("N01", 24),
        attrs={"function": "堡垒机 Bastion", "firmware": "E6112"},
        description="运维人员经堡垒机访问客户设备。Engineers reach customer devices through it."),
]

JCH_CIS = [
    _svc("opd", "门诊挂号 Outpatient registration", "7×24", "门诊部 Outpatient dept",
         tags=["核心系统"]),
    _svc("ipd", "住院管理 Inpatient management", "7×24", "住院部 Inpatient dept",
         tags=["核心系统"]),
    _svc("imaging", "影像归档 PACS Imaging archive", "7×24", "放射科 Radiology"),
    _svc("lab", "检验 LIS Laboratory testing", "7×24", "检验科 Laboratory"),
    _app("his", "HIS 医院信息系统 Hospital information system", "5.2",
         tags=["核心系统", "等保三级"]),
    _app("emr", "EMR 电子病历 Electronic medical record", "4.0", tags=["等保三级"]),
    _app("pacs", "PACS 影像系统 Picture archiving", "3.8"),
    _app("lis", "LIS 检验信息系统 Laboratory information", "2.6"),
    _app("online", "互联网医院 预约挂号 Online appointment", "1.9", tags=["互联网暴露"],
         criticality=2),
    _db("his-rac-1", "HIS Oracle RAC 节点1 node 1", "Oracle", "19c", 1521, domain=J),
    _db("his-rac-2", "HIS Oracle RAC 节点2 node 2", "Oracle", "19c", 1521, domain=J),
    _db("emr-dm", "EMR 达梦数据库 DM8 database", "达梦 DM", "DM8", 5236, domain=J,
        tags=["信创"]),
    _db("lis-ora", "LIS Oracle 数据库 database", "Oracle", "11g", 1521, domain=J),
    _db("pacs-pg", "PACS PostgreSQL 数据库 database", "PostgreSQL", "12", 5432, domain=J),
    _mw("his-wls-1", "HIS WebLogic 节点1 node 1", "WebLogic", "12c", 7001, domain=J),
    _mw("his-wls-2", "HIS WebLogic 节点2 node 2", "WebLogic", "12c", 7001, domain=J),
    _mw("proxy-1", "Nginx 反向代理1 reverse proxy 1", "Nginx", "1.24", 443, domain=J),
    _mw("proxy-2", "Nginx 反向代理2 reverse proxy 2", "Nginx", "1.24", 443, domain=J),
    _mw("lis-tomcat", "LIS Tomcat 应用服务 app server", "Tomcat", "9.0", 8080, domain=J),
    _ci("cluster", "VMware 生产集群 Production cluster", "virtualization_cluster", team="SYS",
        criticality=1,
        attrs={"platform": "VMware vSphere", "version": "7.0 U3", "host_count": 3}),
    _vm("his-app01", "10.10.3.11", 16, 64, "CentOS 7.9"),
    _vm("his-app02", "10.10.3.12", 16, 64, "CentOS 7.9"),
    _vm("web01", "10.10.3.21", 4, 8, "CentOS 7.9", tags=["互联网暴露"]),
    _vm("web02", "10.10.3.22", 4, 8, "CentOS 7.9", tags=["互联网暴露"]),
    _vm("emr-db01", "10.10.2.21", 16, 128, KYLIN, tags=["信创"]),
    _vm("lis-app01", "10.10.3.31", 8, 32, "CentOS 7.9"),
    _vm("lis-db01", "10.10.2.31", 16, 64, "CentOS 7.9"),
    _vm("pacs-db01", "10.10.2.41", 16, 64, "CentOS 7.9"),
    _vm("pacs-web01", "10.10.3.41", 8, 16, "Windows Server 2019"),
    # A test clone of lis-db01 that kept the production IP: the planted duplicate.
    _vm("lis-test01", "10.10.2.31", 8, 32, "CentOS 7.9", environment="test", criticality=4,
        verified=None),
    # Nobody recorded what it serves: the planted orphan.
    _vm("print-srv01", "10.10.3.90", 2, 4, "Windows Server 2016", criticality=4),
    _srv("his-db-srv01", HUAWEI, "FusionServer 2288H V6", "2102313LNS10P4000123", "10.10.1.11",
         at=("A01", 10), attrs=RAC, criticality=1, contract="JCH-WB-2025-001",
         monitoring_endpoint=SELF),
    _srv("his-db-srv02", HUAWEI, "FusionServer 2288H V6", "2102313LNS10P4000124", "10.10.1.12",
         at=("A01", 14), attrs=RAC, criticality=1, contract="JCH-WB-2025-001"),
    _srv("esxi-01", INSPUR, NF5280, "INS-219255117", "10.10.1.21", at=("A02", 8), attrs=ESX,
         more_ips=["10.10.9.21"], contract="JCH-WB-2025-001", monitoring_endpoint=SELF),
    _srv("esxi-02", INSPUR, NF5280, "INS-219255118", "10.10.1.22", at=("A02", 12), attrs=ESX,
         contract="JCH-WB-2025-001"),
    _srv("esxi-03", INSPUR, NF5280, "INS-219255119", "10.10.1.23", at=("A02", 16), attrs=ESX,
         warranty=18),
    _srv("pacs-srv01", H3C, R4900, "H3C-210235A3T1", "10.10.1.31", at=("A03", 6), attrs=WIN,
         warranty=-120),
    _srv("pacs-srv02", H3C, R4900, "", "10.10.1.32", at=("A03", 10), attrs=WIN, verified=None),
    _srv("old-his-db", INSPUR, "NF5270M4", "INS-216110042", "10.10.1.9", at=("A01", 30),
         name="旧 HIS 数据库服务器 old-his-db", status="retired", criticality=4, warranty=-700),
    _hw("core-1", "核心交换机1 Core switch 1", "network_device", HUAWEI, "CE6881-48S6CQ",
        "2102351CFT00A1", ip=["10.10.0.1"], team="NET", at=("A04", 40), criticality=1,
        contract="JCH-WB-2025-012", attrs={"role": "核心 Core", "port_count": 54}),
    _hw("core-2", "核心交换机2 Core switch 2", "network_device", HUAWEI, "CE6881-48S6CQ",
        "2102351CFT00A2", ip=["10.10.0.2"], team="NET", at=("A04", 38), criticality=1,
        contract="JCH-WB-2025-012", attrs={"role": "核心 Core", "port_count": 54}),
    _hw("access-opd", "接入交换机 门诊楼 Access switch outpatient", "network_device", H3C,
        "S5130S-52S-EI", "H3C-219801A1B1", ip=["10.10.0.11"], team="NET", room=JCH_CLOSET,
        attrs={"role": "接入 Access", "port_count": 52}),
    _hw("access-ipd", "接入交换机 住院楼 Access switch inpatient", "network_device", H3C,
        "S5130S-52S-EI", "H3C-219801A1B2", ip=["10.10.0.12"], team="NET",
        attrs={"role": "接入 Access", "port_count": 52}),
    _hw("fw", "防火墙 Firewall", "security_device", H3C, "SecPath F1000-AI-25",
        "H3C-210235A2F1", ip=["10.10.0.254"], team="NET", at=("A04", 34), criticality=1,
        tags=["等保三级"], attrs={"function": "防火墙 Firewall", "firmware": "R8660"}),
    _hw("san", "存储阵列 Storage array", "storage", HUAWEI, "OceanStor 5310",
        "2102353GPK10N3000045", team="SYS", at=("A03", 20), criticality=1,
        contract="JCH-WB-2025-001", attrs={"capacity_tb": "200", "raid": "RAID 6"}),
    _hw("pacs-store", "PACS 影像存储 Archive storage", "storage", INSPUR, "AS5300G5",
        "INS-AS53G5-0091", team="SYS", at=("A03", 30), warranty=25,
        attrs={"capacity_tb": "500", "raid": "RAID 6"}),
    _hw("ups-1", "UPS 1 机房 UPS 1", "power_cooling", HUAWEI, "UPS5000-E-80K",
        "2102312ALN10K5000301", team="SYS", room=JCH_DC, contract="JCH-WB-2023-007",
        attrs={"equipment": "UPS", "capacity_kva": "80"}),
    _hw("ups-2", "UPS 2 机房 UPS 2", "power_cooling", HUAWEI, "UPS5000-E-80K",
        "2102312ALN10K5000302", team="SYS", room=JCH_DC, contract="JCH-WB-2023-007",
        attrs={"equipment": "UPS", "capacity_kva": "80"}),
    _hw("ac-1", "精密空调1 Precision AC 1", "power_cooling", HUAWEI, "NetCol5000-A035",
        "2102312KWD10P8000077", team="SYS", room=JCH_DC, contract="JCH-WB-2023-007",
        attrs={"equipment": "精密空调 Precision AC", "capacity_kva": "35"}),
    _hw("env-mon", "动环监控主机 Environment monitor", "power_cooling", HUAWEI, "ECC800-Pro",
        "2102312NCH10P9000012", ip=["10.10.0.200"], team="SYS", room=JCH_DC,
        attrs={"equipment": "动环监控 Monitoring"}),
]

RFS_CIS = [
    _svc("trading", "集中交易系统 Centralised trading", "5×8", "经纪业务部 Brokerage",
         tags=["核心系统"]),
    _svc("market", "行情系统 Market data", "5×8", "经纪业务部 Brokerage", tags=["核心系统"]),
    _svc("clearing", "清算 Clearing and settlement", "5×8", "运营管理部 Operations"),
    _svc("online", "网上交易 Online trading", "7×24", "互联网金融部 Internet finance"),
    _app("core", "集中交易核心 Trading core", "V8.3", tags=["核心系统", "等保三级"]),
    _app("gateway", "委托网关 Order gateway", "3.2"),
    _app("feed", "行情转发 Market data feed", "2.1"),
    _app("clear-app", "清算系统 Clearing system", "6.0"),
    _app("web-app", "网上交易后台 Online trading backend", "5.5", tags=["互联网暴露"]),
    _app("risk", "风控系统 Risk control", "4.1", criticality=2),
    _mw("kafka-1", "Kafka 节点1 node 1", "Kafka", "3.5", 9092, domain=R),
    _mw("kafka-2", "Kafka 节点2 node 2", "Kafka", "3.5", 9092, domain=R),
    _mw("kafka-3", "Kafka 节点3 node 3", "Kafka", "3.5", 9092, domain=R),
    _db("trade-mysql", "交易 MySQL 主库 primary", "MySQL", "8.0", 3306, domain=R),
    _db("trade-mysql-ro", "交易 MySQL 从库 replica", "MySQL", "8.0", 3306, domain=R),
    _db("clear-mysql", "清算 MySQL 主库 Clearing primary", "MySQL", "8.0", 3306, domain=R),
    _db("clear-mysql-sb", "清算 MySQL 备库 Clearing standby", "MySQL", "8.0", 3306, domain=R),
    _db("redis-1", "Redis 缓存节点1 cache node 1", "Redis", "6.2", 6379, domain=R),
    _db("redis-2", "Redis 缓存节点2 cache node 2", "Redis", "6.2", 6379, domain=R),
    _srv("trade-srv01", HUAWEI, TAISHAN, "2102312VBN10M7000101", "172.16.10.11", at=("R01", 10),
         attrs=TRADE, criticality=1, contract="RFS-WB-2025-003", monitoring_endpoint=SELF,
         tags=["信创"]),
    _srv("trade-srv02", HUAWEI, TAISHAN, "2102312VBN10M7000102", "172.16.10.12", at=("R01", 14),
         attrs=TRADE, criticality=1, contract="RFS-WB-2025-003", tags=["信创"]),
    _srv("md-srv01", HUAWEI, TAISHAN, "2102312VBN10M7000111", "172.16.10.21", at=("R01", 20),
         attrs=NODE),
    _srv("md-srv02", HUAWEI, TAISHAN, "2102312VBN10M7000112", "172.16.10.22", at=("R01", 24),
         attrs=NODE),
    _srv("clear-srv01", INSPUR, NF5280, "INS-219310201", "172.16.10.31", at=("R02", 6),
         attrs=NODE),
    _srv("clear-srv02", INSPUR, NF5280, "INS-219310202", "172.16.10.32", at=("R02", 10),
         attrs=NODE),
    _srv("kafka-srv01", H3C, R4900, "H3C-210235A3K1", "172.16.10.41", at=("R02", 14), attrs=NODE),
    _srv("kafka-srv02", H3C, R4900, "H3C-210235A3K2", "172.16.10.42", at=("R02", 18), attrs=NODE),
    _srv("kafka-srv03", H3C, R4900, "H3C-210235A3K3", "172.16.10.43", at=("R02", 22), attrs=NODE),
    _srv("db-srv01", INSPUR, NF5280, "INS-219310211", "172.16.10.51", at=("R03", 6), attrs=NODE,
         criticality=1, contract="RFS-WB-2025-003", monitoring_endpoint=SELF),
    _srv("db-srv02", INSPUR, NF5280, "INS-219310212", "172.16.10.52", at=("R03", 10), attrs=NODE,
         criticality=1, contract="RFS-WB-2025-003"),
    _srv("cache-srv01", H3C, R4900, "H3C-210235A3R1", "172.16.10.61", at=("R03", 14), attrs=NODE),
    _srv("cache-srv02", H3C, R4900, "H3C-210235A3R2", "172.16.10.62", at=("R03", 18), attrs=NODE),
    _srv("web-srv01", INSPUR, NF5280, "INS-219310221", "172.16.20.11", at=("R03", 22),
         attrs=NODE, tags=["互联网暴露"]),
    _srv("web-srv02", INSPUR, NF5280, "INS-219310222", "172.16.20.12", at=("R03", 26),
         attrs=NODE, tags=["互联网暴露"]),
    _srv("ntp-srv01", HUAWEI, TAISHAN, "2102312VBN10M7000131", "172.16.10.5", at=("R01", 30),
         name="ntp-srv01 时钟服务器 Time server", attrs={"os": KYLIN}, criticality=1),
    _srv("dr-trade-srv01", HUAWEI, TAISHAN, "2102312VBN10M7000201", "172.20.10.11",
         at=("D01", 10), attrs=TRADE, environment="dr"),
    _srv("test-trade-srv01", INSPUR, "NF5270M5", "INS-218120055", "172.16.30.11", at=("R03", 34),
         attrs=NODE, environment="test", criticality=4, verified=None),
    _srv("old-md-srv", INSPUR, "NF5270M4", "INS-216110377", "172.16.10.29", at=("R01", 34),
         name="旧行情服务器 old-md-srv", status="retired", criticality=4, warranty=-400,
         verified=400),
    _hw("f5-1", "F5 负载均衡1 load balancer 1", "network_device", "F5", "BIG-IP i5800",
        "f5-xyzw-1234", ip=["172.16.0.21"], team="SYS", at=("R03", 40), warranty=12),
    _hw("f5-2", "F5 负载均衡2 load balancer 2", "network_device", "F5", "BIG-IP i5800",
        "f5-xyzw-1235", ip=["172.16.0.22"], team="SYS", at=("R03", 38)),
    _hw("waf", "WAF 应用防火墙 Web application firewall", "security_device", H3C,
        "SecPath W2000-AK", "H3C-210235A2W7", ip=["172.16.0.30"], team="SYS", at=("R03", 36),
        tags=["互联网暴露", "等保三级"], attrs={"function": "WAF"}),
    _hw("fw", "防火墙 Firewall", "security_device", HUAWEI, "USG6620E", "2102352DFN10M2000088",
        ip=["172.16.0.254"], team="SYS", at=("R01", 40), criticality=1, tags=["等保三级"],
        attrs={"function": "防火墙 Firewall"}),
    _hw("log-audit", "日志审计系统 Log audit", "security_device", HUAWEI, "eLog-2000",
        "2102352LGA10M2000015", ip=["172.16.0.35"], team="SYS", at=("R01", 36),
        attrs={"function": "审计 Audit"}),
    _hw("core-1", "核心交换机1 Core switch 1", "network_device", HUAWEI, "CE12804S",
        "2102350DPW10L1000501", ip=["172.16.0.1"], team="SYS", at=("R02", 30), criticality=1,
        contract="RFS-WB-2025-003", attrs={"role": "核心 Core"}),
    _hw("core-2", "核心交换机2 Core switch 2", "network_device", HUAWEI, "CE12804S",
        "2102350DPW10L1000502", ip=["172.16.0.2"], team="SYS", at=("R02", 20), criticality=1,
        contract="RFS-WB-2025-003", attrs={"role": "核心 Core"}),
    _hw("access-1", "接入交换机1 Access switch 1", "network_device", H3C, "S6850-56HF",
        "H3C-219801A2C1", ip=["172.16.0.11"], team="SYS", at=("R01", 42),
        attrs={"role": "接入 Access"}),
    _hw("access-2", "接入交换机2 Access switch 2", "network_device", H3C, "S6850-56HF",
        "H3C-219801A2C2", ip=["172.16.0.12"], team="SYS", at=("R03", 42),
        attrs={"role": "接入 Access"}),
    _hw("md-router", "行情专线路由器 Market data line router", "network_device", H3C, "MSR3620",
        "H3C-210235A1R9", ip=["172.16.0.40"], team="SYS", at=("R01", 38), warranty=-40,
        attrs={"role": "路由 Router"}),
    _hw("san", "存储阵列 Storage array", "storage", HUAWEI, "OceanStor Dorado 5000 V6",
        "2102353SEN10P2000017", team="SYS", at=("R02", 2), criticality=1,
        contract="RFS-WB-2024-011", warranty=28, attrs={"capacity_tb": "120", "raid": "RAID-TP"}),
    _hw("backup-store", "备份存储 Backup storage", "storage", HUAWEI, "OceanProtect X8000",
        "2102353VXR10P3000004", team="SYS", at=("D01", 2), attrs={"capacity_tb": "300"}),
]
# fmt: on

# (source key, relation type, target key, note). Keys not in the customer's list are shared CIs.
_JCH_VMS = ("his-app01", "his-app02", "web01", "web02", "emr-db01", "lis-app01", "lis-db01",
            "pacs-db01", "pacs-web01", "lis-test01")  # fmt: skip
_JCH_DC_HOSTS = ("his-db-srv01", "his-db-srv02", "esxi-01", "esxi-02", "esxi-03")
# fmt: off
JCH_RELATIONS: list[tuple[str, str, str, str]] = [
    ("opd", "depends_on", "his", ""),
    ("opd", "depends_on", "online", ""),
    ("ipd", "depends_on", "his", ""),
    ("ipd", "depends_on", "emr", ""),
    ("imaging", "depends_on", "pacs", ""),
    ("lab", "depends_on", "lis", ""),
    *[("his", "depends_on", x, "") for x in ("his-rac-1", "his-rac-2", "his-wls-1", "his-wls-2",
                                               "proxy-1", "proxy-2")],
    ("emr", "depends_on", "emr-dm", ""),
    ("emr", "depends_on", "his", "患者主索引 master patient index"),
    ("pacs", "depends_on", "pacs-pg", ""),
    ("pacs", "depends_on", "pacs-store", ""),
    ("pacs", "runs_on", "pacs-web01", ""),
    ("pacs", "runs_on", "pacs-srv01", "影像处理 image processing"),
    ("pacs", "runs_on", "pacs-srv02", "影像处理 image processing"),
    ("lis", "depends_on", "lis-ora", ""),
    ("lis", "depends_on", "lis-tomcat", ""),
    ("online", "depends_on", "his", ""),
    ("online", "depends_on", "proxy-1", ""),
    ("online", "depends_on", "fw", "互联网出口 internet edge"),
    ("his-rac-1", "runs_on", "his-db-srv01", ""),
    ("his-rac-2", "runs_on", "his-db-srv02", ""),
    ("emr-dm", "runs_on", "emr-db01", ""),
    ("lis-ora", "runs_on", "lis-db01", ""),
    ("pacs-pg", "runs_on", "pacs-db01", ""),
    ("his-wls-1", "runs_on", "his-app01", ""),
    ("his-wls-2", "runs_on", "his-app02", ""),
    ("proxy-1", "runs_on", "web01", ""),
    ("proxy-2", "runs_on", "web02", ""),
    ("lis-tomcat", "runs_on", "lis-app01", ""),
    *[(vm, "runs_on", "cluster", "") for vm in _JCH_VMS],
    *[(host, "member_of", "cluster", "") for host in ("esxi-01", "esxi-02", "esxi-03")],
    *[(host, "depends_on", "san", "FC SAN") for host in _JCH_DC_HOSTS],
    ("pacs-srv01", "depends_on", "pacs-store", ""),
    ("pacs-srv02", "depends_on", "pacs-store", ""),
    *[(host, "depends_on", switch, "")
      for host in (*_JCH_DC_HOSTS, "pacs-srv01", "pacs-srv02") for switch in ("core-1", "core-2")],
    *[(access, "depends_on", core, "")
      for access in ("access-opd", "access-ipd") for core in ("core-1", "core-2")],
    ("core-1", "connected_to", "fw", ""),
    ("core-2", "connected_to", "fw", ""),
    *[(x, "depends_on", ups, "")
      for x in ("san", "core-1", "core-2") for ups in ("ups-1", "ups-2")],
    ("san", "depends_on", "ac-1", "制冷 cooling"),
    *[("env-mon", "connected_to", x, "动环监测 sensors") for x in ("ups-1", "ups-2", "ac-1")],
    ("old-his-db", "connected_to", "core-1", "待拆除 to be removed"),
    ("lis-test01", "backs_up", "lis-ora", "测试库 test copy"),
    *[(host, "connected_to", "noc-mon01", "监控采集 monitored") for host in _JCH_DC_HOSTS],
    ("core-1", "connected_to", "bastion", "运维通道 admin access"),
    ("fw", "connected_to", "bastion", "运维通道 admin access"),
]

_KAFKA = ("kafka-1", "kafka-2", "kafka-3")
_REDIS = ("redis-1", "redis-2")
_RFS_HOSTS = ("trade-srv01", "trade-srv02", "md-srv01", "md-srv02", "clear-srv01",
              "clear-srv02", "kafka-srv01", "kafka-srv02", "kafka-srv03", "db-srv01", "db-srv02",
              "cache-srv01", "cache-srv02", "web-srv01", "web-srv02", "ntp-srv01",
              "test-trade-srv01")
RFS_RELATIONS: list[tuple[str, str, str, str]] = [
    ("trading", "depends_on", "core", ""),
    ("trading", "depends_on", "gateway", ""),
    ("trading", "depends_on", "risk", ""),
    ("market", "depends_on", "feed", ""),
    ("clearing", "depends_on", "clear-app", ""),
    ("online", "depends_on", "web-app", ""),
    ("core", "depends_on", "trade-mysql", ""),
    ("core", "depends_on", "ntp-srv01", "时钟同步 time sync"),
    *[("core", "depends_on", x, "") for x in (*_KAFKA, *_REDIS)],
    ("gateway", "depends_on", "core", ""),
    *[("gateway", "depends_on", x, "") for x in _KAFKA],
    ("risk", "depends_on", "trade-mysql-ro", ""),
    *[("risk", "depends_on", x, "") for x in _KAFKA],
    *[("feed", "depends_on", x, "") for x in _REDIS],
    ("feed", "depends_on", "md-router", "交易所行情专线 exchange feed"),
    ("clear-app", "depends_on", "clear-mysql", ""),
    ("clear-app", "depends_on", "trade-mysql-ro", "日终取数 end-of-day extract"),
    ("web-app", "depends_on", "gateway", ""),
    *[("web-app", "depends_on", x, "") for x in (*_REDIS, "f5-1", "f5-2", "waf")],
    *[(app, "runs_on", host, "") for app in ("core", "gateway")
      for host in ("trade-srv01", "trade-srv02")],
    ("risk", "runs_on", "trade-srv02", ""),
    ("feed", "runs_on", "md-srv01", ""),
    ("feed", "runs_on", "md-srv02", ""),
    ("clear-app", "runs_on", "clear-srv01", ""),
    ("web-app", "runs_on", "web-srv01", ""),
    ("web-app", "runs_on", "web-srv02", ""),
    ("kafka-1", "runs_on", "kafka-srv01", ""),
    ("kafka-2", "runs_on", "kafka-srv02", ""),
    ("kafka-3", "runs_on", "kafka-srv03", ""),
    ("trade-mysql", "runs_on", "db-srv01", ""),
    ("trade-mysql-ro", "runs_on", "db-srv02", ""),
    ("clear-mysql", "runs_on", "clear-srv01", ""),
    ("clear-mysql-sb", "runs_on", "clear-srv02", ""),
    ("clear-mysql-sb", "backs_up", "clear-mysql", "主备复制 replication"),
    ("redis-1", "runs_on", "cache-srv01", ""),
    ("redis-2", "runs_on", "cache-srv02", ""),
    *[(host, "depends_on", "san", "") for host in ("db-srv01", "db-srv02", "clear-srv01",
                                                    "clear-srv02")],
    *[(host, "depends_on", "access-1" if n % 2 == 0 else "access-2", "")
      for n, host in enumerate(_RFS_HOSTS)],
    *[(access, "depends_on", core, "")
      for access in ("access-1", "access-2") for core in ("core-1", "core-2")],
    ("f5-1", "depends_on", "core-1", ""),
    ("f5-2", "depends_on", "core-2", ""),
    ("waf", "depends_on", "fw", ""),
    ("core-1", "connected_to", "fw", ""),
    ("core-2", "connected_to", "fw", ""),
    ("md-router", "connected_to", "core-1", ""),
    ("log-audit", "connected_to", "core-1", "镜像口 mirror port"),
    ("old-md-srv", "connected_to", "access-1", "待拆除 to be removed"),
    ("dr-trade-srv01", "backs_up", "trade-srv01", "异地灾备 DR replica"),
    ("backup-store", "backs_up", "san", ""),
    *[(host, "connected_to", "noc-mon01", "监控采集 monitored")
      for host in ("trade-srv01", "trade-srv02", "db-srv01", "db-srv02")],
    ("core-1", "connected_to", "bastion", "运维通道 admin access"),
    ("fw", "connected_to", "bastion", "运维通道 admin access"),
]
# fmt: on

CIS: dict[str | None, list[dict[str, Any]]] = {None: SHARED_CIS, "JCH": JCH_CIS, "RFS": RFS_CIS}
RELATIONS: dict[str, list[tuple[str, str, str, str]]] = {
    "JCH": JCH_RELATIONS,
    "RFS": RFS_RELATIONS,
}
