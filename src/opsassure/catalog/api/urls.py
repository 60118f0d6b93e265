from opsassure.catalog.api import catalogue, views
from opsassure.core.api.router import router

router.register("catalog/calendars", views.ServiceCalendarViewSet, basename="catalog-calendar")
router.register(
    "catalog/calendar-intervals", views.WorkingIntervalViewSet, basename="catalog-interval"
)
router.register("catalog/calendar-days", views.CalendarDayViewSet, basename="catalog-day")
router.register("catalog/services", catalogue.ServiceViewSet, basename="catalog-service")
router.register("catalog/sla-policies", catalogue.SlaPolicyViewSet, basename="catalog-policy")
