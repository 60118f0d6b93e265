"""Messages to destinations speak NOTIFY_DEFAULT_LANGUAGE (zh-hans by default); these tests
read their English texts, except where a test chooses the language itself."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def english_destinations(settings: Any) -> None:
    settings.NOTIFY_DEFAULT_LANGUAGE = "en"
