"""Every job's module, imported once so its flows, commands, actions and tasks register.

Add a new job's module here. The order is deliberate (hence no import sorting): commands appear in
/hilfe and the menu in the order they register, basics first.
"""
# ruff: noqa: I001, F401

from conversations import housekeeping
from conversations.flows import account, onboarding
from conversations import appointments, budget, appointment_chat, appointment_jobs, nachweis  # issue 5
from conversations import agenda  # Meine Termine and the staff agenda, issue 13
from conversations import complaints  # Beschwerdemanagement, issue 9
from conversations import milestone  # Meilensteingespräch, issue 8
from conversations import child_protection, escalations  # issue 6
from conversations import privacy  # retention and deletion on schedule, issue 15
from conversations import webconsole  # the staff console's sign-in links, issue 17
from conversations import hilfeplan  # the Hilfeplan calendar, issue 18
