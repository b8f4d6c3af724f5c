"""Beschwerdemanagement (DOMAIN.md § 4): families complain at any moment, in their language, anonymously
if they wish; the Träger's complaint officers work each complaint to an answer on time.

- :mod:`.rules`: vocabulary, deadlines, who may see a complaint
- :mod:`.procedure`: the steps (send, take over, ask, reply, answer, close, rate) and who is told
- :mod:`.complainant`: /beschwerde and the family's side in the chat
- :mod:`.officer`: /beschwerden and the officers' buttons
- :mod:`.deadlines`: overdue reminders and the Leitung's notice
- :mod:`.report`: lists, exports and yearly figures for the CLI
"""

from conversations.complaints import complainant, deadlines, officer  # noqa: F401  (they register)
