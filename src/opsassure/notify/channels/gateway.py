"""SMS and voice calls through an HTTP gateway described by a template (no code per vendor).

``Destination.settings["gateway"]``::

    {"method": "POST",                      # GET, POST, PUT
     "url": "https://sms.example.cn/send",  # optional; else Destination.url
     "headers": {"Authorization": "Bearer {secret}"},
     "query": {"to": "{phone}"},            # optional query parameters
     "format": "json",                      # json | form
     "body": {"phone": "{phone}", "content": "{text}", "sign": "OpsAssure"},
     "success": {"field": "Code", "equals": "OK"},   # optional reply check (dotted path)
     "max_length": 300}                     # optional, characters of {text}

Placeholders, replaced in every string of url, headers, query and body: ``{phone}``,
``{text}``, ``{text_json}`` (the text escaped for a JSON string), ``{subject}``,
``{severity}``, ``{secret}`` (the destination's secret, so it never sits in the settings in
clear). One request per phone number. ``"auth": {"type": "aliyun-rpc", "access_key_id": …}``
or ``{"type": "tencent-tc3", "secret_id": …, "region": …}`` signs the request for Alibaba
Cloud or Tencent Cloud (``cloud_signing``), with the destination's secret as the key.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils import timezone

from opsassure.notify.channels import cloud_signing
from opsassure.notify.channels.base import Sender, SendError, json_reply, reply_text, request

if TYPE_CHECKING:
    from opsassure.notify.models import Notification

PLACEHOLDERS = ("phone", "text", "subject", "severity", "secret")
_MARKUP = re.compile(r"(\*\*|__|^#{1,6}\s+|\\(?=[\\`*_\[\]()#!|~{}+\-]))", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """SMS and speech want words, not markdown markup."""
    return " ".join(_MARKUP.sub("", markdown).split())


def fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {str(k): fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def validate_gateway(gateway: Any) -> list[str]:
    """Problems with a gateway template (empty when it is usable)."""
    if not isinstance(gateway, dict):
        return ["the gateway must be a JSON object"]
    problems = []
    if str(gateway.get("method", "POST")).upper() not in ("GET", "POST", "PUT"):
        problems.append("method must be GET, POST or PUT")
    if gateway.get("format", "json") not in ("json", "form"):
        problems.append("format must be json or form")
    for key in ("headers", "query"):
        if key in gateway and not isinstance(gateway[key], dict):
            problems.append(f"{key} must be a JSON object")
    success = gateway.get("success")
    if success is not None and not (isinstance(success, dict) and "field" in success):
        problems.append('success must be an object like {"field": "Code", "equals": "OK"}')
    if gateway.get("auth") is not None:
        problems += cloud_signing.auth_problems(gateway["auth"])
    return problems


class GatewaySender(Sender):
    kind: ClassVar[str] = "sms"

    def send(self, notification: Notification) -> str:
        destination = notification.destination
        if destination is None:
            raise SendError("an SMS or voice message needs a gateway destination", retryable=False)
        gateway = destination.settings.get("gateway") or {}
        problems = validate_gateway(gateway)
        if problems:
            raise SendError("; ".join(problems), retryable=False)
        url = str(gateway.get("url") or destination.url)
        phones = [p.strip() for p in notification.address.split(",") if p.strip()]
        if not phones:
            raise SendError("no phone number to send to", retryable=False)
        text = plain_text(notification.body) or notification.subject
        limit = gateway.get("max_length")
        if isinstance(limit, int) and limit > 0 and len(text) > limit:
            text = text[: limit - 1] + "…"
        replies = []
        for phone in phones:
            values = {
                "phone": phone,
                "text": text,
                # For a JSON string inside a string (Aliyun's TemplateParam): escaped, no quotes.
                "text_json": json.dumps(text, ensure_ascii=False)[1:-1],
                "subject": notification.subject,
                "severity": notification.severity,
                "secret": destination.secret,
            }
            replies.append(self._one(gateway, url, values))
        return "\n".join(replies)

    def _one(self, gateway: dict[str, Any], url: str, values: dict[str, str]) -> str:
        headers = fill(gateway.get("headers") or {}, values)
        kwargs: dict[str, Any] = {"headers": {k: str(v).strip() for k, v in headers.items()}}
        if gateway.get("query"):
            kwargs["params"] = fill(gateway["query"], values)
        method = str(gateway.get("method", "POST")).upper()
        body = fill(gateway.get("body"), values)
        if method != "GET" and body is not None:
            kwargs["data" if gateway.get("format") == "form" else "json"] = body
        url = fill(url, values)
        auth = gateway.get("auth")
        if auth:
            self._sign(auth, method, url, body, kwargs, values["secret"])
        response = request(method, url, **kwargs)
        reply = reply_text(response, limit=1000)
        success = gateway.get("success")
        if success:
            found = dig(json_reply(response), str(success["field"]))
            if "equals" in success and found != success["equals"]:
                raise SendError(
                    f"gateway reply {success['field']}={found!r}, expected {success['equals']!r}",
                    reply=reply,
                    retryable=bool(gateway.get("retry_on_reply_error", True)),
                )
        return reply

    @staticmethod
    def _sign(
        auth: dict[str, Any], method: str, url: str, body: Any, kwargs: dict[str, Any], secret: str
    ) -> None:
        now = timezone.now()
        if auth["type"] == "aliyun-rpc":
            if method != "GET":
                raise SendError("aliyun-rpc signing needs method GET", retryable=False)
            kwargs["params"] = cloud_signing.aliyun_rpc_query(
                kwargs.get("params") or {},
                access_key_id=str(auth["access_key_id"]),
                secret=secret,
                now=now,
            )
        else:  # tencent-tc3: sign the exact bytes we send
            raw = cloud_signing.json_bytes(body if body is not None else {})
            kwargs.pop("json", None)
            kwargs.pop("data", None)
            kwargs["content"] = raw
            host = urllib.parse.urlsplit(url).netloc
            kwargs["headers"] = {
                **kwargs.get("headers", {}),
                **cloud_signing.tencent_tc3_headers(
                    raw, auth=auth, host=host, secret=secret, now=now
                ),
            }


class VoiceSender(GatewaySender):
    kind: ClassVar[str] = "voice"
