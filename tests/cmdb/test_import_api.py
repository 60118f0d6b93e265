"""The import API: dry run, import, one error format, 413, permissions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.models import AuditEvent
from tests.cmdb.import_helpers import HEADER, csv_bytes, customer_importer, written
from tests.conftest import World, api_as

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def cmdb(world: World) -> World:
    seed_builtins()
    return world


def _post(client: APIClient, data: bytes, name: str = "cis.csv", **fields: str) -> Any:
    upload = SimpleUploadedFile(name, data)
    return client.post(
        "/api/v1/cmdb/imports/",
        {"file": upload, **fields},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_api_dry_run_then_import(cmdb: World) -> None:
    data = csv_bytes([["name", "customer", "type"], ["api-1", "A", "server"]])
    client = api_as(cmdb.engineer_a)  # logging in is audited: count after it
    before = written()
    response = _post(client, data)  # dry_run defaults to true
    assert response.status_code == 200
    assert response.json() == {
        "encoding": "utf-8",
        "rows": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
        "dry_run": True,
    }
    assert written() == before
    response = _post(client, data, dry_run="false")
    assert response.status_code == 201
    assert (response.json()["created"], response.json()["dry_run"]) == (1, False)
    assert ConfigurationItem.objects.filter(name="api-1").count() == 1
    event = AuditEvent.objects.get(object_type="cmdb.configurationitem", action="create")
    assert (event.actor_username, event.ip) == ("engineer_a", "127.0.0.1")


def test_api_invalid_file_is_a_400_listing_every_row(cmdb: World) -> None:
    data = csv_bytes(
        [HEADER, ["x", "A", "nope", "", "", "", ""], ["y", "B", "server", "", "", "", ""]]
    )
    client = api_as(cmdb.engineer_a)
    before = written()
    response = _post(client, data, dry_run="false")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "import_invalid",
            "message": "2 problems found; nothing was imported. Detected encoding: utf-8.",
            "fields": {
                "rows": [
                    {"row": 2, "column": "type", "message": "Unknown type nope."},
                    {"row": 3, "column": "customer", "message": "Unknown customer B."},
                ]
            },
        }
    }
    assert written() == before


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("broken.xlsx", b"PK\x03\x04 definitely not a workbook"),
        ("text.xlsx", b"name,customer,type\nx,A,server\n"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 legacy"),
    ],
)
def test_api_corrupted_workbook_is_a_400(cmdb: World, name: str, data: bytes) -> None:
    client = api_as(cmdb.engineer_a)
    before = written()
    response = _post(client, data, name=name, dry_run="false")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "import_invalid"
    assert error["fields"]["rows"][0]["row"] is None
    assert "xls" in error["fields"]["rows"][0]["message"].lower()
    assert written() == before


def test_api_oversized_file_is_a_413(cmdb: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsassure.cmdb.api import importing as api_importing

    monkeypatch.setattr(api_importing, "MAX_FILE_BYTES", 100)
    data = csv_bytes([["name", "customer", "type"], *[[f"n{i}", "A", "server"] for i in range(20)]])
    client = api_as(cmdb.engineer_a)
    before = written()
    response = _post(client, data, dry_run="false")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert written() == before


def test_api_unknown_customer_or_type_parameter_is_a_400(cmdb: World) -> None:
    data = csv_bytes([["name"], ["x"]])
    response = _post(api_as(customer_importer(cmdb)), data, customer="B")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"customer": ["Unknown customer."]}
    response = _post(api_as(cmdb.engineer_a), data, customer="A", ci_type="toaster")
    assert response.json()["error"]["fields"] == {"ci_type": ["Unknown type."]}


def test_api_import_needs_the_add_permission(cmdb: World) -> None:
    data = csv_bytes([["name", "customer", "type"], ["x", "A", "server"]])
    before = written()
    for user in (cmdb.customer_a_user, cmdb.operator_a, cmdb.outsider):
        assert _post(api_as(user), data, dry_run="false").status_code == 403
    after = written()
    assert after["cis"] == before["cis"]
    assert after["changes"] == before["changes"]
