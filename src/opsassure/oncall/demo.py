"""On-call demo data: a schedule for each demo team, one escalation policy, one handover.

Loaded after the core demo (``core/demo.py`` creates the teams SD, SYS, NET and their
staff); idempotent: nothing is created when the demo schedules exist already.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from opsassure.catalog.models import ServiceCalendar
from opsassure.core.models import Team, User
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationPolicyStep,
    Handover,
    Layer,
    LayerParticipant,
    Override,
    Schedule,
)

# team code, schedule name, rotation kind, hand-off, participants (usernames), skip holidays
SCHEDULES = [
    (
        "SD",
        "一线 7×24 值班 Service desk 24x7",
        Layer.Kind.DAILY,
        dt.time(8, 30),
        ["operator", "manager"],
        True,
    ),
    (
        "SYS",
        "系统组二线 Systems 2nd line",
        Layer.Kind.WEEKLY,
        dt.time(9, 0),
        ["engineer", "manager"],
        False,
    ),
    (
        "NET",
        "网络组二线 Network 2nd line",
        Layer.Kind.WEEKLY,
        dt.time(9, 0),
        ["neteng", "manager"],
        False,
    ),
]
POLICY = "默认告警升级 Default paging"


def load(console: Any = None) -> None:
    if Schedule.objects.filter(name=SCHEDULES[0][1]).exists():
        return
    teams = {team.code: team for team in Team.objects.filter(code__in=[s[0] for s in SCHEDULES])}
    users = {user.username: user for user in User.objects.filter(customer__isnull=True)}
    if len(teams) != len(SCHEDULES) or not {"operator", "manager", "engineer"} <= set(users):
        return
    from opsassure.core.audit import AuditContext, audit_context

    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday() + 28)
    calendar = ServiceCalendar.objects.filter(code="5x8", customer__isnull=True).first()
    with audit_context(AuditContext(actor_username="demo")), transaction.atomic():
        schedules: dict[str, Schedule] = {}
        for code, name, kind, handoff, people, skip_holidays in SCHEDULES:
            schedule = Schedule.objects.create(
                team=teams[code],
                name=name,
                calendar=calendar if skip_holidays else None,
                description="Demo",
            )
            layer = Layer.objects.create(
                schedule=schedule,
                name="Rotation",
                kind=kind,
                start_date=monday,
                handoff_time=handoff,
            )
            for position, username in enumerate(p for p in people if p in users):
                LayerParticipant.objects.create(
                    layer=layer, user=users[username], position=position
                )
            schedules[code] = schedule
        # The manager covers next Wednesday afternoon for the systems team.
        wednesday = today + dt.timedelta(days=(2 - today.weekday()) % 7 or 7)
        zone = timezone.get_current_timezone()
        Override.objects.create(
            schedule=schedules["SYS"],
            user=users["manager"],
            start=dt.datetime.combine(wednesday, dt.time(13, 0), tzinfo=zone),
            end=dt.datetime.combine(wednesday, dt.time(18, 0), tzinfo=zone),
            reason="培训 Training",
        )
        policy = EscalationPolicy.objects.create(
            team=teams["SD"],
            name=POLICY,
            description="一线 → 二线 → 经理 / 1st line → 2nd line → manager",
        )
        target = EscalationPolicyStep.Target
        EscalationPolicyStep.objects.create(
            policy=policy,
            position=0,
            target=target.SCHEDULE,
            schedule=schedules["SD"],
            wait_minutes=5,
            repeat=1,
        )
        EscalationPolicyStep.objects.create(
            policy=policy,
            position=1,
            target=target.SCHEDULE,
            schedule=schedules["SYS"],
            wait_minutes=10,
        )
        EscalationPolicyStep.objects.create(
            policy=policy, position=2, target=target.USER, user=users["manager"], wait_minutes=15
        )
        now = timezone.now()
        Handover.objects.create(
            schedule=schedules["SD"],
            handoff_at=now - dt.timedelta(hours=2),
            outgoing=users["operator"],
            incoming=users["manager"],
            open_issues=(
                "JCH HIS 数据库备份告警未消除，已开工单。 "
                "JCH HIS DB backup alert still open, ticket raised."
            ),
            notes="夜间无其他异常。 Quiet night otherwise.",
            state=Handover.State.ACKNOWLEDGED,
            acknowledged_at=now - dt.timedelta(hours=1, minutes=50),
            acknowledged_by=users["manager"],
        )
    if console is not None:
        console.print(f"On-call demo: {len(schedules)} schedules, 1 escalation policy, 1 handover")
