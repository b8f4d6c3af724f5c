"""The web port a benchmark listens on: ``HTTP_LISTEN`` from the environment when set (a port set aside for
you on a shared machine), otherwise a free port on 127.0.0.1. Never the default 8080 another program (or
another engineer's run) may hold."""

from __future__ import annotations

import os
import socket


def web_listen() -> tuple[str, int]:
    listen = os.environ.get("HTTP_LISTEN", "")
    if listen:
        host, _, port = listen.rpartition(":")
        return host or "127.0.0.1", int(port)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return "127.0.0.1", probe.getsockname()[1]
