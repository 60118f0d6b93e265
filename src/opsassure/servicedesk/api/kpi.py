"""GET /api/v1/servicedesk/kpis/ — the service-desk KPI set, read-only and tenant-scoped.

Not a router viewset (it has no rows): mounted through ``urlpatterns`` of
``servicedesk/api/urls.py``; its tenant isolation is tested in tests/servicedesk/test_kpi_api.py.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opsassure.servicedesk import kpi
from opsassure.servicedesk.forms_kpi import KpiFilterForm

VIEW_PERMISSION = "servicedesk.view_ticket"


class _Sla(serializers.Serializer[Any]):
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    running = serializers.IntegerField(help_text="still running in time: not in the ratio")
    achievement = serializers.FloatField(allow_null=True, help_text="percent")


class _AllTargets(serializers.Serializer[Any]):
    met = serializers.IntegerField()
    total = serializers.IntegerField()
    achievement = serializers.FloatField(allow_null=True, help_text="percent")


class _SlaSet(serializers.Serializer[Any]):
    response = _Sla()
    arrival = _Sla()
    resolution = _Sla()
    all_targets = _AllTargets()


class _Time(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    mean_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)


class _Times(serializers.Serializer[Any]):
    business = _Time()
    wall = _Time()


class _Rate(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    of = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="percent")


class _ResolutionRate(serializers.Serializer[Any]):
    resolved = serializers.IntegerField()
    of = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="percent")


class _Satisfaction(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text='ratings per score, "1" … "5"'
    )
    satisfied_share = serializers.FloatField(allow_null=True, help_text="percent scoring 4–5")


class _Backlog(serializers.Serializer[Any]):
    open = serializers.IntegerField()
    oldest_age_seconds = serializers.IntegerField(allow_null=True)
    by_age = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="lt_1d, 1_3d, 3_7d, 7_30d, gt_30d",
    )


class KpiFiguresSerializer(serializers.Serializer[Any]):
    received = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_kind = serializers.DictField(child=serializers.IntegerField())
    resolved = serializers.IntegerField()
    sla = _SlaSet()
    time_to_respond = _Times()
    time_to_resolve = _Times()
    first_contact_resolution = _Rate()
    reopen = _Rate()
    resolution_rate = _ResolutionRate()
    satisfaction = _Satisfaction()
    backlog = _Backlog()


class KpiGroupSerializer(KpiFiguresSerializer):
    key = serializers.JSONField(help_text="priority 1–4, an id, a type code or YYYY-MM")
    label = serializers.CharField()  # type: ignore[assignment]  # a field, popped by DRF


class _Period(serializers.Serializer[Any]):
    start = serializers.DateTimeField(help_text="first instant (UTC)")
    end = serializers.DateTimeField(help_text="first instant after the period (UTC)")
    time_zone = serializers.CharField()


class KpiReportSerializer(serializers.Serializer[Any]):
    period = _Period()
    group_by = serializers.CharField(allow_null=True)
    resolution_rate_variant = serializers.CharField()
    definitions = serializers.DictField(child=serializers.CharField())
    overall = KpiFiguresSerializer()
    groups = KpiGroupSerializer(many=True)


class CanViewKpis(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(VIEW_PERMISSION))


def report(user: Any, flt: kpi.KpiFilter) -> dict[str, Any]:
    """The full KPI payload (figures, period, definitions) for the API and the dashboard."""
    figures = kpi.compute_kpis(user, flt)
    return {
        "period": {"start": flt.start, "end": flt.end, "time_zone": str(flt.zone)},
        "group_by": flt.group_by,
        "resolution_rate_variant": flt.resolution_rate,
        "definitions": kpi.definitions(flt.resolution_rate),
        **figures,
    }


class KpiView(APIView):
    """Service-desk KPIs of the tickets you may see, for a period (default: this month)."""

    permission_classes = [CanViewKpis]

    @extend_schema(
        operation_id="servicedesk_kpis",
        parameters=[
            OpenApiParameter("customer", int, description=_("Customer id")),
            OpenApiParameter("service", int, description=_("Service id")),
            OpenApiParameter("team", int, description=_("Team id (provider staff)")),
            OpenApiParameter("assignee", int, description=_("Engineer id (provider staff)")),
            OpenApiParameter("priority", int, enum=[1, 2, 3, 4]),
            OpenApiParameter("kind", str, enum=["incident", "request"]),
            OpenApiParameter("month", str, description=_("YYYY-MM (replaces from/to)")),
            OpenApiParameter("from", str, description=_("First day YYYY-MM-DD, your zone")),
            OpenApiParameter("to", str, description=_("Last day YYYY-MM-DD (included)")),
            OpenApiParameter("group_by", str, enum=list(kpi.GROUPS)),
            OpenApiParameter("resolution_rate", str, enum=list(kpi.RESOLUTION_RATE_VARIANTS)),
        ],
        responses=KpiReportSerializer,
    )
    def get(self, request: Request) -> Response:
        form = KpiFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    ("non_field_errors" if field == "__all__" else field): [str(e) for e in errors]
                    for field, errors in form.errors.items()
                }
            )
        return Response(KpiReportSerializer(report(request.user, form.kpi_filter())).data)
