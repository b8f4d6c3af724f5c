"""A small RFC 5545 writer for appointment invitations (one VEVENT per file).

Calendars match updates by UID and take the highest SEQUENCE: a change or cancellation keeps the
appointment's UID and raises its sequence; a cancellation is sent with METHOD:CANCEL. Times are written
in UTC ("Z"), which every calendar shows in the reader's own zone, so no VTIMEZONE block is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Event:
    uid: str
    sequence: int
    starts_at: datetime  # aware
    duration_minutes: int
    summary: str
    stamp: datetime  # when this version was written
    location: str | None = None
    description: str | None = None
    organizer_name: str | None = None
    organizer_email: str | None = None
    cancelled: bool = False


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape(text: str) -> str:
    """TEXT values (RFC 5545 § 3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF + space (§ 3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > limit:
            parts.append(current.decode())
            current = b""
            limit = 74  # the leading space counts
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def calendar(event: Event) -> bytes:
    method = "CANCEL" if event.cancelled else "REQUEST"
    ends_at = event.starts_at + timedelta(minutes=event.duration_minutes)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Wegbegleiter//Termine//DE",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{_utc(event.stamp)}",
        f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(ends_at)}",
        f"SUMMARY:{escape(event.summary)}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape(event.description)}")
    if event.organizer_email:
        name = f";CN=\"{event.organizer_name.replace(chr(34), '')}\"" if event.organizer_name else ""
        lines.append(f"ORGANIZER{name}:mailto:{event.organizer_email}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()
