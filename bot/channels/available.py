"""Imports every channel module so each registers its factory with the runner."""
import bot.channels.telegram  # noqa: E402,F401  (Telegram, issue 3)
from bot.channels import email  # noqa: F401  (outbound email, issue 6)
from bot.channels import matrix  # noqa: F401  (Matrix, issue 4)
