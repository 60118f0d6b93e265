from __future__ import annotations

import pytest

from opsassure.catalog import builtin
from opsassure.catalog.models import ServiceCalendar

# Fixed years, so that no test depends on today's date.
YEARS = [2025, 2026, 2099]


@pytest.fixture
def calendars(db: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, ServiceCalendar]:
    """The built-in calendars, seeded for 2025–2026 (2099 has no data)."""
    monkeypatch.setattr(builtin, "default_years", lambda today=None: list(YEARS))
    builtin.seed_builtin_calendars(years=YEARS)
    return {c.code: c for c in ServiceCalendar.objects.filter(is_builtin=True)}
