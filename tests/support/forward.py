"""A TCP port in front of a real server (PostgreSQL, Synapse, the Telegram stand-in) that can be switched off.

Closed, nothing listens on the port: connecting is refused, as when a server is down or not started
yet. Opened, every connection is passed through to the real server. Tests start the bot against a
closed port and open it later, to see start-up wait and carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Forwarder:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.connections = 0
        self._thread = threading.Thread(target=self.loop.run_forever, name="forwarder", daemon=True)
        self._thread.start()

    @property
    def url_host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def open(self) -> None:
        async def start() -> None:
            self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port, reuse_address=True)

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def close(self) -> None:
        async def stop() -> None:
            if self.server is not None:
                self.server.close()
                self.server = None

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)

    def shutdown(self) -> None:
        self.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(Exception):
                sink.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
