"""The conversation core: one turn per channel event, in one transaction.

A turn: record the event id (a redelivered event stops here), load the chat's state, route the input
(choice, command, current flow, or the menu), then write the replies to the outbox and store the new
state, all in the same transaction. A crash before the commit changes nothing and sends nothing;
after it, the outbox has everything to deliver.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import conversations.jobs  # noqa: F401  (registers every flow, command, action and task)
from conversations import choices
from conversations.context import WAY_BACK, Context, Services
from conversations.flows.base import WORDS
from conversations.messages import Choice, Incoming
from conversations.outbox import enqueue
from conversations.registry import REGISTRY
from storage.db import transaction
from storage.models import ChatIdentity, ConversationState, ProcessedEvent

log = logging.getLogger(__name__)

MAX_TEXT = 4000  # longer texts are refused kindly (Telegram's own limit is 4096)
MAX_PENDING = 40  # a bare number asked about (see _ask_about_number) is short; it waits in the chat's state
KEEP_TYPED = "nav:keep"  # yes, keep the number I typed as my answer
RETYPE = "nav:retype"  # no, ask me again


@dataclass(frozen=True)
class TurnResult:
    duplicate: bool
    replies: int


class Engine:
    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, incoming: Incoming) -> TurnResult:
        try:
            with transaction(self.services.sessions) as session:
                session.add(ProcessedEvent(channel=incoming.channel, event_id=incoming.event_id,
                                           at=self.services.clock.now()))
                session.flush()  # a redelivered event fails here, before anything else happens
                ctx = self._context(session, incoming)
                self._route(ctx)
                self._save(ctx)
                return TurnResult(duplicate=False, replies=len(ctx.replies))
        except IntegrityError:
            if self._seen(incoming):
                log.info("event %s/%s already handled", incoming.channel, incoming.event_id)
                return TurnResult(duplicate=True, replies=0)
            return self._apologise(incoming)
        except Exception:
            return self._apologise(incoming)

    def _apologise(self, incoming: Incoming) -> TurnResult:
        """A bug must not mean silence: the turn was rolled back, so say so and that nothing changed.

        The event is then marked handled, so a redelivery does not repeat the failure and the apology.
        """
        log.exception("turn failed for %s/%s (event %s)", incoming.channel, incoming.address, incoming.event_id)
        with transaction(self.services.sessions) as session:
            session.add(ProcessedEvent(channel=incoming.channel, event_id=incoming.event_id,
                                       at=self.services.clock.now()))
            ctx = self._context(session, incoming)
            ctx.say(ctx._("Sorry, something went wrong on my side. Nothing was changed. "
                          "Please try again in a moment."))
            ctx.resume()
            self._save(ctx)
        return TurnResult(duplicate=False, replies=len(ctx.replies))

    def _seen(self, incoming: Incoming) -> bool:
        with self.services.sessions() as session:
            return session.scalar(
                select(ProcessedEvent.id).where(
                    ProcessedEvent.channel == incoming.channel, ProcessedEvent.event_id == incoming.event_id
                )
            ) is not None

    def _context(self, session, incoming: Incoming) -> Context:  # type: ignore[no-untyped-def]
        where = (ConversationState.channel == incoming.channel, ConversationState.address == incoming.address)
        state = session.scalar(select(ConversationState).where(*where))
        if state is None:
            state = ConversationState(channel=incoming.channel, address=incoming.address, stack=[], offered={},
                                      updated_at=self.services.clock.now())
            session.add(state)
        identity = session.scalar(
            select(ChatIdentity).where(ChatIdentity.channel == incoming.channel,
                                       ChatIdentity.address == incoming.address)
        )
        if identity is not None and identity.blocked_at is not None:
            identity.blocked_at = None  # they wrote to us again, so they unblocked the bot
        return Context(session, self.services, incoming, state, identity)

    # --- routing ----------------------------------------------------------------------------
    def _route(self, ctx: Context) -> None:
        _ = ctx._
        incoming = ctx.incoming
        if len(incoming.text) > MAX_TEXT:
            ctx.say(_("That message is very long. Please send it in several shorter parts "
                      "(at most {limit} characters each).").format(limit=ctx.tr.number(MAX_TEXT)))
            ctx.resume()
            return
        typed = None if incoming.payload else self._typed_choice(ctx)
        payload = incoming.payload or (typed.payload if typed else None)
        if payload is not None:
            self._choice(ctx, payload)
            return
        text = ctx.text
        if text[:1] in ("/", "!") and len(text) > 1:
            self._command(ctx, text[1:])
            return
        if ctx.frame is None and ctx.person and " " not in text and REGISTRY.find_command(text):
            self._command(ctx, text)  # a bare command word ("hilfe") where no question is open
            return
        screened = self._screen(ctx)
        if incoming.attachments and not (ctx.frame and REGISTRY.flows[ctx.frame.flow].accepts_attachments):
            ctx.say(_("Thank you for the file. I can only read text and buttons here. Where a file helps, "
                      "for example in a complaint, I will ask for it."))
            ctx.resume()
            return
        frame = ctx.frame
        if frame is None:
            if screened:
                return  # the help the screen gave is the answer: nothing after it that reads like a refusal
            if ctx.person is None:
                ctx.start("onboarding")  # takes the text as a code if it looks like one
            else:
                ctx.start("menu")
            return
        flow = REGISTRY.flows[frame.flow]
        answer = flow.typed_answer(ctx, frame)
        if answer is None:
            flow.other_text(ctx, frame, screened=screened)
        elif answer == WORDS and choices.is_bare_number(text) and not incoming.attachments \
                and ctx.state_value("pending") != text:
            self._ask_about_number(ctx, text)
        else:
            flow.handle(ctx, frame)

    @staticmethod
    def _screen(ctx: Context) -> bool:
        """Every text a family member writes passes the screens (danger signals); True if one answered."""
        if not (ctx.member and (ctx.text or ctx.incoming.attachments)):
            return False
        before = len(ctx.replies)
        for screen in REGISTRY.text_screens:
            screen(ctx)
        return len(ctx.replies) > before

    @staticmethod
    def _ask_about_number(ctx: Context, text: str) -> None:
        """A bare number where words are kept (a reason, a complaint): ask once before keeping it, so a
        number meant as an option is not kept as the answer."""
        _ = ctx._
        shown = text.strip()[:12]
        ctx.pending = text
        ctx.say(_("You wrote only “{text}”. Shall I keep that as your answer?").format(text=shown),
                [Choice(_("Yes, keep “{text}”").format(text=shown), KEEP_TYPED),
                 Choice(_("No, I will write it again"), RETYPE)])

    def _typed_choice(self, ctx: Context) -> choices.Picked | None:
        """A typed number or label: an option of the open question, or a label of the flow's question."""
        if not ctx.text:
            return None
        return choices.pick(choices.offers(ctx.state.open_choices),
                            choices.offers((ctx.state.offered or {}).get("step")), ctx.text)

    def _choice(self, ctx: Context, payload: str) -> None:
        _ = ctx._
        kind, _sep, rest = payload.partition(":")
        if kind == "act":
            name, _sep, arg = rest.partition(":")
            action = REGISTRY.actions.get(name)
            if action and ctx.allowed(action.audience):
                action.handler(ctx, arg)
                return
        elif kind == "cmd":
            command = REGISTRY.commands.get(rest)
            if command and ctx.allowed(command.audience, command.roles):
                command.handler(ctx, "")
                return
        elif kind == "nav":
            if payload == WAY_BACK:
                ctx.resume() if ctx.frame is not None else self._menu_or_onboarding(ctx)
                return
            pending = ctx.state_value("pending")
            if payload == KEEP_TYPED and pending and ctx.frame is not None:
                ctx.incoming = replace(ctx.incoming, text=pending, payload=None)
                REGISTRY.flows[ctx.frame.flow].handle(ctx, ctx.frame)
                return
            if payload == RETYPE and pending and ctx.frame is not None:
                ctx.resume()
                return
        elif payload in ctx.step_payloads() and ctx.frame is not None:
            ctx.choice = payload
            REGISTRY.flows[ctx.frame.flow].handle(ctx, ctx.frame)
            return
        ctx.say(_("That button is no longer valid. Nothing was changed."))
        if ctx.frame is not None:
            ctx.resume()
        else:
            self._menu_or_onboarding(ctx)

    @staticmethod
    def _menu_or_onboarding(ctx: Context) -> None:
        if ctx.person is not None:
            ctx.start("menu")

    def _command(self, ctx: Context, text: str) -> None:
        _ = ctx._
        word, _sep, arg = text.partition(" ")
        word = word.split("@", 1)[0]  # Telegram adds the bot name in groups: /hilfe@bot
        command = REGISTRY.find_command(word)
        if command is None:
            ctx.say(_("I don't know the command “{command}”. Send /{help} to see what I can do.").format(
                command=word[:40], help=REGISTRY.commands["help"].word(ctx.tr.lang)))
            return
        if not ctx.allowed(command.audience, command.roles):
            if ctx.person is None:
                ctx.say(_("Please link this chat first: send me the code from your invitation letter."))
            else:
                ctx.say(_("This command is not available to you."))
            return
        command.handler(ctx, arg.strip())

    # --- saving -----------------------------------------------------------------------------
    def _save(self, ctx: Context) -> None:
        state, now = ctx.state, ctx.services.clock.now()
        state.stack = [f.to_dict() for f in ctx.stack]
        state.updated_at = now
        language = ctx.tr.lang
        for reply in ctx.replies:
            enqueue(ctx.session, channel=ctx.incoming.channel, address=ctx.incoming.address, reply=reply,
                    now=now, language=language, identity_id=ctx.identity.id if ctx.identity else None,
                    kind=reply.kind)
        state.offered = {"step": choices.stored(ctx.step_options())}
        if ctx.pending is not None:
            state.offered["pending"] = ctx.pending[:MAX_PENDING]
        if not any(reply.choices for reply in ctx.replies):
            # Nothing offered in answer: the list above it is answered or passed. (A reply with options
            # becomes the open question when it is delivered: conversations.outbox.remember_open_question.)
            state.open_choices = []
