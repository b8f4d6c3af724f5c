"""The running program: configuration, CLI, wiring, channels, scheduler and outbox delivery."""
