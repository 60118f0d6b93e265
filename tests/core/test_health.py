from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from opsassure.core import services
from opsassure.core.models import Heartbeat
from opsassure.core.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_always_ok() -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_readyz_needs_a_fresh_worker_heartbeat(settings) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "no heartbeat yet"
    heartbeat.delay()  # eager in tests: runs the real task body
    ready = Client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["migrations"] == "ok"
    Heartbeat.objects.update(
        seen_at=timezone.now() - dt.timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS + 5)
    )
    stale = Client().get("/readyz")
    assert stale.status_code == 503
    assert stale.json()["checks"]["worker"].startswith("stale")


def test_metrics_are_prometheus_text_and_access_controlled(settings) -> None:  # type: ignore[no-untyped-def]
    services.beat("worker", "host-1")
    Client().get("/healthz")
    response = Client().get("/metrics")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'opsassure_http_requests_total{method="GET",route="healthz",status="200"}' in body
    assert 'opsassure_heartbeat_age_seconds{kind="worker"}' in body
    assert 'opsassure_queue_depth{queue="alerts"}' in body
    settings.METRICS_ALLOW = ["10.0.0.0/8"]
    assert Client().get("/metrics").status_code == 403
    settings.METRICS_TOKEN = "s3cret"
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def test_heartbeat_periodic_task_is_stored_in_the_database() -> None:
    from django_celery_beat.models import PeriodicTask

    services.ensure_periodic_tasks()
    services.ensure_periodic_tasks()
    task = PeriodicTask.objects.get(name="core: heartbeat")
    assert task.task == "opsassure.core.tasks.heartbeat"
    assert task.interval is not None


def test_tasks_are_enqueued_only_after_commit(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    from opsassure.core.jobs import enqueue_on_commit

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_on_commit(heartbeat)
        assert not Heartbeat.objects.exists()  # not yet: still inside the transaction
    assert len(callbacks) == 1
    assert Heartbeat.objects.filter(kind="worker").count() == 1

    def rolled_back() -> None:
        with transaction.atomic():
            enqueue_on_commit(heartbeat)
            raise RuntimeError

    Heartbeat.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        rolled_back()
    assert callbacks == []
    assert not Heartbeat.objects.exists()


def test_only_one_scheduler_holds_the_lease() -> None:
    from opsassure.core.models import Lease
    from opsassure.core.services import hold_lease

    assert hold_lease("scheduler", "host-a", 30) is True
    assert hold_lease("scheduler", "host-b", 30) is False  # standby
    assert hold_lease("scheduler", "host-a", 30) is True  # renewal
    Lease.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert hold_lease("scheduler", "host-b", 30) is True  # leader died: take over
    assert hold_lease("scheduler", "host-a", 30) is False
    assert Lease.objects.get().holder == "host-b"
