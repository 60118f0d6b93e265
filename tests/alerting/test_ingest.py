from __future__ import annotations

import pytest
from django.test import Client

from opsassure.alerting.models import Alert, AlertGroup, IngestBatch, Integration
from opsassure.servicedesk.models import Ticket
from tests.alerting.helpers import am_alert, am_payload, post

pytestmark = pytest.mark.django_db(transaction=False)


def test_alertmanager_firing_opens_group_and_incident(client: Client, am: Integration) -> None:
    response = post(
        client,
        am,
        am_payload(
            am_alert(fingerprint="aa11"), am_alert(instance="web-02:9100", fingerprint="bb22")
        ),
    )
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
    post(
        client,
        am,
        am_payload(am_alert(fingerprint="aa11", status="resolved", ends="2026-11-27T09:00:00Z")),
    )
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


# --- bad input: 4xx with the reason, nothing stored ------------------------------------------


def _nothing_stored() -> None:
    assert IngestBatch.objects.count() == 0
    assert Alert.objects.count() == 0


def test_malformed_json_is_400(client: Client, am: Integration) -> None:
    response = post(client, am, None, raw=b'{"alerts": [')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    _nothing_stored()


def test_wrong_content_type_is_400(client: Client, am: Integration) -> None:
    response = post(client, am, am_payload(am_alert()), content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_content_type"
    _nothing_stored()


def test_missing_labels_is_400_naming_the_field(client: Client, am: Integration) -> None:
    bad = am_alert()
    del bad["labels"]
    response = post(client, am, am_payload(am_alert(), bad))
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert body["fields"] == {"alerts[1].labels": ["must be an object of strings"]}
    _nothing_stored()


def test_missing_alerts_is_400(client: Client, am: Integration) -> None:
    response = post(client, am, {"version": "4", "status": "firing"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"alerts": ["is required and must be a list"]}
    _nothing_stored()


def test_unknown_revoked_disabled_and_wrong_bearer_all_look_the_same(
    client: Client, am: Integration
) -> None:
    from opsassure.alerting import services

    payload = am_payload(am_alert())
    unknown = Integration(token="x" * 43, kind="alertmanager")
    answers = [post(client, unknown, payload)]
    am.set_bearer_token("s3cret")
    am.save()
    answers.append(post(client, am, payload, bearer="wrong"))
    answers.append(post(client, am, payload))  # no bearer at all
    am.enabled = False
    am.save()
    answers.append(post(client, am, payload, bearer="s3cret"))
    am.enabled = True
    am.save()
    services.revoke_integration(am)
    answers.append(post(client, am, payload, bearer="s3cret"))
    assert [a.status_code for a in answers] == [404] * 5
    assert len({a.content for a in answers}) == 1
    _nothing_stored()


def test_correct_bearer_is_accepted(client: Client, am: Integration) -> None:
    am.set_bearer_token("s3cret")
    am.save()
    assert post(client, am, am_payload(am_alert()), bearer="s3cret").status_code == 200
    assert Alert.objects.count() == 1


def test_body_over_limit_is_413(client: Client, am: Integration, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OPSASSURE_ALERT_MAX_BODY_BYTES = 2000
    payload = am_payload(*[am_alert(instance=f"h{i}:9100") for i in range(20)])
    response = post(client, am, payload)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    _nothing_stored()


def test_rate_limit_answers_429_with_retry_after(client: Client, am: Integration) -> None:
    am.rate_limit_per_minute = 2
    am.save()
    codes = [
        post(client, am, am_payload(am_alert(instance=f"h{i}:1"))).status_code for i in range(3)
    ]
    assert codes == [200, 200, 429]
    refused = post(client, am, am_payload(am_alert(instance="h9:1")))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "throttled"
    assert IngestBatch.objects.count() == 2
    assert Alert.objects.count() == 2


def test_html_and_control_characters_stored_as_given(client: Client, am: Integration) -> None:
    evil = '<script>alert("x")</script>\x07\u202e'
    post(client, am, am_payload(am_alert(instance=evil, fingerprint="ev1")))
    assert Alert.objects.get().labels["instance"] == evil


def test_sender_fingerprint_else_label_hash(client: Client, am: Integration) -> None:
    from opsassure.alerting.payloads import labels_fingerprint

    post(client, am, am_payload(am_alert(fingerprint="abc123"), am_alert(instance="other:1")))
    fingerprints = set(Alert.objects.values_list("fingerprint", flat=True))
    other = am_alert(instance="other:1")["labels"]
    assert fingerprints == {"abc123", labels_fingerprint(other)}
    assert len(labels_fingerprint(other)) == 64


def test_truncated_alerts_and_newer_fields_accepted(client: Client, am: Integration) -> None:
    payload = am_payload(am_alert())
    payload.update(truncatedAlerts=3, notification_reason="repeat", routeLabels={"team": "db"})
    assert post(client, am, payload).status_code == 200
    assert IngestBatch.objects.get().meta["truncatedAlerts"] == 3
    assert IngestBatch.objects.get().meta["routeLabels"] == {"team": "db"}


def test_batch_rows_are_written_as_sent(client: Client, am: Integration) -> None:
    """The JSON-rows upsert keeps order, times, text and JSON exactly; mixed batches work."""
    from tests.alerting.helpers import utc

    post(client, am, am_payload(am_alert(fingerprint="known", instance="db-01:9100")))
    firing = [
        am_alert(
            name=f"Disk{n}",
            instance=f"主机-{n}:9100",
            fingerprint=f"fp{n:03d}",
            starts=f"2026-11-27T08:00:{n:02d}.123456Z",
            note='quote " backslash \\ newline \n',
        )
        for n in range(30)
    ]
    resolved = [
        am_alert(
            fingerprint="known",
            instance="db-01:9100",
            status="resolved",
            ends="2026-11-27T09:30:00Z",
        ),
        am_alert(
            fingerprint="never-seen",
            status="resolved",
            starts="2026-11-27T07:00:00Z",
            ends="2026-11-27T07:30:00Z",
        ),
    ]
    response = post(client, am, am_payload(*firing, *resolved))
    assert response.status_code == 200, response.content
    rows = list(Alert.objects.filter(fingerprint__startswith="fp").order_by("pk"))
    assert [r.fingerprint for r in rows] == [f"fp{n:03d}" for n in range(30)]
    for n, row in enumerate(rows):
        assert row.labels["instance"] == f"主机-{n}:9100"
        assert row.labels["note"] == 'quote " backslash \\ newline \n'
        assert row.starts_at == utc(2026, 11, 27, 8, 0, n, 123456)
        assert row.ends_at is None
        assert (row.status, row.cycle, row.repeat_count) == ("firing", 1, 0)
        assert row.summary == f"Disk{n} on 主机-{n}:9100"
        assert row.annotations == {"summary": f"Disk{n} on 主机-{n}:9100"}
        assert row.customer_id == am.customer_id
    known = Alert.objects.get(fingerprint="known")
    assert (known.status, known.ends_at) == ("resolved", utc(2026, 11, 27, 9, 30))
    never = Alert.objects.get(fingerprint="never-seen")
    assert (never.status, never.cycle) == ("resolved", 1)
    assert (never.starts_at, never.ends_at) == (utc(2026, 11, 27, 7), utc(2026, 11, 27, 7, 30))
    # a repeat of the whole batch only bumps counters
    post(client, am, am_payload(*firing))
    assert set(
        Alert.objects.filter(fingerprint__startswith="fp").values_list("repeat_count", "cycle")
    ) == {(1, 1)}
