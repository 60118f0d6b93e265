"""Label matcher syntax: what is accepted, what is a typo, and the messages in both languages."""

from __future__ import annotations

import pytest
from django.utils import translation

from opsassure.alerting import matchers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('alertname="HighCPU"', 'alertname="HighCPU"'),
        ("alertname=HighCPU", 'alertname="HighCPU"'),
        ("severity != 'info'", 'severity!="info"'),
        ('instance=~"web-.*"', 'instance=~"web-.*"'),
        ('summary="disk = full"', 'summary="disk = full"'),
        ('job!~"node|mysql"', 'job!~"node|mysql"'),
    ],
)
def test_valid_matchers_are_normalised(text: str, expected: str) -> None:
    assert str(matchers.parse(text)) == expected


@pytest.mark.parametrize(
    "text",
    ['alertname=="HighMemory"', 'alertname="HighMemory', 'alertname=~"("', "no operator", ""],
)
def test_typos_are_refused(text: str) -> None:
    with pytest.raises(matchers.MatcherError):
        matchers.parse(text)


def test_messages_follow_the_language() -> None:
    with translation.override("zh-hans"), pytest.raises(matchers.MatcherError) as caught:
        matchers.parse('alertname=="HighMemory"')
    assert "引号" in str(caught.value)
    with translation.override("en"), pytest.raises(matchers.MatcherError) as caught:
        matchers.parse("foo")
    assert "Not a label matcher" in str(caught.value)


def test_matching_is_anchored_like_alertmanager() -> None:
    matcher = matchers.parse('instance=~"web-.*"')
    assert matcher.matches({"instance": "web-01"})
    assert not matcher.matches({"instance": "x-web-01"})
    assert matchers.parse('missing=""').matches({})
