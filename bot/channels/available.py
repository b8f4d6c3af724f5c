"""Imports every channel module so each registers its factory with the runner."""
# ruff: noqa: F401

from bot.channels import (
    email,  # outbound email, issue 6
    matrix,  # Matrix, issue 4
    telegram,  # Telegram, issue 3
)
