"""The conversation core: one turn per channel event, in one transaction.

A turn: record the event id (a redelivered event stops here), load the chat's state, route the input
(choice, command, current flow, or the menu), then write the replies to the outbox and store the new
state, all in the same transaction. A crash before the commit changes nothing and sends nothing;
after it, the outbox has everything to deliver. On PostgreSQL the turn first takes the chat's advisory
lock, so two instances never run turns of one chat at the same time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import joinedload

import conversations.jobs  # noqa: F401  (registers every flow, command, action and task)
from conversations import buttons, choices
from conversations.chat_state import ChatState
from conversations.context import WAY_BACK, Context, Services
from conversations.flows.base import CANCEL_CHOICE, WORDS, Frame
from conversations.i18n import translator
from conversations.messages import Choice, Incoming, Reply
from conversations.outbox import enqueue, write_reply
from conversations.registry import REGISTRY, Command
from storage.db import transaction
from storage.locks import lock_chat
from storage.models import Case, ChatIdentity, ConversationState, FamilyMember, ProcessedEvent

log = logging.getLogger(__name__)

# Built once: building a statement and its cache key cost about as much as running it on SQLite.
# A redelivered event fails at this INSERT, before anything else happens (the table's, not the ORM's).
RECORD_EVENT = insert(ProcessedEvent.__table__)
# The chat's identity with the person, their case and its organisation (language, du or Sie): one query.
IDENTITY = (select(ChatIdentity)
            .options(joinedload(ChatIdentity.member).joinedload(FamilyMember.case).joinedload(Case.organisation),
                     joinedload(ChatIdentity.staff))
            .where(ChatIdentity.channel == bindparam("chat_channel"), ChatIdentity.address == bindparam("chat_address")))

MAX_TEXT = 4000  # longer texts are refused kindly (Telegram's own limit is 4096)
MAX_PENDING = 40  # a bare number asked about (see _ask_about_number) is short; it waits in the chat's state
KEEP_TYPED = "nav:keep"  # yes, keep the number I typed as my answer
RETYPE = "nav:retype"  # no, ask me again
DATABASE_AWAY = (OperationalError, InterfaceError)  # an outage, not a bug in a flow
CANCEL = "cancel"  # the command that leaves a guided flow (conversations.flows.account); its word works anywhere


@dataclass(frozen=True)
class TurnResult:
    duplicate: bool
    replies: int
    chosen: str | None = None  # the option the turn acted on: pressed, or typed as its number or its words
    refused: bool = False  # a pressed button that was used up or unknown: nothing happened, nothing stored


class _RefusedButton(Exception):
    """Rolls the turn back: a press of a used-up button changes nothing and is not recorded."""


class Engine:
    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, incoming: Incoming) -> TurnResult:
        try:
            with transaction(self.services.sessions) as session:
                lock_chat(session, incoming.channel, incoming.address)  # one turn per chat, in any instance
                # A redelivered event fails here, before anything else happens.
                session.connection().execute(RECORD_EVENT, {"channel": incoming.channel,
                                                            "event_id": incoming.event_id,
                                                            "at": self.services.clock.now()})
                if incoming.button is not None:
                    payload = buttons.redeem(session, incoming.address, incoming.button, incoming.event_id,
                                             self.services.clock.now())
                    if payload is None:
                        raise _RefusedButton
                    incoming = replace(incoming, payload=payload, button=None)
                ctx = self._context(session, incoming)
                self._route(ctx)
                self._save(ctx)
                return TurnResult(duplicate=False, replies=len(ctx.replies), chosen=ctx.chosen)
        except _RefusedButton:
            return TurnResult(duplicate=False, replies=0, refused=True)
        except IntegrityError:
            if self._seen(incoming):
                log.info("event %s/%s already handled", incoming.channel, incoming.event_id)
                return TurnResult(duplicate=True, replies=0)
            return self._apologise(incoming)
        except DATABASE_AWAY:
            raise  # not a bug: the channel waits and hands the event in again
        except Exception:
            return self._apologise(incoming)

    def _apologise(self, incoming: Incoming) -> TurnResult:
        """A bug must not mean silence: the turn was rolled back; say so, and carry on if the open flow can.

        The event is then marked handled, so a redelivery does not repeat the failure and the apology.
        If even this fails (a state that cannot be loaded), a last plain word goes out and the state is
        cleared. A database that is away is not a bug: the channel waits and hands the event in again.
        """
        log.exception("turn failed for %s/%s (event %s)", incoming.channel, incoming.address, incoming.event_id)
        try:
            with transaction(self.services.sessions) as session:
                lock_chat(session, incoming.channel, incoming.address)
                session.add(ProcessedEvent(channel=incoming.channel, event_id=incoming.event_id,
                                           at=self.services.clock.now()))
                ctx = self._context(session, incoming)
                self._recover(ctx)
                self._save(ctx)
            return TurnResult(duplicate=False, replies=len(ctx.replies))
        except DATABASE_AWAY:
            raise
        except Exception:
            log.exception("the apology for %s/%s failed too; clearing the chat's state", incoming.channel,
                          incoming.address)
            return self._last_word(incoming)

    @staticmethod
    def _recover(ctx: Context) -> None:
        """After a failed turn: ask the open flow's question again, in a savepoint. If that fails too (its
        objects were removed meanwhile) or the same question failed twice in a row, the frame is broken:
        drop the flows with a kind word and show the menu, so the person is never stuck."""
        _ = ctx._
        where, before = ctx.where(), ctx.state_value("failed")
        failures = before[1] + 1 if isinstance(before, list) and len(before) == 2 and before[0] == list(where) else 1
        if ctx.frame is not None and failures < 2:
            stack, replies = [Frame(f.flow, f.step, dict(f.data)) for f in ctx.stack], len(ctx.replies)
            try:
                with ctx.session.begin_nested():
                    ctx.say(_("Sorry, something went wrong on my side. Nothing was changed. "
                              "Please try again in a moment."))
                    ctx.resume()
                ctx.failed = (list(where), failures)
                return
            except Exception:
                log.warning("the open flow cannot carry on (%s); dropping it", where, exc_info=True)
                ctx.stack, ctx.replies[replies:] = stack, []
        ctx.reset()
        ctx.say(_("Sorry, something went wrong on my side, and what we were doing could not be continued. "
                  "Nothing else was changed."))
        if ctx.person is not None:
            ctx.start("menu")

    def _last_word(self, incoming: Incoming) -> TurnResult:
        """The plainest answer there is: an apology in the default language, and a fresh start."""
        now = self.services.clock.now()
        tr = translator(self.services.settings.default_language)
        with transaction(self.services.sessions) as session:
            lock_chat(session, incoming.channel, incoming.address)
            session.add(ProcessedEvent(channel=incoming.channel, event_id=incoming.event_id, at=now))
            session.execute(update(ConversationState).where(
                ConversationState.channel == incoming.channel, ConversationState.address == incoming.address)
                .values(stack=[], offered={}, open_choices=[], updated_at=now))
            enqueue(session, channel=incoming.channel, address=incoming.address, now=now, language=tr.lang,
                    reply=Reply(tr.gettext("Sorry, something went wrong on my side, and what we were doing "
                                           "could not be continued. Nothing else was changed.")))
        return TurnResult(duplicate=False, replies=1)

    def _seen(self, incoming: Incoming) -> bool:
        with self.services.sessions() as session:
            return session.scalar(
                select(ProcessedEvent.id).where(
                    ProcessedEvent.channel == incoming.channel, ProcessedEvent.event_id == incoming.event_id
                )
            ) is not None

    def _context(self, session, incoming: Incoming) -> Context:  # type: ignore[no-untyped-def]
        state = ChatState.load(session, incoming.channel, incoming.address)
        identity = session.scalar(IDENTITY, {"chat_channel": incoming.channel, "chat_address": incoming.address})
        if identity is not None and identity.blocked_at is not None:
            identity.blocked_at = None  # they wrote to us again, so they unblocked the bot
        return Context(session, self.services, incoming, state, identity)

    # --- routing ----------------------------------------------------------------------------
    def _route(self, ctx: Context) -> None:
        _ = ctx._
        incoming = ctx.incoming
        if ctx.dropped_frames:
            ctx.say(_("Sorry, something went wrong on my side, and what we were doing could not be continued. "
                      "Nothing else was changed."))
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
        if self._means_cancel(ctx, text):
            REGISTRY.commands[CANCEL].handler(ctx, "")  # "Abbrechen", "iptal", "Отмена": anywhere, any time
            return
        named = self._named_command(ctx, text)
        if named is not None:
            named.handler(ctx, "")  # "hilfe", "Meine Termine": a menu entry by its words, where no words are asked
            return
        screened = self._screen(ctx)
        if not screened:
            self._to_flow(ctx, screened=False)
            return
        # The screen raised an alert: whatever the flow does with the text, the alert must stay.
        replies, stack = len(ctx.replies), [Frame(f.flow, f.step, dict(f.data)) for f in ctx.stack]
        try:
            with ctx.session.begin_nested():
                self._to_flow(ctx, screened=True)
        except Exception:
            log.exception("a flow failed after a danger screen for %s/%s", incoming.channel, incoming.address)
            ctx.stack, ctx.replies[replies:] = stack, []
            self._recover(ctx)

    def _to_flow(self, ctx: Context, *, screened: bool) -> None:
        """Text (or a file) that is no choice and no command: the open flow's answer, or the menu."""
        frame, text = ctx.frame, ctx.text
        if ctx.incoming.attachments and not (frame and REGISTRY.flows[frame.flow].accepts_attachments):
            ctx.say(ctx._("Thank you for the file. I can only read text and buttons here. Where a file helps, "
                          "for example in a complaint, I will ask for it."))
            ctx.resume()
            return
        if (frame is None or not REGISTRY.flows[frame.flow].typed_answer(ctx, frame)) and self._answer_in_words(ctx):
            return
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
        elif answer == WORDS and choices.is_bare_number(text) and not ctx.incoming.attachments \
                and ctx.state_value("pending") != text:
            self._ask_about_number(ctx, text)
        else:
            flow.handle(ctx, frame)

    @staticmethod
    def _answer_in_words(ctx: Context) -> bool:
        """Text typed at a pushed question that asks for words ("A question about your complaint …: you can
        answer here"): the answer, as if "Reply" had been pressed first. True if it was taken."""
        if not (ctx.text or ctx.incoming.attachments):
            return False
        for offer in choices.offers(ctx.state.open_choices):
            kind, _sep, rest = offer.payload.partition(":")
            name, _sep, arg = rest.partition(":")
            action = REGISTRY.actions.get(name) if kind == "act" else None
            if action is None or not action.answered_in_words or not ctx.allowed(action.audience):
                continue
            depth, said = len(ctx.stack), len(ctx.replies)
            action.handler(ctx, arg)
            frame = ctx.frame
            if len(ctx.stack) <= depth or frame is None or not REGISTRY.flows[frame.flow].typed_answer(ctx, frame):
                return True  # refused (answered already, closed): what the action said is the reply
            del ctx.replies[said:]  # its prompt ("Please write your reply"): the text is the reply already
            REGISTRY.flows[frame.flow].handle(ctx, frame)
            return True
        return False

    @staticmethod
    def _named_command(ctx: Context, text: str) -> Command | None:
        """A command word ("hilfe") or a menu entry's words ("Meine Termine") typed where the current step
        asks for no words: the menu stays reachable by its words even after other replies came in between."""
        frame = ctx.frame
        if ctx.person is None or (frame is not None and REGISTRY.flows[frame.flow].typed_answer(ctx, frame)):
            return None
        allowed = [c for c in REGISTRY.commands.values() if ctx.allowed(c.audience, c.roles)]
        if " " not in text.strip():
            command = REGISTRY.find_command(text.strip())
            if command in allowed:
                return command
        entry = choices.by_label([choices.Offer(ctx._(c.description), c.key) for c in allowed if c.in_menu], text)
        return REGISTRY.commands[entry.payload] if entry else None

    @staticmethod
    def _means_cancel(ctx: Context, text: str) -> bool:
        """The word for "Cancel" in any offered language (or the person's label for it), alone."""
        typed = choices.label_key(text)
        if not typed or len(typed) > 40:
            return False
        words = {choices.label_key(w) for w in REGISTRY.commands[CANCEL].spellings()}
        return typed in words or typed == choices.label_key(ctx._("Cancel"))

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

    def resolve(self, channel: str, address: str, text: str) -> str | None:
        """The option typed ``text`` would choose in this chat now, by the same rules as a turn; nothing is
        changed. (Tests and tools use it to check that every option answers to its number and words.)"""
        with self.services.sessions() as session:
            incoming = Incoming(channel=channel, address=address, event_id="resolve", text=text,
                                received_at=self.services.clock.now())
            picked = self._typed_choice(self._context(session, incoming))
            session.rollback()
        return picked.payload if picked else None

    def _choice(self, ctx: Context, payload: str) -> None:
        _ = ctx._
        ctx.chosen = payload
        log.debug("chat %s/%s chose %r", ctx.incoming.channel, ctx.incoming.address, payload)
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
            if payload == CANCEL_CHOICE and payload in ctx.step_payloads():  # an old question's "Cancel" is not
                REGISTRY.commands[CANCEL].handler(ctx, "")
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
            if ctx.person is None and ctx.frame is not None and ctx.frame.flow == "onboarding" \
                    and ctx.frame.step != "code":  # the code was right; only the language or consent is left
                ctx.say(_("Almost there: please answer this question first, then this chat is linked."))
                ctx.resume()
            elif ctx.person is None:
                ctx.say(_("Please link this chat first: send me the code from your invitation letter."))
            else:
                ctx.say(_("This command is not available to you."))
            return
        command.handler(ctx, arg.strip())

    # --- saving -----------------------------------------------------------------------------
    def _save(self, ctx: Context) -> None:
        state, now = ctx.state, ctx.services.clock.now()
        state.stack = [f.to_dict() for f in ctx.stack]
        language = ctx.tr.lang
        for i, reply in enumerate(ctx.replies):
            write_reply(ctx.session, channel=ctx.incoming.channel, address=ctx.incoming.address, reply=reply,
                        now=now, language=language, identity_id=ctx.identity.id if ctx.identity else None,
                        replaces=ctx.incoming.pressed_message if i == 0 else None)
        state.offered = {"step": choices.stored(ctx.step_options())}
        if ctx.pending is not None:
            state.offered["pending"] = ctx.pending[:MAX_PENDING]
        if ctx.failed is not None:
            state.offered["failed"] = ctx.failed
        # Nothing offered in answer: the list above it is answered or passed. (A reply with options
        # becomes the open question when it is delivered: conversations.outbox.remember_open_question.)
        state.save(ctx.session, now=now, clear_open_question=not any(reply.choices for reply in ctx.replies))
