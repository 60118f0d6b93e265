"""On-call API: exact payloads, validation 4xx with nothing written, roles."""

from __future__ import annotations

import pytest

from opsassure.oncall import services
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationPolicyStep,
    EscalationRun,
    Layer,
    Override,
)
from tests.conftest import World, api_as
from tests.oncall.conftest import Oncall

pytestmark = pytest.mark.django_db
BASE = "/api/v1/oncall"


def test_oncall_now_at_a_time(oncall: Oncall) -> None:
    client = api_as(oncall.lead)
    url = f"{BASE}/schedules/{oncall.schedule.pk}/oncall-now/"
    body = client.get(url, {"at": "2026-03-02T09:00:00+08:00"}).json()
    assert body == {
        "at": "2026-03-02T01:00:00Z",
        "users": [oncall.first.pk],
        "shift": {
            "start": "2026-03-02T01:00:00Z",
            "end": "2026-03-03T01:00:00Z",
            "user": oncall.first.pk,
            "user_name": str(oncall.first),
            "layer": oncall.layer.pk,
            "override": None,
            "source": "layer",
        },
    }
    bad = client.get(url, {"at": "2026-03-02T09:00:00"})
    assert bad.status_code == 400
    assert "at" in bad.json()["error"]["fields"]


def test_shifts_window(oncall: Oncall) -> None:
    client = api_as(oncall.first)
    url = f"{BASE}/schedules/{oncall.schedule.pk}/shifts/"
    body = client.get(
        url, {"start": "2026-03-02T09:00:00+08:00", "end": "2026-03-04T09:00:00+08:00"}
    ).json()
    assert [(s["start"], s["user"]) for s in body] == [
        ("2026-03-02T01:00:00Z", oncall.first.pk),
        ("2026-03-03T01:00:00Z", oncall.second.pk),
    ]
    too_long = client.get(url, {"start": "2026-01-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"})
    assert too_long.status_code == 400


def test_create_layer_with_participants_in_order(oncall: Oncall, world: World) -> None:
    client = api_as(oncall.lead)
    payload = {
        "schedule": oncall.schedule.pk,
        "name": "weekly",
        "kind": "weekly",
        "start_date": "2026-03-02",
        "handoff_time": "09:30:00",
        "participants": [oncall.second.pk, oncall.first.pk, oncall.second.pk],
    }
    response = client.post(f"{BASE}/layers/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["participants"] == [oncall.second.pk, oncall.first.pk, oncall.second.pk]
    refused = client.post(
        f"{BASE}/layers/", {**payload, "participants": [world.customer_a_user.pk]}, format="json"
    )
    assert refused.status_code == 400
    assert Layer.objects.count() == 2


def test_engineers_read_but_do_not_edit_schedules(oncall: Oncall) -> None:
    client = api_as(oncall.first)
    assert client.get(f"{BASE}/schedules/").status_code == 200
    assert (
        client.patch(
            f"{BASE}/schedules/{oncall.schedule.pk}/", {"name": "x"}, format="json"
        ).status_code
        == 403
    )


def test_override_and_swap_via_api(oncall: Oncall, world: World) -> None:
    client = api_as(oncall.first)
    created = client.post(
        f"{BASE}/overrides/",
        {
            "schedule": oncall.schedule.pk,
            "user": oncall.first.pk,
            "start": "2026-03-03T12:00:00+08:00",
            "end": "2026-03-03T14:00:00+08:00",
            "reason": "cover",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["kind"], created.json()["created_by"]) == ("cover", oncall.first.pk)
    backwards = client.post(
        f"{BASE}/overrides/",
        {
            "schedule": oncall.schedule.pk,
            "user": oncall.first.pk,
            "start": "2026-03-03T14:00:00+08:00",
            "end": "2026-03-03T12:00:00+08:00",
        },
        format="json",
    )
    assert backwards.status_code == 400
    swap = client.post(
        f"{BASE}/overrides/swap/",
        {
            "schedule": oncall.schedule.pk,
            "first_user": oncall.first.pk,
            "first_start": "2026-03-04T09:00:00+08:00",
            "first_end": "2026-03-05T09:00:00+08:00",
            "second_user": oncall.second.pk,
            "second_start": "2026-03-05T09:00:00+08:00",
            "second_end": "2026-03-06T09:00:00+08:00",
        },
        format="json",
    )
    assert swap.status_code == 201, swap.json()
    assert [(o["user"], o["start"]) for o in swap.json()] == [
        (oncall.first.pk, "2026-03-05T01:00:00Z"),
        (oncall.second.pk, "2026-03-04T01:00:00Z"),
    ]
    assert Override.objects.count() == 3


def test_policy_with_steps_round_trip(oncall: Oncall, world: World) -> None:
    client = api_as(oncall.lead)
    payload = {
        "name": "DB paging",
        "team": world.team_a.pk,
        "steps": [
            {
                "target": "schedule",
                "schedule": oncall.schedule.pk,
                "channels": ["email", "sms"],
                "wait_minutes": 3,
                "repeat": 2,
            },
            {"target": "team", "team": world.team_a.pk, "wait_minutes": 10},
        ],
    }
    response = client.post(f"{BASE}/escalation-policies/", payload, format="json")
    assert response.status_code == 201, response.json()
    policy = EscalationPolicy.objects.get(name="DB paging")
    assert list(
        policy.steps.order_by("position").values_list("position", "target", "channels", "repeat")
    ) == [
        (0, "schedule", ["email", "sms"], 2),
        (1, "team", [], 0),
    ]
    missing = client.post(
        f"{BASE}/escalation-policies/",
        {"name": "broken", "steps": [{"target": "user"}]},
        format="json",
    )
    assert missing.status_code == 400
    assert not EscalationPolicy.objects.filter(name="broken").exists()
    assert EscalationPolicyStep.objects.filter(policy__name="broken").count() == 0


def test_run_actions(oncall: Oncall, world: World) -> None:
    run = services.start_escalation(
        policy=oncall.policy, customer=world.customer_a, title="x", severity="high"
    )
    client = api_as(oncall.first)
    escalated = client.post(f"{BASE}/escalations/{run.pk}/escalate/")
    assert escalated.status_code == 200
    acked = client.post(f"{BASE}/escalations/{run.pk}/ack/")
    assert acked.status_code == 200
    assert (
        acked.json()["state"],
        acked.json()["acknowledged_by"],
        acked.json()["acknowledged_via"],
    ) == ("acknowledged", oncall.first.pk, "api")
    conflict = client.post(f"{BASE}/escalations/{run.pk}/escalate/")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"
    auditor = api_as(world.auditor)
    assert auditor.get(f"{BASE}/escalations/{run.pk}/").status_code == 200
    assert auditor.post(f"{BASE}/escalations/{run.pk}/resolve/").status_code == 403
    run.refresh_from_db()
    assert run.state == EscalationRun.State.ACKNOWLEDGED


def test_handover_via_api(oncall: Oncall) -> None:
    client = api_as(oncall.first)
    created = client.post(
        f"{BASE}/handovers/",
        {
            "schedule": oncall.schedule.pk,
            "incoming": oncall.second.pk,
            "open_issues": "INC-1 open",
            "handoff_at": "2026-03-03T09:00:00+08:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["outgoing"], created.json()["state"]) == (oncall.first.pk, "pending")
    pk = created.json()["id"]
    assert client.post(f"{BASE}/handovers/{pk}/acknowledge/").status_code == 403
    acked = api_as(oncall.second).post(f"{BASE}/handovers/{pk}/acknowledge/")
    assert acked.json()["state"] == "acknowledged"


def test_customer_users_see_no_on_call_data(oncall: Oncall, world: World) -> None:
    client = api_as(world.customer_a_admin)
    assert client.get(f"{BASE}/schedules/").status_code == 403
    assert client.get(f"{BASE}/escalations/").status_code == 403


def _count_queries(client: object, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200  # type: ignore[attr-defined]
    return len(captured)


def test_lists_do_not_grow_queries_with_rows(oncall: Oncall, world: World) -> None:
    client = api_as(oncall.lead)

    def add_runs(count: int) -> None:
        for n in range(count):
            run = services.start_escalation(
                policy=oncall.policy, customer=world.customer_a, title=f"r{n}", severity="high"
            )
            services.acknowledge(run, user=oncall.first, via="api")

    add_runs(2)
    few = {
        url: _count_queries(client, url)
        for url in (f"{BASE}/escalations/", f"{BASE}/schedules/", "/oncall/escalations/")
    }
    add_runs(6)
    many = {url: _count_queries(client, url) for url in few}
    assert many == few
