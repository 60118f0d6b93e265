"""Monitoring tests assert the English texts of refusals and messages: requests without an
Accept-Language get English here (the product default stays zh-Hans; the catalogs are
checked by scripts/check_translations.py and the zh-Hans pages by the view tests that ask for
it)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _english_by_default(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
