"""Request signing for the cloud SMS/voice APIs, so a gateway template can call them directly.

- ``aliyun-rpc``: Alibaba Cloud RPC-style signature v1 (dysmsapi ``SendSms``, dyvmsapi …):
  the common parameters are added to the query, then ``Signature`` =
  base64(HMAC-SHA1(AccessKeySecret + "&", "GET&%2F&" + percentEncode(sorted query))).
- ``tencent-tc3``: Tencent Cloud API v3 ``TC3-HMAC-SHA256`` (sms ``SendSms``, vms …): the
  ``Authorization`` header over the canonical request (method, ``/``, empty query,
  content-type/host/x-tc-action headers, SHA-256 of the exact JSON body), with the
  ``X-TC-*`` headers.

The secret (AccessKeySecret / SecretKey) is the destination's secret; the key id is in the
template's ``auth`` object.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.parse
import uuid
from typing import Any

AUTH_TYPES = ("aliyun-rpc", "tencent-tc3")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud specifies it (space → %20, * → %2A, ~ kept)."""
    return urllib.parse.quote(value, safe="~")


def aliyun_rpc_query(
    params: dict[str, str], *, access_key_id: str, secret: str, now: dt.datetime
) -> dict[str, str]:
    """``params`` plus the common parameters and ``Signature`` (GET)."""
    query = {
        "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **{str(k): str(v) for k, v in params.items()},
        "AccessKeyId": access_key_id,
    }
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(query.items())
    )
    to_sign = f"GET&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return {**query, "Signature": base64.b64encode(digest).decode()}


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tencent_tc3_headers(
    body: bytes, *, auth: dict[str, Any], host: str, secret: str, now: dt.datetime
) -> dict[str, str]:
    """The headers of a signed ``POST /`` with a JSON ``body`` (its exact bytes)."""
    service = str(auth.get("service", "sms"))
    action = str(auth.get("action", "SendSms"))
    timestamp = int(now.timestamp())
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    content_type = "application/json; charset=utf-8"
    canonical_headers = f"content-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    signed_headers = "content-type;host;x-tc-action"
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(body).hexdigest()]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    signing = _hmac(_hmac(_hmac(f"TC3{secret}".encode(), date), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "Authorization": (
            f"TC3-HMAC-SHA256 Credential={auth.get('secret_id', '')}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        ),
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": str(auth.get("version", "2021-01-11")),
    }
    if auth.get("region"):
        headers["X-TC-Region"] = str(auth["region"])
    return headers


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def auth_problems(auth: Any) -> list[str]:
    if not isinstance(auth, dict) or auth.get("type") not in AUTH_TYPES:
        return [f"auth.type must be one of {', '.join(AUTH_TYPES)}"]
    key = "access_key_id" if auth["type"] == "aliyun-rpc" else "secret_id"
    if not auth.get(key):
        return [f"auth.{key} is required for {auth['type']}"]
    return []
