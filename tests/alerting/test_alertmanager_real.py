"""The real Alertmanager (Debian package prometheus-alertmanager) posting to our live server.

Alerts pushed into Alertmanager's API v2 must show up as alerts, one group and an incident in
OpsAssure, and resolve when Alertmanager resolves them. Without the binary the test is skipped
locally but fails in CI (``CI=true``): a real-parts test that silently skips proves nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from django.db import OperationalError

from opsassure.alerting.models import Alert, AlertGroup, Integration
from opsassure.catalog.policies import ensure_default_policy
from opsassure.core.models import Customer

BINARY = "/usr/bin/prometheus-alertmanager"
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (the real Alertmanager test must run in CI)")
    pytest.skip(reason)


def _binary() -> str:
    path = shutil.which("prometheus-alertmanager") or BINARY
    if not Path(path).exists():
        _unavailable("Alertmanager is not installed (apt-get install prometheus-alertmanager)")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OperationalError:  # in-memory SQLite shared with the server thread: busy, retry
            pass
        time.sleep(0.25)
    raise AssertionError(
        f"{what} within {timeout:.0f} s; alertmanager log:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture
def alertmanager(tmp_path: Path, live_server) -> Iterator[tuple[str, Integration]]:  # type: ignore[no-untyped-def]
    binary = _binary()
    customer = Customer.objects.create(code="AM", name="Alertmanager customer")
    ensure_default_policy(customer)
    integration = Integration.objects.create(name="real AM", kind="alertmanager", customer=customer)
    url = f"{live_server.url}{integration.ingest_path()}"
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "route:\n"
        "  receiver: opsassure\n"
        "  group_by: ['alertname']\n"
        "  group_wait: 1s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: opsassure\n"
        "    webhook_configs:\n"
        f"      - url: '{url}'\n"
        "        send_resolved: true\n",
        encoding="utf-8",
    )
    port = _free_port()
    log = tmp_path / "alertmanager.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(ready, 30, "Alertmanager ready", log)
        yield base, integration
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _alerts(ends: dt.datetime | None, starts: dt.datetime) -> list[dict[str, object]]:
    alerts = []
    for host in ("web-01", "web-02", "web-03"):
        alert: dict[str, object] = {
            "labels": {
                "alertname": "InstanceDown",
                "instance": f"{host}:9100",
                "severity": "critical",
            },
            "annotations": {"summary": f"{host} is down"},
            "startsAt": starts.isoformat(),
            "generatorURL": "http://prometheus:9090/graph",
        }
        if ends is not None:
            alert["endsAt"] = ends.isoformat()
        alerts.append(alert)
    return alerts


def test_alertmanager_webhook_end_to_end(
    alertmanager: tuple[str, Integration], tmp_path: Path
) -> None:
    base, integration = alertmanager
    log = tmp_path / "alertmanager.log"
    starts = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    response = httpx.post(f"{base}/api/v2/alerts", json=_alerts(None, starts), timeout=5)
    assert response.status_code == 200, response.text

    def firing_state() -> tuple[object, ...] | None:
        # One read of everything asserted below, retried by _wait: the live server may still be
        # writing (in-memory SQLite shared with its thread answers "table is locked" at once).
        firing = Alert.objects.filter(integration=integration, status="firing", pending=False)
        group = AlertGroup.objects.filter(integration=integration).select_related("incident")
        if firing.count() != 3 or group.count() != 1:
            return None
        found = group.get()
        if found.incident is None:
            return None
        fingerprints = set(
            Alert.objects.filter(integration=integration).values_list("fingerprint", flat=True)
        )
        return (found, found.incident.channel, fingerprints)

    settled: list[tuple[object, ...]] = []

    def three_firing() -> bool:
        state = firing_state()
        if state is not None:
            settled.append(state)
        return state is not None

    _wait(three_firing, 60, "three firing alerts processed into a group with an incident", log)
    group, channel, fingerprints = settled[-1]
    assert isinstance(group, AlertGroup)
    assert isinstance(fingerprints, set)
    assert group.group_key.startswith("sender:")  # Alertmanager's own groupKey
    assert 'alertname="InstanceDown"' in group.group_key
    assert (group.state, group.firing_count, group.severity) == ("firing", 3, "critical")
    assert channel == "monitoring"
    assert len(fingerprints) == 3
    assert all(len(fp) == 16 for fp in fingerprints)  # Alertmanager's fingerprints, not ours

    ended = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    response = httpx.post(f"{base}/api/v2/alerts", json=_alerts(ended, starts), timeout=5)
    assert response.status_code == 200, response.text

    def resolved() -> bool:
        return (
            AlertGroup.objects.filter(pk=group.pk, state="resolved").exists()
            and Alert.objects.filter(integration=integration, status="resolved").count() == 3
            and group.incident is not None
            and type(group.incident)
            .objects.filter(pk=group.incident.pk, status="resolved")
            .exists()
        )

    _wait(resolved, 60, "the group and its incident resolved", log)
    assert Alert.objects.filter(integration=integration).count() == 3
