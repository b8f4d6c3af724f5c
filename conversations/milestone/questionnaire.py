"""The questionnaire before a Meilensteingespräch, as a flow: intro → questions → summary → send.

"Auf Augenhöhe" (seed 000, DOMAIN.md tone): it first says who will read the answers and that answering is
voluntary; every question can be skipped; free text and voice notes are answers too. Each answer is stored
at once with the open question, so the questionnaire resumes where it was after a restart or after days
(``/fragebogen``). Until it is sent it can be corrected; only sent answers reach the summary.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import admin
from conversations.context import Context
from conversations.flows.base import WORDS, Flow, Frame
from conversations.i18n import N_, Translator
from conversations.messages import Choice
from conversations.milestone import core
from conversations.milestone.questions import SKIP, Facts, Question, questions, quote, team_names, value_label
from conversations.registry import REGISTRY, Action, Audience, Command
from conversations.rules.milestone import Version
from conversations.rules.outcomes import Outcome
from storage.models import FamilyMember, MilestoneResponse, StaffMember

FLOW = "milestone"
CANCELLED = (Outcome.CANCELLED_BY_FAMILY, Outcome.CANCELLED_BY_PROVIDER)


def facts_for(response: MilestoneResponse, tr: Translator) -> Facts:
    ms = response.milestone
    session_goals = [(g.id, g.level, g.text) for g in core.goals(core.session_of(response), ms.case_id)]
    kids = [(m.id, m.first_name) for m in core.children(ms.case)]
    person = response.member or response.staff
    assert person is not None
    first = response.member.first_name if response.member else person.display_name.split()[0]
    return Facts(
        version=Version(response.version), first_name=first, leader=ms.leader.name,
        team=[s.name for s in admin.team(ms.case)], when=tr.when(ms.appointment.starts_at),
        case_title=ms.case.title, organisation=ms.case.organisation.name, goals=session_goals, children=kids,
        self_member_id=response.member_id,
    )


def applicable(qs: list[Question], answers: dict[str, dict]) -> list[Question]:  # type: ignore[type-arg]
    """The questions that are asked: "why" only after a rating, the consent only after a complaint."""
    result = []
    for q in qs:
        if q.topic == "why":
            rating = answers.get("goal:" + q.key.split(":", 1)[1], {})
            if rating.get("skipped") or rating.get("text") or rating.get("media") or not rating.get("choice"):
                continue  # skipped, or the reason is already given in their own words
        if q.topic == "fits":
            rating = answers.get("goal:" + q.key.split(":", 1)[1], {})
            if rating.get("skipped") or not rating:
                continue  # a goal they passed over is not asked about again
        if q.topic == "own_how":
            own = answers.get("own", {})
            if own.get("skipped") or not (own.get("text") or own.get("media")):
                continue  # nothing taken on named: nothing to say how it went
        if q.topic == "complaint_consent":
            complaint = answers.get("complaint", {})
            if complaint.get("skipped") or not (complaint.get("text") or complaint.get("media")):
                continue
        result.append(q)
    return result


def young(response: MilestoneResponse) -> bool:
    """The youth version speaks as to a young person (du in German, simpler words)."""
    return response.version == Version.YOUTH


def describe_answer(tr: Translator, q: Question, answer: dict | None) -> str:  # type: ignore[type-arg]
    if not answer:
        return tr.gettext("not answered")
    if answer.get("skipped"):
        return tr.gettext("skipped")
    parts = []
    if answer.get("choice"):
        parts.append(value_label(tr, q.topic, answer["choice"]))
    if answer.get("text"):
        parts.append(quote(tr, answer["text"]))
    if answer.get("media"):
        parts.append(tr.gettext("voice message or file ({count})").format(count=len(answer["media"])))
    return " · ".join(parts) or tr.gettext("not answered")


class Questionnaire(Flow):
    name = FLOW
    first_step = "intro"
    accepts_attachments = True

    # --- the frame: {"response": id, "back_to_summary": bool} ------------------------------------
    def _response(self, ctx: Context, frame: Frame) -> MilestoneResponse | None:
        response = core.own_response(ctx.session, int(frame.data.get("response", 0)), ctx.principal)
        if response is None or response.submitted_at is not None:
            return None
        appointment = response.milestone.appointment
        if appointment.starts_at <= ctx.now or appointment.outcome in CANCELLED:
            return None  # the talk began or was cancelled: nothing to prepare any more
        return response

    def _closed(self, ctx: Context) -> None:
        ctx.say(ctx._("This questionnaire is closed. Thank you!"))
        ctx.finish()

    def begin(self, ctx: Context, frame: Frame) -> None:
        response = self._response(ctx, frame)
        if response is None:
            self._closed(ctx)
            return
        if response.position and response.started_at:
            ctx.say(ctx._("Welcome back! Let's go on where you stopped.") if young(response) else
                    ctx._("Welcome back! We continue where you stopped."))
            self.goto(ctx, frame, response.position)
        else:
            self.goto(ctx, frame, "intro")

    def goto(self, ctx: Context, frame: Frame, step: str) -> None:
        frame.step = step
        response = self._response(ctx, frame)
        if response is not None:
            response.position = step
        self.ask(ctx, frame)

    def cancel(self, ctx: Context, frame: Frame) -> None:
        """"Abbrechen" is "later": the answers so far stay, to go on with /fragebogen."""
        response = self._response(ctx, frame)
        if response is None:
            self._closed(ctx)
        else:
            self._later(ctx, response)

    def typed_answer(self, ctx: Context, frame: Frame) -> str | None:
        """A question that takes free text takes words; the intro, the overview and the rest are choices."""
        response = self._response(ctx, frame)
        if response is None:
            return None
        q = next((q for q in self._questions(response, ctx.tr) if q.key == frame.step), None)
        return WORDS if q is not None and q.free_text else None

    def _questions(self, response: MilestoneResponse, tr: Translator) -> list[Question]:
        return applicable(questions(facts_for(response, tr)), core.answers(response))

    # --- asking ------------------------------------------------------------------------------
    def ask(self, ctx: Context, frame: Frame) -> None:
        response = self._response(ctx, frame)
        if response is None:
            self._closed(ctx)
            return
        step = frame.step
        if step == "intro":
            self._intro(ctx, response)
        elif step == "summary":
            self._summary(ctx, response)
        elif step == "change":
            self._change_menu(ctx, response)
        else:
            q = next((q for q in self._questions(response, ctx.tr) if q.key == step), None)
            if q is None:  # the goal was archived meanwhile: go on with the next question
                self.goto(ctx, frame, self._next(response, ctx.tr, step))
                return
            choices = [Choice(ctx._(label), value) for value, label in q.options]
            ctx.say(q.text(ctx.tr), [*choices, Choice(ctx._("Skip"), SKIP)])

    def _intro(self, ctx: Context, response: MilestoneResponse) -> None:
        _ = ctx._
        facts = facts_for(response, ctx.tr)
        team = team_names(ctx.tr, facts.team)
        word = "/" + REGISTRY.commands["questionnaire"].word(ctx.tr.lang)
        if facts.version == Version.YOUTH:
            text = "\n\n".join([
                _("Hi {name}! On {date} there is a meeting about how the help for your family is going. "
                  "{leader} leads it. I would like to know what you think.").format(
                    name=facts.first_name, date=facts.when, leader=facts.leader),
                _("Who reads your answers: {leader} and {team}. Nobody else. Your parents do not see them.").format(
                    leader=facts.leader, team=team),
                _("You don't have to answer. You can skip anything, stop and go on later with {command}, and "
                  "change things before you send them. You can also send a voice message.").format(command=word),
            ])
        elif facts.version == Version.STAFF:
            text = "\n\n".join([
                _("Meilensteingespräch {case} on {date}, led by {leader}.").format(
                    case=facts.case_title, date=facts.when, leader=facts.leader),
                _("Please give your view of the help beforehand. {leader} reads it and puts it beside the "
                  "family's view. Each question can be skipped; {command} continues later.").format(
                    leader=facts.leader, command=word),
            ])
        else:
            text = "\n\n".join([
                _("Hello {name}, on {date} there is a Meilensteingespräch about your help. {leader} leads it. "
                  "Before it, I would like to hear your view.").format(
                    name=facts.first_name, date=facts.when, leader=facts.leader),
                _("Who reads your answers: {leader}, who leads the talk, and your Fachkräfte {team}. Nobody else. "
                  "Other family members do not see your answers.").format(leader=facts.leader, team=team),
                _("Answering is voluntary. You can skip any question, stop and continue later with {command}, "
                  "and change your answers until you send them. You can write in your own words or send a "
                  "voice message.").format(command=word),
            ])
        ctx.say(text, [Choice(_("Start"), "start"), Choice(_("Not now"), "later")])

    def _summary(self, ctx: Context, response: MilestoneResponse) -> None:
        _ = ctx._
        all_answers = core.answers(response)
        lines = [_("This is what you answered:") if young(response) else _("Here is what you answered:"), ""]
        for q in self._questions(response, ctx.tr):
            lines.append(f"• {q.short(ctx.tr)}: {describe_answer(ctx.tr, q, all_answers.get(q.key))}")
        lines += ["", _("Send it now? Until then you can still change everything.") if young(response) else
                  _("Send your answers now? Until then you can change them.")]
        ctx.say("\n".join(lines), [Choice(_("Send"), "send"), Choice(_("Change an answer"), "change"),
                                   Choice(_("Later"), "later")])

    def _change_menu(self, ctx: Context, response: MilestoneResponse) -> None:
        qs = [q for q in self._questions(response, ctx.tr) if q.topic not in ("why",)]
        ctx.say(ctx._("Which answer do you want to change?") if young(response) else
                ctx._("Which answer would you like to change?"),
                [*(Choice(q.short(ctx.tr), q.key) for q in qs), Choice(ctx._("Back to the overview"), "summary")])

    # --- answers -----------------------------------------------------------------------------
    def handle(self, ctx: Context, frame: Frame) -> None:
        response = self._response(ctx, frame)
        if response is None:
            self._closed(ctx)
            return
        step = frame.step
        if step == "intro":
            if ctx.choice == "start":
                response.started_at = response.started_at or ctx.now
                qs = self._questions(response, ctx.tr)
                self.goto(ctx, frame, qs[0].key if qs else "summary")
            elif ctx.choice == "later":
                self._later(ctx, response)
            else:
                self._buttons(ctx, response)
                self.ask(ctx, frame)
        elif step == "summary":
            if ctx.choice == "send":
                self._send(ctx, response)
            elif ctx.choice == "change":
                self.goto(ctx, frame, "change")
            elif ctx.choice == "later":
                self._later(ctx, response)
            else:
                self._buttons(ctx, response)
                self.ask(ctx, frame)
        elif step == "change":
            if ctx.choice and ctx.choice != "summary":
                frame.data["back_to_summary"] = True
                self.goto(ctx, frame, ctx.choice)
            else:
                self.goto(ctx, frame, "summary")
        else:
            self._answer(ctx, frame, response, step)

    def _answer(self, ctx: Context, frame: Frame, response: MilestoneResponse, key: str) -> None:
        q = next((q for q in self._questions(response, ctx.tr) if q.key == key), None)
        if q is None:
            self.goto(ctx, frame, self._next(response, ctx.tr, key))
            return
        if ctx.choice == SKIP:
            core.set_answer(response, key, skipped=True)
        elif ctx.choice is not None:
            core.set_answer(response, key, choice=ctx.choice)
        elif ctx.incoming.attachments and q.free_text:
            for attachment in ctx.incoming.attachments:
                media = core.keep_media(ctx.session, response, key, attachment, ctx.now)
                core.set_answer(response, key, media_id=media.id, text=ctx.text or None)
            ctx.say(ctx._("Thanks, I have saved it with your answers.") if young(response) else
                    ctx._("Thank you, I have kept it with your answers."))
        elif ctx.text and q.free_text:
            core.set_answer(response, key, text=ctx.text)
        else:
            self._buttons(ctx, response)
            self.ask(ctx, frame)
            return
        ctx.audit("milestone.answered", "milestone_response", response.id, case_id=response.milestone.case_id,
                  question=key)
        following = self._next(response, ctx.tr, key)
        if frame.data.get("back_to_summary") and not following.startswith(("why:", "fits:", "own_how",
                                                                            "complaint_consent")):
            frame.data.pop("back_to_summary")  # a corrected answer (and its "why") leads back to the overview
            following = "summary"
        self.goto(ctx, frame, following)

    def _next(self, response: MilestoneResponse, tr: Translator, key: str) -> str:
        qs = questions(facts_for(response, tr))
        keys = [q.key for q in qs]
        asked = {q.key for q in applicable(qs, core.answers(response))}
        start = keys.index(key) + 1 if key in keys else len(keys)
        return next((k for k in keys[start:] if k in asked), "summary")

    def _buttons(self, ctx: Context, response: MilestoneResponse) -> None:
        ctx.say(ctx._("Please tap one of the buttons.") if young(response) else
                ctx._("Please choose one of the buttons."))

    def _later(self, ctx: Context, response: MilestoneResponse) -> None:
        word = "/" + REGISTRY.commands["questionnaire"].word(ctx.tr.lang)
        text = (ctx._("Okay. Your answers so far are saved. Go on any time with {command}.") if young(response) else
                ctx._("Fine. Your answers so far are kept. Continue any time with {command}."))
        ctx.say(text.format(command=word))
        ctx.finish()

    def _send(self, ctx: Context, response: MilestoneResponse) -> None:
        response.submitted_at = ctx.now
        response.position = None
        complaint = core.answers(response).get("complaint", {})
        consent = core.answers(response).get("complaint_consent", {}).get("choice")
        if isinstance(ctx.person, FamilyMember) and (complaint.get("text") or complaint.get("media")):
            response.complaint_consent = consent == "yes"
            if response.complaint_consent:
                file_complaint(ctx, response, complaint.get("text") or "")
        ctx.audit("milestone.sent", "milestone_response", response.id, case_id=response.milestone.case_id)
        ms = response.milestone
        text = (ctx._("Thanks a lot! Your answers are now with {leader}. They help to prepare the meeting on "
                      "{date}.") if young(response) else
                ctx._("Thank you! Your answers have been sent to {leader}. They will help to prepare the "
                      "talk on {date}."))
        ctx.say(text.format(leader=ms.leader.name, date=ctx.tr.date(ms.appointment.starts_at)))
        ctx.finish()


def file_complaint(ctx: Context, response: MilestoneResponse, text: str) -> None:
    """Pass a complaint raised in the questionnaire to complaint management (issue 9), as they agreed.

    It goes in named (they chose to pass it on from their own questionnaire), category "other", with their
    words and any voice note; the complaint office acknowledges it with a reference like any other.
    """
    try:
        from conversations.complaints import complainant, procedure
        from conversations.complaints.rules import AnswerWanted, Category, Status
        from storage.models import Complaint
    except ImportError:  # complaint management not installed: the consent stays recorded on the response
        ctx.audit("milestone.complaint_consent", "milestone_response", response.id,
                  case_id=response.milestone.case_id, filed=False)
        return
    member = ctx.member
    assert member is not None and ctx.identity is not None
    complaint = Complaint(status=Status.DRAFT, organisation_id=member.case.organisation_id, relay=ctx.identity,
                          language=member.language, category=Category.OTHER, anonymous=False, leitung_only=False,
                          answer_wanted=AnswerWanted.CHAT, member_id=member.id, case_id=member.case_id,
                          created_at=ctx.now)
    ctx.session.add(complaint)
    words = text or ctx._("(voice message)")
    procedure.add_entry(complaint, "account", words, ctx.now)
    procedure.add_files(complaint, [a for a in core.media_attachments(ctx.session, response)
                                    if "-complaint-" in a.filename], ctx.now)
    ctx.session.flush()
    procedure.submit(ctx.session, ctx.services, complaint, ctx.now, member)
    response.complaint_filed_at = ctx.now
    ctx.audit("milestone.complaint_passed_on", "milestone_response", response.id,
              case_id=response.milestone.case_id, complaint_id=complaint.id)
    complainant.acknowledge(ctx, complaint)


# --- ways in: the invitation's button and /fragebogen ----------------------------------------------
def start_questionnaire(ctx: Context, response: MilestoneResponse) -> None:
    """Open the questionnaire on top of whatever the person was doing (it returns there afterwards)."""
    ctx.stack = [f for f in ctx.stack if f.flow != FLOW]
    ctx.start(FLOW, response=response.id)


def open_from_button(ctx: Context, arg: str) -> None:
    response = core.own_response(ctx.session, int(arg), ctx.principal) if arg.isdigit() else None
    if response is None:
        ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
        ctx.resume()
        return
    start_questionnaire(ctx, response)


def questionnaire_command(ctx: Context, _arg: str) -> None:
    person = ctx.person
    assert person is not None
    open_ = core.open_responses(ctx.session, person, ctx.now)
    if not open_:
        ctx.say(ctx._("There is no questionnaire for you at the moment."))
        ctx.resume()
        return
    start_questionnaire(ctx, open_[0])


def my_answers(session: Session, person: FamilyMember | StaffMember) -> list[dict[str, Any]]:
    """/meine_daten: a person's own questionnaires (their answers only, never anyone else's)."""
    column = MilestoneResponse.member_id if isinstance(person, FamilyMember) else MilestoneResponse.staff_id
    rows = session.scalars(select(MilestoneResponse).where(column == person.id).order_by(MilestoneResponse.id))
    return [{"meeting": r.milestone.appointment.starts_at.isoformat(), "invited": r.invited_at.isoformat(),
             "sent": r.submitted_at.isoformat() if r.submitted_at else None, "answers": core.answers(r),
             "complaint_passed_on": r.complaint_consent} for r in rows]


REGISTRY.data_sections["meilensteingespraech"] = my_answers
REGISTRY.flow(Questionnaire())
REGISTRY.action(Action("ms_open", open_from_button, Audience.LINKED))
REGISTRY.command(Command("questionnaire", {"de": "fragebogen", "en": "questionnaire"},
                         N_("My questionnaire for the Meilensteingespräch"), questionnaire_command, Audience.LINKED))
