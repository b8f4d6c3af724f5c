"""What a flow sees during one turn: the person, their language, the session, and ways to answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from conversations.authz import Principal
from conversations.choices import Offer, offers
from conversations.clock import Clock
from conversations.flows.base import Frame
from conversations.i18n import Translator, translator
from conversations.messages import Attachment, Choice, Incoming, Reply
from conversations.registry import REGISTRY, Audience
from conversations.settings import Settings
from storage.models import AuditEvent, Case, ChatIdentity, ConversationState, FamilyMember, StaffMember

WAY_BACK = "nav:resume"  # the option back to the interrupted question (or the menu)


def asks_for_flow(payload: str) -> bool:
    """A choice that answers a flow's question (not a standing action, a command, or the way back)."""
    return not payload.startswith(("act:", "cmd:", "nav:")) or payload == "nav:cancel"


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


class Context:
    def __init__(
        self,
        session: Session,
        services: Services,
        incoming: Incoming,
        state: ConversationState,
        identity: ChatIdentity | None,
    ) -> None:
        self.session = session
        self.services = services
        self.incoming = incoming
        self.state = state
        self.identity = identity
        self.stack = [Frame.from_dict(f) for f in state.stack or []]
        self.replies: list[Reply] = []
        self.choice: str | None = None  # the payload of the choice taken this turn, if any
        self.pending: str | None = None  # a bare number typed where words are kept, asked about this turn
        self._asked_before = self._where()
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
        if audience is Audience.ANYONE:
            return True
        if audience is Audience.LINKED:
            return self.person is not None
        if audience is Audience.FAMILY:
            return self.member is not None
        return self.staff is not None and (not roles or self.staff.has_role(*roles))

    # --- language -------------------------------------------------------------------------
    def refresh_language(self) -> None:
        person = self.person
        lang = person.language if person else (self.state.language or self.services.settings.default_language)
        self.tr: Translator = translator(lang)

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
        """Start a flow on top of the current one; the current one continues when it finishes."""
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
        """Carry on after a side remark (/hilfe, a pressed reminder, an interruption): ask the open flow's
        question again. Unless a reply of this turn already asks something: another list after it would
        take its numbers, so that reply gets the way back ("Continue where we were", or "Main menu") as
        its last option instead, and the flow's question comes back when it is chosen."""
        if self.frame is None:
            return
        asking = next((r for r in reversed(self.replies) if r.choices), None)
        if asking is not None:
            if not any(c.payload == WAY_BACK for c in asking.choices):
                label = self._("Main menu") if self.frame.flow == "menu" else self._("Continue where we were")
                asking.choices.append(Choice(label, WAY_BACK))
            return
        REGISTRY.flows[self.frame.flow].resume(self, self.frame)

    # --- the question the flow asked ------------------------------------------------------
    def _where(self) -> tuple[int, str, str]:
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
                return list(reply.choices)
        if self._where() == self._asked_before:
            return list(offers((self.state.offered or {}).get("step")))
        return []

    def audit(self, action: str, object_type: str, object_id: object = None, case_id: int | None = None,
              **detail: Any) -> None:
        audit(self.session, at=self.now, actor=self.actor, action=action, object_type=object_type,
              object_id=object_id, case_id=case_id, **detail)
