"""One module per flow; each registers itself with :data:`conversations.registry.REGISTRY` on import."""
