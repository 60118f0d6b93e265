"""A real Chromium against the real ``opsassure run``: login, language switch, tenant scope.

Needs a Chromium binary (``chromium`` on PATH or /usr/bin/chromium). Without one the test is
skipped locally but fails in CI (``CI=true``): a browser test that silently skips proves nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import server as srv

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("e2e"), pytest.mark.timeout(900)]

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSPITAL = "江城市第一人民医院"
SECURITIES = "瑞丰证券股份有限公司"
MANAGER_NAME = "王建国 Wang Jianguo"
HOSP_USER_NAME = "刘敏 Liu Min"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (browser tests must run in CI)")
    pytest.skip(reason)


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        _unavailable("Chromium is not installed (apt-get install chromium)")
    return path


def _shoot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("OPSASSURE_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(target) / name)
    return path


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", srv.DEMO_PASSWORD)
    with page.expect_navigation():
        page.click('form[action="/login/"] button[type="submit"]')


def _table_text(page: Any) -> str:
    return str(page.locator('[data-testid="object-list"]').inner_text())


def test_browser_login_language_and_scope(tmp_path: Path) -> None:
    executable = _chromium()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("Python Playwright is not installed")

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with (
        srv.scale_out_env() as extra_env,
        srv.running(data_dir, tmp_path / "run.log", extra_env) as server,
    ):
        server.wait_for("/readyz")
        base = server.url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=60_000
            )
            try:
                context = browser.new_context(
                    locale="en-US", viewport={"width": 1400, "height": 900}
                )
                context.set_default_timeout(20_000)
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))

                # Anonymous, English browser: the login page speaks English.
                response = page.goto(f"{base}/login/")
                assert response is not None
                assert response.status == 200
                expect(page.locator("html")).to_have_attribute("lang", "en")
                expect(page.locator('form[action="/login/"] button[type="submit"]')).to_have_text(
                    "Log in"
                )
                _shoot(page, tmp_path, "login.png")

                # Manager logs in and lands on the dashboard.
                _log_in(page, base, "manager")
                assert page.url.rstrip("/") == base, page.url
                expect(page.get_by_test_id("current-user")).to_have_text(MANAGER_NAME)

                # Switch to Simplified Chinese through the header's switcher (submits on change).
                switcher = page.locator('header [data-testid="language-switcher"] select')
                with page.expect_navigation():
                    switcher.select_option(label="简体中文")
                expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
                expect(page.locator(".page-title")).to_have_text("仪表盘")
                expect(page.get_by_test_id("current-user")).to_have_text(MANAGER_NAME)
                shot_dashboard = _shoot(page, tmp_path, "dashboard.png")

                # Provider staff see every customer.
                response = page.goto(f"{base}/core/customers/")
                assert response is not None
                assert response.status == 200
                rows = _table_text(page)
                assert HOSPITAL in rows, rows
                assert SECURITIES in rows, rows
                shot_customers = _shoot(page, tmp_path, "customers.png")

                # Log out through the user menu.
                page.locator('header [data-bs-toggle="dropdown"]').click()
                with page.expect_navigation():
                    page.locator('header form[action="/logout/"] button[type="submit"]').click()
                assert "/login/" in page.url, page.url
                expect(page.get_by_test_id("current-user")).to_have_count(0)

                # A hospital user sees only the hospital: the other customer is nowhere on the page.
                _log_in(page, base, "hosp_user")
                expect(page.get_by_test_id("current-user")).to_have_text(HOSP_USER_NAME)
                response = page.goto(f"{base}/core/customers/")
                assert response is not None
                assert response.status == 200
                rows = _table_text(page)
                assert HOSPITAL in rows, rows
                assert SECURITIES not in rows, rows
                assert SECURITIES not in page.content()
                _shoot(page, tmp_path, "customers-hosp_user.png")

                assert not errors, f"JavaScript errors: {errors}"
                assert shot_dashboard.stat().st_size > 0
                assert shot_customers.stat().st_size > 0
            finally:
                browser.close()
        _elapsed, leftovers = server.stop()
        assert not leftovers, f"processes left after Ctrl-C: {leftovers}"
