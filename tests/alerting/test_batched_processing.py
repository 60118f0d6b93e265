"""Worker runs that take several waiting batches: exactly once, isolated, safe under races."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from opsassure.alerting import ingest, processing
from opsassure.alerting.models import Alert, AlertEvent, AlertGroup, IngestBatch, Integration
from opsassure.alerting.payloads import parse
from opsassure.servicedesk.models import Ticket
from tests.alerting.helpers import am_alert, am_payload


def _accept(integration: Integration, n: int, key: str = "") -> IngestBatch:
    """Commit one batch the way the endpoint does; its worker message is not sent (tests
    run outside a real commit), so the batch waits like one whose message is in flight."""
    payload = am_payload(
        am_alert(name=f"Disk{n}", instance=f"host-{n}:9100", fingerprint=f"fp{n}"),
        group_key=key or f'{{}}:{{alertname="Disk{n}"}}',
    )
    return ingest.accept(integration, parse("alertmanager", payload, timezone.now()))


def _fired() -> int:
    return AlertEvent.objects.filter(kind=AlertEvent.Kind.FIRED).count()


@pytest.mark.django_db
def test_one_run_takes_the_waiting_batches_and_their_messages_are_no_ops(
    am: Integration,
) -> None:
    batches = [_accept(am, n) for n in range(5)]
    assert processing.process_batch(batches[2].pk) == 5
    assert not IngestBatch.objects.filter(processed_at__isnull=True).exists()
    assert not IngestBatch.objects.filter(claimed_at__isnull=False).exists()
    assert (AlertGroup.objects.count(), Ticket.objects.count(), _fired()) == (5, 5, 5)
    assert not Alert.objects.filter(pending=True).exists()
    for batch in batches:  # the other batches' messages arrive afterwards
        assert processing.process_batch(batch.pk) == 0
    assert (AlertGroup.objects.count(), Ticket.objects.count(), _fired()) == (5, 5, 5)


@pytest.mark.django_db
def test_a_run_takes_at_most_the_configured_number_of_batches(am: Integration, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OPSASSURE_ALERT_RUN_BATCHES = 2
    batches = [_accept(am, n) for n in range(5)]
    assert processing.process_batch(batches[3].pk) == 2  # its own and the oldest waiting
    processed = set(
        IngestBatch.objects.filter(processed_at__isnull=False).values_list("pk", flat=True)
    )
    assert processed == {batches[0].pk, batches[3].pk}


@pytest.mark.django_db
def test_a_failing_batch_is_rolled_back_alone_and_retried_later(
    am: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = [_accept(am, n) for n in range(3)]
    bad = batches[1]
    real = processing._process

    def failing(batch: IngestBatch, *args, **kwargs):  # type: ignore[no-untyped-def]
        changed = real(batch, *args, **kwargs)
        if batch.pk == bad.pk:
            raise RuntimeError("boom")
        return changed

    monkeypatch.setattr(processing, "_process", failing)
    assert processing.process_batch(batches[0].pk) == 2
    bad.refresh_from_db()
    assert (bad.processed_at, bad.claimed_at, bad.last_error) == (None, None, "boom")
    assert bad.attempts == 1  # not retried by the same run: the sweep re-drives it
    assert Alert.objects.get(fingerprint="fp1").pending  # its work was rolled back
    assert AlertGroup.objects.count() == 2
    monkeypatch.setattr(processing, "_process", real)
    assert processing.process_batch(bad.pk) == 1
    bad.refresh_from_db()
    assert bad.processed_at is not None
    assert (AlertGroup.objects.count(), Ticket.objects.count(), _fired()) == (3, 3, 3)


@pytest.mark.django_db
def test_a_transient_database_error_retries_the_batch_and_is_not_blamed_on_the_alert(
    am: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _accept(am, 0)
    real = processing.Processor._handle
    calls = []

    def deadlocked_once(self, alert_id):  # type: ignore[no-untyped-def]
        calls.append(alert_id)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(self, alert_id)

    monkeypatch.setattr(processing.Processor, "_handle", deadlocked_once)
    assert processing.process_batch(batch.pk) == 1
    batch.refresh_from_db()
    assert (batch.processed_at is not None, batch.last_error) == (True, "")
    assert len(calls) == 2  # retried at once, in the same run
    assert not AlertEvent.objects.filter(kind=AlertEvent.Kind.ERROR).exists()
    assert (AlertGroup.objects.count(), Ticket.objects.count(), _fired()) == (1, 1, 1)


@pytest.mark.django_db
def test_a_lasting_transient_error_leaves_the_batch_for_the_sweep_untouched(
    am: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _accept(am, 0)
    real = processing.Processor._handle

    def always_locked(self, alert_id):  # type: ignore[no-untyped-def]
        raise OperationalError("database is locked")

    monkeypatch.setattr(processing.Processor, "_handle", always_locked)
    assert processing.process_batch(batch.pk) == 0
    batch.refresh_from_db()
    assert (batch.processed_at, batch.claimed_at, batch.last_error) == (
        None,
        None,
        "database is locked",
    )
    assert Alert.objects.get(fingerprint="fp0").pending
    assert not AlertEvent.objects.filter(kind=AlertEvent.Kind.ERROR).exists()
    monkeypatch.setattr(processing.Processor, "_handle", real)
    later = timezone.now() + processing.REDRIVE_AFTER + dt.timedelta(seconds=1)
    assert processing.sweep(later) >= 1  # its worker message runs eagerly in tests
    batch.refresh_from_db()
    assert batch.processed_at is not None
    assert (AlertGroup.objects.count(), _fired()) == (1, 1)


@pytest.mark.django_db
def test_a_data_error_is_recorded_on_the_alert_and_the_batch_goes_on(
    am: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _accept(am, 0)

    def broken(self, alert_id):  # type: ignore[no-untyped-def]
        raise ValueError("bad label")

    monkeypatch.setattr(processing.Processor, "_handle", broken)
    assert processing.process_batch(batch.pk) == 0
    batch.refresh_from_db()
    assert batch.processed_at is not None
    error = AlertEvent.objects.get(kind=AlertEvent.Kind.ERROR)
    assert error.message == "bad label"
    assert not Alert.objects.get(fingerprint="fp0").pending


def test_is_transient_knows_postgresql_codes_and_sqlite_locks() -> None:
    class CauseError(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    def wrapped(sqlstate: str) -> OperationalError:
        error = OperationalError("x")
        error.__cause__ = CauseError(sqlstate)
        return error

    assert processing.is_transient(wrapped("40P01"))  # deadlock_detected
    assert processing.is_transient(wrapped("40001"))  # serialization_failure
    assert not processing.is_transient(wrapped("42703"))  # undefined_column
    assert processing.is_transient(OperationalError("database is locked"))
    assert not processing.is_transient(OperationalError("no such column: x"))
    assert not processing.is_transient(ValueError("database is locked"))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs OPSASSURE_TEST_DATABASE_URL: threads share no in-memory SQLite database",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_process_every_alert_exactly_once(am: Integration, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OPSASSURE_ALERT_RUN_BATCHES = 7
    # 40 batches; pairs share a group key, so both workers may try to open the same group.
    batches = [_accept(am, n, key=f"pair-{n // 2}") for n in range(40)]
    ids = [batch.pk for batch in batches]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(order: list[int]) -> None:
        try:
            barrier.wait()
            for pk in order:
                processing.process_batch(pk)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(ids,)),
        threading.Thread(target=worker, args=(ids[::-1],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert not IngestBatch.objects.filter(processed_at__isnull=True).exists()
    assert not Alert.objects.filter(pending=True).exists()
    assert _fired() == 40  # every alert handled once
    assert AlertGroup.objects.filter(is_open=True).count() == 20  # one open group per key
    assert set(AlertGroup.objects.values_list("alert_count", flat=True)) == {2}
    assert Ticket.objects.count() == 20  # one incident per group
    assert AlertEvent.objects.filter(kind=AlertEvent.Kind.ERROR).count() == 0


@pytest.mark.django_db
def test_staged_alerts_are_written_in_arrival_order_whichever_batch_a_worker_takes(
    am: Integration,
) -> None:
    """A firing then a resolve of one alert, in two batches: a worker that takes the second
    batch first still writes the first one before it (else the late firing would open a new
    cycle of an alert that is over)."""
    fired = ingest.accept(
        am, parse("alertmanager", am_payload(am_alert(fingerprint="ord")), timezone.now())
    )
    resolved = ingest.accept(
        am,
        parse(
            "alertmanager",
            am_payload(am_alert(fingerprint="ord", status="resolved")),
            timezone.now(),
        ),
    )
    assert not Alert.objects.exists()  # committed as staged batches: no worker yet
    processing.process_batch(resolved.pk)
    assert list(Alert.objects.values_list("cycle", "status")) == [(1, "resolved")]
    fired.refresh_from_db()
    assert (fired.expanded_at is not None, fired.staged) == (True, "")
    processing.process_batch(fired.pk)
    assert list(Alert.objects.values_list("cycle", "status")) == [(1, "resolved")]


@pytest.mark.django_db
def test_writing_staged_alerts_twice_changes_nothing(am: Integration) -> None:
    batch = ingest.accept(
        am,
        parse(
            "alertmanager",
            am_payload(am_alert(fingerprint="twice"), am_alert(fingerprint="twice")),
            timezone.now(),
        ),
    )
    assert ingest.expand_through(am, batch.pk) == 1
    assert ingest.expand_through(am, batch.pk) == 0
    assert ingest.expand_waiting() == 0
    alert = Alert.objects.get()
    # the request's two copies were one alert: the last occurrence of a fingerprint wins
    assert (alert.fingerprint, alert.repeat_count, alert.last_seen) == (
        "twice",
        0,
        batch.received_at,
    )


@pytest.mark.django_db
def test_metrics_show_the_batches_waiting_for_a_worker(am: Integration) -> None:
    from django.test import Client

    def gauges() -> dict[str, float]:
        body = Client().get("/metrics").content.decode()
        return {
            line.split()[0]: float(line.split()[1])
            for line in body.splitlines()
            if line.startswith("opsassure_alert_batch")
        }

    assert gauges()["opsassure_alert_batches_waiting"] == 0
    first = _accept(am, 0)
    _accept(am, 1)
    waiting = gauges()
    assert (
        waiting["opsassure_alert_batches_waiting"],
        waiting["opsassure_alert_batches_waiting_alerts"],
    ) == (2, 2)
    assert waiting["opsassure_alert_batch_oldest_waiting_seconds"] >= 0
    processing.process_batch(first.pk)  # the run takes the other waiting batch too
    assert gauges()["opsassure_alert_batches_waiting"] == 0


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite does not compress")
def test_staged_alerts_are_compressed_with_lz4_on_postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'alerting_ingestbatch'::regclass AND attname = 'staged'"
        )
        assert cursor.fetchone()[0] == "l"
