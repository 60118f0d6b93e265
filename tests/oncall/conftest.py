"""On-call fixtures: a 24/7 daily rotation of team A and a two-level escalation policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from opsassure.core.models import User
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationPolicyStep,
    Layer,
    LayerParticipant,
    Schedule,
)
from tests.conftest import World, make_user


@dataclass
class Oncall:
    schedule: Schedule
    layer: Layer
    policy: EscalationPolicy
    first: User  # on call on even days since 2020-01-01 (09:00 Shanghai hand-off)
    second: User
    lead: User


def add_layer(schedule: Schedule, users: list[User], **kwargs: object) -> Layer:
    values: dict[str, object] = {
        "name": "24/7",
        "kind": Layer.Kind.DAILY,
        "start_date": dt.date(2020, 1, 1),
        "handoff_time": dt.time(9, 0),
    }
    values.update(kwargs)
    layer = Layer.objects.create(schedule=schedule, **values)
    for position, user in enumerate(users):
        LayerParticipant.objects.create(layer=layer, user=user, position=position)
    return layer


@pytest.fixture
def oncall(world: World) -> Oncall:
    first = world.engineer_a
    second = world.operator_a
    for user in (first, second):
        user.email = f"{user.username}@example.cn"
        user.save(update_fields=["email"])
    lead = make_user("lead_a", "service_manager", teams=[world.team_a])
    lead.email = "lead_a@example.cn"
    lead.save(update_fields=["email"])
    world.team_a.lead = lead
    world.team_a.save(update_fields=["lead"])
    schedule = Schedule.objects.create(team=world.team_a, name="Team A 24/7")
    layer = add_layer(schedule, [first, second])
    policy = EscalationPolicy.objects.create(team=world.team_a, name="Team A paging")
    EscalationPolicyStep.objects.create(
        policy=policy,
        position=0,
        target=EscalationPolicyStep.Target.SCHEDULE,
        schedule=schedule,
        wait_minutes=5,
        repeat=1,
    )
    EscalationPolicyStep.objects.create(
        policy=policy,
        position=1,
        target=EscalationPolicyStep.Target.USER,
        user=lead,
        wait_minutes=10,
    )
    return Oncall(
        schedule, layer, policy, User.objects.get(pk=first.pk), User.objects.get(pk=second.pk), lead
    )
