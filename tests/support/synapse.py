"""A real Synapse homeserver on 127.0.0.1 for the Matrix tests and the Matrix benchmark.

Started once per test session (about 3 s on a fresh SQLite database), stopped at the end. The config is
generated into a temporary folder: a random free port, SQLite, a registration shared secret (users are
registered through the admin API, about 30 ms each) and rate limits relaxed so that tests never wait
for them. Federation, presence and URL previews are off: nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    RoomCreateError,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
    RoomSendError,
)
from nio.crypto.attachments import decrypt_attachment

SERVER_NAME = "wegbegleiter.test"
_RELAXED = {"per_second": 1000, "burst_count": 1000}
_RATE_LIMITS = {
    "rc_message": _RELAXED,
    "rc_registration": _RELAXED,
    "rc_login": {"address": _RELAXED, "account": _RELAXED, "failed_attempts": _RELAXED},
    "rc_joins": {"local": _RELAXED, "remote": _RELAXED},
    "rc_joins_per_room": _RELAXED,
    "rc_invites": {"per_room": _RELAXED, "per_user": _RELAXED, "per_issuer": _RELAXED},
    "rc_key_requests": _RELAXED,
    "rc_media_create": _RELAXED,
    "rc_room_creation": _RELAXED,
    "rc_admin_redaction": _RELAXED,
    "rc_presence": {"per_user": _RELAXED},
    "rc_profile": _RELAXED,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class User:
    user_id: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    """One homeserver process; :meth:`register` makes users, :meth:`stop` ends it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.shared_secret = secrets.token_hex(16)
        self._names = itertools.count(1)
        self.process: subprocess.Popen[bytes] | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    def write_config(self) -> Path:
        d = self.workdir
        (d / "log.yaml").write_text(
            "version: 1\nformatters: {plain: {format: '%(asctime)s %(levelname)s %(name)s: %(message)s'}}\n"
            f"handlers: {{file: {{class: logging.FileHandler, formatter: plain, filename: '{d}/homeserver.log'}}}}\n"
            "root: {level: WARNING, handlers: [file]}\ndisable_existing_loggers: false\n"
        )
        config = {
            "server_name": SERVER_NAME,
            "pid_file": str(d / "homeserver.pid"),
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                           "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]}],
            "database": {"name": "sqlite3", "args": {"database": str(d / "homeserver.db")}},
            "log_config": str(d / "log.yaml"),
            "media_store_path": str(d / "media"),
            "signing_key_path": str(d / "signing.key"),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "enable_registration": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "enable_metrics": False,
            **_RATE_LIMITS,
        }
        path = d / "homeserver.yaml"
        path.write_text(json.dumps(config, indent=1))  # JSON is YAML
        return path

    def start(self, timeout: float = 60.0) -> None:
        config = self.write_config()
        env = {**os.environ, "SYNAPSE_CACHE_FACTOR": "0.5"}
        subprocess.run([sys.executable, "-m", "synapse.app.homeserver", "-c", str(config), "--generate-keys"],
                       check=True, capture_output=True, cwd=self.workdir, env=env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)],
            cwd=self.workdir, env=env, stdout=subprocess.DEVNULL, stderr=(self.workdir / "stderr.log").open("wb"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited: {(self.workdir / 'stderr.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("Synapse did not start in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # --- admin API ----------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def register(self, name: str | None = None, *, admin: bool = False) -> User:
        """A new user through the shared-secret admin API (no subprocess: about 30 ms)."""
        localpart = name or f"user{next(self._names)}"
        localpart = f"{localpart}-{secrets.token_hex(3)}"  # unique across tests in one server
        password = secrets.token_urlsafe(12)
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        answer = self._request("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest(),
        })
        return User(answer["user_id"], password, answer["access_token"], answer["device_id"])

    def create_room(self, creator: User, invite: list[str]) -> str:
        return str(self._request("POST", "/_matrix/client/v3/createRoom", {"invite": invite},
                                 token=creator.access_token)["room_id"])

    def override_ratelimit(self, admin: User, user_id: str, per_second: float, burst: int) -> None:
        """Strict message limits for one user, to see M_LIMIT_EXCEEDED for real."""
        self._request("POST", f"/_synapse/admin/v1/users/{user_id}/override_ratelimit",
                      {"messages_per_second": per_second, "burst_count": burst}, token=admin.access_token)


# --- a person with a Matrix app (matrix-nio), playing the family in tests and the benchmark ------------
ENCRYPTION_STATE = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class MatrixPerson:
    """A family member's Matrix app: creates direct chats as Element does, writes, reacts, sends files,
    and collects what other people (the bot) write into each room, decrypted."""

    def __init__(self, server: Synapse, user: User, store_dir: Path) -> None:
        store_dir.mkdir(parents=True, exist_ok=True)
        self.user = user
        self.client = AsyncClient(server.url, user.user_id, device_id=user.device_id, store_path=str(store_dir),
                                  config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False))
        self.client.restore_login(user.user_id, user.device_id, user.access_token)
        self.received: dict[str, list[Any]] = {}
        self.left: set[str] = set()
        self.joined: dict[str, set[str]] = {}  # per room: who joined (besides this person)
        self._read: dict[str, int] = {}  # per room: messages already waited for
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.client.add_event_callback(self._on_event, (RoomMessageText, RoomMessageNotice, RoomMessageMedia,
                                                        RoomEncryptedMedia, RoomMemberEvent))
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=2000))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def _on_event(self, room: Any, event: Any) -> None:
        if event.sender == self.user.user_id:
            return
        async with self._changed:
            if isinstance(event, RoomMemberEvent):
                if event.membership == "leave":
                    self.left.add(room.room_id)
                elif event.membership == "join":
                    self.joined.setdefault(room.room_id, set()).add(event.state_key)
            else:
                self.received.setdefault(room.room_id, []).append(event)
            self._changed.notify_all()

    # --- doing things ------------------------------------------------------------------------
    async def direct_chat(self, other: str, *, encrypted: bool = True, also_invite: tuple[str, ...] = ()) -> str:
        answer = await self.client.room_create(is_direct=True, invite=[other, *also_invite],
                                               preset=RoomPreset.trusted_private_chat,
                                               initial_state=[ENCRYPTION_STATE] if encrypted else [])
        assert not isinstance(answer, RoomCreateError), answer
        await self.wait_for(lambda: answer.room_id in self.client.rooms)
        return str(answer.room_id)

    async def say(self, room_id: str, text: str) -> str:
        return await self.send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send(room_id, "m.reaction", {"m.relates_to": {
            "rel_type": "m.annotation", "event_id": event_id, "key": key}})

    async def send_file(self, room_id: str, data: bytes, filename: str, mime: str, msgtype: str = "m.file") -> str:
        encrypted = self.client.rooms[room_id].encrypted
        answer, keys = await self.client.upload(io.BytesIO(data), mime, filename, encrypt=encrypted,
                                                filesize=len(data))
        content: dict[str, Any] = {"msgtype": msgtype, "body": filename, "info": {"mimetype": mime, "size": len(data)}}
        if keys:
            content["file"] = {**keys, "url": answer.content_uri}
        else:
            content["url"] = answer.content_uri
        return await self.send(room_id, "m.room.message", content)

    async def send(self, room_id: str, kind: str, content: dict[str, Any]) -> str:
        answer = await self.client.room_send(room_id, kind, content, ignore_unverified_devices=True)
        assert not isinstance(answer, RoomSendError), answer
        return str(answer.event_id)

    async def fetch(self, event: Any) -> bytes:
        """The bytes of a file the bot sent (decrypted in an encrypted room)."""
        answer = await self.client.download(event.url)
        if hasattr(event, "key"):
            return bytes(decrypt_attachment(answer.body, event.key["k"], event.hashes["sha256"], event.iv))
        return bytes(answer.body)

    # --- seeing what arrived ------------------------------------------------------------------
    async def wait_for(self, condition: Any, timeout: float = 20.0) -> None:
        async def until() -> None:
            async with self._changed:
                while not condition():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.2)

        await asyncio.wait_for(until(), timeout)

    async def messages(self, room_id: str, count: int, timeout: float = 20.0) -> list[Any]:
        """Wait until ``count`` messages arrived in the room in all; return them all."""
        try:
            await self.wait_for(lambda: len(self.received.get(room_id, [])) >= count, timeout)
        except TimeoutError:
            bodies = [getattr(e, "body", e) for e in self.received.get(room_id, [])]
            raise AssertionError(f"expected {count} messages in {room_id}, got {bodies}") from None
        return self.received[room_id]

    async def next_text(self, room_id: str, timeout: float = 20.0) -> str:
        """Wait for the next message not yet waited for and return its text."""
        seen = self._read.get(room_id, 0)
        self._read[room_id] = seen + 1
        return str((await self.messages(room_id, seen + 1, timeout))[seen].body)

    async def until(self, room_id: str, fragment: str, timeout: float = 20.0) -> str:
        """Wait for a message containing ``fragment`` (after those already waited for); return its text."""
        start = self._read.get(room_id, 0)

        def found() -> int | None:
            for index, event in enumerate(self.received.get(room_id, [])[start:], start):
                if fragment in str(getattr(event, "body", "")):
                    return index
            return None

        try:
            await self.wait_for(lambda: found() is not None, timeout)
        except TimeoutError:
            bodies = [getattr(e, "body", e) for e in self.received.get(room_id, [])[start:]]
            raise AssertionError(f"no message with {fragment!r} in {room_id}: {bodies}") from None
        index = found()
        assert index is not None
        self._read[room_id] = index + 1
        return str(self.received[room_id][index].body)
