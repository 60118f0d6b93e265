"""The CI types and configuration audit rules OpsAssure ships with."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

_DB_ENGINES = [
    "Oracle",
    "MySQL",
    "PostgreSQL",
    "SQL Server",
    "达梦 DM",
    "人大金仓 KingbaseES",
    "openGauss",
    "OceanBase",
    "GaussDB",
    "Redis",
    "MongoDB",
    "其他 Other",
]
_MIDDLEWARE = [
    "Nginx",
    "Tomcat",
    "WebLogic",
    "WebSphere",
    "东方通 TongWeb",
    "金蝶 Apusic",
    "Kafka",
    "RabbitMQ",
    "RocketMQ",
    "Zookeeper",
    "其他 Other",
]


def _attr(
    name: str,
    label: str,
    kind: str = "text",
    required: bool = False,
    choices: list[str] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "label": label, "kind": kind, "required": required}
    if choices:
        spec["choices"] = choices
    return spec


# code: (display name, icon, physical asset, required common fields, attribute schema)
BUILTIN_TYPES: dict[str, tuple[Any, str, bool, list[str], list[dict[str, Any]]]] = {
    "business_service": (
        _("Business service"),
        "briefcase",
        False,
        ["owner_team"],
        [
            _attr("service_hours", "Service hours / 服务时间", "choice", True, ["7×24", "5×8"]),
            _attr("business_owner", "Business owner / 业务负责人"),
        ],
    ),
    "application": (
        _("Application"),
        "apps",
        False,
        ["owner_team"],
        [
            _attr("version", "Version / 版本"),
            _attr("url", "URL"),
        ],
    ),
    "database": (
        _("Database"),
        "database",
        False,
        ["hostname"],
        [
            _attr("engine", "Engine / 数据库类型", "choice", True, _DB_ENGINES),
            _attr("version", "Version / 版本"),
            _attr("port", "Port / 端口", "integer"),
        ],
    ),
    "middleware": (
        _("Middleware"),
        "stack-2",
        False,
        ["hostname"],
        [
            _attr("product", "Product / 产品", "choice", True, _MIDDLEWARE),
            _attr("version", "Version / 版本"),
            _attr("port", "Port / 端口", "integer"),
        ],
    ),
    "server": (
        _("Server"),
        "server",
        True,
        ["serial_number", "vendor", "model", "hostname"],
        [
            _attr("cpu_count", "CPU cores / CPU 核数", "integer"),
            _attr("memory_gb", "Memory (GB) / 内存", "integer"),
            _attr("os", "Operating system / 操作系统"),
        ],
    ),
    "virtual_machine": (
        _("Virtual machine"),
        "device-desktop",
        False,
        ["hostname"],
        [
            _attr("cpu_count", "vCPU", "integer"),
            _attr("memory_gb", "Memory (GB) / 内存", "integer"),
            _attr("os", "Operating system / 操作系统"),
            _attr(
                "hypervisor",
                "Hypervisor / 虚拟化平台",
                "choice",
                False,
                ["VMware", "KVM", "Hyper-V", "华为 FusionCompute", "深信服 HCI", "其他 Other"],
            ),
        ],
    ),
    "container_platform": (
        _("Container platform"),
        "brand-docker",
        False,
        [],
        [
            _attr(
                "distribution",
                "Distribution / 发行版",
                "choice",
                False,
                ["Kubernetes", "OpenShift", "KubeSphere", "Rancher", "其他 Other"],
            ),
            _attr("version", "Version / 版本"),
            _attr("node_count", "Nodes / 节点数", "integer"),
        ],
    ),
    "network_device": (
        _("Network device"),
        "router",
        True,
        ["serial_number", "vendor", "model"],
        [
            _attr(
                "role",
                "Role / 角色",
                "choice",
                False,
                ["核心 Core", "汇聚 Aggregation", "接入 Access", "路由 Router", "无线 Wireless"],
            ),
            _attr("port_count", "Ports / 端口数", "integer"),
            _attr("firmware", "Firmware / 固件版本"),
        ],
    ),
    "security_device": (
        _("Security device"),
        "shield-lock",
        True,
        ["serial_number", "vendor"],
        [
            _attr(
                "function",
                "Function / 功能",
                "choice",
                False,
                ["防火墙 Firewall", "WAF", "IPS", "VPN", "堡垒机 Bastion", "审计 Audit"],
            ),
            _attr("firmware", "Firmware / 固件版本"),
        ],
    ),
    "storage": (
        _("Storage"),
        "device-floppy",
        True,
        ["serial_number", "vendor", "model"],
        [
            _attr("capacity_tb", "Capacity (TB) / 容量", "decimal"),
            _attr("raid", "RAID"),
        ],
    ),
    "power_cooling": (
        _("Power / cooling (动环)"),
        "bolt",
        True,
        ["serial_number"],
        [
            _attr(
                "equipment",
                "Equipment / 设备",
                "choice",
                True,
                ["UPS", "精密空调 Precision AC", "PDU", "发电机 Generator", "动环监控 Monitoring"],
            ),
            _attr("capacity_kva", "Capacity (kVA) / 容量", "decimal"),
        ],
    ),
}

# code: (display name, kind, params)
BUILTIN_RULES: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "required-attributes": (_("Required attributes present"), "missing_required", {}),
    "verified-90d": (_("Verified in the last 90 days"), "not_verified", {"days": 90}),
    "unique-serial": (_("Serial number unique"), "duplicate_serial", {}),
    "unique-ip": (_("IP address unique"), "duplicate_ip", {}),
    "unique-hostname": (_("Hostname unique"), "duplicate_hostname", {}),
    "has-relations": (_("Has at least one relation"), "orphan", {}),
    "warranty-valid-in-use": (_("No expired warranty in use"), "warranty_expired_in_use", {}),
}


def type_display_name(code: str, stored_name: str) -> str:
    builtin = BUILTIN_TYPES.get(code)
    return str(builtin[0]) if builtin else stored_name


def seed_builtins(**_: Any) -> None:
    """Create the shipped types and rules if missing (idempotent; admins may edit them)."""
    from opsassure.cmdb.models import CIType, ConfigAuditRule

    for order, (code, (name, icon, hardware, required, schema)) in enumerate(BUILTIN_TYPES.items()):
        CIType.objects.get_or_create(
            code=code,
            defaults={
                "name": str(name),
                "icon": icon,
                "is_builtin": True,
                "is_hardware": hardware,
                "required_fields": required,
                "attribute_schema": schema,
                "sort_order": order * 10,
            },
        )
    for code, (name, kind, params) in BUILTIN_RULES.items():
        ConfigAuditRule.objects.get_or_create(
            code=code, defaults={"name": str(name), "kind": kind, "params": params}
        )
