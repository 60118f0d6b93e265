"""The probe API: auth (401, nothing stored), malformed (400), oversized (413), ETag (304)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client, override_settings

from opsassure.monitoring import tokens
from opsassure.monitoring.models import CheckResult, Probe, ResultBatch
from tests.conftest import World
from tests.monitoring.probe_db import make_check, make_probe

pytestmark = pytest.mark.django_db

BASE = "/api/v1/monitoring/probe"


def post(client: Client, path: str, body: object, token: str = "", **extra: str):  # type: ignore[no-untyped-def]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"{BASE}{path}",
        data=data,
        content_type=extra.pop("content_type", "application/json"),
        **headers,
        **extra,
    )


def test_wrong_missing_revoked_tokens_and_disabled_probe_get_401(world: World) -> None:
    client = Client()
    probe, token = make_probe()
    check = make_check(world.customer_a, probes=[probe])
    body = {
        "batch_id": str(uuid.uuid4()),
        "results": [{"check": check.pk, "started_at": "2026-11-27T12:00:00+00:00", "status": 0}],
    }
    wrong = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    cases = [
        ("", None),
        (wrong, None),
        ("opsa_" + token[5:], None),  # an agent-shaped token
    ]
    for bad, _ in cases:
        for path, payload in (("/results/", body), ("/heartbeat/", {"checks": 1})):
            response = post(client, path, payload, bad)
            assert response.status_code == 401
            assert response.json() == {
                "error": {
                    "code": "unauthorized",
                    "message": "A valid probe token is required.",
                    "fields": {},
                }
            }
        assert (
            client.get(f"{BASE}/assignments/", HTTP_AUTHORIZATION=f"Bearer {bad}").status_code
            == 401
        )
    tokens.revoke(probe)
    assert post(client, "/results/", body, token).status_code == 401
    Probe.objects.filter(pk=probe.pk).update(revoked_at=None, enabled=False)
    assert post(client, "/heartbeat/", {"checks": 1}, token).status_code == 401
    assert ResultBatch.objects.count() == 0
    assert CheckResult.objects.count() == 0
    probe.refresh_from_db()
    assert (probe.last_heartbeat_at, probe.heartbeat) == (None, {})


def test_assignments_with_etag(world: World) -> None:
    client = Client()
    probe, token = make_probe()
    check = make_check(world.customer_a, probes=[probe], interval_seconds=15)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    first = client.get(f"{BASE}/assignments/", **auth)
    assert first.status_code == 200
    assert [c["id"] for c in first.json()["checks"]] == [check.pk]
    assert first.json()["poll_seconds"] == 15
    etag = first["ETag"]
    again = client.get(f"{BASE}/assignments/", HTTP_IF_NONE_MATCH=etag, **auth)
    assert again.status_code == 304
    assert again.content == b""
    make_check(world.customer_a, "second", probes=[probe])
    changed = client.get(f"{BASE}/assignments/", HTTP_IF_NONE_MATCH=etag, **auth)
    assert changed.status_code == 200
    assert len(changed.json()["checks"]) == 2
    assert changed["ETag"] != etag


def test_results_answer_and_replay(world: World) -> None:
    client = Client()
    probe, token = make_probe()
    check = make_check(world.customer_a, probes=[probe])
    from django.utils import timezone

    at = timezone.now().replace(microsecond=0).isoformat()
    body = {
        "batch_id": str(uuid.uuid4()),
        "results": [
            {"check": check.pk, "started_at": at, "status": 0, "response_ms": 3.25},
            {"check": check.pk + 1000, "started_at": at, "status": 0, "response_ms": None},
        ],
    }
    first = post(client, "/results/", body, token)
    assert first.status_code == 200
    assert first.json() == {
        "accepted": 1,
        "duplicates": 0,
        "refused": [{"index": 1, "reason": "not_assigned"}],
    }
    replay = post(client, "/results/", body, token)
    assert replay.json() == {"accepted": 1, "duplicates": 1, "refused": [], "replay": True}
    assert list(CheckResult.objects.values_list("monitor_id", "status", "response_ms")) == [
        (check.pk, 0, 3.25)
    ]
    heartbeat = post(client, "/heartbeat/", {"version": "t", "checks": 1}, token)
    assert heartbeat.json() == {"status": "ok"}
    probe.refresh_from_db()
    assert probe.heartbeat == {"version": "t", "checks": 1}


BAD = [
    ("not json", "parse_error", None),
    ([], "validation_error", {"body": ["must be a JSON object"]}),
    ({"batch_id": "nope", "results": []}, "validation_error", {"batch_id": ["must be a UUID"]}),
    (
        {"batch_id": str(uuid.UUID(int=1)), "results": {}},
        "validation_error",
        {"results": ["must be a list"]},
    ),
    (
        {
            "batch_id": str(uuid.UUID(int=1)),
            "results": [
                {"check": 1, "started_at": "2026-11-27T12:00:00+00:00", "status": 0},
                {"check": 1, "started_at": "2026-11-27 12:00", "status": 0},
            ],
        },
        "validation_error",
        {"results[1].started_at": ["must include a time zone offset"]},
    ),
    (
        {
            "batch_id": str(uuid.UUID(int=1)),
            "results": [{"check": 1, "started_at": "2026-11-27T12:00:00Z", "status": 3}],
        },
        "validation_error",
        {"results[0].status": ["must be 0 (up), 1 (degraded) or 2 (down)"]},
    ),
    (
        {
            "batch_id": str(uuid.UUID(int=1)),
            "results": [{"check": "1", "started_at": "2026-11-27T12:00:00Z", "status": 0}],
        },
        "validation_error",
        {"results[0].check": ["must be a check id"]},
    ),
    (
        {
            "batch_id": str(uuid.UUID(int=1)),
            "results": [
                {"check": 1, "started_at": "2026-11-27T12:00:00Z", "status": 0, "response_ms": -1}
            ],
        },
        "validation_error",
        {"results[0].response_ms": ["must not be negative"]},
    ),
    (
        {
            "batch_id": str(uuid.UUID(int=1)),
            "results": [
                {
                    "check": 1,
                    "started_at": "2026-11-27T12:00:00Z",
                    "status": 0,
                    "metrics": [{"name": "", "value": 1}],
                }
            ],
        },
        "validation_error",
        {"results[0].metrics[0].name": ["must be a non-empty string"]},
    ),
    (
        {
            "batch_id": str(uuid.UUID(int=1)),
            "results": [
                {
                    "check": 1,
                    "started_at": "2026-11-27T12:00:00Z",
                    "status": 0,
                    "metrics": [{"name": "load1", "value": "NaN"}],
                }
            ],
        },
        "validation_error",
        {"results[0].metrics[0].value": ["must be a finite number"]},
    ),
]


@pytest.mark.parametrize(("body", "code", "fields"), BAD)
def test_malformed_batches_get_400_and_store_nothing(
    world: World, body: object, code: str, fields: dict[str, list[str]] | None
) -> None:
    client = Client()
    probe, token = make_probe()
    make_check(world.customer_a, probes=[probe])
    response = post(client, "/results/", body, token)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    if fields is not None:
        assert error["fields"] == fields
    assert ResultBatch.objects.count() == 0
    assert CheckResult.objects.count() == 0


def test_wrong_content_type_is_400(world: World) -> None:
    _probe, token = make_probe()
    response = post(Client(), "/results/", "{}", token, content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_content_type"


@override_settings(MONITORING_MAX_RESULTS_PER_BATCH=2)
def test_too_many_results_is_413(world: World) -> None:
    _probe, token = make_probe()
    item = {"check": 1, "started_at": "2026-11-27T12:00:00Z", "status": 0}
    response = post(
        Client(), "/results/", {"batch_id": str(uuid.uuid4()), "results": [item] * 3}, token
    )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "request_too_large",
        "message": "results: has more than 2 results; send smaller batches",
        "fields": {"results": ["has more than 2 results; send smaller batches"]},
    }
    assert ResultBatch.objects.count() == 0


@override_settings(MONITORING_MAX_BATCH_BYTES=1000)
def test_too_large_body_is_413(world: World) -> None:
    _probe, token = make_probe()
    response = post(
        Client(),
        "/results/",
        {"batch_id": str(uuid.uuid4()), "results": [], "pad": "x" * 1000},
        token,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert ResultBatch.objects.count() == 0
