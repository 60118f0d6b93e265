"""The import wizard, the template download and the UI export."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from opsassure.cmdb import services, views_import
from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.core.models import AuditEvent, User
from tests.cmdb.import_helpers import body, csv_bytes, read_csv, read_xlsx, written, xlsx_bytes
from tests.conftest import World

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.cmdb.urls_import_test")]

IMPORT = "/cmdb/cis/import/"


@pytest.fixture
def cmdb(world: World) -> World:
    seed_builtins()
    return world


def browser(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def upload(data: bytes, name: str = "cis.csv", **fields: str) -> dict[str, Any]:
    return {"file": SimpleUploadedFile(name, data), "step": "check", **fields}


def test_wizard_checks_then_imports_the_kept_file(cmdb: World) -> None:
    client = browser(cmdb.engineer_a)
    assert client.get(IMPORT).status_code == 200
    data = csv_bytes(
        [["name", "customer", "type"], ["ui-1", "A", "server"], ["ui-2", "A", "server"]]
    )
    before = written()
    response = client.post(IMPORT, upload(data))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="would-create">2<' in html
    assert 'data-testid="confirm-form"' in html
    assert 'name="file" id="confirm-file"' not in html  # small file: kept in the session
    assert written() == before
    response = client.post(IMPORT, {"step": "import", "customer": "", "ci_type": ""})
    assert response.status_code == 302
    assert sorted(ConfigurationItem.objects.values_list("name", flat=True)) == ["ui-1", "ui-2"]
    page = client.get(IMPORT).content.decode()
    assert "Imported: 2 created, 0 updated, 0 unchanged." in page
    assert views_import.SESSION_KEY not in client.session


def test_big_files_are_asked_for_again(cmdb: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views_import, "SESSION_FILE_BYTES", 10)
    client = browser(cmdb.engineer_a)
    data = csv_bytes([["name", "customer", "type"], ["ui-big", "A", "server"]])
    html = client.post(IMPORT, upload(data)).content.decode()
    assert 'name="file" id="confirm-file"' in html
    response = client.post(IMPORT, {"step": "import"})
    assert response.status_code == 400
    assert "Choose the file to import." in response.content.decode()
    assert not ConfigurationItem.objects.exists()
    response = client.post(IMPORT, {**upload(data), "step": "import"})
    assert response.status_code == 302
    assert ConfigurationItem.objects.filter(name="ui-big").count() == 1


def test_wizard_lists_problems_escaped_and_writes_nothing(cmdb: World) -> None:
    client = browser(cmdb.engineer_a)
    data = xlsx_bytes(
        [["name", "customer", "type"], ["x", "A", "<b>toaster</b>"], ["y", "B", "server"]]
    )
    before = written()
    response = client.post(IMPORT, upload(data, "cis.xlsx"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "2 problems found." in html
    assert "<td>2</td><td>type</td><td>Unknown type &lt;b&gt;toaster&lt;/b&gt;.</td>" in html
    assert "<td>3</td><td>customer</td><td>Unknown customer B.</td>" in html
    assert "<b>toaster</b>" not in html
    assert 'data-testid="confirm-form"' not in html
    assert written() == before


def test_wizard_needs_the_add_permission(cmdb: World) -> None:
    assert browser(cmdb.customer_a_user).get(IMPORT).status_code == 403
    data = csv_bytes([["name", "customer", "type"], ["x", "A", "server"]])
    response = browser(cmdb.operator_a).post(IMPORT, {**upload(data), "step": "import"})
    assert response.status_code == 403
    assert not ConfigurationItem.objects.exists()


def test_templates_have_the_headers(cmdb: World) -> None:
    client = browser(cmdb.engineer_a)
    response = client.get("/cmdb/cis/import/template/", {"format": "csv", "ci_type": "database"})
    assert response.status_code == 200
    header = read_csv(body(response))[0]
    assert header[:3] == ["name", "customer", "type"]
    assert header[-3:] == ["attr:engine", "attr:version", "attr:port"]
    response = client.get("/cmdb/cis/import/template/", {"format": "xlsx"})
    assert read_xlsx(body(response))[0][0] == "name"
    help_rows = read_xlsx(body(client.get("/cmdb/cis/import/template/?format=xlsx")), sheet=1)
    assert help_rows[0] == ["Column", "Values"]
    assert client.get("/cmdb/cis/import/template/", {"ci_type": "nope"}).status_code == 400


def test_ui_export_uses_the_list_query_string_and_scope(cmdb: World) -> None:
    server = CIType.objects.get(code="server")
    for name, customer, status in (
        ("a-live", cmdb.customer_a, "in_use"),
        ("a-old", cmdb.customer_a, "retired"),
        ("b-live", cmdb.customer_b, "in_use"),
    ):
        services.create_ci(
            actor=None, customer_id=customer.pk, ci_type=server, name=name, status=status
        )
    response = browser(cmdb.customer_a_user).get("/cmdb/cis/export/", {"status": "in_use"})
    assert response.status_code == 200
    assert [row[0] for row in read_csv(body(response))[1:]] == ["a-live"]
    event = AuditEvent.objects.get(action="export")
    assert (event.customer_id, event.changes["filter"], event.changes["rows"]) == (
        cmdb.customer_a.pk,
        {"status": "in_use"},
        1,
    )
    xlsx = browser(cmdb.engineer_a).get("/cmdb/cis/export/", {"format": "xlsx"})
    assert [row[0] for row in read_xlsx(body(xlsx))[1:]] == ["a-live", "a-old"]
    assert browser(cmdb.outsider).get("/cmdb/cis/export/").status_code == 403
    assert browser(cmdb.engineer_a).get("/cmdb/cis/export/", {"format": "pdf"}).status_code == 400
