"""`wegbegleiter demo` and `wegbegleiter chat`: Wegbegleiter in this terminal.

``--as NAME`` names a person (Ayşe, ayse, "Jana Weber", Schulz: case and accents do not matter) and opens
their chat in this terminal. Someone without one yet is linked here with a fresh invite code, sent as if
typed: the language question and the privacy notice follow, as on a phone. A name that fits several people,
or nobody, is answered with the names to choose from. Without ``--as`` the terminal is a chat of its own
("demo") where any invite code can be typed.

While the chat runs, log lines go to ``<data dir>/wegbegleiter.log``: the terminal shows the conversation only.
"""

from __future__ import annotations

import shlex
import socket
from dataclasses import dataclass, replace
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import cli_import, config  # noqa: F401  (cli_import: member/staff import, issue 19 like this module)
from bot.app import App, build, logging_to_file
from bot.cli import CLI, cli, emit, fail_cleanly, json_option, load_app, t
from conversations import admin
from conversations.admin import AdminError
from storage.models import ChatIdentity, FamilyMember

CHANNEL = "console"
OWN_CHAT = "demo"  # the terminal's own chat, where any invite code can be typed
NAMES_LISTED = 12  # a name that fits nobody lists this many people (a Träger has hundreds)


@dataclass(frozen=True)
class Seat:
    """Where the terminal chats: the console address, who is linked there, and a code to send first."""

    address: str
    who: str | None
    code: str | None = None


def chat_command(person: admin.Person) -> str:
    return f"wegbegleiter chat --as {shlex.quote(admin.person_name(person))}"


def _linked_at(session: Session, address: str) -> admin.Person | None:
    chat = session.scalar(select(ChatIdentity).where(ChatIdentity.channel == CHANNEL, ChatIdentity.address == address))
    return (chat.member or chat.staff) if chat else None


def _terminal_chat(session: Session, person: admin.Person) -> ChatIdentity | None:
    whose = ChatIdentity.member_id if isinstance(person, FamilyMember) else ChatIdentity.staff_id
    return session.scalar(select(ChatIdentity).where(ChatIdentity.channel == CHANNEL, whose == person.id)
                          .order_by(ChatIdentity.linked_at.desc()).limit(1))


def _names(people: list[admin.Person]) -> str:
    names = [admin.person_name(p) for p in people[:NAMES_LISTED]]
    return ", ".join(names) + (f", … (+{len(people) - NAMES_LISTED})" if len(people) > NAMES_LISTED else "")


def take_seat(app: App, name: str | None) -> Seat:
    """The chat for ``--as NAME``: the person's chat in this terminal (linking it first if there is none)."""
    with app.sessions.begin() as session:
        if name is None:
            linked = _linked_at(session, OWN_CHAT)
            return Seat(OWN_CHAT, admin.person_name(linked) if linked else None)
        found = admin.find_people(session, name)
        if len(found) > 1:
            raise AdminError("{name!r} fits several people: {people}; give more of the name", name=name,
                             people=_names(found))
        if found:
            person, who = found[0], admin.person_name(found[0])
            chat = _terminal_chat(session, person)
            if chat is not None:
                return Seat(chat.address, who)
            # Used at once and never shown: the person's letter stays valid.
            code = admin.invite(session, CLI, app.services.clock.now(), person, app.settings.invite_ttl_days,
                                revoke_unused=False)
            return Seat(who, who, code)
        if (linked := _linked_at(session, name)) is not None:  # a label of one's own, linked earlier
            return Seat(name, admin.person_name(linked))
        raise AdminError("nobody here is called {name!r}; people: {people}", name=name,
                         people=_names(admin.people(session)) or "—")


def open_chat(app: App, name: str | None, *, web: bool = False) -> None:
    from bot.channels import console

    seat = take_seat(app, name)
    with logging_to_file(app.settings) as log:
        who = seat.who or t("a new chat: type an invite code")
        lines = [t("— Wegbegleiter in this terminal: {who}. /hilfe for help, Ctrl-D to leave. Log: {log} —",
                   who=who, log=log)]
        if seat.code:
            lines.append(t("{who} has no chat in this terminal yet: it is linked now with a new invite code.",
                           who=seat.who))
        console.main(app, seat.address, banner="\n".join(lines), first=seat.code, web=web)


@cli.command()
@click.option("--as", "name", help="Whose chat: a person's name (Ayşe, Jana Weber, …). Default: the terminal's "
                                   "own chat, where an invite code can be typed.")
@fail_cleanly
def chat(name: str | None) -> None:
    """Talk to Wegbegleiter in this terminal as a person of the database (choices are numbered)."""
    open_chat(load_app(), name)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def console_port(app: App) -> tuple[App, str | None]:
    """The demo serves the staff console beside the terminal chat. Its port may be taken (another program on
    8080 is common on a developer's machine): with HTTP_LISTEN and PUBLIC_BASE_URL left at their defaults the
    demo takes a free port instead and says so; a port someone chose is not changed, the note says why the
    links will not open."""
    host, _, port = app.settings.http_listen.rpartition(":")
    host = host.strip("[]")
    if _port_free(host, int(port)):
        return app, None
    origins = config.load_with_origins()[1]
    if origins["http_listen"] != config.DEFAULT or origins["public_base_url"] != config.DEFAULT:
        return app, t("{listen} is in use, so the console cannot start: set HTTP_LISTEN and PUBLIC_BASE_URL to a "
                      "free port", listen=app.settings.http_listen)
    with socket.socket() as probe:
        probe.bind((host, 0))
        free = probe.getsockname()[1]
    settings = replace(app.settings, http_listen=f"{host}:{free}", public_base_url=f"http://{host}:{free}")
    return build(settings, app.services.clock), t("Port {port} is in use: the console runs on port {free} this time.", port=port,
                              free=free)


def _demo_text(data: dict[str, Any]) -> str:
    lines = []
    if data["invites"]:
        lines.append(t("Demo invite codes (each works once; send one to link the chat as that person):"))
        kinds = {"parent": t("parent"), "adult": t("adult"), "child": t("child")}
        lines += [f"  {c['code']}  {c['who']}  [{kinds.get(c['role'], c['role'])}]" for c in data["invites"]]
    if data["linked"]:
        lines.append(t("Linked in this terminal already (open the chat again with the command):"))
        lines += [f"  {row['who']:24} {row['chat']}" for row in data["linked"]]
    lines += ["", t("Anyone's chat in this terminal: wegbegleiter chat --as NAME (Ayşe, Jana, Kerstin, …)")]
    if data["console"]:
        lines += ["", t("Staff console in the browser (each link works once, for 10 minutes):")]
        lines += [f"  {who}: {url}" for who, url in data["console"].items()]
        if data.get("console_note"):
            lines.append("  " + data["console_note"])
        if data.get("no_chat"):
            lines.append("  " + t("(the links open while `wegbegleiter web` or `wegbegleiter run` is running)"))
    return "\n".join(lines)


@cli.command()
@click.option("--as", "name", help="Open this person's chat (Ayşe, Jana, …). Default: the terminal's own chat, "
                                   "where an invite code can be typed.")
@click.option("--no-chat", is_flag=True, help="Only set up the demo data and print the codes.")
@json_option
@fail_cleanly
def demo(name: str | None, no_chat: bool, as_json: bool) -> None:
    """Set up the demo (Brücke e.V., the Yılmaz family, staff) and chat in the terminal; again: the same
    people, new codes for those not linked yet."""
    from bot import demo as demo_data
    from bot import demo_hilfeplan

    app = load_app(init=True)
    note = None
    if not no_chat and not as_json:
        app, note = console_port(app)
    with app.sessions.begin() as session:
        demo_data.seed(session, app.services.clock, app.settings.invite_ttl_days)
        demo_hilfeplan.hilfeplan_dates(session, app.services)
        codes = demo_data.fresh_invites(session, app.services.clock, app.settings.invite_ttl_days)
        links = demo_data.console_links(session, app.services.clock, app.settings.public_base_url)
        linked = [person for person in admin.people(session) if _terminal_chat(session, person) is not None]
        data = {"invites": [c.__dict__ for c in codes], "console": links,
                "linked": [{"who": admin.person_name(p), "chat": chat_command(p)} for p in linked],
                "console_note": note, "no_chat": no_chat}
    emit(data, lambda: _demo_text(data), as_json)
    if not no_chat and not as_json:
        open_chat(app, name, web=True)
