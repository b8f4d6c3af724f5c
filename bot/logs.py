"""Log lines: readable text by default, one JSON object per line with LOG_FORMAT=json (for log collectors).

A JSON line carries ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; ``exception`` holds a
traceback if there is one, and values given with ``extra={"fields": {...}}`` come along as their own keys
(the start line's channels, the Telegram bot, the Matrix user and device). One line per event, always:
a newline inside a message is escaped, so a collector never splits an event.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RESERVED = {"time", "level", "logger", "message", "exception"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in (getattr(record, "fields", None) or {}).items():
            line[key if key not in RESERVED else f"field_{key}"] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str, log_format: str = "text") -> None:
    """Log to stderr in the chosen format, unless logging was set up already (a test, an embedding program)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(log_format))
        root.addHandler(handler)
        root.setLevel(level.upper())
        if log_format == "json":
            logging.captureWarnings(True)  # Python's warnings as JSON lines too, not as bare text on stderr
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for noisy in ("httpx", "fontTools", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
