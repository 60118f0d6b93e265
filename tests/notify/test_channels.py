"""Every channel against a local fake endpoint that checks what the vendor checks."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from opsassure.notify import sending, services
from opsassure.notify.models import Destination, Notification
from tests.conftest import World
from tests.notify import fakes

pytestmark = pytest.mark.django_db
State = Notification.State
SECRET = "SEC0123456789abcdef"


@pytest.fixture
def server_for() -> Iterator[Any]:
    with contextlib.ExitStack() as stack:

        def start(handle: Any) -> fakes.FakeServer:
            return stack.enter_context(fakes.serve(handle))

        yield start


def send(destination: Destination, context: dict[str, Any], **kwargs: Any) -> Notification:
    row = services.notify_destination(
        destination,
        severity=kwargs.pop("severity", "critical"),
        dedup_key=kwargs.pop("dedup_key", "k"),
        template="test",
        context=context,
        **kwargs,
    )
    sending.send_one(row.pk)
    row.refresh_from_db()
    return row


def test_dingtalk_signed_markdown_with_mentions(world: World, server_for: Any) -> None:
    fake = server_for(fakes.dingtalk(SECRET))
    destination = Destination.objects.create(
        name="DT",
        kind="dingtalk",
        url=fake.url("/robot/send?access_token=abc"),
        secret=SECRET,
        settings={"at_mobiles": ["13800000001"]},
    )
    row = send(destination, {"destination": "prod"}, mentions=["13900000002", "manager7"])
    assert (row.state, row.last_error) == (State.SENT, "")
    assert row.provider_reply == 'HTTP 200 {"errcode": 0, "errmsg": "ok"}'
    [request] = fake.received
    assert request.query["access_token"] == "abc"
    message = request.json
    assert message["msgtype"] == "markdown"
    assert message["markdown"]["title"] == "OpsAssure test message: prod"
    assert message["markdown"]["text"].endswith("\n\n@13800000001 @13900000002 @manager7")
    assert message["at"] == {
        "atMobiles": ["13800000001", "13900000002"],
        "atUserIds": ["manager7"],
        "isAtAll": False,
    }


def test_dingtalk_error_code_in_a_200_is_a_failure(world: World, server_for: Any) -> None:
    fake = server_for(fakes.dingtalk(SECRET))
    destination = Destination.objects.create(
        name="DT", kind="dingtalk", url=fake.url("/robot/send?access_token=abc"), secret="wrong"
    )
    row = send(destination, {})
    # A signature mismatch is configuration: retrying cannot help, the row fails at once.
    assert (row.state, row.attempts, row.next_attempt_at) == (State.FAILED, 1, None)
    assert row.last_error == "errcode 310000: sign not match"
    assert row.provider_reply == 'HTTP 200 {"errcode": 310000, "errmsg": "sign not match"}'


def test_dingtalk_rate_error_is_retried(world: World, server_for: Any) -> None:
    fake = server_for(fakes.always(200, {"errcode": 130101, "errmsg": "send too fast"}))
    destination = Destination.objects.create(name="DT", kind="dingtalk", url=fake.url("/send"))
    row = send(destination, {})
    assert (row.state, row.attempts) == (State.PENDING, 1)
    assert row.next_attempt_at is not None
    assert row.last_error == "errcode 130101: send too fast"


def test_feishu_signed_interactive_card(world: World, server_for: Any) -> None:
    fake = server_for(fakes.feishu(SECRET))
    destination = Destination.objects.create(
        name="FS", kind="feishu", url=fake.url("/open-apis/bot/v2/hook/x"), secret=SECRET
    )
    row = send(destination, {"destination": "prod"}, mentions=["ou_abc"], severity="high")
    assert (row.state, row.last_error) == (State.SENT, "")
    card = fake.received[0].json["card"]
    assert card["header"] == {
        "title": {"tag": "plain_text", "content": "OpsAssure test message: prod"},
        "template": "orange",
    }
    [element] = card["elements"]
    assert element["tag"] == "markdown"
    assert element["content"].endswith("\n<at id=ou_abc></at>")


def test_feishu_wrong_secret_fails(world: World, server_for: Any) -> None:
    fake = server_for(fakes.feishu(SECRET))
    destination = Destination.objects.create(
        name="FS", kind="feishu", url=fake.url("/hook"), secret="not-the-secret"
    )
    row = send(destination, {})
    assert row.state == State.FAILED
    assert row.last_error == (
        "code 19021: sign match fail or timestamp is not within one hour from current time"
    )


def test_wecom_markdown_is_cut_to_4096_bytes_on_a_character_boundary(
    world: World, server_for: Any
) -> None:
    fake = server_for(fakes.wecom)
    destination = Destination.objects.create(name="WC", kind="wecom", url=fake.url("/send?key=k"))
    row = services.enqueue(
        channel="wecom",
        dedup_key="long",
        subject="长消息",
        body="磁盘告警" * 1000,  # 12,000 bytes of UTF-8
        destination=destination,
        payload={"mentions": ["zhangsan", "13800000003"]},
    )
    sending.send_one(row.pk)
    row.refresh_from_db()
    assert row.state == State.SENT
    markdown, text = (r.json for r in fake.received)
    content = markdown["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.endswith("\n…\n<@zhangsan>")
    assert content.startswith("磁盘告警磁盘告警")
    assert text == {
        "msgtype": "text",
        "text": {"content": "长消息", "mentioned_mobile_list": ["13800000003"]},
    }


def test_webhook_body_is_signed_with_hmac_sha256(world: World, server_for: Any) -> None:
    fake = server_for(fakes.always(204, ""))
    destination = Destination.objects.create(
        name="Hook", kind="webhook", url=fake.url("/in"), secret=SECRET
    )
    row = send(destination, {"destination": "prod"}, source=world.customer_a)
    assert row.state == State.SENT
    [request] = fake.received
    timestamp = request.headers["x-opsassure-timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.raw, hashlib.sha256)
    assert request.headers["x-opsassure-signature"] == f"sha256={expected.hexdigest()}"
    document = request.json
    assert document["subject"] == "OpsAssure test message: prod"
    assert document["source"] == {"type": "core.customer", "id": str(world.customer_a.pk)}
    assert document["id"] == row.pk


def test_webhook_server_error_is_retried_client_error_is_not(world: World, server_for: Any) -> None:
    broken = server_for(fakes.always(503, "busy"))
    refusing = server_for(fakes.always(400, "bad"))
    first = send(
        Destination.objects.create(name="H1", kind="webhook", url=broken.url("/")),
        {},
        dedup_key="a",
    )
    second = send(
        Destination.objects.create(name="H2", kind="webhook", url=refusing.url("/")),
        {},
        dedup_key="b",
    )
    assert (first.state, first.last_error, first.provider_reply) == (
        State.PENDING,
        "HTTP 503",
        "HTTP 503 busy",
    )
    assert (second.state, second.last_error) == (State.FAILED, "HTTP 400")


def test_unreachable_endpoint_is_retried(world: World) -> None:
    with socket.socket() as probe:  # a bound port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
        destination = Destination.objects.create(name="Gone", kind="webhook", url=url)
        row = send(destination, {})
    assert row.state == State.PENDING
    assert row.last_error.startswith("ConnectError")


SMS_GATEWAY = {
    "method": "POST",
    "headers": {"Authorization": "Bearer {secret}"},
    "format": "form",
    "body": {"PhoneNumbers": "{phone}", "Text": "{text}", "Sign": "OpsAssure"},
    "success": {"field": "Code", "equals": "OK"},
}


def test_sms_gateway_template_fills_placeholders(world: World, server_for: Any) -> None:
    fake = server_for(fakes.always(200, {"Code": "OK", "BizId": "9"}))
    user = world.engineer_a
    user.phone = "13800000009"
    user.save()
    Destination.objects.create(
        name="SMS",
        kind="sms",
        url=fake.url("/sms"),
        secret="tok",
        settings={"gateway": SMS_GATEWAY},
    )
    [row] = services.notify_user(
        user,
        severity="critical",
        dedup_key="p",
        template="test",
        context={"destination": "**prod**"},
        channels=["sms"],
    )
    sending.send_one(row.pk)
    row.refresh_from_db()
    assert (row.state, row.address) == (State.SENT, "13800000009")
    [request] = fake.received
    assert request.headers["authorization"] == "Bearer tok"
    form = request.form
    assert form["PhoneNumbers"] == "13800000009"
    assert form["Sign"] == "OpsAssure"
    # Plain words for a phone: markdown emphasis is dropped, whoever wrote it.
    assert form["Text"] == (
        'OpsAssure test message This is a test of the notification destination "prod". '
        "If you can read it, the destination works."
    )


def test_gateway_reply_check(world: World, server_for: Any) -> None:
    fake = server_for(fakes.always(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL"}))
    destination = Destination.objects.create(
        name="Voice",
        kind="voice",
        url=fake.url("/call"),
        settings={"gateway": {**SMS_GATEWAY, "format": "json"}, "phones": ["1390000000"]},
    )
    row = send(destination, {})
    assert row.state == State.PENDING
    assert row.last_error == "gateway reply Code='isv.BUSINESS_LIMIT_CONTROL', expected 'OK'"
    assert fake.received[0].json["PhoneNumbers"] == "1390000000"


ALIYUN = {
    "auth": {"type": "aliyun-rpc", "access_key_id": "LTAI-test"},
    "method": "GET",
    "query": {
        "Action": "SendSms",
        "Version": "2017-05-25",
        "RegionId": "cn-hangzhou",
        "PhoneNumbers": "{phone}",
        "SignName": "运维平台",
        "TemplateCode": "SMS_123",
        "TemplateParam": '{"text": "{text_json}"}',
    },
    "success": {"field": "Code", "equals": "OK"},
}
TENCENT = {
    "auth": {"type": "tencent-tc3", "secret_id": "AKID-test", "region": "ap-guangzhou"},
    "method": "POST",
    "format": "json",
    "body": {
        "PhoneNumberSet": ["+86{phone}"],
        "SmsSdkAppId": "1400000000",
        "SignName": "运维平台",
        "TemplateId": "1234",
        "TemplateParamSet": ["{text}"],
    },
    "success": {"field": "Response.SendStatusSet.0.Code", "equals": "Ok"},
}


@pytest.mark.parametrize(
    ("gateway", "fake", "good_secret", "refusal"),
    [
        (
            ALIYUN,
            lambda secret: fakes.aliyun_sms("LTAI-test", secret),
            "aliyun-secret",
            (State.FAILED, "HTTP 400"),
        ),
        (
            TENCENT,
            lambda secret: fakes.tencent_sms("AKID-test", secret),
            "tencent-secret",
            (State.PENDING, "gateway reply Response.SendStatusSet.0.Code=None, expected 'Ok'"),
        ),
    ],
    ids=["aliyun", "tencent"],
)
def test_cloud_sms_apis_are_signed_as_their_docs_say(
    world: World,
    server_for: Any,
    gateway: Any,
    fake: Any,
    good_secret: str,
    refusal: tuple[str, str],
) -> None:
    server = server_for(fake(good_secret))
    right = Destination.objects.create(
        name="SMS",
        kind="sms",
        url=server.url("/"),
        secret=good_secret,
        settings={"gateway": gateway, "phones": ["13800000001"]},
    )
    wrong = Destination.objects.create(
        name="SMS2",
        kind="sms",
        url=server.url("/"),
        secret="not-it",
        settings={"gateway": gateway, "phones": ["13800000001"]},
    )
    context = {"destination": 'core-sw "A" & <B>'}
    sent = send(right, context, dedup_key="right")
    refused = send(wrong, context, dedup_key="wrong")
    assert (sent.state, sent.last_error) == (State.SENT, "")
    assert (refused.state, refused.last_error) == refusal
    assert len(server.received) == 2
    first = server.received[0]
    text = 'OpsAssure test message This is a test of the notification destination "core-sw "'
    if gateway is ALIYUN:
        assert first.query["PhoneNumbers"] == "13800000001"
        assert json.loads(first.query["TemplateParam"])["text"].startswith(text)
    else:
        assert first.json["PhoneNumberSet"] == ["+8613800000001"]
        assert first.json["TemplateParamSet"][0].startswith(text)
