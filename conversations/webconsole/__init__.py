"""The staff console's side in the conversation core: sign-in links (``/web`` in the chat, or by email).

The web routes live in :mod:`bot.web.console`; what they read and change goes through the same job
functions as the chat, and every permission through :mod:`conversations.authz`.
"""

from conversations.webconsole import signin  # noqa: F401  (registers the /web command)
