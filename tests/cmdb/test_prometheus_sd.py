"""Prometheus HTTP service discovery from the CMDB: format, labels, scope, filters, and a real
Prometheus discovering and scraping a target through it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from opsassure.cmdb import services
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core import services as core_services
from tests.cmdb.helpers import bearer, make_ci
from tests.conftest import World, api_as

URL = "/api/v1/cmdb/prometheus-sd/"
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _relate(source: ConfigurationItem, relation_type: str, target: ConfigurationItem) -> None:
    services.add_relation(actor=None, source=source, target=target, relation_type=relation_type)


def _service(world: World, name: str) -> ConfigurationItem:
    return make_ci(
        world.customer_a,
        name,
        type_code="business_service",
        attributes={"service_hours": "7×24"},
    )


@pytest.fixture
def scene(world: World) -> dict[str, ConfigurationItem]:
    """HIS and PACS depend on his-app, which runs on his-vm, hosted by host-01."""
    a = world.customer_a
    host = make_ci(a, "host-01", monitoring_endpoint="10.0.0.1:9100", criticality=2, tags=["核心"])
    vm = make_ci(
        a,
        "his-vm",
        type_code="virtual_machine",
        monitoring_endpoint="10.0.0.2:9100",
        environment="test",
    )
    app = make_ci(a, "his-app", type_code="application", monitoring_endpoint="10.0.0.3:8080")
    his, pacs = _service(world, "HIS"), _service(world, "PACS")
    _relate(host, "hosts", vm)
    _relate(app, "runs_on", vm)
    _relate(his, "depends_on", app)
    _relate(pacs, "depends_on", app)
    lone = make_ci(a, "lone-01", monitoring_endpoint="10.0.0.4:9100", status="maintenance")
    make_ci(a, "old-01", monitoring_endpoint="10.0.0.5:9100", status="retired")
    make_ci(a, "quiet-01")  # no monitoring endpoint
    theirs = make_ci(world.customer_b, "b-host", monitoring_endpoint="10.9.0.1:9100")
    shared = make_ci(None, "jump-01", monitoring_endpoint="10.100.0.1:9100")
    return {"host": host, "vm": vm, "app": app, "lone": lone, "theirs": theirs, "shared": shared}


def _group(ci: ConfigurationItem, customer: str, service: str) -> dict[str, Any]:
    return {
        "targets": [ci.monitoring_endpoint],
        "labels": {
            "__meta_opsassure_customer": customer,
            "__meta_opsassure_ci": ci.name,
            "__meta_opsassure_ci_id": str(ci.pk),
            "__meta_opsassure_type": ci.ci_type.code,
            "__meta_opsassure_environment": ci.environment,
            "__meta_opsassure_criticality": str(ci.criticality),
            "__meta_opsassure_service": service,
        },
    }


@pytest.mark.django_db
def test_target_groups_have_the_http_sd_shape_and_our_labels(
    world: World, scene: dict[str, ConfigurationItem]
) -> None:
    response = api_as(world.engineer_a).get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == [
        _group(scene["host"], "A", "HIS,PACS"),  # three hops: vm, app, services
        _group(scene["vm"], "A", "HIS,PACS"),
        _group(scene["app"], "A", "HIS,PACS"),
        _group(scene["lone"], "A", ""),  # under maintenance: still scraped
        _group(scene["shared"], "", ""),  # a shared provider CI, for provider staff
    ]
    for group in response.json():
        for name, value in group["labels"].items():
            assert LABEL_NAME.match(name)
            assert isinstance(value, str)


@pytest.mark.django_db
def test_customer_tokens_get_only_their_own_targets(
    world: World, scene: dict[str, ConfigurationItem]
) -> None:
    """The dedicated isolation test (target groups carry no "id" for the generic walk)."""
    key_a = core_services.create_token(world.customer_a_user, "prometheus").key
    key_b = core_services.create_token(world.customer_b_user, "prometheus").key
    ours = bearer(key_a).get(URL).json()
    assert [g["targets"][0] for g in ours] == [
        "10.0.0.1:9100",
        "10.0.0.2:9100",
        "10.0.0.3:8080",
        "10.0.0.4:9100",
    ]
    assert {g["labels"]["__meta_opsassure_customer"] for g in ours} == {"A"}
    theirs = bearer(key_b).get(URL).json()
    assert theirs == [_group(scene["theirs"], "B", "")]
    # Naming the other customer in a filter is refused, not answered.
    refused = bearer(key_a).get(URL, {"customer": world.customer_b.pk})
    assert refused.status_code == 400
    assert bearer(key_a).get(URL, {"q": "b-host"}).json() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"ci_type": "server"}, ["host-01", "lone-01", "jump-01"]),
        ({"environment": "test"}, ["his-vm"]),
        ({"tag": "核心"}, ["host-01"]),
        ({"status": "maintenance"}, ["lone-01"]),
        ({"status": "retired"}, []),
        ({"criticality": "2"}, ["host-01"]),
        ({"q": "his"}, ["his-vm", "his-app"]),
    ],
)
def test_the_ci_list_filters_apply(
    world: World, scene: dict[str, ConfigurationItem], params: dict[str, str], names: list[str]
) -> None:
    response = api_as(world.engineer_a).get(URL, params)
    assert response.status_code == 200
    assert [g["labels"]["__meta_opsassure_ci"] for g in response.json()] == names


@pytest.mark.django_db
def test_the_customer_filter(world: World, scene: dict[str, ConfigurationItem]) -> None:
    response = api_as(world.manager).get(URL, {"customer": world.customer_b.pk})
    assert [g["labels"]["__meta_opsassure_ci"] for g in response.json()] == ["b-host"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"ci_type": "nope"},
        {"customer": "abc"},
        {"customer": "999999"},
        {"status": "bogus"},
        {"environment": "moon"},
        {"tag": "no-such-tag"},
        {"criticality": "9"},
        {"warranty_ends_within": "soon"},
    ],
)
def test_bad_filters_are_a_400_in_json(
    world: World, scene: dict[str, ConfigurationItem], params: dict[str, str]
) -> None:
    response = api_as(world.engineer_a).get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == list(params)


@pytest.mark.django_db
def test_authentication_and_permission(world: World, scene: dict[str, ConfigurationItem]) -> None:
    from rest_framework.test import APIClient

    anonymous = APIClient().get(URL)
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/json"
    assert bearer("oa_nope_nope").get(URL).status_code == 401
    issued = core_services.create_token(world.customer_a_user, "prometheus")
    core_services.revoke_token(issued.token)
    assert bearer(issued.key).get(URL).status_code == 401
    assert api_as(world.outsider).get(URL).status_code == 403  # no view_configurationitem


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_number_of_targets(
    world: World, scene: dict[str, ConfigurationItem], django_assert_max_num_queries: Any
) -> None:
    client = api_as(world.engineer_a)
    with django_assert_max_num_queries(14) as small:
        client.get(URL)
    for index in range(40):
        ci = make_ci(world.customer_a, f"node-{index}", monitoring_endpoint=f"10.1.0.{index}:9100")
        _relate(ci, "hosts", scene["vm"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    assert len(response.json()) == 45
    assert {g["labels"]["__meta_opsassure_service"] for g in response.json()} == {
        "HIS,PACS",
        "",
    }


# --- A real Prometheus -------------------------------------------------------------------------

METRICS = (
    b"# HELP demo_ready Whether the demo target is ready.\n# TYPE demo_ready gauge\ndemo_ready 1\n"
)


class _MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(METRICS)))
        self.end_headers()
        self.wfile.write(METRICS)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def metrics_target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MetricsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the prometheus binary is required in CI (apt-get install prometheus)")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    return binary


PROMETHEUS_YML = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: opsassure
    http_sd_configs:
      - url: {sd_url}
        refresh_interval: 1s
        authorization:
          type: Bearer
          credentials: {token}
    relabel_configs:
      - action: labelmap
        regex: __meta_opsassure_(.+)
"""


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_a_real_prometheus_discovers_and_scrapes_cmdb_targets(
    transactional_db: None,
    live_server: Any,
    world: World,
    metrics_target: str,
    tmp_path: Path,
) -> None:
    binary = _prometheus_binary()
    server = make_ci(
        world.customer_a, "his-db01", monitoring_endpoint=metrics_target, criticality=1
    )
    _relate(_service(world, "HIS"), "depends_on", server)
    make_ci(world.customer_b, "b-db01", monitoring_endpoint="127.0.0.1:9")  # must stay invisible
    token = core_services.create_token(world.customer_a_user, "prometheus").key
    sd_url = live_server.url.replace("localhost", "127.0.0.1") + URL
    config = tmp_path / "prometheus.yml"
    config.write_text(PROMETHEUS_YML.format(sd_url=sd_url, token=token), encoding="utf-8")
    port = _free_port()
    log_path = tmp_path / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        targets, up = _wait_until_scraped(port, metrics_target, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    assert targets is not None, f"Prometheus never scraped {metrics_target}:\n{log_tail}"
    expected = {
        "job": "opsassure",
        "instance": metrics_target,
        "customer": "A",
        "ci": "his-db01",
        "ci_id": str(server.pk),
        "type": "server",
        "environment": "production",
        "criticality": "1",
        "service": "HIS",
    }
    assert [t["labels"] for t in targets] == [expected]
    assert targets[0]["discoveredLabels"]["__meta_opsassure_ci_id"] == str(server.pk)
    assert up == [{**expected, "__name__": "up"}]


def _wait_until_scraped(
    port: int, target: str, process: subprocess.Popen[bytes]
) -> tuple[list[dict[str, Any]] | None, list[dict[str, str]]]:
    """Poll Prometheus (≤ 60 s) until our target is up; then read back the ``up`` series."""
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return None, []
            try:
                active = client.get(f"{base}/targets").json()["data"]["activeTargets"]
            except (httpx.HTTPError, ValueError, KeyError):
                time.sleep(0.5)
                continue
            if active and all(t["health"] == "up" for t in active):
                query = client.get(f"{base}/query", params={"query": "up"}).json()
                series = [r["metric"] for r in query["data"]["result"] if r["value"][1] == "1"]
                if series:
                    return active, series
            time.sleep(0.5)
    return None, []
