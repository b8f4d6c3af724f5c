"""People come and go (issue 15): access exactly as long as the role lasts.

- :mod:`.chats`: unlinking a chat (one, or all of a person's)
- :mod:`.handover`: a case changes hands: the family is told who its contact is, the newcomer gets a
  summary, the one who leaves loses the case at once
- :mod:`.leaving`: a staff member leaves the Träger: chats unlinked, open work handed on, no more messages
- :mod:`.closing`: the help ends: a goodbye, reminders stop, chats unlinked, complaints still answered

Who may do what is decided in :mod:`conversations.authz` from *current* assignments and ``active``, so
ending an assignment or deactivating a person takes every right away in the same transaction.
"""
