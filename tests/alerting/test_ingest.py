from __future__ import annotations

import pytest
from django.test import Client

from opsassure.alerting.models import Alert, AlertGroup, IngestBatch, Integration
from opsassure.servicedesk.models import Ticket
from tests.alerting.helpers import am_alert, am_payload, post

pytestmark = pytest.mark.django_db(transaction=False)


def test_alertmanager_firing_opens_group_and_incident(client: Client, am: Integration) -> None:
    response = post(client, am, am_payload(am_alert(fingerprint="aa11"), am_alert(instance="web-02:9100", fingerprint="bb22")))
    assert response.status_code == 200, response.content
    assert response.json()["alerts"] == 2
    assert Alert.objects.count() == 2
    group = AlertGroup.objects.get()
    assert group.state == "firing"
    assert group.firing_count == 2
    assert group.incident is not None
    assert group.incident.channel == "monitoring"
    assert group.incident.priority == 1
    assert Ticket.objects.count() == 1
    assert IngestBatch.objects.get().processed_at is not None


def test_repeat_updates_same_row_and_resolve_closes(client: Client, am: Integration) -> None:
    post(client, am, am_payload(am_alert(fingerprint="aa11")))
    post(client, am, am_payload(am_alert(fingerprint="aa11")))
    alert = Alert.objects.get()
    assert alert.repeat_count == 1
    assert alert.cycle == 1
    post(client, am, am_payload(am_alert(fingerprint="aa11", status="resolved", ends="2026-11-27T09:00:00Z")))
    alert.refresh_from_db()
    assert alert.status == "resolved"
    group = AlertGroup.objects.get()
    assert group.state == "resolved"
    assert group.is_open is False
    assert group.incident is not None
    group.incident.refresh_from_db()
    assert group.incident.status == "resolved"
    # fires again: a new cycle row and a new group
    post(client, am, am_payload(am_alert(fingerprint="aa11", starts="2026-11-27T10:00:00Z")))
    assert list(Alert.objects.order_by("cycle").values_list("cycle", "status")) == [
        (1, "resolved"),
        (2, "firing"),
    ]
    assert AlertGroup.objects.filter(is_open=True).count() == 1
    assert AlertGroup.objects.count() == 2
