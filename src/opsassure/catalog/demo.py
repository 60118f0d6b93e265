"""Catalog demo data: the service catalogues (服务目录) and SLA policies of both demo customers.

Called by ``core.demo.load_demo`` after the core data (customers JCH and RFS, teams SD, SYS,
NET). Idempotent: rows are created through the catalog services only when missing (looked up
by customer and code); once created they belong to their users, so a second load changes
nothing and records nothing.

- 江城市第一人民医院 (JCH): core clinical systems (HIS, PACS, databases, network, machine
  room) under a 7×24 policy; desktop support on the standard 5×8 default policy.
- 瑞丰证券 (RFS): trading and market-data systems under a trading-day policy measured in the
  customer's own calendar (trading days 08:00–18:00, holidays seeded); security operations
  7×24; everything else on the 5×8 default.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from opsassure.catalog import builtin, catalogue, policies, services, sla_policies
from opsassure.catalog.models import Service, ServiceCalendar, SlaPolicy
from opsassure.catalog.sla_policies import OlaEntry, TargetEntry
from opsassure.core.models import Customer, Team

H = 60  # minutes per hour

# code, name, calendar code (own calendars are created below), targets
# (priority, response, arrival or None, resolution) in minutes, OLA rows (team, priority,
# response, resolution)
POLICIES: dict[str, list[dict[str, Any]]] = {
    "JCH": [
        {
            "code": "core-7x24",
            "name": "核心业务系统 7×24 SLA",
            "description": "HIS、PACS、数据库、网络与机房：全天候响应，重大故障 30 分钟到场。",
            "calendar": "7x24",
            "targets": [
                (1, 15, 30, 4 * H),
                (2, 30, 2 * H, 8 * H),
                (3, H, 4 * H, 24 * H),
                (4, 4 * H, None, 72 * H),
            ],
            "ola": [
                ("SD", 1, 5, None),
                ("SYS", 1, 15, 3 * H),
                ("NET", 1, 15, 3 * H),
                ("SYS", 2, 30, 6 * H),
            ],
        },
    ],
    "RFS": [
        {
            "code": "trading",
            "name": "交易系统保障 SLA（交易日）",
            "description": "集中交易与行情：交易日 08:00–18:00 内 5 分钟响应，2 小时恢复。",
            "calendar": "RFS-TRADING",
            "targets": [
                (1, 5, 30, 2 * H),
                (2, 15, H, 4 * H),
                (3, H, 4 * H, 16 * H),
                (4, 4 * H, None, 40 * H),
            ],
            "ola": [("SD", 1, 3, None), ("SYS", 1, 10, 90)],
        },
        {
            "code": "security-7x24",
            "name": "网络安全运维 7×24 SLA",
            "description": "安全事件全天候响应。",
            "calendar": "7x24",
            "targets": [
                (1, 15, None, 4 * H),
                (2, 30, None, 8 * H),
                (3, 2 * H, None, 24 * H),
                (4, 8 * H, None, 72 * H),
            ],
            "ola": [],
        },
    ],
}

# customer → rows of (code, name, parent code, policy code or None (the default), service
# hours calendar, delivery mode, owner team, frequency, goal, scope, deliverables)
SERVICES: dict[str, list[tuple[Any, ...]]] = {
    "JCH": [
        (
            "HIS",
            "HIS 系统运维",
            "",
            "core-7x24",
            "7x24",
            "both",
            "SYS",
            "7×24",
            "保障门诊、住院业务连续运行",
            "HIS 应用、接口、中间件的日常运维与故障处理",
            "月度运维报告",
        ),
        (
            "HIS-APP",
            "门诊/住院应用支持",
            "HIS",
            "core-7x24",
            "7x24",
            "both",
            "SYS",
            "按需",
            "",
            "挂号、收费、医嘱、药房模块的故障处理与配置变更",
            "",
        ),
        (
            "HIS-IF",
            "HIS 接口运维",
            "HIS",
            "core-7x24",
            "7x24",
            "remote",
            "SYS",
            "每日",
            "",
            "LIS、PACS、医保接口的监控与异常处理",
            "接口异常日报",
        ),
        (
            "PACS",
            "PACS 运维",
            "",
            "core-7x24",
            "7x24",
            "both",
            "SYS",
            "7×24",
            "影像采集、存储、调阅不中断",
            "PACS 服务器、影像存储与调阅终端",
            "月度运维报告",
        ),
        (
            "PACS-STOR",
            "影像存储管理",
            "PACS",
            "core-7x24",
            "7x24",
            "remote",
            "SYS",
            "每周",
            "",
            "存储容量、归档与迁移",
            "容量周报",
        ),
        (
            "PACS-VIEW",
            "影像调阅故障处理",
            "PACS",
            "core-7x24",
            "7x24",
            "onsite",
            "SD",
            "按需",
            "",
            "医生工作站影像调阅问题",
            "",
        ),
        (
            "DB",
            "数据库运维",
            "",
            "core-7x24",
            "7x24",
            "remote",
            "SYS",
            "7×24",
            "核心数据库高可用、可恢复",
            "Oracle/SQL Server 运维、性能优化、备份",
            "数据库健康报告",
        ),
        (
            "DB-INSPECT",
            "数据库巡检",
            "DB",
            "core-7x24",
            "7x24",
            "remote",
            "SYS",
            "每日",
            "",
            "表空间、告警日志、性能指标巡检",
            "巡检记录",
        ),
        (
            "DB-BACKUP",
            "备份与恢复演练",
            "DB",
            "core-7x24",
            "7x24",
            "remote",
            "SYS",
            "每季度",
            "",
            "备份有效性检查与恢复演练",
            "演练报告",
        ),
        (
            "NET",
            "网络运维",
            "",
            "core-7x24",
            "7x24",
            "both",
            "NET",
            "7×24",
            "院内网络稳定可用",
            "核心、接入与无线网络",
            "网络运行月报",
        ),
        (
            "NET-CORE",
            "核心网络",
            "NET",
            "core-7x24",
            "7x24",
            "both",
            "NET",
            "7×24",
            "",
            "核心交换、防火墙、出口链路",
            "",
        ),
        (
            "NET-WLAN",
            "无线网络",
            "NET",
            None,
            "5x8",
            "onsite",
            "NET",
            "按需",
            "",
            "病区无线覆盖与移动护理终端接入",
            "",
        ),
        (
            "DC",
            "机房巡检",
            "",
            "core-7x24",
            "7x24",
            "onsite",
            "NET",
            "每日",
            "机房环境与设备运行正常",
            "动环、UPS、空调、消防巡检",
            "巡检记录表",
        ),
        (
            "DESK",
            "桌面运维",
            "",
            None,
            "5x8",
            "onsite",
            "SD",
            "工作日",
            "终端用户正常办公",
            "电脑、打印机、外设、办公软件",
            "服务台月报",
        ),
        (
            "DESK-PC",
            "终端故障处理",
            "DESK",
            None,
            "5x8",
            "onsite",
            "SD",
            "按需",
            "",
            "电脑软硬件故障",
            "",
        ),
        (
            "DESK-PRINT",
            "打印机与外设",
            "DESK",
            None,
            "5x8",
            "onsite",
            "SD",
            "按需",
            "",
            "打印机、扫码枪、读卡器",
            "",
        ),
    ],
    "RFS": [
        (
            "TRD",
            "交易系统运维",
            "",
            "trading",
            "RFS-TRADING",
            "both",
            "SYS",
            "交易日",
            "交易时段零中断",
            "集中交易、融资融券、交易网关",
            "交易系统运行月报",
        ),
        (
            "TRD-CORE",
            "集中交易系统",
            "TRD",
            "trading",
            "RFS-TRADING",
            "both",
            "SYS",
            "交易日",
            "",
            "柜台系统、清算批处理",
            "日终检查记录",
        ),
        (
            "TRD-MARGIN",
            "融资融券系统",
            "TRD",
            "trading",
            "RFS-TRADING",
            "remote",
            "SYS",
            "交易日",
            "",
            "两融柜台与风控",
            "",
        ),
        (
            "TRD-GW",
            "交易网关",
            "TRD",
            "trading",
            "RFS-TRADING",
            "remote",
            "SYS",
            "交易日",
            "",
            "报盘网关、券商柜台接口",
            "",
        ),
        (
            "MKT",
            "行情系统",
            "",
            "trading",
            "RFS-TRADING",
            "remote",
            "SYS",
            "交易日",
            "行情实时准确",
            "行情接收、转发与 Level-2 行情",
            "行情质量周报",
        ),
        (
            "MKT-FWD",
            "行情转发",
            "MKT",
            "trading",
            "RFS-TRADING",
            "remote",
            "SYS",
            "交易日",
            "",
            "行情服务器与转发链路",
            "",
        ),
        (
            "MKT-L2",
            "Level-2 行情",
            "MKT",
            "trading",
            "RFS-TRADING",
            "remote",
            "SYS",
            "交易日",
            "",
            "Level-2 行情源与终端",
            "",
        ),
        (
            "SEC",
            "网络安全运维",
            "",
            "security-7x24",
            "7x24",
            "remote",
            "SYS",
            "7×24",
            "满足等保与监管要求",
            "安全设备、漏洞与安全事件",
            "安全月报",
        ),
        (
            "SEC-FW",
            "防火墙策略管理",
            "SEC",
            "security-7x24",
            "7x24",
            "remote",
            "SYS",
            "按需",
            "",
            "策略申请、审核与变更",
            "策略变更记录",
        ),
        (
            "SEC-IR",
            "安全事件响应",
            "SEC",
            "security-7x24",
            "7x24",
            "both",
            "SYS",
            "7×24",
            "",
            "入侵、病毒、数据泄露事件处置",
            "事件报告",
        ),
        (
            "SEC-VULN",
            "漏洞扫描",
            "SEC",
            "security-7x24",
            "7x24",
            "remote",
            "SYS",
            "每月",
            "",
            "系统与应用漏洞扫描及整改跟踪",
            "扫描报告",
        ),
        (
            "DESK",
            "桌面运维",
            "",
            None,
            "5x8",
            "onsite",
            "SD",
            "工作日",
            "员工正常办公",
            "电脑、打印机与办公软件",
            "服务台月报",
        ),
    ],
}

TRADING_DAY = [(weekday, 8 * 60, 18 * 60) for weekday in range(5)]


def _own_calendars(customers: dict[str, Customer]) -> dict[tuple[str, str], ServiceCalendar]:
    found = {
        (code, calendar.code): calendar
        for code in customers
        for calendar in ServiceCalendar.objects.filter(customer__isnull=True)
    }
    rfs = customers["RFS"]
    trading = ServiceCalendar.objects.filter(customer=rfs, code="RFS-TRADING").first()
    if trading is None:
        trading = services.create_calendar(
            customer=rfs,
            code="RFS-TRADING",
            name="瑞丰证券交易日 08:00–18:00",
            description="沪深交易日（法定节假日休市，调休周末不开市按工作日计）。",
            intervals=TRADING_DAY,
        )
        builtin.seed_public_holidays(trading, builtin.default_years())
    found[("RFS", "RFS-TRADING")] = trading
    return found


def _policies(
    customers: dict[str, Customer],
    calendars: dict[tuple[str, str], ServiceCalendar],
    teams: dict[str, Team],
) -> dict[tuple[str, str], SlaPolicy]:
    found: dict[tuple[str, str], SlaPolicy] = {}
    for code, specs in POLICIES.items():
        customer = customers[code]
        policies.ensure_default_policy(customer)
        for spec in specs:
            policy = SlaPolicy.objects.filter(customer=customer, code=spec["code"]).first()
            if policy is None:
                policy = sla_policies.create_policy(
                    customer=customer,
                    code=spec["code"],
                    name=spec["name"],
                    description=spec["description"],
                    calendar=calendars[(code, spec["calendar"])],
                    targets=[TargetEntry(p, r, s, a) for p, r, a, s in spec["targets"]],
                    ola_targets=[OlaEntry(teams[team], p, r, s) for team, p, r, s in spec["ola"]],
                )
            found[(code, spec["code"])] = policy
    return found


def load(console: Any) -> None:
    """Create what is missing of the catalog demo; a second call changes nothing."""
    from opsassure.core.audit import AuditContext, audit_context

    with audit_context(AuditContext(actor_username="demo")), transaction.atomic():
        customers = {c.code: c for c in Customer.objects.filter(code__in=list(SERVICES))}
        if set(customers) != set(SERVICES):
            return  # the core demo was not loaded
        teams = {team.code: team for team in Team.objects.filter(code__in=["SD", "SYS", "NET"])}
        calendars = _own_calendars(customers)
        found_policies = _policies(customers, calendars, teams)
        for code, rows in SERVICES.items():
            customer = customers[code]
            created: dict[str, Service] = {
                s.code: s for s in Service.objects.filter(customer=customer)
            }
            for row in rows:
                (
                    service_code,
                    name,
                    parent,
                    policy,
                    hours,
                    mode,
                    team,
                    frequency,
                    goal,
                    scope,
                    deliverables,
                ) = row
                if service_code in created:
                    continue
                created[service_code] = catalogue.create_service(
                    customer=customer,
                    code=service_code,
                    name=name,
                    parent=created[parent] if parent else None,
                    sla_policy=found_policies[(code, policy)] if policy else None,
                    service_hours=calendars[(code, hours)],
                    delivery_mode=mode,
                    owner_team=teams.get(team),
                    frequency=frequency,
                    goal=goal,
                    scope=scope,
                    deliverables=deliverables,
                )
        if console is not None:
            console.print(
                f"Catalog demo: {Service.objects.filter(customer__in=customers.values()).count()}"
                f" services, {SlaPolicy.objects.filter(customer__in=customers.values()).count()}"
                " SLA policies"
            )
