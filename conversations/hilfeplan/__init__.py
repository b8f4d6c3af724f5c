"""The Hilfeplan calendar (issue 18): the help's start, each Hilfeplangespräch, and the deadlines of seed 004.

Modules: ``rules`` (pure: every deadline from the facts, reminders' moments), ``core`` (talks, items kept in
step with the rules, marking done), ``jobs`` (reminders, overdue notices, the Entwicklungsbericht warning),
``chat`` (/fristen), ``family`` (the family's date and view before a talk). Tables: :mod:`storage.models.hilfeplan`; commands: ``wegbegleiter hilfeplan …``.
"""

from conversations.hilfeplan import chat, family, jobs  # noqa: F401  (they register)
