"""The WSGI entry point sends ingest through the lean handler; everything else is unchanged."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from opsassure import wsgi
from opsassure.alerting import processing
from opsassure.alerting.models import Alert, IngestBatch, Integration
from tests.alerting.helpers import am_alert, am_payload


def call(
    path: str, body: bytes = b"", method: str = "POST", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers.pop("content_type", "application/json"),
    }
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    answer: dict[str, Any] = {}

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    # As Django's test client does: a finished request must not close the test's connection
    # (its transaction holds the test's data).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = wsgi.application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content


def test_only_the_configured_prefixes_take_the_lean_path(settings) -> None:  # type: ignore[no-untyped-def]
    assert "/api/v1/alerting/ingest/" in settings.LEAN_PATH_PREFIXES
    chain = []
    handler = wsgi.lean_application._middleware_chain
    while handler is not None:
        inner = getattr(handler, "__wrapped__", handler)
        chain.append(type(inner).__module__ + "." + type(inner).__qualname__)
        handler = getattr(inner, "get_response", None)
    assert chain[: len(settings.LEAN_MIDDLEWARE)] == settings.LEAN_MIDDLEWARE


@pytest.mark.django_db
def test_ingest_through_the_lean_handler_commits_and_answers(am: Integration) -> None:
    body = json.dumps(
        am_payload(
            am_alert(fingerprint="lean1"), am_alert(instance="web-02:9100", fingerprint="lean2")
        )
    ).encode()
    status, headers, content = call(
        f"/api/v1/alerting/ingest/{am.token}/", body, x_request_id="req-42"
    )
    assert status == 200, content
    assert json.loads(content)["alerts"] == 2
    assert headers["X-Request-ID"] == "req-42"  # the request-id middleware ran
    assert "X-Frame-Options" not in headers  # the people-facing middlewares did not
    assert "Set-Cookie" not in headers
    batch = IngestBatch.objects.get()  # committed with its alerts; the worker writes the rows
    assert {row["f"] for row in json.loads(batch.staged)["firing"]} == {"lean1", "lean2"}
    processing.process_batch(batch.pk)
    assert set(Alert.objects.values_list("fingerprint", flat=True)) == {"lean1", "lean2"}


@pytest.mark.django_db
def test_lean_handler_refuses_bad_input_with_the_usual_answers(am: Integration, settings) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/alerting/ingest/{am.token}/"
    status, _h, content = call(url, b"{not json")
    assert (status, json.loads(content)["error"]["code"]) == (400, "parse_error")
    status, _h, content = call(url, b"{}", content_type="text/plain")
    assert (status, json.loads(content)["error"]["code"]) == (400, "unsupported_content_type")
    status, _h, content = call("/api/v1/alerting/ingest/nope/", b"{}")
    assert (status, json.loads(content)["error"]["code"]) == (404, "not_found")
    status, _h, _c = call(url, method="GET")
    assert status == 405
    settings.MAX_REQUEST_BYTES = 10
    status, _h, content = call(url, b"x" * 11)
    assert (status, json.loads(content)["error"]["code"]) == (413, "request_too_large")
    assert not Alert.objects.exists()
    assert not IngestBatch.objects.exists()


@pytest.mark.django_db
def test_lean_handler_speaks_the_senders_language(am: Integration) -> None:
    url = f"/api/v1/alerting/ingest/{am.token}/"
    _s, _h, english = call(url, b"{}", content_type="text/plain", accept_language="en")
    _s, _h, chinese = call(url, b"{}", content_type="text/plain", accept_language="zh-CN")
    assert "Send the body as application/json" in json.loads(english)["error"]["message"]
    assert "application/json" in json.loads(chinese)["error"]["message"]
    assert json.loads(chinese)["error"]["message"] != json.loads(english)["error"]["message"]


@pytest.mark.django_db
def test_other_paths_keep_the_full_middleware_stack() -> None:
    status, headers, _content = call("/login/", method="GET")
    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in headers.get("Set-Cookie", "")
