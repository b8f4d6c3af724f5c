"""Imports every channel module so each registers its factory with the runner."""
import bot.channels.telegram  # noqa: E402,F401  (Telegram, issue 3)
