"""Demo data and the on-call pages (exact content, roles, scope)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from opsassure.core.demo import load_demo
from opsassure.oncall import demo, services
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationRun,
    Handover,
    Layer,
    Override,
    Schedule,
)
from tests.conftest import PASSWORD, World
from tests.oncall.conftest import Oncall

pytestmark = pytest.mark.django_db


def test_demo_has_a_schedule_per_team_a_policy_and_a_handover() -> None:
    load_demo()
    assert sorted(Schedule.objects.values_list("team__code", flat=True)) == ["NET", "SD", "SYS"]
    sd = Schedule.objects.get(team__code="SD")
    assert sd.calendar is not None
    assert sd.calendar.code == "5x8"
    assert len(services.who_is_on_call(sd)) == 1
    assert list(
        EscalationPolicy.objects.get(name=demo.POLICY).steps.values_list("target", flat=True)
    ) == [
        "schedule",
        "schedule",
        "user",
    ]
    assert Handover.objects.count() == 1
    assert Override.objects.count() == 1
    demo.load()  # idempotent
    assert Schedule.objects.count() == 3


def _login(user_name: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user_name, password=PASSWORD)
    return client


def test_schedule_page_shows_the_week_and_takes_an_override(oncall: Oncall) -> None:
    client = _login(oncall.first.username)
    url = f"/oncall/schedules/{oncall.schedule.pk}/?week=2026-03-02"
    page = client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-testid="week-view"' in content
    assert content.count(f"09:00–24:00 {oncall.first}") == 4  # Mon, Wed, Fri, Sun
    response = client.post(
        url,
        {
            "user": oncall.lead.pk,
            "start": "2026-03-03T12:00",
            "end": "2026-03-03T14:00",
            "reason": "dentist",
        },
    )
    assert response.status_code == 302
    override = Override.objects.get()
    assert (override.user_id, override.created_by_id, override.reason) == (
        oncall.lead.pk,
        oncall.first.pk,
        "dentist",
    )
    after = client.get(url)
    assert f"12:00–14:00 {oncall.lead}" in after.content.decode()
    # The timeline chart's data: Tuesday (row 1) has the override bar, 12:00–14:00 in minutes.
    timeline = after.context["grid"]["timeline"]
    assert timeline["days"][:2] == ["03-02", "03-03"]
    assert timeline["weekdays"] == [0, 1, 2, 3, 4, 5, 6]
    overrides = [bar for bar in timeline["bars"] if bar["override"]]
    assert overrides == [
        {
            "row": 1,
            "start": 720,
            "end": 840,
            "person": timeline["people"].index(str(oncall.lead)),
            "label": f"12:00–14:00 {oncall.lead}",
            "override": True,
        }
    ]
    assert 'id="shift-timeline-data"' in after.content.decode()


def test_handover_page_write_and_acknowledge(oncall: Oncall) -> None:
    writer = _login(oncall.first.username)
    response = writer.post(
        "/oncall/handovers/",
        {"schedule": oncall.schedule.pk, "open_issues": "<b>db01</b>", "notes": ""},
    )
    assert response.status_code == 302
    handover = Handover.objects.get()
    page = writer.get("/oncall/handovers/").content.decode()
    assert "&lt;b&gt;db01&lt;/b&gt;" in page
    assert "<b>db01</b>" not in page
    reader = _login(handover.incoming.username)
    assert reader.post(f"/oncall/handovers/{handover.pk}/acknowledge/").status_code == 302
    handover.refresh_from_db()
    assert handover.state == "acknowledged"


def test_run_page_and_actions(oncall: Oncall, world: World) -> None:
    run = services.start_escalation(
        policy=oncall.policy, customer=world.customer_a, title="<script>x</script>", severity="high"
    )
    client = _login(oncall.first.username)
    page = client.get(f"/oncall/escalations/{run.pk}/").content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x</script>" not in page
    assert client.post(f"/oncall/escalations/{run.pk}/ack/").status_code == 302
    run.refresh_from_db()
    assert (run.state, run.acknowledged_via) == (EscalationRun.State.ACKNOWLEDGED, "web")


def test_policy_editor_saves_ordered_steps(oncall: Oncall, world: World) -> None:
    client = _login(oncall.lead.username)
    data = {
        "name": "Night paging",
        "team": world.team_a.pk,
        "description": "",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-target": "user",
        "steps-0-user": oncall.second.pk,
        "steps-0-wait_minutes": "3",
        "steps-0-repeat": "1",
        "steps-0-channels": ["email", "sms"],
        "steps-1-target": "schedule",
        "steps-1-schedule": oncall.schedule.pk,
        "steps-1-wait_minutes": "5",
        "steps-1-repeat": "0",
    }
    response = client.post("/oncall/policies/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = EscalationPolicy.objects.get(name="Night paging")
    assert list(
        policy.steps.order_by("position").values_list("position", "target", "channels")
    ) == [
        (0, "user", ["email", "sms"]),
        (1, "schedule", []),
    ]
    engineer = _login(oncall.first.username)
    assert (
        engineer.post(f"/oncall/policies/{policy.pk}/", {**data, "name": "hijack"}).status_code
        == 403
    )


def test_customer_users_get_no_on_call_pages(oncall: Oncall, world: World) -> None:
    client = _login(world.customer_a_admin.username)
    assert client.get("/oncall/schedules/").status_code == 403
    assert client.get(f"/oncall/schedules/{oncall.schedule.pk}/").status_code == 403
    assert client.get("/oncall/handovers/").status_code == 403


def test_list_pages_and_policy_page_render(oncall: Oncall, world: World) -> None:
    services.start_escalation(
        policy=oncall.policy, customer=world.customer_a, title="Fan failure", severity="warning"
    )
    client = _login(oncall.lead.username)
    for url, marker in (
        ("/oncall/schedules/", "Team A 24/7"),
        ("/oncall/policies/", "Team A paging"),
        ("/oncall/escalations/", "Fan failure"),
        (f"/oncall/policies/{oncall.policy.pk}/", 'name="steps-1-wait_minutes" value="10"'),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert marker in page.content.decode(), url


def test_schedule_editor_creates_layers_with_ordered_participants(
    oncall: Oncall, world: World
) -> None:
    client = _login(oncall.lead.username)
    data = {
        "team": world.team_a.pk,
        "name": "Night desk",
        "time_zone": "Europe/Berlin",
        "calendar": "",
        "description": "",
        "is_active": "on",
        "layers-TOTAL_FORMS": "1",
        "layers-INITIAL_FORMS": "0",
        "layers-MIN_NUM_FORMS": "0",
        "layers-MAX_NUM_FORMS": "1000",
        "layers-0-name": "nights",
        "layers-0-order": "0",
        "layers-0-kind": "custom",
        "layers-0-length": "12",
        "layers-0-length_unit": "hours",
        "layers-0-start_date": "2026-03-02",
        "layers-0-handoff_time": "20:00",
        # A full-width comma (，) separates as well.
        "layers-0-people": "operator_a, engineer_a，operator_a",
    }
    response = client.post("/oncall/schedules/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    layer = Layer.objects.get(schedule__name="Night desk")
    assert [u.pk for u in layer.participants] == [
        oncall.second.pk,
        oncall.first.pk,
        oncall.second.pk,
    ]
    bad = client.post(
        "/oncall/schedules/new/", {**data, "name": "Other", "layers-0-people": "a_user, nobody"}
    )
    assert bad.status_code == 400
    assert "Not active provider staff: a_user, nobody" in bad.content.decode()
    assert not Schedule.objects.filter(name="Other").exists()
    engineer = _login(oncall.first.username)
    assert engineer.get("/oncall/schedules/new/").status_code == 403


def test_managers_remove_overrides_engineers_cannot(oncall: Oncall) -> None:
    override = services.create_override(
        oncall.schedule,
        user=oncall.lead,
        start=timezone.now(),
        end=timezone.now() + dt.timedelta(hours=1),
    )
    url = f"/oncall/schedules/{oncall.schedule.pk}/overrides/{override.pk}/delete/"
    assert _login(oncall.first.username).post(url).status_code == 403
    assert Override.objects.count() == 1
    assert _login(oncall.lead.username).post(url).status_code == 302
    assert Override.objects.count() == 0
