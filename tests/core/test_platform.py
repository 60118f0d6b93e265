"""Settings, roles, demo data and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from typer.testing import CliRunner

from opsassure import settings as settings_module
from opsassure.cli import app as cli_app
from opsassure.core.demo import DEMO_USERS, load_demo
from opsassure.core.models import ApiToken, AuditEvent, Customer, Team, User
from opsassure.core.roles import ROLE_LABELS, collect_permissions, sync_roles


def test_env_reads_secrets_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.setenv("OPSASSURE_SOMETHING_FILE", str(secret))
    monkeypatch.setenv("OPSASSURE_SOMETHING", "from-the-environment")
    assert settings_module.env("SOMETHING") == "from-a-file"
    monkeypatch.delenv("OPSASSURE_SOMETHING_FILE")
    assert settings_module.env("SOMETHING") == "from-the-environment"


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    code = (
        "from opsassure import settings as s; print(s.SECRET_KEY); print(s.DEBUG); "
        "print(s.DATABASES['default']['ENGINE']); print(s.CELERY_BROKER_URL)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSASSURE_")}
    env["OPSASSURE_DATA_DIR"] = str(tmp_path)
    first = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    second = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert first[0] == second[0]
    assert len(first[0]) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first[1:] == ["False", "django.db.backends.sqlite3", "filesystem://"]


def test_scale_out_mode_is_chosen_by_environment(tmp_path: Path) -> None:
    code = (
        "from opsassure import settings as s; print(s.DATABASES['default']['ENGINE']); "
        "print(s.CELERY_BROKER_URL)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSASSURE_")}
    env.update(
        OPSASSURE_DATA_DIR=str(tmp_path),
        OPSASSURE_DATABASE_URL="postgres://u:p@db.example:5432/ops",
        OPSASSURE_BROKER_URL="redis://cache.example:6379/0",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["django.db.backends.postgresql", "redis://cache.example:6379/0"]


def test_deploy_check_is_clean_for_a_production_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSASSURE_")}
    env.update(
        OPSASSURE_DATA_DIR=str(tmp_path),
        OPSASSURE_HTTPS="1",
        OPSASSURE_SECRET_KEY="x" * 20 + "production-secret-key-with-entropy-1234567890",
        OPSASSURE_ALLOWED_HOSTS="ops.example.cn",
    )
    result = subprocess.run(
        [sys.executable, "-m", "opsassure", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in (result.stdout + result.stderr)


@pytest.mark.django_db
def test_roles_are_seeded_with_exactly_their_permissions() -> None:
    sync_roles()
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_LABELS)
    auditor = Group.objects.get(name="auditor")
    codes = {f"{p.content_type.app_label}.{p.codename}" for p in auditor.permissions.all()}
    assert codes == collect_permissions()["auditor"]
    assert "cmdb.view_configurationitem" in codes  # merged from cmdb/roles.py
    assert not any(code.split(".")[1].startswith(("add_", "change_", "delete_")) for code in codes)


@pytest.mark.django_db
def test_demo_is_believable_and_idempotent() -> None:
    load_demo()
    counts = (Customer.objects.count(), Team.objects.count(), User.objects.count())
    events = AuditEvent.objects.count()
    load_demo()
    assert (Customer.objects.count(), Team.objects.count(), User.objects.count()) == counts
    assert AuditEvent.objects.count() == events  # nothing changed, so nothing was recorded
    assert counts == (2, 3, len(DEMO_USERS))
    roles = set(Group.objects.filter(user__isnull=False).values_list("name", flat=True))
    assert roles == set(ROLE_LABELS)
    assert User.objects.get(username="hosp_user").customer.code == "JCH"
    assert User.objects.get(username="manager").check_password("opsassure-demo")


@pytest.mark.django_db
def test_cli_token_create_prints_a_working_key(db: None) -> None:
    load_demo()
    result = CliRunner().invoke(
        cli_app, ["token", "create", "--user", "operator", "--name", "ci", "--expires-days", "7"]
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    from opsassure.core.services import authenticate_token

    token = authenticate_token(key)
    assert token is not None
    assert token.user.username == "operator"
    missing = CliRunner().invoke(cli_app, ["token", "create", "--user", "nobody"])
    assert missing.exit_code == 2
    assert ApiToken.objects.count() == 1


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSASSURE_")}
    env["OPSASSURE_DATA_DIR"] = str(tmp_path / "data")
    me = [sys.executable, "-m", "opsassure"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*me, *args], env=env, capture_output=True, text=True, timeout=300)

    assert run("setup", "--demo").returncode == 0
    archive = tmp_path / "backup.tar.gz"
    result = run("backup", str(archive))
    assert result.returncode == 0, result.stderr
    key_before = (tmp_path / "data" / "secret_key").read_text()
    delete = (
        "from opsassure.core.models import Customer, CustomerContact; "
        "CustomerContact.objects.all().delete(); print(Customer.objects.filter("
        "code='RFS').update(name='changed'))"
    )
    assert run("manage", "shell", "-v", "0", "-c", delete).returncode == 0
    refused = run("restore", str(archive))
    assert refused.returncode == 2
    restored = run("restore", str(archive), "--yes")
    assert restored.returncode == 0, restored.stderr
    check = run(
        "manage",
        "shell",
        "-v",
        "0",
        "-c",
        "from opsassure.core.models import Customer, "
        "CustomerContact; print(Customer.objects.get(code='RFS').name, "
        "CustomerContact.objects.count())",
    )
    assert check.stdout.split() == ["瑞丰证券股份有限公司", "3"]
    assert (tmp_path / "data" / "secret_key").read_text() == key_before
    verify = run("audit", "verify")
    assert verify.returncode == 0, verify.stdout
