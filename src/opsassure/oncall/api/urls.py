from opsassure.core.api.router import router
from opsassure.oncall.api import views

router.register("oncall/schedules", views.ScheduleViewSet, basename="oncall-schedule")
router.register("oncall/layers", views.LayerViewSet, basename="oncall-layer")
router.register("oncall/overrides", views.OverrideViewSet, basename="oncall-override")
router.register("oncall/handovers", views.HandoverViewSet, basename="oncall-handover")
router.register(
    "oncall/escalation-policies", views.EscalationPolicyViewSet, basename="oncall-policy"
)
router.register("oncall/escalations", views.EscalationRunViewSet, basename="oncall-escalation")
