"""A believable bilingual demo data set. Idempotent: loading it twice changes nothing.

Later modules add to it by providing ``<app>/demo.py`` with a ``load(console)`` function,
called in app order after the core data.
"""

from __future__ import annotations

from typing import Any

DEMO_PASSWORD = "opsassure-demo"

# (username, what the login shows) — printed by `make run`.
DEMO_USERS: list[tuple[str, str]] = [
    ("admin", "superuser / 系统管理员"),
    ("manager", "service manager / 服务经理 (管理岗)"),
    ("engineer", "engineer / 系统工程师 (技术支持岗)"),
    ("neteng", "engineer / 网络工程师 (技术支持岗)"),
    ("operator", "operator / 值班员 (操作岗)"),
    ("auditor", "auditor / 审计员"),
    ("hosp_admin", "customer admin, 江城市第一人民医院"),
    ("hosp_user", "customer user, 江城市第一人民医院"),
    ("sec_admin", "customer admin, 瑞丰证券"),
    ("sec_user", "customer user, 瑞丰证券"),
]

CUSTOMERS = [
    {
        "code": "JCH",
        "name": "江城市第一人民医院",
        "short_name": "Jiangcheng First Hospital",
        "industry": "医疗 Healthcare",
        "address": "江城市解放大道 1 号",
        "notes": "三甲医院，HIS/PACS/LIS 7×24 运维。Tier-3 hospital, HIS/PACS/LIS under 7×24 care.",
        "contacts": [
            ("陈立新", "信息科主任 Head of IT", "13800010001", "chen.lixin@jch.example.cn", True),
            ("刘敏", "信息科工程师 IT engineer", "13800010002", "liu.min@jch.example.cn", False),
        ],
    },
    {
        "code": "RFS",
        "name": "瑞丰证券股份有限公司",
        "short_name": "Ruifeng Securities",
        "industry": "金融 Securities",
        "address": "上海市浦东新区世纪大道 88 号",
        "notes": "集中交易系统，交易时段 5×8 保障。Trading system, 5×8 trading-hours cover.",
        "contacts": [
            ("周静", "运维部经理 Ops manager", "13900020001", "zhou.jing@rfs.example.cn", True),
        ],
    },
]

TEAMS = [
    ("SD", "一线服务台 Service desk", "7×24 值班与受理 / 24x7 duty and intake", ["JCH", "RFS"]),
    (
        "SYS",
        "系统运维组 Systems",
        "服务器、数据库、中间件 / servers, databases, middleware",
        ["JCH", "RFS"],
    ),
    (
        "NET",
        "网络与安全组 Network & security",
        "网络、安全设备 / network and security devices",
        ["JCH"],
    ),
]

# username, display name, e-mail, customer code, role, teams, lead of
STAFF: list[tuple[str, str, str, str | None, str, list[str], list[str]]] = [
    (
        "manager",
        "王建国 Wang Jianguo",
        "wang@opsassure.example",
        None,
        "service_manager",
        ["SD", "SYS", "NET"],
        [],
    ),
    ("engineer", "李强 Li Qiang", "li@opsassure.example", None, "engineer", ["SYS"], ["SYS"]),
    ("neteng", "孙磊 Sun Lei", "sun@opsassure.example", None, "engineer", ["NET"], ["NET"]),
    ("operator", "张敏 Zhang Min", "zhang@opsassure.example", None, "operator", ["SD"], ["SD"]),
    ("auditor", "赵审 Zhao Shen", "zhao@opsassure.example", None, "auditor", [], []),
    (
        "hosp_admin",
        "陈立新 Chen Lixin",
        "chen.lixin@jch.example.cn",
        "JCH",
        "customer_admin",
        [],
        [],
    ),
    ("hosp_user", "刘敏 Liu Min", "liu.min@jch.example.cn", "JCH", "customer_user", [], []),
    ("sec_admin", "周静 Zhou Jing", "zhou.jing@rfs.example.cn", "RFS", "customer_admin", [], []),
    ("sec_user", "吴昊 Wu Hao", "wu.hao@rfs.example.cn", "RFS", "customer_user", [], []),
]


def load_demo(console: Any = None) -> None:
    """Create or refresh the demo customers, teams and users, then each app's demo data."""
    from django.contrib.auth.models import Group
    from django.db import transaction
    from rich.progress import track

    from opsassure.core.appmodules import import_app_modules
    from opsassure.core.audit import AuditContext, audit_context
    from opsassure.core.models import Customer, CustomerContact, Team, User
    from opsassure.core.roles import sync_roles

    sync_roles()
    with audit_context(AuditContext(actor_username="demo")), transaction.atomic():
        customers: dict[str, Customer] = {}
        for spec in CUSTOMERS:
            customer, _ = Customer.objects.update_or_create(
                code=spec["code"],
                defaults={
                    key: spec[key] for key in ("name", "short_name", "industry", "address", "notes")
                },
            )
            customers[customer.code] = customer
            for name, title, phone, email, primary in spec["contacts"]:
                CustomerContact.objects.update_or_create(
                    customer=customer,
                    name=name,
                    defaults={
                        "title": title,
                        "phone": phone,
                        "email": email,
                        "is_primary": primary,
                    },
                )
        teams: dict[str, Team] = {}
        for code, name, description, served in TEAMS:
            team, _ = Team.objects.update_or_create(
                code=code, defaults={"name": name, "description": description}
            )
            team.customers.set([customers[c] for c in served])
            teams[code] = team
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={
                "display_name": "系统管理员 Administrator",
                "is_superuser": True,
                "is_staff": True,
            },
        )
        if created or not admin.has_usable_password():
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        iterable = track(STAFF, description="Demo users", console=console) if console else STAFF
        for username, display, email, customer_code, role, team_codes, lead_of in iterable:
            user, created = User.objects.update_or_create(
                username=username,
                defaults={
                    "display_name": display,
                    "email": email,
                    "customer": customers[customer_code] if customer_code else None,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.set([Group.objects.get(name=role)])
            for code in team_codes:
                teams[code].members.add(user)
            for code in lead_of:
                if teams[code].lead_id != user.pk:
                    teams[code].lead = user
                    teams[code].save()
    for _label, module in import_app_modules("demo"):
        loader = getattr(module, "load", None)
        if loader is not None:
            loader(console)
