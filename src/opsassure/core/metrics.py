"""Self-monitoring in the Prometheus text format: requests, queue depth, heartbeat age."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "opsassure_http_requests_total",
    "HTTP requests served",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "opsassure_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _route(request: HttpRequest) -> str:
    # The URL pattern name, not the path: keeps label cardinality bounded.
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "unmatched"
    return match.view_name or "unnamed"


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response


class BackgroundCollector(Collector):
    """Collected at scrape time: heartbeat ages from the database, queue depth from the broker."""

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # Declared so that registering does not run collect() (and query) at import time.
        yield GaugeMetricFamily("opsassure_heartbeat_age_seconds", "", labels=["kind"])
        yield GaugeMetricFamily("opsassure_queue_depth", "", labels=["queue"])

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from opsassure.core.models.health import Heartbeat

        ages = GaugeMetricFamily(
            "opsassure_heartbeat_age_seconds",
            "Seconds since a background process reported",
            labels=["kind"],
        )
        now = timezone.now()
        try:
            for kind, seen_at in Heartbeat.objects.values_list("kind", "seen_at"):
                ages.add_metric([kind], (now - seen_at).total_seconds())
        except DatabaseError:  # not migrated yet, or the database is down: still answer
            logger.warning("heartbeats unavailable", exc_info=True)
        yield ages
        depth = GaugeMetricFamily(
            "opsassure_queue_depth", "Messages waiting in a Celery queue", labels=["queue"]
        )
        for queue, size in queue_depths().items():
            depth.add_metric([queue], size)
        yield depth


def queue_depths() -> dict[str, int]:
    """Messages waiting per queue, asked of whichever broker is configured."""
    from opsassure.celery import app

    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as conn:
            channel: Any = conn.default_channel
            for queue in settings.CELERY_TASK_QUEUES_NAMES:
                try:
                    declared = channel.queue_declare(queue=queue, passive=True)
                    depths[queue] = int(declared.message_count)
                except Exception:
                    depths[queue] = 0
                    channel = conn.channel()
    except Exception:  # broker down: report what we have, the scrape must not fail
        logger.warning("queue depth unavailable", exc_info=True)
    return depths


REGISTRY.register(BackgroundCollector())


def _allowed(request: HttpRequest) -> bool:
    if settings.METRICS_TOKEN:
        header = request.headers.get("Authorization", "")

        if hmac.compare_digest(header, f"Bearer {settings.METRICS_TOKEN}"):
            return True
    from opsassure.core.audit import client_ip

    remote = client_ip(request) or ""
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOW:
        try:
            if address in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(
        generate_latest(REGISTRY), content_type="text/plain; version=0.0.4; charset=utf-8"
    )
