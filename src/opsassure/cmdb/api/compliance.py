"""API of the configuration audit: rules, runs, scores, findings and the compliance summary."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.cmdb import compliance
from opsassure.cmdb.audit_rules import validate_rule
from opsassure.cmdb.filtersets_compliance import AuditFindingFilterSet, AuditScoreFilterSet
from opsassure.cmdb.models import (
    CIType,
    ConfigAuditFinding,
    ConfigAuditRule,
    ConfigAuditRun,
    ConfigAuditScore,
)
from opsassure.core.api.base import (
    ScopedModelSerializer,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    ScopedViewSetMixin,
)
from opsassure.core.api.pagination import StableCursorPagination
from opsassure.core.auth import request_user
from opsassure.core.tenancy import scoped

# Fields of a built-in rule an administrator may change (the rest define what the rule means).
BUILTIN_EDITABLE = frozenset({"is_enabled", "params"})
MAX_TREND_RUNS = 365


class AuditRuleSerializer(ScopedModelSerializer):
    ci_types = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=CIType.objects.all(), required=False
    )
    display_name = serializers.SerializerMethodField()
    is_builtin = serializers.SerializerMethodField()

    class Meta:
        model = ConfigAuditRule
        fields = [
            "id",
            "code",
            "name",
            "display_name",
            "kind",
            "params",
            "failing_filter",
            "ci_types",
            "is_enabled",
            "is_builtin",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_display_name(self, obj: ConfigAuditRule) -> str:
        return compliance.rule_display_name(obj.code, obj.name)

    def get_is_builtin(self, obj: ConfigAuditRule) -> bool:
        return compliance.is_builtin_rule(obj)

    def _changed(self, instance: ConfigAuditRule, attrs: dict[str, Any]) -> list[str]:
        changed = []
        for name, value in attrs.items():
            if name == "ci_types":
                current = {t.pk for t in instance.ci_types.all()}
                if {t.pk for t in value} != current:
                    changed.append(name)
            elif getattr(instance, name) != value:
                changed.append(name)
        return changed

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: ConfigAuditRule | None = self.instance
        if instance is not None and compliance.is_builtin_rule(instance):
            locked = [
                name for name in self._changed(instance, attrs) if name not in BUILTIN_EDITABLE
            ]
            if locked:
                message = _("Built-in rule: only “enabled” and the parameters can be changed.")
                raise serializers.ValidationError({name: [message] for name in sorted(locked)})
        kind = attrs.get("kind", instance.kind if instance else "")
        params = attrs.get("params", instance.params if instance else {})
        failing_filter = attrs.get("failing_filter", instance.failing_filter if instance else {})
        try:
            validate_rule(kind, params, failing_filter)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return attrs


class AuditRunSerializer(serializers.ModelSerializer[ConfigAuditRun]):
    class Meta:
        model = ConfigAuditRun
        fields = [
            "id",
            "started_at",
            "finished_at",
            "status",
            "triggered_by",
            "checked",
            "failed",
            "error",
        ]
        read_only_fields = fields


class AuditScoreSerializer(serializers.ModelSerializer[ConfigAuditScore]):
    rule_code = serializers.CharField(source="rule.code", read_only=True)
    ci_type = serializers.CharField(source="ci_type.code", read_only=True)
    compliance = serializers.FloatField(read_only=True)

    class Meta:
        model = ConfigAuditScore
        fields = [
            "id",
            "run",
            "rule",
            "rule_code",
            "customer",
            "ci_type",
            "checked",
            "failed",
            "compliance",
        ]
        read_only_fields = fields


class AuditFindingSerializer(serializers.ModelSerializer[ConfigAuditFinding]):
    rule_code = serializers.CharField(source="rule.code", read_only=True)
    ci_name = serializers.CharField(source="ci.name", read_only=True)
    customer = serializers.IntegerField(source="ci.customer_id", read_only=True, allow_null=True)
    ci_type = serializers.CharField(source="ci.ci_type.code", read_only=True)

    class Meta:
        model = ConfigAuditFinding
        fields = [
            "id",
            "run",
            "rule",
            "rule_code",
            "ci",
            "ci_name",
            "customer",
            "ci_type",
            "detail",
        ]
        read_only_fields = fields


class _Figures(serializers.Serializer[Any]):
    checked = serializers.IntegerField()
    failed = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True, help_text="percent passing")


class _RuleFigures(_Figures):
    rule = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class _CustomerFigures(_Figures):
    customer = serializers.IntegerField(allow_null=True, help_text="null: shared provider CIs")
    code = serializers.CharField()
    name = serializers.CharField()


class _TypeFigures(_Figures):
    ci_type = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class _RunRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class _TrendPoint(serializers.Serializer[Any]):
    run = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    compliance = serializers.FloatField(allow_null=True)


class ComplianceSummarySerializer(serializers.Serializer[Any]):
    run = _RunRef(allow_null=True)
    overall = _Figures()
    rules = _RuleFigures(many=True)
    customers = _CustomerFigures(many=True)
    ci_types = _TypeFigures(many=True)
    trend = _TrendPoint(many=True, help_text="oldest first")


class AuditRuleViewSet(ScopedModelViewSet):
    """Audit rules (service managers). Built-in rules may be disabled or re-parametrised only."""

    queryset = ConfigAuditRule.objects.prefetch_related("ci_types").order_by("code")
    serializer_class = AuditRuleSerializer
    filterset_fields = ["kind", "is_enabled"]
    search_fields = ["code", "name"]

    def perform_destroy(self, instance: ConfigAuditRule) -> None:
        if compliance.is_builtin_rule(instance):
            raise serializers.ValidationError(
                _("Built-in rules cannot be deleted; disable them instead.")
            )
        if instance.scores.exists():
            # Deleting would erase past audit results (evidence) with it.
            raise serializers.ValidationError(
                _("This rule has results in past audits; disable it instead.")
            )
        instance.delete()


class AuditRunViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[ConfigAuditRun],
):
    """Audit runs. POST starts one in the background (202) or returns the one running."""

    queryset = ConfigAuditRun.objects.order_by("-started_at", "-id")
    serializer_class = AuditRunSerializer
    filterset_fields = ["status"]
    ordering_fields: list[str] = []

    @extend_schema(request=None, responses={202: AuditRunSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        run, _created = compliance.request_audit(actor=request_user(request))
        location = reverse("cmdb-auditrun-detail", args=[run.pk])
        return Response(
            AuditRunSerializer(run, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )


class AuditScoreViewSet(ScopedReadOnlyViewSet):
    """Compliance per (run, rule, customer, CI type): CIs checked and CIs failing."""

    queryset = ConfigAuditScore.objects.select_related("rule", "ci_type").order_by(
        "-run_id", "rule_id", "customer_id", "ci_type_id", "id"
    )
    serializer_class = AuditScoreSerializer
    filterset_class = AuditScoreFilterSet
    ordering_fields: list[str] = []


class AuditFindingViewSet(ScopedReadOnlyViewSet):
    """Failing (rule, CI) pairs with a short detail, newest run first."""

    queryset = ConfigAuditFinding.objects.select_related("rule", "ci", "ci__ci_type").order_by(
        "-id"
    )
    serializer_class = AuditFindingSerializer
    filterset_class = AuditFindingFilterSet
    pagination_class = StableCursorPagination
    ordering_fields: list[str] = []


class CanViewScores(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("cmdb.view_configauditscore"))


class AuditSummaryViewSet(ScopedViewSetMixin, viewsets.GenericViewSet[ConfigAuditRun]):
    """The compliance summary of the latest audit (or ``?run=``), from the caller's scores."""

    queryset = ConfigAuditRun.objects.filter(status=ConfigAuditRun.Status.DONE).order_by(
        "-started_at", "-id"
    )
    serializer_class = ComplianceSummarySerializer
    permission_classes = [CanViewScores]
    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(
        parameters=[
            OpenApiParameter("run", int, description="Audit run id (default: the latest)"),
            OpenApiParameter("trend", int, description="Runs in the trend (1–365, default 30)"),
        ],
        responses=ComplianceSummarySerializer,
    )
    def list(self, request: Request) -> Response:
        run = None
        try:
            run_id = int(request.query_params["run"]) if "run" in request.query_params else None
        except ValueError as error:
            raise serializers.ValidationError({"run": [_("A whole number.")]}) from error
        try:
            trend = int(request.query_params.get("trend", compliance.TREND_RUNS))
        except ValueError as error:
            raise serializers.ValidationError({"trend": [_("A whole number.")]}) from error
        if not 1 <= trend <= MAX_TREND_RUNS:
            raise serializers.ValidationError(
                {"trend": [_("From 1 to %(max)d.") % {"max": MAX_TREND_RUNS}]}
            )
        if run_id is not None:
            # A run "exists" for the caller if it holds results they may see.
            if not (
                scoped(ConfigAuditScore, request.user)
                .filter(run_id=run_id, run__status=ConfigAuditRun.Status.DONE)
                .exists()
            ):
                raise exceptions.NotFound(_("Not found."))
            run = ConfigAuditRun.objects.get(pk=run_id)
        summary = compliance.compliance_summary(request.user, run, trend_runs=trend)
        return Response(ComplianceSummarySerializer(summary).data)
