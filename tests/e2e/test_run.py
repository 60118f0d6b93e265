"""The real ``opsassure run``: first start, login, clean Ctrl-C, second start on the same data.

Runs on SQLite + the filesystem broker by default; with ``OPSASSURE_TEST_DATABASE_URL`` and
``OPSASSURE_TEST_BROKER_URL`` set it runs on PostgreSQL + Redis/RabbitMQ, so /readyz (the worker
heartbeat sent by beat through the broker) proves the real engines end to end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import server as srv

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e"), pytest.mark.timeout(900)]

DISPLAY_NAME = "王建国 Wang Jianguo"
# gunicorn master + its worker, celery worker, celery beat.
MIN_DESCENDANTS = 4


def _check_logins(server: srv.Server, expect_lang: str = "en", set_lang: str = "") -> None:
    with srv.http_client() as client:
        wrong = srv.login(client, server.url, "manager", "not-the-password")
        assert wrong.status_code == 200, f"wrong password gave {wrong.status_code}"
        assert 'data-testid="login-error"' in wrong.text
        assert "Wrong username or password" in wrong.text
        assert 'data-testid="current-user"' not in wrong.text

    with srv.http_client() as client:
        response = srv.login(client, server.url, "manager")
        assert response.status_code == 200, response.text[:500]
        assert response.url.path == "/", f"landed on {response.url}"
        assert f'data-testid="current-user">{DISPLAY_NAME}<' in response.text
        # The session is real: the dashboard is served again from the cookie.
        again = client.get(f"{server.url}/")
        assert again.status_code == 200
        assert DISPLAY_NAME in again.text
        # The manager's saved language (a database row) wins over Accept-Language: en.
        assert f'<html lang="{expect_lang}">' in again.text
        if set_lang:
            token = srv.CSRF_RE.search(again.text)
            assert token, "no CSRF token in the language switcher"
            switched = client.post(
                f"{server.url}/language/",
                data={"csrfmiddlewaretoken": token.group(1), "language": set_lang, "next": "/"},
                follow_redirects=True,
            )
            assert switched.status_code == 200
            assert f'<html lang="{set_lang}">' in switched.text


def _stop_and_check(server: srv.Server) -> float:
    procs = server.collect()
    described = [" ".join(p.cmdline())[:100] for p in procs]
    assert len(procs) >= MIN_DESCENDANTS, (
        f"expected ≥{MIN_DESCENDANTS} descendants (gunicorn master+worker, worker, beat), "
        f"got {len(procs)}: {described}"
    )
    elapsed, leftovers = server.stop(timeout=srv.STOP_TIMEOUT)
    assert server.process.returncode is not None, f"supervisor still running:\n{server.log()}"
    assert not leftovers, f"processes left after Ctrl-C: {leftovers}\n{server.log()}"
    assert server.process.returncode == 0, f"exit {server.process.returncode}\n{server.log()}"
    assert "Stopped." in server.log()
    return elapsed


def test_run_login_clean_stop_and_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with srv.scale_out_env() as extra_env:
        # --- first start: migrate, collectstatic, demo data, then web + worker + beat ----------
        with srv.running(data_dir, tmp_path / "run1.log", extra_env) as first:
            healthz_1 = first.wait_for("/healthz")
            readyz_1 = first.wait_for("/readyz")
            assert (data_dir / ".demo-loaded").exists()
            assert "Loading demo data" in first.log(last=10_000)
            # Scale-out really used the external engines, not the embedded fallbacks.
            if "OPSASSURE_DATABASE_URL" in extra_env:
                assert not (data_dir / "opsassure.sqlite3").exists()
            if "OPSASSURE_BROKER_URL" in extra_env:
                assert not (data_dir / "broker").exists()
            # Save a preference in the database; the second start must still have it.
            _check_logins(first, expect_lang="en", set_lang="zh-hans")
            stop_1 = _stop_and_check(first)

        # --- second start on the same data: no demo reload, data kept --------------------------
        with srv.running(data_dir, tmp_path / "run2.log", extra_env) as second:
            healthz_2 = second.wait_for("/healthz", timeout=60)
            assert healthz_2 < 60, f"second start took {healthz_2:.1f} s to /healthz"
            assert "Loading demo data" not in second.log(last=10_000), "demo data reloaded"
            assert (data_dir / ".demo-loaded").exists()
            _check_logins(second, expect_lang="zh-hans")
            readyz_2 = second.wait_for("/readyz")
            stop_2 = _stop_and_check(second)

    print(
        f"\nfirst start:  /healthz {healthz_1:5.1f} s  /readyz {readyz_1:5.1f} s  "
        f"stop {stop_1:4.1f} s"
        f"\nsecond start: /healthz {healthz_2:5.1f} s  /readyz {readyz_2:5.1f} s  "
        f"stop {stop_2:4.1f} s"
        f"\nengines: database={'postgresql' if 'OPSASSURE_DATABASE_URL' in extra_env else 'sqlite'}"
        f" broker={'external' if 'OPSASSURE_BROKER_URL' in extra_env else 'filesystem'}"
    )
