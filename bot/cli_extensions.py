"""Imports each job's CLI commands so they attach to the `wegbegleiter` group. Add new modules here."""
from bot import cli_complaints  # noqa: E402,F401  (complaints: issue 9)
from bot import cli_appointments  # noqa: F401  (appointments, budget, Nachweis: issue 5)
from bot import cli_milestone  # noqa: E402,F401  (goals, milestone: issue 8)
from bot import cli_escalations  # noqa: F401  (escalations and alerts, issue 6)
