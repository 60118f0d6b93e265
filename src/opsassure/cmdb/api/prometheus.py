"""``GET /api/v1/cmdb/prometheus-sd/``: Prometheus HTTP service discovery (http_sd_configs).

A plain list (no pagination wrapper), always JSON. Mounted through ``urlpatterns`` in
``cmdb/api/urls.py`` rather than on the router: target groups carry no top-level ``id`` (and
Prometheus refuses unknown keys), so the generic isolation walk cannot check this route;
tests/cmdb/test_prometheus_sd.py has its own tenant test.
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.cmdb.filtersets import CIFilterSet
from opsassure.cmdb.models import ConfigurationItem
from opsassure.cmdb.prometheus import target_groups
from opsassure.core.api.base import ScopedViewSetMixin


class TargetGroupSerializer(serializers.Serializer[dict[str, object]]):
    """Shape of one target group (for the API schema)."""

    targets = serializers.ListField(child=serializers.CharField())
    labels = serializers.DictField(child=serializers.CharField())


class PrometheusSDView(ScopedViewSetMixin):
    """Scrape targets for Prometheus: CIs in use or under maintenance with a monitoring endpoint.

    Filter with the CI list filters (customer, ci_type, environment, tag, status, …). Labels:
    ``__meta_opsassure_customer`` (code), ``_ci`` (name), ``_ci_id``, ``_type`` (CI type code),
    ``_environment``, ``_criticality`` (1–4), ``_service`` (business services the CI supports
    within three hops, comma-separated).
    """

    queryset = ConfigurationItem.objects.order_by("pk")
    filterset_class = CIFilterSet
    filter_backends = [DjangoFilterBackend]
    renderer_classes = [JSONRenderer]
    pagination_class = None
    serializer_class = TargetGroupSerializer

    @extend_schema(operation_id="cmdb_prometheus_sd", responses=TargetGroupSerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        return Response(target_groups(queryset, request.user))
