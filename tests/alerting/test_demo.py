"""The alerting demo: alerts through the real pipeline, an incident opened from an alert."""

from __future__ import annotations

import pytest

from opsassure.alerting.models import Alert, AlertGroup, Integration
from opsassure.core.demo import load_demo

pytestmark = pytest.mark.django_db


def test_demo_alerts_incident_and_idempotence() -> None:
    load_demo()
    jch = Integration.objects.get(customer__code="JCH")
    states = dict(AlertGroup.objects.filter(integration=jch).values_list("title", "state"))
    assert states == {
        "alertname=HighCPU": "firing",
        "alertname=DiskSpaceLow": "suppressed",
        "alertname=HighMemory": "firing",
        "alertname=NodeDown": "resolved",
    }
    cpu = AlertGroup.objects.get(integration=jch, title="alertname=HighCPU")
    assert cpu.incident is not None
    assert (cpu.incident.channel, cpu.incident.priority, cpu.incident.status) == (
        "monitoring",
        1,
        "assigned",
    )
    # his-app01's owner team (SYS) serves the hospital: the incident goes straight to it
    assert cpu.incident.team is not None
    assert cpu.incident.team.code == "SYS"
    assert cpu.ci is not None
    assert cpu.ci.name == "his-app01"
    down = AlertGroup.objects.get(integration=jch, title="alertname=NodeDown")
    assert down.incident is not None
    assert down.incident.status == "resolved"
    assert AlertGroup.objects.get(integration=jch, title="alertname=HighMemory").incident is None
    counts = (Alert.objects.count(), AlertGroup.objects.count(), Integration.objects.count())
    load_demo()
    assert counts == (
        Alert.objects.count(),
        AlertGroup.objects.count(),
        Integration.objects.count(),
    )
