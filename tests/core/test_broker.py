"""The embedded broker (core/broker.py): whole messages, each claimed once, bad files aside."""

from __future__ import annotations

import threading
from queue import Empty

import pytest
from kombu import Connection

from opsassure.core import broker


@pytest.fixture
def folders(tmp_path):
    queue = tmp_path / "queue"
    processed = tmp_path / "processed"
    queue.mkdir()
    processed.mkdir()
    return tmp_path, {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "store_processed": False,
        "polling_interval": 0.01,
        "control_folder": str(tmp_path / "control"),
    }


def connect(options):
    return Connection(
        "filesystem://", transport="opsassure.core.broker:Transport", transport_options=options
    )


def test_settings_use_our_transport(settings):
    if not settings.EMBEDDED_BROKER:  # the suite's Redis/RabbitMQ run: kombu's own transport
        assert getattr(settings, "CELERY_BROKER_TRANSPORT", None) is None
        return
    assert settings.CELERY_BROKER_TRANSPORT == "opsassure.core.broker:Transport"
    with connect(settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
        assert isinstance(conn.transport, broker.Transport)


def test_bindings_live_under_the_data_folder(settings, tmp_path, monkeypatch):
    """kombu keeps exchange → queue bindings in ``control/`` of the working directory
    unless told otherwise; ours belong beside the queue, not in whatever folder the
    worker happened to start in."""
    if not settings.EMBEDDED_BROKER:
        return
    monkeypatch.chdir(tmp_path)
    control = tmp_path / "broker-control"
    options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "control_folder": str(control)}
    with connect(options) as conn:
        q = conn.SimpleQueue("bindings-probe")
        q.put({"n": 1})
        q.get(timeout=1).ack()
        q.close()
    assert (control / "bindings-probe.exchange").exists()
    assert not (tmp_path / "control").exists()
    configured = settings.CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"]
    assert configured.startswith(str(settings.BROKER_DIR))


def test_round_trip_and_empty_queue(folders):
    _, options = folders
    with connect(options) as conn:
        q = conn.SimpleQueue("alerts")
        q.put({"n": 1})
        q.put({"n": 2})
        for expected in ({"n": 1}, {"n": 2}):
            message = q.get(timeout=1)
            assert message.payload == expected
            message.ack()
        with pytest.raises(Empty):
            q.get(timeout=0.05)
        q.close()


def test_a_message_being_written_is_invisible_to_readers(folders, monkeypatch):
    """kombu's own transport creates ``*.msg`` first and writes after: a reader in between
    got an empty file."""
    _, options = folders
    seen_during_write = []
    original = broker.Channel._write

    with connect(options) as producer_conn, connect(options) as consumer_conn:
        consumer = consumer_conn.default_channel

        def write_with_a_reader_in_the_middle(f, data):
            f.write(data[: len(data) // 2])
            f.flush()
            try:
                seen_during_write.append(consumer._get("alerts"))
            except Empty:
                seen_during_write.append(None)
            f.write(data[len(data) // 2 :])
            f.flush()

        monkeypatch.setattr(
            broker.Channel, "_write", staticmethod(write_with_a_reader_in_the_middle)
        )
        producer_conn.default_channel._put("alerts", {"body": "x" * 1000})
        monkeypatch.setattr(broker.Channel, "_write", staticmethod(original))

        assert seen_during_write == [None]
        assert consumer._get("alerts") == {"body": "x" * 1000}


def test_unreadable_file_is_set_aside_and_the_next_message_delivered(folders, caplog):
    root, options = folders
    (root / "queue" / "0_torn.alerts.msg").write_bytes(b'{"body": ')
    with connect(options) as conn:
        channel = conn.default_channel
        channel._put("alerts", {"n": 7})
        with caplog.at_level("ERROR", logger="opsassure.core.broker"):
            assert channel._get("alerts") == {"n": 7}
        with pytest.raises(Empty):
            channel._get("alerts")
    assert (root / "failed" / "0_torn.alerts.msg").read_bytes() == b'{"body": '
    assert "0_torn.alerts.msg" in caplog.text
    assert list((root / "processed").iterdir()) == []


def test_concurrent_producers_and_consumers_deliver_each_message_exactly_once(folders):
    _, options = folders
    total, producers, consumers = 600, 2, 3
    received: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    done_producing = threading.Event()

    def produce(start):
        try:
            with connect(options) as conn:
                for n in range(start, total, producers):
                    conn.default_channel._put("alerts", {"n": n})
        except BaseException as exc:
            errors.append(exc)

    def consume():
        try:
            with connect(options) as conn:
                channel = conn.default_channel
                while True:
                    try:
                        message = channel._get("alerts")
                    except Empty:
                        if done_producing.is_set():
                            return
                        continue
                    with lock:
                        received.append(message["n"])
        except BaseException as exc:
            errors.append(exc)

    consumer_threads = [threading.Thread(target=consume) for _ in range(consumers)]
    producer_threads = [threading.Thread(target=produce, args=(i,)) for i in range(producers)]
    for t in consumer_threads + producer_threads:
        t.start()
    for t in producer_threads:
        t.join()
    done_producing.set()
    for t in consumer_threads:
        t.join(timeout=60)

    assert errors == []
    assert sorted(received) == list(range(total))
