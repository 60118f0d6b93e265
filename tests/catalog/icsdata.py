"""iCalendar test files."""

from __future__ import annotations


def vcalendar(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//CN//\r\n{body}END:VCALENDAR\r\n"
    return text.encode()


def event(uid: str, summary: str, start: str, end: str | None = None, extra: str = "") -> str:
    lines = [f"UID:{uid}", f"SUMMARY:{summary}", f"DTSTART;VALUE=DATE:{start}"]
    if end:
        lines.append(f"DTEND;VALUE=DATE:{end}")
    if extra:
        lines.append(extra)
    return "\r\n".join(lines)


# 2027 as a State Council notice might read (illustrative dates).
NATIONAL_DAY_2027 = vcalendar(
    event("nd", "国庆节", "20271001", "20271008"),
    event("w1", "补班", "20270925"),
    event("w2", "Company workday", "20271009", extra="CATEGORIES:workday"),
    event("cl", "机房搬迁", "20271011", extra="CATEGORIES:closed"),
    event("cx", "取消的假期", "20271012", extra="STATUS:CANCELLED"),
    # A timed event from midnight to midnight in the calendar's zone is a whole day.
    "UID:t1\r\nSUMMARY:元旦\r\nDTSTART;TZID=Asia/Shanghai:20270101T000000\r\n"
    "DTEND;TZID=Asia/Shanghai:20270102T000000",
)
