"""A real Chromium against the real ``opsassure run``: the demo service catalogue and SLA policies.

The manager edits the hospital's 7×24 policy in the form (a wrong target is refused with the
reason, a right one is saved), reads the 3×3 grid and computes a due time; the hospital user
sees the hospital's catalogue tree and never the brokerage's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import server as srv
from tests.e2e.test_browser import CHROMIUM_ARGS, HOSPITAL, _chromium, _log_in, _shoot, _unavailable

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("e2e"), pytest.mark.timeout(900)]


def test_browser_catalogue_and_policy_editing(tmp_path: Path) -> None:
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

                _log_in(page, base, "manager")
                page.goto(f"{base}/catalog/services/")
                trees = page.get_by_test_id("service-tree")
                expect(trees).to_have_count(2)
                expect(trees.first).to_contain_text("HIS 系统运维")
                _shoot(page, tmp_path, "catalog-services.png")

                # The hospital's 7×24 policy: follow the link from the HIS service.
                page.get_by_role("link", name="HIS 系统运维").first.click()
                page.get_by_test_id("service-sla").get_by_role("link").first.click()
                expect(page.locator(".page-title")).to_contain_text("7×24")
                grid = page.get_by_test_id("priority-matrix")
                expect(grid.locator("td")).to_have_count(9)
                expect(grid.locator("td").first).to_have_text("P1")
                policy_url = page.url

                # A resolution shorter than the response is refused with the reason.
                page.get_by_test_id("policy-edit").click()
                page.fill("#id_target_1_resolution", "10 min")
                page.get_by_test_id("save").click()
                expect(page.get_by_test_id("form-errors")).to_contain_text(
                    "P1: the resolution target must not be shorter than the response target."
                )
                # A right value is saved and shown in hours and minutes.
                page.fill("#id_target_1_resolution", "3 h 30 min")
                page.get_by_test_id("save").click()
                page.wait_for_url(policy_url)
                expect(
                    page.get_by_test_id("targets").locator('tr[data-priority="1"]')
                ).to_contain_text("3 h 30 min")

                # Due-time preview on the page.
                page.fill("#id_start", "2026-11-20T17:30")
                page.select_option("#id_priority", "1")
                page.get_by_test_id("preview-form").get_by_role("button").click()
                expect(page.get_by_test_id("preview-result")).to_contain_text("2026-11-20 17:45")
                _shoot(page, tmp_path, "catalog-policy.png")

                page.context.clear_cookies()
                _log_in(page, base, "hosp_user")
                page.goto(f"{base}/catalog/services/")
                expect(page.get_by_test_id("service-tree")).to_have_count(1)
                expect(page.get_by_test_id("service-tree")).to_contain_text(HOSPITAL)
                assert "交易系统运维" not in page.content()
                assert "瑞丰" not in page.content()
                assert not errors, f"JavaScript errors: {errors}"
            finally:
                browser.close()
        _elapsed, leftovers = server.stop()
        assert not leftovers, f"processes left after Ctrl-C: {leftovers}"
