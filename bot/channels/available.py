"""The channel modules and the setting that switches each on; only the configured ones are imported.

Each module registers its factory with the runner when imported. Importing only what is configured keeps
a Telegram-only bot from loading matrix-nio and its encryption (about 30 MB), and the other way round.
"""

from __future__ import annotations

import importlib
import sys

from conversations.settings import Settings

CHANNELS = (  # module, the setting that switches it on
    ("bot.channels.email", "smtp_host"),  # outbound email, issue 6
    ("bot.channels.matrix", "matrix_homeserver"),  # Matrix, issue 4
    ("bot.channels.telegram", "telegram_bot_token"),  # Telegram, issue 3
)


# Parts of libraries that no channel uses but that load because what they need is installed: httpcore's
# HTTP/2 connections (h2, hpack, hyperframe: about 1.5 MB of a running bot; h2 is installed for matrix-nio,
# while the Bot API client speaks HTTP/1.1, python-telegram-bot's default), httpx's command line (pygments,
# where pytest brought it). Marked absent before the channels are imported, they take the libraries' own
# way for a missing optional package: a stand-in that says so if it were ever used.
UNUSED_MODULES = ("httpcore._sync.http2", "httpcore._async.http2", "httpx._main")


def leave_out_unused_modules() -> None:
    for module in UNUSED_MODULES:
        sys.modules.setdefault(module, None)  # type: ignore[arg-type]  (None: "import fails", as documented)


def import_configured(settings: Settings) -> None:
    leave_out_unused_modules()
    for module, setting in CHANNELS:
        if getattr(settings, setting):
            importlib.import_module(module)
