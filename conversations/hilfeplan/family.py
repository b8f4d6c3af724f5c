"""The family before a Hilfeplangespräch: told its date, and asked for its view in three short questions.

Two weeks before a planned Hilfeplangespräch or Fortschreibung (or at once when it is planned later), the
parents and the young people who answer questionnaires (``MILESTONE_YOUTH_AGE``) are told the date and asked,
with the questionnaire's habits: who reads it is said first, every question can be skipped, their own words.
What they send goes to their Fachkräfte at once (and is in /meine_daten); nobody else in the family sees it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import admin, authz
from conversations.clock import BERLIN
from conversations.context import Context, Services
from conversations.flows.base import WORDS, Flow, Frame
from conversations.hilfeplan import rules
from conversations.hilfeplan.core import TALK_LABELS
from conversations.hilfeplan.rules import TalkKind
from conversations.i18n import Translator
from conversations.messages import Choice, Reply
from conversations.milestone.questions import SKIP, team_names
from conversations.outbox import notify
from conversations.registry import REGISTRY, Action, Audience
from conversations.rules.milestone import version_for
from conversations.rules.quiet_hours import QuietHours
from storage.models import FamilyMember
from storage.models.hilfeplan import HilfeplanTalk, HilfeplanView

FLOW = "hilfeplan_view"
VIEW_DAYS = 14  # the family is asked this many days before the talk
QUESTIONS = ("went_well", "change", "wishes")
ASKED_BEFORE = (TalkKind.HILFEPLAN, TalkKind.FORTSCHREIBUNG)


def question_text(tr: Translator, key: str) -> str:
    if key == "went_well":
        return tr.gettext("What has gone well since the last Hilfeplan? Please write it in your own words.")
    if key == "change":
        return tr.gettext("What should change?")
    return tr.gettext("What do you wish for the coming months?")


def starts_at(talk: HilfeplanTalk) -> datetime | None:
    return talk.appointment.starts_at if talk.appointment is not None else None


def who_is_asked(talk: HilfeplanTalk, on: datetime, youth_age: int) -> list[FamilyMember]:
    return [m for m in talk.case.members
            if version_for(m.kind, m.birth_date, on.astimezone(BERLIN).date(), youth_age) is not None]


def invitation(talk: HilfeplanTalk):  # type: ignore[no-untyped-def]
    def render(tr: Translator) -> Reply:
        moment = starts_at(talk)
        assert moment is not None
        text = tr.gettext("On {date} is your next talk with the Jugendamt about the Hilfeplan ({talk}). Would you "
                          "like to tell your Fachkräfte beforehand what matters to you? Three short questions, each "
                          "can be skipped. {team} read your answers; nobody else in your family sees them.").format(
            date=tr.when(moment), talk=tr.gettext(TALK_LABELS[TalkKind(talk.kind)]),
            team=team_names(tr, [s.name for s in admin.team(talk.case)]))
        return Reply(text, [Choice(tr.gettext("Yes, please"), f"act:hp_view:{talk.id}"),
                            Choice(tr.gettext("Not now"), f"act:hp_view_later:{talk.id}")])
    return render


def invite(session: Session, services: Services, talk: HilfeplanTalk) -> int:
    """Called by the scan for each planned talk: the invitation once per person, from two weeks before."""
    now = services.clock.now()
    moment = starts_at(talk)
    if talk.kind not in ASKED_BEFORE or moment is None or moment <= now or talk.appointment.outcome != "planned":
        return 0
    if now < rules.at_hour(talk.day - timedelta(days=VIEW_DAYS)):
        return 0
    not_before = QuietHours.parse(services.settings.quiet_hours).next_allowed(now)
    if not_before >= moment:
        return 0
    sent = 0
    for member in who_is_asked(talk, now, services.settings.milestone_youth_age):
        sent += len(notify(session, member, invitation(talk), now=now, kind="hilfeplan.view_invitation",
                           dedupe_key=f"hp:view:{talk.id}:{talk.day.isoformat()}:m{member.id}",
                           not_before=not_before))
    return sent


# --- the three questions --------------------------------------------------------------------------------------------
def answers_of(view: HilfeplanView) -> dict[str, Any]:
    return json.loads(view.answers_json or "{}")


class HilfeplanViewFlow(Flow):
    name = FLOW
    first_step = QUESTIONS[0]
    typed_steps = {key: WORDS for key in QUESTIONS}

    def _view(self, ctx: Context, frame: Frame) -> HilfeplanView | None:
        talk = ctx.session.get(HilfeplanTalk, int(frame.data.get("talk", 0)))
        if talk is None or not authz.may_give_hilfeplan_view(ctx.principal, talk, ctx.now):
            return None
        member = ctx.member
        assert member is not None
        view = ctx.session.scalar(select(HilfeplanView).where(HilfeplanView.talk_id == talk.id,
                                                              HilfeplanView.member_id == member.id))
        if view is None:
            view = HilfeplanView(talk=talk, talk_id=talk.id, member=member, member_id=member.id, answers_json="{}",
                                 started_at=ctx.now)
            ctx.session.add(view)
        return None if view.submitted_at is not None else view

    def ask(self, ctx: Context, frame: Frame) -> None:
        if self._view(ctx, frame) is None:
            ctx.say(ctx._("This questionnaire is closed. Thank you!"))
            return ctx.finish()
        ctx.say(question_text(ctx.tr, frame.step), [Choice(ctx._("Skip"), SKIP)])

    def handle(self, ctx: Context, frame: Frame) -> None:
        view = self._view(ctx, frame)
        if view is None:
            ctx.say(ctx._("This questionnaire is closed. Thank you!"))
            return ctx.finish()
        answers = answers_of(view)
        if ctx.choice == SKIP:
            answers[frame.step] = None
        elif ctx.text:
            answers[frame.step] = ctx.text
        else:
            return self.ask(ctx, frame)
        view.answers_json = json.dumps(answers, ensure_ascii=False)
        index = QUESTIONS.index(frame.step)
        if index + 1 < len(QUESTIONS):
            return self.goto(ctx, frame, QUESTIONS[index + 1])
        view.submitted_at = ctx.now
        ctx.audit("hilfeplan.view_sent", "hilfeplan_view", view.id, case_id=view.talk.case_id)
        from conversations.hilfeplan.jobs import tell_team_of_view

        tell_team_of_view(ctx.session, ctx.services, view)
        moment = starts_at(view.talk)
        ctx.say(ctx._("Thank you! Your Fachkräfte read this before the talk on {date}.").format(
            date=ctx.tr.date(moment) if moment else ctx.tr.date(view.talk.day)))
        ctx.finish()


def on_open(ctx: Context, arg: str) -> None:
    talk = ctx.session.get(HilfeplanTalk, int(arg)) if arg.isdigit() else None
    if talk is None or not authz.may_give_hilfeplan_view(ctx.principal, talk, ctx.now):
        ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
        return ctx.resume()
    ctx.stack = [f for f in ctx.stack if f.flow != FLOW]
    ctx.start(FLOW, talk=talk.id)


def on_later(ctx: Context, arg: str) -> None:
    ctx.say(ctx._("All right. The button “{button}” above stays valid until the talk.").format(
        button=ctx._("Yes, please")))
    ctx.resume()


def my_views(session: Session, person: Any) -> list[dict[str, Any]]:
    """/meine_daten: a family member's own views before Hilfeplangespräche."""
    if not isinstance(person, FamilyMember):
        return []
    rows = session.scalars(select(HilfeplanView).where(HilfeplanView.member_id == person.id).order_by(HilfeplanView.id))
    return [{"talk": r.talk.day.isoformat(), "sent": r.submitted_at.isoformat() if r.submitted_at else None,
             "answers": answers_of(r)} for r in rows]


REGISTRY.flow(HilfeplanViewFlow())
REGISTRY.action(Action("hp_view", on_open, Audience.FAMILY))
REGISTRY.action(Action("hp_view_later", on_later, Audience.FAMILY))
REGISTRY.data_sections["hilfeplan"] = my_views
