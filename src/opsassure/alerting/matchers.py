"""Alertmanager-style label matchers: ``name="value"``, ``!=``, ``=~`` and ``!~``.

Regular expressions are anchored like Alertmanager's (the whole value must match). A matcher
list matches when every matcher matches; a missing label has the value "".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext as _

_MATCHER_RE = re.compile(
    r"""^\s*(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*$""",
    re.DOTALL,
)
OPERATORS = ("=", "!=", "=~", "!~")
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


class MatcherError(ValueError):
    """A matcher that cannot be parsed (the message says why)."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = str(labels.get(self.name, ""))
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = _compiled(self.value).fullmatch(actual) is not None
        return found if self.op == "=~" else not found


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# An unquoted value may not hold what belongs to the syntax: ``alertname=="X"`` or a lone
# opening quote is a typo, not the value ``="X"`` (Alertmanager refuses them too).
_UNQUOTED_FORBIDDEN = re.compile(r"""["'=~{}]""")


def _unquote(raw: str, text: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        inner = raw[1:-1]
        return re.sub(r"\\(.)", r"\1", inner)
    if _UNQUOTED_FORBIDDEN.search(raw):
        raise MatcherError(
            _('Quote the value of %(matcher)s, as in name="value".') % {"matcher": repr(text)}
        )
    return raw


def parse(text: str) -> Matcher:
    """One matcher from its text form; ``MatcherError`` with the reason if it is invalid."""
    found = _MATCHER_RE.match(text or "")
    if not found:
        raise MatcherError(_("Not a label matcher: %(matcher)s") % {"matcher": repr(text)})
    matcher = Matcher(found["name"], found["op"], _unquote(found["value"], text))
    if matcher.op in ("=~", "!~"):
        try:
            _compiled(matcher.value)
        except re.error as error:
            raise MatcherError(
                _("Invalid regular expression in %(matcher)s: %(error)s")
                % {"matcher": repr(text), "error": error}
            ) from error
    return matcher


def parse_all(texts: Iterable[str]) -> list[Matcher]:
    return [parse(text) for text in texts]


def validate(value: object) -> list[str]:
    """Normalised text forms of a JSON list of matchers; ``MatcherError`` if any is invalid."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MatcherError(_("Expected a list of matcher strings."))
    return [str(parse(item)) for item in value]


def match_all(texts: Iterable[str], labels: Mapping[str, str]) -> bool:
    """Whether every matcher matches (an empty list matches everything)."""
    return all(parse(text).matches(labels) for text in texts)
