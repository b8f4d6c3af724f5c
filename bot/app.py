"""The app, with every job registered first, in the order of conversations.jobs (the chat's menu and /hilfe
list commands in the order they registered). Import the app from here (the channels, the runner, the web, the
tests): a job's module imported before the engine would register out of its turn. The wiring is
:mod:`bot.wiring`; only the command line imports it directly, to start without the flows.
"""

from bot.wiring import LOG_FORMAT, App, RunStatus, build, logging_to_file  # imports no job
from conversations.engine import Engine  # every job registers, in the order of conversations.jobs

__all__ = ["LOG_FORMAT", "App", "Engine", "RunStatus", "build", "logging_to_file"]
