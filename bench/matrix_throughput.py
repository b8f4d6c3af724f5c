"""Matrix: messages per second and bot CPU per message, Wegbegleiter versus a bare matrix-nio echo bot.

Run by hand (not by pytest); it starts its own Synapse on 127.0.0.1 and both bots as child processes,
so each bot's CPU time is its own (read from /proc)::

    .venv/bin/python -m bench.matrix_throughput --people 8 --turns 20          # E2EE rooms
    .venv/bin/python -m bench.matrix_throughput --people 8 --turns 20 --plain  # unencrypted rooms
    .venv/bin/python -m bench.matrix_throughput --people 8 --turns 20 --repeat 3  # alternating, median ratio

A turn for Wegbegleiter is a full flow step through the real engine, database and outbox: the person
sends ``/sprache`` and gets the language question, then types ``1`` and gets the confirmation. A turn
for the echo bot is one text echoed back. Every person waits for the answer before the next turn (as
people do); all people write at the same time. On 2 cores Synapse itself is the bottleneck, so compare
the bots by CPU per message and latency rather than by messages per second alone.

Printed for each bot: messages/s, bot CPU per message (user and system time of its process, from /proc),
latency p50 and p95; for Wegbegleiter also the CPU split between its event loop (network, nio, encryption)
and the threads that do its database work (engine turns, outbox claims and marks). A bot's CPU per message
depends on how many messages share a sync and an outbox claim, so compare runs of similar messages/s.
``--profile FILE`` samples Wegbegleiter's turns with py-spy (``.venv/bin/pip install py-spy``);
``bench/profile_summary.py FILE`` says where the CPU went. Figures: bench/README.md, section "Matrix".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, MatrixRoom, RoomMessageText

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ports import web_listen  # noqa: E402
from tests.support.synapse import MatrixPerson, Synapse, User  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"


# --- the bare echo bot (runs in its own process) ------------------------------------------------------
async def echo_bot(homeserver: str, user_id: str, device_id: str, token: str, store: str) -> None:
    Path(store).mkdir(parents=True, exist_ok=True)
    client = AsyncClient(homeserver, user_id, device_id=device_id, store_path=store,
                         config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False))
    client.restore_login(user_id, device_id, token)

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != user_id:
            await client.room_send(room.room_id, "m.room.message", {"msgtype": "m.text", "body": event.body},
                                   ignore_unverified_devices=True)

    client.add_event_callback(on_invite, InviteMemberEvent)
    client.add_event_callback(on_text, RoomMessageText)
    if client.should_upload_keys:
        await client.keys_upload()
    await client.sync_forever(timeout=30_000, full_state=True)


# --- measuring -----------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    return stat_cpu(Path(f"/proc/{pid}/stat"))


def stat_cpu(stat: Path) -> float:
    """User and system CPU seconds from a /proc …/stat file."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds per thread of a process: the main thread runs the event loop (network, nio, encryption),
    the others the database work handed to threads (engine turns, outbox claims and marks)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found[int(task.name)] = stat_cpu(task / "stat")
    return found


def split(pid: int, before: dict[int, float], count: int) -> str:
    after = thread_cpu(pid)
    main = after.get(pid, 0.0) - before.get(pid, 0.0)
    threads = sum(cpu - before.get(tid, 0.0) for tid, cpu in after.items() if tid != pid)
    return f"event loop {1000 * main / count:.1f} ms/msg, database threads {1000 * threads / count:.1f} ms/msg"


async def drive(people: list[MatrixPerson], rooms: list[str], turns: int, step) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []

    async def one(person: MatrixPerson, room: str) -> None:
        for turn in range(turns):
            started = time.perf_counter()
            await step(person, room, turn)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(p, r) for p, r in zip(people, rooms, strict=True)))
    return time.perf_counter() - started, latencies


async def echo_step(person: MatrixPerson, room: str, turn: int) -> None:
    text = f"ping {turn}"
    await person.say(room, text)
    await person.until(room, text, timeout=60)


async def flow_step(person: MatrixPerson, room: str, turn: int) -> None:
    if turn % 2 == 0:
        await person.say(room, "/sprache")
        await person.until(room, "In welcher Sprache", timeout=60)
    else:
        await person.say(room, "1")  # Deutsch
        await person.until(room, "auf Deutsch", timeout=60)


def profiler(pid: int, path: str) -> subprocess.Popen[bytes]:
    """py-spy sampling the bot while the turns run (only threads holding the GIL: where its CPU goes),
    as collapsed stacks for ``bench/profile_summary.py``."""
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--gil", "--rate", "500", "--format", "raw",
                             "--output", path, "--nonblocking"], stdout=subprocess.DEVNULL)


def report(name: str, elapsed: float, latencies: list[float], cpu: float) -> dict[str, float]:
    count = len(latencies)
    figures = {"messages_per_s": count / elapsed, "cpu_ms_per_message": 1000 * cpu / count,
               "latency_p50_ms": 1000 * statistics.median(latencies),
               "latency_p95_ms": 1000 * statistics.quantiles(latencies, n=20)[18]}
    print(f"{name:12s} {count:4d} turns in {elapsed:5.1f} s: {figures['messages_per_s']:5.1f} msg/s, "
          f"bot CPU {figures['cpu_ms_per_message']:5.1f} ms/msg, latency p50 {figures['latency_p50_ms']:4.0f} ms, "
          f"p95 {figures['latency_p95_ms']:4.0f} ms")
    return figures


# --- setting up ----------------------------------------------------------------------------------
def wegbegleiter_data(workdir: Path, count: int) -> tuple[dict[str, str], list[str]]:
    """A database with the demo and ``count`` extra family members; returns the environment and codes."""
    from bot.app import build
    from bot.demo import ACTOR, seed
    from conversations import admin
    from conversations.settings import Settings
    from storage.models import Case, MemberKind

    env = {"WEGBEGLEITER_DATA_DIR": str(workdir / "wb"), "WEGBEGLEITER_SECRET_KEY": SECRET, "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"sqlite:///{workdir}/wb.db", "HTTP_LISTEN": "{}:{}".format(*web_listen())}
    app = build(Settings(data_dir=env["WEGBEGLEITER_DATA_DIR"], database_url=env["DATABASE_URL"], secret_key=SECRET,
                         log_level="WARNING"), init=True)
    codes = []
    with app.sessions.begin() as session:
        now = app.services.clock.now()
        seed(session, app.services.clock, 14)
        case = session.query(Case).first()
        for number in range(count):
            member = admin.add_member(session, ACTOR, now, case, f"Kind{number}", "Bench", MemberKind.CHILD,
                                      date(2012, 1, 1), "de")
            codes.append(admin.invite(session, ACTOR, now, member, 14))
    app.db.dispose()
    return env, codes


async def family(server: Synapse, workdir: Path, count: int, tag: str) -> list[MatrixPerson]:
    people = []
    for number in range(count):
        person = MatrixPerson(server, server.register(f"{tag}{number}"), workdir / f"{tag}-{number}")
        await person.start()
        people.append(person)
    return people


async def open_rooms(people: list[MatrixPerson], bot: User, encrypted: bool) -> list[str]:
    rooms = await asyncio.gather(*(p.direct_chat(bot.user_id, encrypted=encrypted) for p in people))
    await asyncio.gather(*(p.wait_for(lambda p=p, r=r: bot.user_id in p.joined.get(r, ()), timeout=60)
                           for p, r in zip(people, rooms, strict=True)))
    return list(rooms)


async def onboard(person: MatrixPerson, room: str, code: str) -> None:
    await person.say(room, code)
    await person.until(room, "1. Deutsch", timeout=60)
    await person.say(room, "1")
    await person.until(room, "Bevor es losgeht", timeout=60)
    await person.say(room, "1")  # Ich bin einverstanden
    await person.until(room, "1. Hilfe und Kontakt", timeout=60)  # the menu (young people: du-form)


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="wb-matrix-bench-"))
    server = Synapse(workdir / "synapse")
    (workdir / "synapse").mkdir()
    server.start()
    children: list[subprocess.Popen[bytes]] = []
    try:
        # The bare echo bot and Wegbegleiter (as `wegbegleiter run` serves it) run side by side; their turns
        # alternate, so that what else the machine does weighs on both alike.
        echo = server.register("echo")
        echo_bot_process = subprocess.Popen([sys.executable, __file__, "--echo-bot", server.url, echo.user_id,
                                             echo.device_id, echo.access_token, str(workdir / "echo-store")], cwd=ROOT)
        children.append(echo_bot_process)
        echo_people = await family(server, workdir, args.people, "e")
        echo_rooms = await open_rooms(echo_people, echo, not args.plain)
        await asyncio.gather(*(p.say(r, "warm up") for p, r in zip(echo_people, echo_rooms, strict=True)))
        await asyncio.gather(*(p.until(r, "warm up", timeout=60) for p, r in zip(echo_people, echo_rooms, strict=True)))

        bot = server.register("wegbegleiter")
        env, codes = wegbegleiter_data(workdir, args.people)
        env |= {"MATRIX_HOMESERVER": server.url, "MATRIX_USER_ID": bot.user_id, "MATRIX_PASSWORD": bot.password}
        wegbegleiter = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env={**os.environ, **env})
        children.append(wegbegleiter)
        people = await family(server, workdir, args.people, "w")
        rooms = await open_rooms(people, bot, not args.plain)
        await asyncio.gather(*(p.until(r, "Code", timeout=60) for p, r in zip(people, rooms, strict=True)))
        await asyncio.gather(*(onboard(p, r, c) for p, r, c in zip(people, rooms, codes, strict=True)))

        ratios = []
        for run in range(args.repeat):
            cpu = cpu_seconds(echo_bot_process.pid)
            elapsed, latencies = await drive(echo_people, echo_rooms, args.turns, echo_step)
            bare = report("echo bot", elapsed, latencies, cpu_seconds(echo_bot_process.pid) - cpu)
            spy = profiler(wegbegleiter.pid, args.profile) if args.profile and run == 0 else None
            cpu, threads = cpu_seconds(wegbegleiter.pid), thread_cpu(wegbegleiter.pid)
            elapsed, latencies = await drive(people, rooms, args.turns, flow_step)
            full = report("wegbegleiter", elapsed, latencies, cpu_seconds(wegbegleiter.pid) - cpu)
            print(f"{'':12s} bot CPU: {split(wegbegleiter.pid, threads, len(latencies))}")
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
            ratios.append(full["cpu_ms_per_message"] / bare["cpu_ms_per_message"])
            print(f"{'':12s} run {run + 1}: {ratios[-1]:.1f}×", flush=True)
        for person in [*echo_people, *people]:
            await person.stop()
        print(f"{'E2EE' if not args.plain else 'plain'} rooms, {args.people} people: Wegbegleiter uses "
              f"{statistics.median(ratios):.1f}× the echo bot's CPU per message"
              + (f" (median of {len(ratios)} alternating runs: {', '.join(f'{r:.1f}' for r in ratios)})"
                 if len(ratios) > 1 else ""))
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
                child.wait(10)
        server.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--echo-bot":
        asyncio.run(echo_bot(*sys.argv[2:7]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=8, help="family members writing at the same time")
    parser.add_argument("--turns", type=int, default=20, help="turns per person")
    parser.add_argument("--profile", metavar="FILE", help="py-spy's collapsed stacks of the Wegbegleiter turns "
                        "into FILE (pip install py-spy)")
    parser.add_argument("--plain", action="store_true", help="unencrypted rooms instead of E2EE")
    parser.add_argument("--repeat", type=int, default=1, help="alternate the two bots' turns this often; the median "
                        "ratio counts (the echo bot's own figure swings by a fifth between runs)")
    asyncio.run(main(parser.parse_args()))
