"""Imports each job's CLI commands so they attach to the `wegbegleiter` group. Add new modules here."""
# ruff: noqa: F401

from bot import (
    cli_access,  # people come and go: deactivate, unlink, handover, closing: issue 15
    cli_appointments,  # appointments, budget, Nachweis: issue 5
    cli_billing,  # organisation details for billing, working days: issue 14
    cli_complaints,  # complaints: issue 9
    cli_console,  # the staff console (web): issue 17
    cli_escalations,  # escalations and alerts: issue 6
    cli_hilfeplan,  # the Hilfeplan calendar: issue 18
    cli_milestone,  # goals, milestone: issue 8
    cli_privacy,  # retention, purge, keys: issue 15
    cli_report,  # the Träger's figures: issue 18
    cli_terminal,  # demo and chat --as NAME: issue 19
)
