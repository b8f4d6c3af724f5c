"""The channel modules and the setting that switches each on; only the configured ones are imported.

Each module registers its factory with the runner when imported. Importing only what is configured keeps
a Telegram-only bot from loading matrix-nio and its encryption (about 30 MB), and the other way round.
"""

from __future__ import annotations

import importlib

from conversations.settings import Settings

CHANNELS = (  # module, the setting that switches it on
    ("bot.channels.email", "smtp_host"),  # outbound email, issue 6
    ("bot.channels.matrix", "matrix_homeserver"),  # Matrix, issue 4
    ("bot.channels.telegram", "telegram_bot_token"),  # Telegram, issue 3
)


def import_configured(settings: Settings) -> None:
    for module, setting in CHANNELS:
        if getattr(settings, setting):
            importlib.import_module(module)
