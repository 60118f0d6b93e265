"""The new part of a reply: the quoted history below it is cut off.

mail-parser-reply recognises the "On … wrote:" lines and Outlook header blocks of many
languages. Its Chinese entry falls short of what Chinese mail clients write, so we register
one more language with it, ``zh-ops`` (the library's documented way to add a language is a
``MAIL_LANGUAGES`` entry):

* Foxmail / QQ Mail / NetEase: ``在 2026年11月27日 星期五 10:02，张三 <a@b.cn> 写道：`` — the
  library's own Chinese pattern refuses exactly these lines (a negative look-ahead copied
  from the English "On … On … wrote:" guard);
* header blocks with full-width colons (``发件人：``), which the library's pattern does not
  accept, and ``日期``/``时间`` lines;
* the ``------------------ 原始邮件 ------------------`` separator, which the library leaves
  as the last line of the reply.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]
from mailparser_reply.constants import (  # type: ignore[import-untyped]
    MAIL_LANGUAGES,
    QUOTED_MATCH_INCLUDE,
)

LANGUAGE = "zh-ops"
MAIL_LANGUAGES.setdefault(
    LANGUAGE,
    {
        "wrote_header": r"^("
        + QUOTED_MATCH_INCLUDE
        + r"(?:在|于)?\s*.{0,40}?\d{4}\s*[-/年]\s*\d{1,2}\s*[-/月]\s*\d{1,2}"
        + r".{0,120}?写道\s*[:：]?)$",
        "from_header": r"((?:(?:^|\n|\n"
        + QUOTED_MATCH_INCLUDE
        + r")[* ]*(?:发件人|发送时间|日期|时间|收件人|主题|抄送)\s*[:：][ *]*(?:\s{,2}).*){2,}"
        r"(?:\n.*){,1})",
        "disclaimers": ["免责声明[:：]", "保密声明[:：]"],
        "signatures": [],
        "sent_from": r"(?:发自|来自)我的.{0,20}",
    },
)
_PARSER = EmailReplyParser(languages=[LANGUAGE, "zh", "en"])
# A separator line left at the end of the reply: dashes around 原始邮件 / Original Message.
_TRAILING_SEPARATOR = re.compile(
    r"\n[ \t]*-{3,}[ \t]*(?:原始邮件|邮件原文|Original Message)[ \t]*-{3,}[ \t]*\Z", re.IGNORECASE
)


def latest_reply(text: str) -> str:
    """The reply without the quoted conversation; ``text`` itself if nothing is left."""
    try:
        reply = _PARSER.parse_reply(text=text) or ""
    except Exception:  # a parser bug must never lose the mail: keep the whole text
        return text
    reply = _TRAILING_SEPARATOR.sub("", reply.rstrip()).rstrip()
    return reply if reply.strip() else text
