"""A real Chromium against the real ``opsassure run``: the service desk's main path.

An operator takes a phone call (quick create, keyboard submit), replies and resolves; the
customer's admin — the caller — rates the ticket in the portal. Short on purpose: the pages'
details are covered by tests/servicedesk/test_ui.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e import server as srv
from tests.e2e.test_browser import CHROMIUM_ARGS, _chromium, _log_in, _shoot, _unavailable

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("e2e"), pytest.mark.timeout(900)]

HOSPITAL = "江城市第一人民医院"
CALLER = "陈立新"  # the hospital's head of IT: a contact, and the customer admin hosp_admin


def test_phone_ticket_reply_resolve_and_rating(tmp_path: Path) -> None:
    executable = _chromium()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("Python Playwright is not installed")
    expect.set_options(timeout=20_000)  # CI machines are small and may be busy

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
                errors: list[str] = []
                agent = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
                agent.set_default_timeout(20_000)
                page = agent.new_page()
                page.on("pageerror", lambda error: errors.append(str(error)))
                _log_in(page, base, "operator")

                # Quick create: the customer loads its callers; impact × urgency shows P1.
                page.goto(f"{base}/servicedesk/tickets/new/phone/")
                page.select_option("#id_customer", label=HOSPITAL)
                caller = page.locator("#id_requester_contact option", has_text=CALLER)
                expect(caller).to_have_count(1)
                page.select_option("#id_requester_contact", label=caller.inner_text())
                page.fill("#id_title", "HIS 挂号缓慢 / HIS registration slow")
                page.fill("#id_description", "Outpatient desks wait 30 s per registration.")
                page.select_option("#id_impact", "1")
                page.select_option("#id_urgency", "1")
                expect(page.get_by_test_id("priority-value")).to_have_text(re.compile(r"^P1\b"))
                page.check("#id_assign_to_me")
                with page.expect_navigation():
                    page.press("#id_title", "Control+Enter")
                expect(page.get_by_test_id("ticket-number")).to_have_text(
                    re.compile(r"^INC-\d{4}-\d{6}$")
                )
                ticket_url = page.url
                expect(page.get_by_test_id("ticket-priority")).to_contain_text("P1")

                # Reply (HTMX-boosted form): the reply appears on the timeline.
                page.fill("#id_reply-body", "We are on it: checking database locks.")
                page.get_by_role("button", name="Send reply").click()
                expect(page.get_by_test_id("event-reply")).to_contain_text(
                    "checking database locks"
                )

                # Resolve: the button opens the fields the move needs.
                page.get_by_test_id("move-resolved").click()
                form = page.get_by_test_id("move-form-resolved")
                # Bootstrap's collapse animates for 350 ms: a click while it is still
                # "collapsing" may be lost (CI, PostgreSQL run). Wait until it is open.
                expect(form).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
                form.locator("select[name=resolution_code]").select_option("solved")
                form.locator("textarea[name=resolution_note]").fill("Killed the blocking job.")
                with page.expect_response(lambda r: r.url.endswith("/transition/")) as moved:
                    form.get_by_role("button").click()
                assert moved.value.status == 302
                expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")
                _shoot(page, tmp_path, "servicedesk-ticket-resolved.png")

                # The caller (customer admin) rates it in the portal.
                customer = browser.new_context(
                    locale="en-US", viewport={"width": 1400, "height": 900}
                )
                customer.set_default_timeout(20_000)
                portal = customer.new_page()
                portal.on("pageerror", lambda error: errors.append(str(error)))
                _log_in(portal, base, "hosp_admin")
                portal.goto(ticket_url)
                expect(portal.get_by_test_id("ticket-status")).to_have_text("Resolved")
                rating = portal.get_by_test_id("rating-form")
                rating.locator("label", has_text="5").click()
                rating.locator("textarea").fill("Fast and clear, thank you.")
                rating.get_by_role("button").click()
                expect(portal.get_by_test_id("rating")).to_be_visible()
                expect(portal.get_by_test_id("rating-form")).to_have_count(0)
                _shoot(portal, tmp_path, "servicedesk-portal-rated.png")
                assert not errors, f"JavaScript errors: {errors}"
            finally:
                browser.close()
        _elapsed, leftovers = server.stop()
        assert not leftovers, f"processes left after Ctrl-C: {leftovers}"
