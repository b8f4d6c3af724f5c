"""Network trouble with the Bot API is one WARNING line, not a traceback at ERROR.

A proxy in front of the Bot API that answers 502 with an HTML page made python-telegram-bot log the
whole page with a traceback ("Can not load invalid JSON data") and then raise a ``NetworkError`` whose
text holds the page again. The error that follows is what matters, and our callers log it (polling)
or turn it into a retry (the outbox): so the parser's record is dropped, PTB's own records of network
errors lose their traceback and become WARNING, and :func:`brief` leaves the page out of the error's text.
"""

from __future__ import annotations

import logging
import re

from telegram.error import BadRequest, NetworkError

PAGE = re.compile(r"\. Parsing the server response .* failed\Z", re.DOTALL)
PTB_LOGGERS = ("telegram.request.BaseRequest", "telegram.ext", "telegram.ext.Updater", "telegram.ext.Application")


def brief(exc: BaseException) -> str:
    """The error's text without a server's page: "Bad Gateway (502), not a Bot API answer"."""
    text = str(exc) or type(exc).__name__
    shortened = PAGE.sub("", text)
    return shortened if shortened == text else f"{shortened}, not a Bot API answer"


class NetworkTroubleOnOneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Can not load invalid JSON data"):
            return False  # the NetworkError raised next says it in one line
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
            record.msg, record.args = "%s: %s", (record.getMessage(), brief(exc))
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install() -> None:
    for name in PTB_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NetworkTroubleOnOneLine) for f in logger.filters):
            logger.addFilter(NetworkTroubleOnOneLine())
