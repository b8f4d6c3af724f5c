"""Meilensteingespräch (issue 8): the family's voice collected beforehand, prepared for the person who leads it.

Modules: ``core`` (goals, the review, answers, who may read what), ``questions`` and ``questionnaire`` (the
flow families and Fachkräfte answer), ``summary``/``pdf`` (for the Gesprächsführer*in), ``evaluation``
(after the meeting), ``scan`` (invitations, the one reminder, the summary, evaluation and action reminders),
``staff`` (/meilenstein). The timing rules are pure functions in :mod:`conversations.rules.milestone`.
"""

from conversations.milestone import evaluation, goals_chat, questionnaire, scan, staff  # noqa: F401  (they register)
