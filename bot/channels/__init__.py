"""One module per chat network. Each turns network events into ``Incoming`` and delivers outbox messages."""
