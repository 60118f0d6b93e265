"""What every channel sender shares: the error type and the shared HTTP client."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from opsassure.notify import conf

if TYPE_CHECKING:
    from opsassure.notify.models import Notification

USER_AGENT = "OpsAssure-notify/1"
_local = threading.local()


class SendError(Exception):
    """The message did not go out. ``retryable`` False: trying again cannot help."""

    def __init__(self, message: str, *, reply: str = "", retryable: bool = True) -> None:
        super().__init__(message)
        self.reply = reply
        self.retryable = retryable


class Sender:
    """Sends one notification; returns the provider's reply, raises SendError on failure."""

    kind: ClassVar[str] = ""

    def send(self, notification: Notification) -> str:
        raise NotImplementedError


def http_client() -> httpx.Client:
    """One keep-alive client per thread (connection reuse matters for bursts)."""
    client: httpx.Client | None = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(
            timeout=httpx.Timeout(conf.http_timeout()),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        _local.client = client
    return client


def reply_text(response: httpx.Response, limit: int = 2000) -> str:
    return f"HTTP {response.status_code} {response.text[:limit]}"


def post(url: str, **kwargs: Any) -> httpx.Response:
    """POST, with transport errors and HTTP error statuses turned into SendError."""
    return request("POST", url, **kwargs)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    if not url.startswith(("http://", "https://")):
        raise SendError(f"not an http(s) URL: {url[:100]!r}", retryable=False)
    try:
        response = http_client().request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise SendError(f"{type(error).__name__}: {error}") from error
    if response.status_code >= 400:
        # 4xx other than 408/429 is our request's fault: retrying sends the same request.
        retryable = response.status_code >= 500 or response.status_code in (408, 429)
        raise SendError(
            f"HTTP {response.status_code}", reply=reply_text(response), retryable=retryable
        )
    return response


def json_reply(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise SendError("the reply is not JSON", reply=reply_text(response)) from None
    if not isinstance(data, dict):
        raise SendError("the reply is not a JSON object", reply=reply_text(response))
    return data
