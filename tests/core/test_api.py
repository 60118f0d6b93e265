from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from opsassure.core import services
from opsassure.core.models import ApiToken, AuditEvent, Customer
from tests.conftest import World, api_as

pytestmark = pytest.mark.django_db


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_token_is_prefixed_hashed_and_acts_as_its_user(world: World) -> None:
    issued = services.create_token(world.customer_a_user, "script")
    assert issued.key.startswith(f"oa_{issued.token.key_id}_")
    stored = ApiToken.objects.get(pk=issued.token.pk)
    secret = issued.key.rsplit("_", 1)[1]
    assert secret not in stored.secret_hash
    assert len(stored.secret_hash) == 64
    response = bearer(issued.key).get("/api/v1/customers/")
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["A"]
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at is not None


@pytest.mark.parametrize("key", ["", "oa_nope", "oa_abc_def", "garbage with spaces"])
def test_bad_tokens_get_401_in_the_error_format(world: World, key: str) -> None:
    response = bearer(key).get("/api/v1/customers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}


def test_wrong_secret_revoked_and_expired_tokens_are_refused(world: World) -> None:
    issued = services.create_token(world.manager, "x")
    wrong = issued.key[:-4] + ("aaaa" if not issued.key.endswith("aaaa") else "bbbb")
    assert bearer(wrong).get("/api/v1/customers/").status_code == 401
    services.revoke_token(issued.token)
    assert bearer(issued.key).get("/api/v1/customers/").status_code == 401
    expiring = services.create_token(world.manager, "y", timezone.now() + dt.timedelta(hours=1))
    ApiToken.objects.filter(pk=expiring.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert bearer(expiring.key).get("/api/v1/customers/").status_code == 401


def test_token_api_shows_key_once_and_revokes(world: World) -> None:
    client = api_as(world.engineer_a)
    created = client.post("/api/v1/tokens/", {"name": "ci"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["ci"]
    assert "key" not in listed[0]
    assert bearer(key).get("/api/v1/users/me/").json()["username"] == "engineer_a"
    assert client.delete(f"/api/v1/tokens/{created.json()['id']}/").status_code == 204
    assert bearer(key).get("/api/v1/users/me/").status_code == 401
    assert AuditEvent.objects.filter(action="token_create").count() == 1
    assert AuditEvent.objects.filter(action="token_revoke").count() == 1


def test_token_expiry_in_the_past_is_a_400(world: World) -> None:
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = api_as(world.manager).post(
        "/api/v1/tokens/", {"name": "x", "expires_at": past}, format="json"
    )
    assert response.status_code == 400
    assert "expires_at" in response.json()["error"]["fields"]
    assert ApiToken.objects.count() == 0


def test_invalid_fields_give_400_with_field_errors_and_write_nothing(world: World) -> None:
    client = api_as(world.manager)
    before = Customer.objects.count()
    events = AuditEvent.objects.count()
    response = client.post(
        "/api/v1/customers/", {"code": "has space", "status": "bogus"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"code", "name", "status"}
    assert Customer.objects.count() == before
    assert AuditEvent.objects.count() == events


def test_duplicate_code_is_refused(world: World) -> None:
    response = api_as(world.manager).post(
        "/api/v1/customers/", {"code": "A", "name": "dup"}, format="json"
    )
    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]


def test_malformed_json_is_a_400(world: World) -> None:
    client = api_as(world.manager)
    response = client.generic(
        "POST", "/api/v1/customers/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_oversized_body_is_a_413_and_writes_nothing(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MAX_REQUEST_BYTES = 1000
    before = Customer.objects.count()
    body = json.dumps({"code": "BIG", "name": "x" * 5000})
    response = api_as(world.manager).generic(
        "POST", "/api/v1/customers/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert Customer.objects.count() == before


def test_unknown_route_and_object_are_404_in_the_error_format(world: World) -> None:
    client = api_as(world.manager)
    for url in ("/api/v1/customers/999999/", "/api/v1/no-such-thing/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_anonymous_api_request_is_401(db: None) -> None:
    response = APIClient().get("/api/v1/customers/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_throttled_request_is_429_with_retry_after(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": "2/min"})
    client = api_as(world.manager)
    codes = [client.get("/api/v1/customers/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = client.get("/api/v1/customers/")
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    cache.clear()


def test_profile_me_updates_language_and_rejects_unknown_zone(world: World) -> None:
    client = api_as(world.customer_a_user)
    ok = client.patch(
        "/api/v1/users/me/", {"language": "en", "time_zone": "Asia/Tokyo"}, format="json"
    )
    assert ok.status_code == 200
    assert (ok.json()["language"], ok.json()["time_zone"]) == ("en", "Asia/Tokyo")
    bad = client.patch("/api/v1/users/me/", {"time_zone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 400
    assert "time_zone" in bad.json()["error"]["fields"]
    fixed = client.patch("/api/v1/users/me/", {"customer": world.customer_b.pk}, format="json")
    assert fixed.json()["customer"] == world.customer_a.pk


def test_related_fields_only_accept_visible_rows(world: World) -> None:
    # An admin of customer A may add contacts, but only to customer A.
    client = api_as(world.customer_a_admin)
    response = client.post(
        "/api/v1/customer-contacts/",
        {"customer": world.customer_b.pk, "name": "spy"},
        format="json",
    )
    assert response.status_code == 400
    assert "customer" in response.json()["error"]["fields"]
    ok = client.post(
        "/api/v1/customer-contacts/",
        {"customer": world.customer_a.pk, "name": "张三"},
        format="json",
    )
    assert ok.status_code == 201


def test_times_are_utc_iso8601_in_the_api(world: World) -> None:
    row = api_as(world.manager).get(f"/api/v1/customers/{world.customer_a.pk}/").json()
    parsed = dt.datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    assert parsed.utcoffset() == dt.timedelta(0)


def test_openapi_schema_lists_core_routes(db: None) -> None:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/customers/",
        "/api/v1/teams/",
        "/api/v1/users/",
        "/api/v1/tokens/",
        "/api/v1/audit-events/",
    ):
        assert path in paths
    assert response.json()["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_pagination_refuses_unordered_querysets(world: World) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from opsassure.core.api.pagination import OrderedPageNumberPagination

    request = Request(APIRequestFactory().get("/"))
    with pytest.raises(ImproperlyConfigured):
        OrderedPageNumberPagination().paginate_queryset(Customer.objects.order_by().all(), request)


def test_filtering_by_another_customers_id_looks_like_a_missing_id(world: World) -> None:
    client = api_as(world.customer_a_admin)
    theirs = client.get("/api/v1/users/", {"customer": world.customer_b.pk})
    missing = client.get("/api/v1/users/", {"customer": 999999})
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json()["error"]["fields"].keys() == missing.json()["error"]["fields"].keys()
    assert client.get("/api/v1/users/", {"customer": world.customer_a.pk}).status_code == 200
