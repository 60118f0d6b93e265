from opsassure.catalog.api import views
from opsassure.core.api.router import router

router.register("catalog/calendars", views.ServiceCalendarViewSet, basename="catalog-calendar")
router.register(
    "catalog/calendar-intervals", views.WorkingIntervalViewSet, basename="catalog-interval"
)
router.register("catalog/calendar-days", views.CalendarDayViewSet, basename="catalog-day")
