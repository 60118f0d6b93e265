"""Reading a raw e-mail robustly: headers, text, attachments, auto-reply signs.

Everything here is pure (bytes in, values out) and never raises on hostile input except
``MailRejected`` for messages we refuse on purpose (oversized header block). Broken MIME,
unknown or legacy charsets (GB2312 mail that really is GBK/GB18030) and HTML-only bodies
are turned into plain text; the text is escaped wherever it is shown, like any user input.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.policy
import email.utils
import hashlib
import html
import re
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser

# Mail clients label GBK/GB18030 text "gb2312"; GB18030 is a superset of both, so decoding
# with it never loses characters that a strict GB2312 codec would refuse.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}
FALLBACK_CHARSETS = ("utf-8", "gb18030")
MAX_HEADER_VALUE = 998  # RFC 5322 line limit: longer values are truncated when stored
MAX_TEXT_CHARS = 200_000  # a ticket description or reply is cut beyond this
TICKET_TOKEN = re.compile(r"\[((?:INC|REQ)-\d{4}-\d{6})\]", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<([^<>\s]{1,900})>")
AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "noreply-dmarc-support"}


class MailRejected(Exception):  # noqa: N818 - a refusal, not a programming error
    """The message is refused on purpose (kept for inspection, never imported)."""


@dataclass
class MailAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedMail:
    message_id: str
    subject: str
    sender_name: str
    sender: str  # lower-case address, "" when missing or unparsable
    to: list[str]
    in_reply_to: list[str]
    references: list[str]
    text: str
    attachments: list[MailAttachment] = field(default_factory=list)
    auto_submitted: bool = False
    auto_reason: str = ""
    defects: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, nearest first (In-Reply-To, then References)."""
        seen: list[str] = []
        for value in [*self.in_reply_to, *reversed(self.references)]:
            if value not in seen:
                seen.append(value)
        return seen

    @property
    def ticket_token(self) -> str:
        found = TICKET_TOKEN.search(self.subject)
        return found.group(1).upper() if found else ""


def normalise_charset(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, then UTF-8 and GB18030; never raises."""
    candidates = [c for c in (normalise_charset(charset), *FALLBACK_CHARSETS) if c]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(candidates[0], errors="replace")


def _unescape_surrogates(value: str) -> str:
    # 8-bit header bytes arrive as lone surrogates (surrogateescape); guess their charset.
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    return decode_bytes(value.encode("utf-8", errors="surrogateescape"), None)


def decode_header_value(raw: str | None) -> str:
    """Decode RFC 2047 encoded words with lenient charsets; folds and control chars removed."""
    if not raw:
        return ""
    raw = _unescape_surrogates(str(raw))
    try:
        parts = email.header.decode_header(raw)
    except (ValueError, LookupError, AssertionError):
        parts = [(raw, None)]
    pieces: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            pieces.append(decode_bytes(chunk, charset))
        else:
            pieces.append(chunk)
    # decode_header drops the whitespace between an encoded word and plain text.
    text = "".join(pieces) if len(parts) > 1 else pieces[0] if pieces else ""
    text = re.sub(r"[\r\n\t]+", " ", text)
    text = "".join(char for char in text if char >= " " or char == " ")
    return text.strip()


class _TextExtractor(HTMLParser):
    """HTML to plain text: script/style content dropped, block elements become lines."""

    SKIP = {"script", "style", "head", "title", "template", "noscript", "iframe", "object"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body (scripts and styles removed; nothing is ever rendered)."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except Exception:
        return html.escape(markup)
    text = "".join(extractor.parts)
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.strip()[:MAX_TEXT_CHARS]


def raw_header(message: Message, name: str) -> str:
    """The first ``name`` header as sent (no policy parsing), or ``""``.

    ``raw_items`` bypasses the policy's header objects: their strict parsing and charset
    handling fail on some real-world headers, so we decode leniently ourselves.
    """
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return str(value)
    return ""


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else b""


def _filename(part: Message) -> str:
    name = ""
    for header in ("Content-Disposition", "Content-Type"):
        value = raw_header(part, header)
        found = re.search(r"(?:file)?name\*?=\s*(\"[^\"]*\"|[^;\s]+)", value, re.IGNORECASE)
        if found:
            name = found.group(1).strip('"')
            if "''" in name:  # RFC 2231: charset''percent-encoded
                charset, _lang, encoded = name.split("'", 2)
                name = decode_bytes(urllib.parse.unquote_to_bytes(encoded), charset)
            break
    cleaned = decode_header_value(name) if name else ""
    cleaned = cleaned.replace("\\", "/").rsplit("/", 1)[-1].strip(". ")
    return cleaned[:200]


def _is_attachment(part: Message) -> bool:
    disposition = raw_header(part, "Content-Disposition").split(";", 1)[0].strip().lower()
    if disposition == "attachment":
        return True
    maintype = part.get_content_maintype()
    return maintype != "text" or (disposition == "inline" and bool(_filename(part)))


def header_block_size(raw: bytes) -> int:
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    return len(raw) if end < 0 else end


def stable_message_id(raw: bytes) -> str:
    """The id of a message without a Message-ID header: a hash of its bytes (stable)."""
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@missing-message-id.opsassure>"


def read_message_id(raw: bytes) -> str:
    """The message's ``<id>`` (cheap, for deduplication before full parsing)."""
    head = raw[: header_block_size(raw) + 4]
    message = email.message_from_bytes(head, policy=email.policy.default)
    value = decode_header_value(raw_header(message, "Message-ID"))
    found = MESSAGE_ID.search(value)
    if found:
        return f"<{found.group(1)}>"[:MAX_HEADER_VALUE]
    return stable_message_id(raw)


def _ids(value: str) -> list[str]:
    return [f"<{found}>" for found in MESSAGE_ID.findall(value)][:50]


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        pairs = email.utils.getaddresses([value])
    except (ValueError, TypeError, IndexError):
        return []
    return [(name, address.strip().lower()) for name, address in pairs if "@" in address]


def detect_auto_reply(message: Message, sender: str, own_addresses: set[str]) -> str:
    """Why ``message`` must not open or update a ticket, or ``""``: auto-replies, bulk,
    bounces and mail from our own mailboxes (a loop)."""
    auto_submitted = raw_header(message, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"[:200]
    precedence = raw_header(message, "Precedence").strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        value = raw_header(message, name).strip()
        if value and value.lower() not in {"no", "none"}:
            return f"{name}: {value}"[:200]
    if raw_header(message, "X-Loop").strip().lower() in own_addresses:
        return "X-Loop"
    if sender in own_addresses:
        return "From is one of our own mailboxes"
    local_part = sender.split("@", 1)[0]
    if not sender or local_part in DAEMON_LOCALPARTS:
        return "Bounce or message without sender"
    content_type = raw_header(message, "Content-Type").lower()
    if "report-type=delivery-status" in content_type:
        return "Delivery status notification"
    return ""


def parse_message(
    raw: bytes, own_addresses: set[str] | None = None, max_header_bytes: int = 64 * 1024
) -> ParsedMail:
    """Parse ``raw`` into what a ticket needs. Raises ``MailRejected`` when the header block
    is larger than ``max_header_bytes`` (a hostile or broken message, kept for inspection)."""
    size = header_block_size(raw)
    if size > max_header_bytes:
        raise MailRejected(f"header block of {size} bytes exceeds {max_header_bytes}")
    own = {address.lower() for address in own_addresses or set()}
    message = email.message_from_bytes(raw, policy=email.policy.default)
    defects = [type(defect).__name__ for defect in message.defects][:20]
    sender_pairs = _addresses(decode_header_value(raw_header(message, "From")))
    sender_name, sender = sender_pairs[0] if sender_pairs else ("", "")
    reply_pairs = _addresses(decode_header_value(raw_header(message, "Reply-To")))
    if reply_pairs and not sender:
        sender_name, sender = reply_pairs[0]
    recipients = [
        address
        for name in ("To", "Cc", "Delivered-To", "X-Original-To")
        for _name, address in _addresses(decode_header_value(raw_header(message, name)))
    ]
    text_plain: list[str] = []
    text_html: list[str] = []
    attachments: list[MailAttachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            if _is_attachment(part):
                content = _part_bytes(part)
                name = _filename(part) or f"attachment-{len(attachments) + 1}"
                attachments.append(MailAttachment(name, part.get_content_type()[:100], content))
                continue
            body = decode_bytes(_part_bytes(part), part.get_content_charset())
            is_html = part.get_content_subtype() == "html"
        except Exception as error:
            defects.append(f"part: {type(error).__name__}")
            continue
        if is_html:
            text_html.append(body)
        else:
            text_plain.append(body)
    text = "\n\n".join(t for t in text_plain if t.strip())
    if not text.strip() and text_html:
        text = "\n\n".join(html_to_text(markup) for markup in text_html)
    auto_reason = detect_auto_reply(message, sender, own)
    return ParsedMail(
        message_id=read_message_id(raw),
        subject=decode_header_value(raw_header(message, "Subject"))[:MAX_HEADER_VALUE],
        sender_name=sender_name[:200],
        sender=sender[:320],
        to=recipients[:50],
        in_reply_to=_ids(decode_header_value(raw_header(message, "In-Reply-To"))),
        references=_ids(decode_header_value(raw_header(message, "References"))),
        text=_clean_text(text),
        attachments=attachments,
        auto_submitted=bool(auto_reason),
        auto_reason=auto_reason,
        defects=defects,
    )
