"""What Wegbegleiter says and asks, independent of any chat network.

Channels hand in an :class:`~conversations.messages.Incoming`; the :class:`~conversations.engine.Engine`
runs the flows and writes the replies to the outbox. Nothing here imports python-telegram-bot or matrix-nio.
"""
