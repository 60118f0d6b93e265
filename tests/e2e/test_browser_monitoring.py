"""A real Chromium against the real ``opsassure run``: the monitoring overview, a check's detail
page with its ECharts charts (24 h, then 30 d without a reload), and the CI page's monitoring
panel with host metric charts, all from the demo data, without a JavaScript error.

Screenshots go to ``OPSASSURE_SCREENSHOT_DIR`` when set (docs/img/monitoring-*.png).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import server as srv
from tests.e2e.test_browser import CHROMIUM_ARGS, _chromium, _log_in, _shoot, _unavailable

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("e2e"), pytest.mark.timeout(900)]

SLOW_CHECK = "HIS 接口 (演示慢) · HIS API, slow demo"


def test_browser_monitoring_overview_check_charts_and_ci_panel(tmp_path: Path) -> None:
    executable = _chromium()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("Python Playwright is not installed")

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with srv.running(data_dir, tmp_path / "run.log", {}) as server:
        server.wait_for("/readyz")
        base = server.url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=60_000
            )
            try:
                context = browser.new_context(
                    locale="en-US", viewport={"width": 1400, "height": 1000}
                )
                context.set_default_timeout(20_000)
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                failed: list[str] = []  # any 4xx/5xx the pages caused (the favicon aside)
                page.on(
                    "response",
                    lambda answer: (
                        failed.append(f"{answer.status} {answer.url}")
                        if answer.status >= 400 and not answer.url.endswith("/favicon.ico")
                        else None
                    ),
                )

                _log_in(page, base, "manager")
                page.goto(f"{base}/monitoring/")
                expect(page.get_by_test_id("customer-row")).to_have_count(1)
                expect(page.get_by_test_id("count-degraded")).to_have_text("1")
                expect(page.get_by_test_id("failing-check").first).to_be_visible()
                _shoot(page, tmp_path, "monitoring-overview.png")

                # Overview → the slow check's detail page: both charts drawn on a canvas.
                page.get_by_test_id("failing-check").filter(has_text="HIS API").click()
                expect(page.get_by_test_id("check-name")).to_have_text(SLOW_CHECK)
                response = page.get_by_test_id("response-chart")
                availability = page.get_by_test_id("availability-chart")
                expect(response).to_have_attribute("data-rendered", "24h")
                expect(availability).to_have_attribute("data-rendered", "24h")
                expect(response.locator("canvas")).to_have_count(1)
                expect(availability.locator("canvas")).to_have_count(1)
                runs = page.get_by_test_id("chart-summary").locator('[data-field="runs"]')
                # One synthetic run a minute for the last 24 h (a minute or two may have aged out).
                expect(runs).to_have_text(re.compile(r"^14[34]\d$"))
                # 30 days without a reload: the JSON endpoint, the same canvases redrawn.
                page.get_by_test_id("windows").get_by_text("30d").click()
                expect(response).to_have_attribute("data-rendered", "30d")
                expect(runs).to_have_text(re.compile(r"^43[12]\d\d$"))
                assert page.url.endswith("?window=30d")
                _shoot(page, tmp_path, "monitoring-check.png")

                # The CI page's monitoring panel (HTMX, lazily): host metric charts.
                found = page.request.get(f"{base}/api/v1/cmdb/cis/?q=his-db-srv01").json()
                ids = [row["id"] for row in found["results"] if row["name"] == "his-db-srv01"]
                assert len(ids) == 1, found
                page.goto(f"{base}/cmdb/cis/{ids[0]}/")
                panel = page.get_by_test_id("monitoring-panel")
                expect(panel).to_be_visible()
                metrics = panel.locator("[data-mon-metric]")
                expect(metrics).to_have_count(6)
                expect(metrics.first.locator("canvas")).to_have_count(1)
                page.wait_for_function(
                    "document.querySelectorAll('[data-mon-metric][data-rendered]').length === 6"
                )
                _shoot_element(panel, tmp_path, "monitoring-ci-panel.png")
                assert not errors, f"JavaScript errors: {errors}"
                assert not failed, f"failed requests: {failed}"
            finally:
                browser.close()
        _elapsed, leftovers = server.stop()
        assert not leftovers, f"processes left after Ctrl-C: {leftovers}"


def _shoot_element(locator: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    locator.screenshot(path=str(path))
    target = os.environ.get("OPSASSURE_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(target) / name)
