"""Rendering notifications from Django templates, with untrusted text neutralised per channel.

Templates live in ``templates/notify/``: ``<name>.subject.txt`` (one line) and
``<name>.body.md`` (markdown), optionally ``<name>.<channel>.md`` for a channel that needs a
different body (e.g. a short SMS). They are rendered in the recipient's language, with
auto-escaping off: instead every *string reached through the context* (label values,
titles, anything a caller passes, however deep) is escaped for the channel first — HTML
entities plus markdown punctuation for the IM robots, control characters stripped for
plain-text channels. The template's own text stays as written.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.template import Context, engines
from django.template.backends.django import DjangoTemplates
from django.utils import timezone, translation
from django.utils.safestring import SafeData, SafeString

from opsassure.notify.models import Channel

MARKDOWN_CHANNELS = frozenset({Channel.DINGTALK, Channel.WECOM, Channel.FEISHU})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]()#!|~{}+\-])")
_SCALARS = (int, float, bool, decimal.Decimal, dt.date, dt.time, dt.timedelta)


def plain(text: str) -> str:
    """Plain-text channels: keep the text, drop control and bidi-override characters."""
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    return " ".join(plain(text).split())


def markdown(text: str) -> str:
    """IM markdown: no HTML tags, no mentions (``<@id>``, ``<at>``), no markdown markup, one
    line (a value must not start a heading or a list)."""
    text = html.escape(one_line(text), quote=False)
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def escaper_for(channel: str) -> Callable[[str], str]:
    return markdown if channel in MARKDOWN_CHANNELS else plain


def neutral(value: Any, escape: Callable[[str], str]) -> Any:
    """``value`` as the template may see it: strings escaped, containers and objects proxied."""
    if value is None or isinstance(value, (SafeData, *_SCALARS)):
        return value
    if isinstance(value, str):
        return SafeString(escape(value))
    if isinstance(value, list | tuple | set | frozenset):
        return [neutral(item, escape) for item in value]
    return _Proxy(value, escape)


class _Proxy:
    """Wraps an object or mapping; whatever the template reads through it is neutralised."""

    __slots__ = ("_escape", "_target")

    def __init__(self, target: Any, escape: Callable[[str], str]) -> None:
        self._target = target
        self._escape = escape

    def __getitem__(self, key: Any) -> Any:
        return neutral(self._target[key], self._escape)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        found = getattr(self._target, name)
        if callable(found) and not isinstance(found, type):
            if getattr(found, "alters_data", False):
                return ""
            return _Call(found, self._escape)
        return neutral(found, self._escape)

    def __iter__(self) -> Iterator[Any]:
        return (neutral(item, self._escape) for item in self._target)

    def __len__(self) -> int:
        return len(self._target)

    def __bool__(self) -> bool:
        return bool(self._target)

    def __eq__(self, other: object) -> bool:
        return bool(self._target == (other._target if isinstance(other, _Proxy) else other))

    def __hash__(self) -> int:
        return hash(self._target)

    def __str__(self) -> str:
        return self._escape(str(self._target))

    __html__ = __str__


class _Call:
    """A method reached through a proxy: Django calls it, the result is neutralised."""

    __slots__ = ("_escape", "_method")

    def __init__(self, method: Callable[[], Any], escape: Callable[[str], str]) -> None:
        self._method = method
        self._escape = escape

    def __call__(self) -> Any:
        return neutral(self._method(), self._escape)


def _engine() -> Any:
    backend = engines["django"]
    assert isinstance(backend, DjangoTemplates)
    return backend.engine


def render(
    template: str,
    context: Mapping[str, Any],
    *,
    language: str,
    channel: str,
    time_zone: str = "Asia/Shanghai",
) -> tuple[str, str]:
    """(subject, body) of ``template`` for ``channel`` in ``language``, times in ``time_zone``."""
    engine = _engine()
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    with translation.override(language), timezone.override(zone):
        subject_template = engine.get_template(f"notify/{template}.subject.txt")
        body_template = engine.select_template(
            [f"notify/{template}.{channel}.md", f"notify/{template}.body.md"]
        )
        subject = subject_template.render(
            Context({k: neutral(v, one_line) for k, v in context.items()}, autoescape=False)
        )
        escape = escaper_for(channel)
        body = body_template.render(
            Context({k: neutral(v, escape) for k, v in context.items()}, autoescape=False)
        )
    return one_line(subject)[:500], body.strip() + "\n"
