"""Local fake endpoints for the IM robots, webhooks and SMS gateways (real HTTP, one thread).

The signature checks are written from the vendors' documentation, independently of the
sender code (which they must not import):

- DingTalk custom robot ("加签"): query ``timestamp`` (ms) and ``sign`` =
  urlencode(base64(HmacSHA256(key=secret, msg=timestamp + "\\n" + secret))); the timestamp
  must be within one hour of the server's clock. Failure: HTTP 200,
  ``{"errcode": 310000, "errmsg": "sign not match"}``.
- Feishu custom bot ("签名校验"): body fields ``timestamp`` (s) and ``sign`` =
  base64(HmacSHA256(key=timestamp + "\\n" + secret, msg="")); within one hour. Failure:
  HTTP 200, ``{"code": 19021, "msg": "sign match fail or timestamp is not within one hour
  from current time"}``.
- WeCom group robot: no signature (the key in the URL is the secret); markdown content over
  4096 bytes is refused with errcode 40058.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, Any] | str]


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.raw.decode()))


@dataclass
class FakeServer:
    host: str
    port: int
    handle: Callable[[Received], Reply]
    received: list[Received] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"


@contextlib.contextmanager
def serve(handle: Callable[[Received], Reply]) -> Iterator[FakeServer]:
    fake = FakeServer("127.0.0.1", 0, handle)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parsed = urllib.parse.urlsplit(self.path)
            request = Received(
                self.command,
                parsed.path,
                dict(urllib.parse.parse_qsl(parsed.query)),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            fake.received.append(request)
            status, body = fake.handle(request)
            payload = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _any  # noqa: N815 - http.server names

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


ONE_HOUR_MS = 3600 * 1000


def dingtalk(secret: str) -> Callable[[Received], Reply]:
    def handle(request: Received) -> Reply:
        timestamp = request.query.get("timestamp", "")
        sign = request.query.get("sign", "")  # parse_qsl already URL-decoded it
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > ONE_HOUR_MS:
            return 200, {"errcode": 310000, "errmsg": "timestamp invalid"}
        string_to_sign = f"{timestamp}\n{secret}".encode()
        expected = base64.b64encode(
            hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, sign):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        message = request.json
        if message.get("msgtype") != "markdown" or not message["markdown"].get("title"):
            return 200, {"errcode": 40035, "errmsg": "missing parameter"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return handle


def feishu(secret: str) -> Callable[[Received], Reply]:
    def handle(request: Received) -> Reply:
        message = request.json
        timestamp = str(message.get("timestamp", ""))
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 3600:
            return 200, {"code": 19021, "msg": "timestamp is not within one hour"}
        string_to_sign = f"{timestamp}\n{secret}"
        hmac_code = hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
        expected = base64.b64encode(hmac_code).decode("utf-8")
        if not hmac.compare_digest(expected, str(message.get("sign", ""))):
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
            }
        if message.get("msg_type") != "interactive" or "card" not in message:
            return 200, {"code": 9499, "msg": "Bad Request"}
        return 200, {"code": 0, "data": {}, "msg": "success"}

    return handle


def wecom(request: Received) -> Reply:
    message = request.json
    if message.get("msgtype") == "markdown":
        if len(message["markdown"]["content"].encode("utf-8")) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
    elif message.get("msgtype") != "text":
        return 200, {"errcode": 40008, "errmsg": "invalid message type"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def always(status: int, body: dict[str, Any] | str) -> Callable[[Received], Reply]:
    return lambda _request: (status, body)


def aliyun_sms(access_key_id: str, secret: str) -> Callable[[Received], Reply]:
    """Alibaba Cloud RPC signature v1, as its docs describe: sort every parameter but
    Signature, percent-encode (RFC 3986: space %20, * %2A, ~ kept) names and values, join with
    & and =, StringToSign = GET&%2F&percentEncode(that), HMAC-SHA1 with secret + "&"."""

    def encode(value: str) -> str:
        return (
            urllib.parse.quote(value, safe="")
            .replace("+", "%20")
            .replace("*", "%2A")
            .replace("%7E", "~")
        )

    def handle(request: Received) -> Reply:
        params = dict(request.query)
        signature = params.pop("Signature", "")
        if params.get("AccessKeyId") != access_key_id:
            return 404, {"Code": "InvalidAccessKeyId.NotFound"}
        canonical = "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params))
        string_to_sign = "GET&%2F&" + encode(canonical)
        expected = base64.b64encode(
            hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if request.method != "GET" or not hmac.compare_digest(expected, signature):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature..."}
        json.loads(params["TemplateParam"])  # must be valid JSON
        return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}

    return handle


def tencent_sms(secret_id: str, secret_key: str) -> Callable[[Received], Reply]:
    """Tencent Cloud API 3.0 TC3-HMAC-SHA256, as its docs describe (the canonical request over
    content-type, host and x-tc-action, the credential scope date/service/tc3_request, the
    derived signing key)."""

    def handle(request: Received) -> Reply:
        headers = request.headers
        authorization = headers.get("authorization", "")
        fields = dict(
            part.strip().split("=", 1) for part in authorization.split(" ", 1)[-1].split(",")
        )
        credential = fields.get("Credential", "").split("/")
        timestamp = headers.get("x-tc-timestamp", "0")
        if credential[0] != secret_id or abs(time.time() - int(timestamp)) > 300:
            return 200, {"Response": {"Error": {"Code": "AuthFailure.SecretIdNotFound"}}}
        date, service = credential[1], credential[2]
        signed = fields.get("SignedHeaders", "").split(";")
        canonical_headers = "".join(
            f"{h}:{headers[h].lower() if h == 'x-tc-action' else headers[h]}\n" for h in signed
        )
        canonical_request = "\n".join(
            [
                "POST",
                "/",
                "",
                canonical_headers,
                ";".join(signed),
                hashlib.sha256(request.raw).hexdigest(),
            ]
        )
        string_to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                timestamp,
                f"{date}/{service}/tc3_request",
                hashlib.sha256(canonical_request.encode()).hexdigest(),
            ]
        )

        def sign(key: bytes, msg: str) -> bytes:
            return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

        secret_date = sign(("TC3" + secret_key).encode("utf-8"), date)
        secret_signing = sign(sign(secret_date, service), "tc3_request")
        expected = hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return 200, {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure"}}}
        body = request.json
        statuses = [{"PhoneNumber": p, "Code": "Ok"} for p in body["PhoneNumberSet"]]
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": "r-1"}}

    return handle
