"""Every job's module, imported once so its flows, commands, actions and tasks register.

Add a new job's module here.
"""

from conversations import housekeeping  # noqa: F401
from conversations.flows import account, onboarding  # noqa: F401
from conversations import appointments, budget  # noqa: F401  (appointments and the hour budget, issue 5)
from conversations import appointment_chat, appointment_jobs, nachweis  # noqa: F401  (issue 5)
from conversations import complaints  # noqa: F401  (Beschwerdemanagement, issue 9)
from conversations import milestone  # noqa: F401  (Meilensteingespräch, issue 8)
from conversations import child_protection, escalations  # noqa: F401  (escalations and child protection, issue 6)
