"""What a flow sees during one turn: the person, their language, the session, and ways to answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from conversations import address
from conversations.authz import Principal, in_audience
from conversations.chat_state import ChatState
from conversations.choices import Offer, distinct, offers
from conversations.clock import Clock
from conversations.flows.base import Frame
from conversations.i18n import Translator, offered_language
from conversations.messages import Attachment, Choice, Incoming, Reply
from conversations.registry import REGISTRY, Audience
from conversations.settings import Settings
from storage.models import AuditEvent, Case, ChatIdentity, FamilyMember, StaffMember

WAY_BACK = "nav:resume"  # the option back to the interrupted question (or the menu)


def asks_for_flow(payload: str) -> bool:
    """A choice that answers a flow's question (not a standing action, a command, or the way back)."""
    return not payload.startswith(("act:", "cmd:", "nav:")) or payload == "nav:cancel"


def usable_frames(raw: object) -> tuple[list[Frame], bool]:
    """The stored stack as frames, without any that cannot be read or whose flow no longer exists (a
    newer version renamed it); True as second value if one was dropped."""
    frames, dropped = [], False
    for item in raw if isinstance(raw, list) else []:
        try:
            frame = Frame.from_dict(item)
        except (KeyError, TypeError, AttributeError, ValueError):
            dropped = True
            continue
        if frame.flow in REGISTRY.flows:
            frames.append(frame)
        else:
            dropped = True
    return frames, dropped or not isinstance(raw, list | None)


@dataclass(frozen=True)
class Services:
    """Long-lived things every turn and every periodic task may use."""

    sessions: sessionmaker[Session]
    clock: Clock
    settings: Settings


def audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: object = None,
    case_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(
            at=at, actor=actor, action=action, object_type=object_type,
            object_id=None if object_id is None else str(object_id), case_id=case_id, detail=detail,
        )
    )


def audit_many(session: Session, events: list[dict[str, Any]]) -> None:
    """Several audit events in one statement (a page that lists 50 complaints reads 50 complaints).

    Each event has the keys of :func:`audit`; ``detail`` holds the rest.
    """
    if events:
        # the table's insert, not the ORM's: one executemany, however many rows (the ORM splits by keys)
        session.execute(insert(AuditEvent.__table__), [
            {"at": e["at"], "actor": e["actor"], "action": e["action"], "object_type": e["object_type"],
             "object_id": None if e.get("object_id") is None else str(e["object_id"]), "case_id": e.get("case_id"),
             "detail": e.get("detail", {})} for e in events])


class Context:
    def __init__(
        self,
        session: Session,
        services: Services,
        incoming: Incoming,
        state: ChatState,
        identity: ChatIdentity | None,
    ) -> None:
        self.session = session
        self.services = services
        self.incoming = incoming
        self.state = state
        self.identity = identity
        self.stack, self.dropped_frames = usable_frames(state.stack)
        self.replies: list[Reply] = []
        self.choice: str | None = None  # the payload of the choice a flow's question takes this turn, if any
        self.chosen: str | None = None  # the option the turn acted on (a flow's, an action, a command, the way back)
        self.pending: str | None = None  # a bare number typed where words are kept, asked about this turn
        self.failed: tuple[list[Any], int] | None = None  # where the last turn failed, and how often in a row
        self._asked_before = self.where()
        self.refresh_language()

    # --- who is talking -------------------------------------------------------------------
    @property
    def member(self) -> FamilyMember | None:
        return self.identity.member if self.identity else None

    @property
    def staff(self) -> StaffMember | None:
        return self.identity.staff if self.identity else None

    @property
    def person(self) -> FamilyMember | StaffMember | None:
        return self.member or self.staff

    @property
    def case(self) -> Case | None:
        return self.member.case if self.member else None

    @property
    def principal(self) -> Principal:
        """Who acts in this turn, for the rules in :mod:`conversations.authz`."""
        return Principal(member=self.member, staff=self.staff, chat=(self.incoming.channel, self.incoming.address))

    @property
    def actor(self) -> str:
        if self.member:
            return f"member:{self.member.id}"
        if self.staff:
            return f"staff:{self.staff.id}"
        return f"chat:{self.incoming.channel}"

    def allowed(self, audience: Audience, roles: Sequence[str] = ()) -> bool:
        """Whether this turn's person is in a command's or button's audience (:func:`authz.in_audience`)."""
        return in_audience(self.principal, audience, roles)

    # --- language -------------------------------------------------------------------------
    def refresh_language(self) -> None:
        """The person's language; before linking the one chosen in this chat, else the one the network
        reports for the person (if offered), else the organisation's default."""
        person = self.person
        lang = person.language if person else (self.state.language or offered_language(self.incoming.language)
                                                or self.services.settings.default_language)
        self.addressee: FamilyMember | StaffMember | None = person or self._known_from_open_flows()
        self.tr: Translator = address.translator_for(self.addressee, self.now, lang)  # du for a young person

    def _known_from_open_flows(self) -> FamilyMember | StaffMember | None:
        """Not linked yet, but known (onboarding, after the code): addressed as that person is, from the first
        word of the turn on, also in what the engine says around the flow ("Almost there …")."""
        for frame in reversed(self.stack):
            known = REGISTRY.flows[frame.flow].addressed(self, frame)
            if known is not None:
                return known
        return None

    def _(self, message: str) -> str:
        return self.tr.gettext(message)

    @property
    def now(self) -> datetime:
        return self.services.clock.now()

    @property
    def text(self) -> str:
        return self.incoming.text.strip()

    # --- answering ------------------------------------------------------------------------
    def say(
        self, text: str, choices: Sequence[Choice] = (), attachments: Sequence[Attachment] = (), *,
        kind: str = "reply",
    ) -> None:
        self.replies.append(Reply(text=text, choices=list(choices), attachments=list(attachments), kind=kind))

    # --- flows ----------------------------------------------------------------------------
    @property
    def frame(self) -> Frame | None:
        return self.stack[-1] if self.stack else None

    def start(self, flow_name: str, **data: Any) -> None:
        """Start a flow on top of the current one; the current one continues when it finishes.

        A flow already open for the same thing (someone sent /sprache twice before answering, or starts a
        new appointment again halfway through the first try) is not stacked again: its older frame goes,
        with what it had gathered (its data hold the ones it was started with, and its answers so far).
        Otherwise, once the new one is done, the old question would come back as often as it had been
        asked, and the stored stack would grow with every ask."""
        self.stack[:] = [open_ for open_ in self.stack if not (
            open_.flow == flow_name and all(open_.data.get(key) == value for key, value in data.items()))]
        frame = Frame(flow=flow_name, data=data)
        self.stack.append(frame)
        REGISTRY.flows[flow_name].begin(self, frame)

    def finish(self) -> None:
        """End the current flow and pick up the one it interrupted, if any."""
        if self.stack:
            self.stack.pop()
        self.resume()

    def reset(self) -> None:
        self.stack.clear()

    def resume(self) -> None:
        """Carry on after a side remark (a pressed reminder, /datenschutz, an interruption): ask the open
        flow's question again. Unless a reply of this turn already asks something: another list after it
        would take its numbers, so that reply gets the way back as its last option instead."""
        if self.frame is None:
            return
        if any(r.choices for r in self.replies):
            self.offer_way_back()
            return
        REGISTRY.flows[self.frame.flow].resume(self, self.frame)

    def offer_way_back(self) -> None:
        """End a side remark without entering the interrupted flow (/hilfe and /notfall must answer even
        when that flow is broken): its way back ("Continue where we were", or "Main menu") becomes the last
        option of the newest reply. With no flow open, the menu follows (for a linked person)."""
        if self.frame is None:
            if self.person is not None and not any(r.choices for r in self.replies):
                self.start("menu")
            return
        if self.frame.flow == "menu" and not any(r.choices for r in self.replies):
            REGISTRY.flows["menu"].resume(self, self.frame)  # the menu needs nothing that could be gone
            return
        asking = next((r for r in reversed(self.replies) if r.choices), self.replies[-1] if self.replies else None)
        if asking is None or any(c.payload == WAY_BACK for c in asking.choices):
            return
        label = self._("Main menu") if self.frame.flow == "menu" else self._("Continue where we were")
        asking.choices.append(Choice(label, WAY_BACK))

    # --- the question the flow asked ------------------------------------------------------
    def where(self) -> tuple[int, str, str]:
        """Where the conversation stands: how many flows are open, the top one and its step."""
        top = self.stack[-1] if self.stack else None
        return len(self.stack), top.flow if top else "", top.step if top else ""

    def state_value(self, key: str) -> Any:
        """What the last turn noted in the chat's state (``pending``: a number asked about)."""
        return (self.state.offered or {}).get(key)

    def step_payloads(self) -> set[str]:
        """What the flow's question (as stored after the last turn) accepts when pressed."""
        return {o.payload for o in offers((self.state.offered or {}).get("step"))}

    def step_options(self) -> list[Choice | Offer]:
        """The flow's question after this turn: the newest reply that is a flow's question, else the one
        stored before (a side remark leaves it as it was), else none (the flow moved to a typed answer)."""
        for reply in reversed(self.replies):
            if any(asks_for_flow(c.payload) for c in reply.choices):
                return distinct(reply.choices)  # as the outbox shows them
        if self.where() == self._asked_before:
            return list(offers((self.state.offered or {}).get("step")))
        return []

    def audit(self, action: str, object_type: str, object_id: object = None, case_id: int | None = None,
              **detail: Any) -> None:
        audit(self.session, at=self.now, actor=self.actor, action=action, object_type=object_type,
              object_id=object_id, case_id=case_id, **detail)
