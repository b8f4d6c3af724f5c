"""Who may do what: every role against every action (``conversations.authz``), and the holes that were
open before, tried through a chat with forged payloads.

The table below is the specification: ``x`` allowed, ``.`` refused. A new action adds its row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

import conversations.jobs  # noqa: F401  (registers the commands and buttons the table names)
from conversations import admin, authz
from conversations.admin import Actor
from conversations.authz import Principal
from conversations.clock import berlin
from conversations.milestone import core
from conversations.registry import REGISTRY
from conversations.rules.outcomes import AppointmentKind, Outcome
from storage.models import (
    Appointment,
    AppointmentMember,
    Case,
    ChatIdentity,
    Escalation,
    ExtraHoursRequest,
    MemberKind,
    Milestone,
    MilestoneEvaluation,
    MilestoneResponse,
    NachweisConfirmation,
    Role,
)
from storage.models.complaints import Complaint
from storage.models.hilfeplan import HilfeplanItem, HilfeplanTalk

OPS = Actor("test")
TALK = berlin(2027, 4, 14, 10, 0)

ROLES = ["parent", "child", "other_family", "fachkraft", "fachkraft_elsewhere", "former_fachkraft",
         "fallfuehrend", "gespraechsfuehrung", "beschwerde", "leitung", "leitung_other", "deactivated", "operator"]

#                                 par chi oth fk  fke for ff  gf  bes lei lot dea op
TABLE = """
see_case                          x   x   .   x   .   .   x   x   .   x   .   .   x
plan_appointment                  .   .   .   x   .   .   .   .   .   .   .   .   x
record_outcome                    .   .   .   x   .   .   .   .   .   .   .   .   x
record_cancellation_time          .   .   .   x   .   .   .   .   .   .   .   .   x
cancel_appointment                .   .   .   x   .   .   .   .   .   .   .   .   x
move_appointment                  .   .   .   x   .   .   .   .   .   .   .   .   x
answer_appointment                x   .   .   .   .   .   .   .   .   .   .   .   .
see_hours                         .   .   .   x   .   .   x   .   .   x   .   .   x
approve_extra_hours               .   .   .   .   .   .   x   .   .   .   .   .   .
confirm_nachweis                  x   .   .   .   .   .   .   .   .   .   .   .   .
acknowledge_escalation            .   .   .   .   .   .   x   .   .   x   .   .   .
handle_alert                      .   .   .   x   .   .   .   .   .   x   .   .   .
close_escalation:attendance       .   .   .   .   .   .   x   .   .   x   .   .   .
close_escalation:alert            .   .   .   x   .   .   .   .   .   x   .   .   .
raise_alert                       x   x   .   .   .   .   .   .   .   .   .   .   .
complain                          x   x   .   .   .   .   .   .   .   .   .   .   .
see_complaint                     .   .   .   .   .   .   .   .   x   x   .   .   x
see_complaint:about_officer       .   .   .   .   .   .   .   .   .   x   .   .   x
handle_complaint                  .   .   .   .   .   .   .   .   x   x   .   .   .
write_complaint                   x   .   .   .   .   .   .   .   .   .   .   .   .
reply_to_complaint                x   .   .   .   .   .   .   .   .   .   .   .   .
rate_complaint                    x   .   .   .   .   .   .   .   .   .   .   .   .
forward_complaint                 .   .   .   .   .   .   .   .   x   x   .   .   .
forward_complaint:no_consent      .   .   .   .   .   .   .   .   .   .   .   .   .
see_figures                       .   .   .   .   .   .   .   .   .   x   x   .   x
read_milestone_answers            .   .   .   x   .   .   .   x   .   .   .   .   x
record_evaluation:after_talk      .   .   .   .   .   .   .   x   .   .   .   .   .
record_evaluation:before_talk     .   .   .   .   .   .   .   .   .   .   .   .   .
answer_questionnaire:family       x   .   .   .   .   .   .   .   .   .   .   .   .
answer_questionnaire:fachkraft    .   .   .   x   .   .   .   .   .   .   .   .   .
use_console                       .   .   .   x   x   x   x   x   x   x   x   .   .
work_complaints                   .   .   .   .   .   .   .   .   x   x   x   .   .
see_overview                      .   .   .   .   .   .   .   .   .   x   x   .   .
see_deadlines                     .   .   .   x   .   .   x   .   .   x   .   .   x
mark_deadline_done                .   .   .   x   .   .   .   .   .   x   .   .   x
use_command:fristen               .   .   .   x   x   x   .   .   .   x   x   .   .
give_hilfeplan_view               x   x   .   .   .   .   .   .   .   .   .   .   .
use_command:termin                .   .   .   x   x   x   .   .   .   .   .   .   .
press_action:appt_confirm         x   x   x   .   .   .   .   .   .   .   .   .   .
"""


def parse_table(text: str) -> dict[str, set[str]]:
    rows = {}
    for line in text.strip().splitlines():
        name, *marks = line.split()
        assert len(marks) == len(ROLES), f"{name}: {len(marks)} columns"
        rows[name] = {role for role, mark in zip(ROLES, marks, strict=True) if mark == "x"}
    return rows


@dataclass
class World:
    """The Yılmaz case with one of everything, and a principal for every role."""

    principals: dict[str, Principal]
    actions: dict[str, Callable[[Principal], bool]]


def build_world(session, app) -> World:  # type: ignore[no-untyped-def]
    now = app.services.clock.now()
    org = admin.add_organisation(session, OPS, now, "Brücke e.V.", phone="0391 555 0100")
    other_org = admin.add_organisation(session, OPS, now, "Anderer Träger e.V.")
    jugendamt = admin.add_organisation(session, OPS, now, "Jugendamt Magdeburg-Nord")

    def staff(name: str, role: Role, organisation=org):  # type: ignore[no-untyped-def]
        return admin.add_staff(session, OPS, now, organisation, name, [role])

    jana = staff("Jana Weber", Role.FACHKRAFT)
    tobias = staff("Tobias Klein", Role.FACHKRAFT)
    former = staff("Frank Früher", Role.FACHKRAFT)
    schulz = staff("Dr. Katrin Schulz", Role.FALLFUEHREND, jugendamt)
    sabine = staff("Sabine Roth", Role.GESPRAECHSFUEHRUNG)
    kerstin = staff("Kerstin Braun", Role.BESCHWERDE)
    leitung = staff("Martina Hoffmann", Role.LEITUNG)
    leitung_other = staff("Otto Anders", Role.LEITUNG, other_org)
    gone = staff("Gerd Gegangen", Role.FACHKRAFT)

    case = admin.add_case(session, OPS, now, org, "Familie Yılmaz")
    other_case = admin.add_case(session, OPS, now, org, "Familie Petrenko")
    for person, role in ((jana, Role.FACHKRAFT), (former, Role.FACHKRAFT), (schulz, Role.FALLFUEHREND),
                         (gone, Role.FACHKRAFT)):
        admin.assign(session, OPS, now, case, person, role)
    admin.assign(session, OPS, now, other_case, tobias, Role.FACHKRAFT)
    next(a for a in case.assignments if a.staff_id == former.id).until = now  # handed the case on
    gone.active = False  # left the Träger

    ayse = admin.add_member(session, OPS, now, case, "Ayşe", "Yılmaz", MemberKind.PARENT)
    emre = admin.add_member(session, OPS, now, case, "Emre", "Yılmaz", MemberKind.CHILD)
    olga = admin.add_member(session, OPS, now, other_case, "Olga", "Petrenko", MemberKind.PARENT)
    ayse_chat = ChatIdentity(channel="test", address="ayse", member=ayse, linked_at=now)
    session.add(ayse_chat)

    ms = core.create_milestone(session, OPS, now, case, TALK, sabine)
    appointment = Appointment(case=case, kind=AppointmentKind.HAUSBESUCH, starts_at=now + timedelta(days=1),
                              duration_minutes=120, outcome=Outcome.PLANNED, ics_uid="a@test", created_at=now,
                              members=[AppointmentMember(member_id=ayse.id)])
    conf = NachweisConfirmation(case=case, month="2027-02", status="pending", asked_at=now)
    request = ExtraHoursRequest(case=case, month="2027-03", minutes=60, requested_by="test", requested_at=now)
    escalation = Escalation(kind="attendance", key="attendance:test", case=case, created_at=now, facts={})
    alert = Escalation(kind="child_protection", key="cp:test", case=case, member=emre, message="…",
                       created_at=now, facts={})
    complaint = Complaint(status="new", organisation_id=org.id, relay=ayse_chat, member_id=ayse.id,
                          case_id=case.id, category="other", created_at=now)
    about_officer = Complaint(status="new", organisation_id=org.id, category="staff", about_staff_id=kerstin.id,
                              leitung_only=True, created_at=now)
    draft = Complaint(status="draft", organisation_id=org.id, relay=ayse_chat, category="other", created_at=now)
    to_jugendamt = Complaint(status="new", organisation_id=org.id, relay=ayse_chat, member_id=ayse.id,
                             case_id=case.id, category="jugendamt", forward_consent="named", created_at=now)
    kept_here = Complaint(status="new", organisation_id=org.id, relay=ayse_chat, category="jugendamt",
                          anonymous=True, forward_consent="no", created_at=now)
    session.add_all([to_jugendamt, kept_here])
    family_response = MilestoneResponse(milestone=ms, member_id=ayse.id, version="adult", invited_at=now)
    staff_response = MilestoneResponse(milestone=ms, staff_id=jana.id, version="staff", invited_at=now)
    deadline = HilfeplanItem(case=case, key="entwicklungsbericht:1", kind="entwicklungsbericht", owner="traeger",
                             due_on=TALK.date(), created_at=now)
    talk = HilfeplanTalk(case=case, kind="fortschreibung", day=(now + timedelta(days=1)).date(),
                         appointment=appointment, participants="", crisis=False, created_at=now, created_by="test")
    session.add_all([appointment, conf, request, escalation, alert, complaint, about_officer, draft,
                     family_response, staff_response, deadline, talk])
    session.flush()

    def chat_of(name: str) -> tuple[str, str]:
        return ("test", name)

    principals = {
        "parent": Principal(member=ayse, chat=chat_of("ayse")),
        "child": Principal(member=emre, chat=chat_of("emre")),
        "other_family": Principal(member=olga, chat=chat_of("olga")),
        "fachkraft": Principal(staff=jana, chat=chat_of("jana")),
        "fachkraft_elsewhere": Principal(staff=tobias, chat=chat_of("tobias")),
        "former_fachkraft": Principal(staff=former, chat=chat_of("former")),
        "fallfuehrend": Principal(staff=schulz, chat=chat_of("schulz")),
        "gespraechsfuehrung": Principal(staff=sabine, chat=chat_of("sabine")),
        "beschwerde": Principal(staff=kerstin, chat=chat_of("kerstin")),
        "leitung": Principal(staff=leitung, chat=chat_of("leitung")),
        "leitung_other": Principal(staff=leitung_other, chat=chat_of("otto")),
        "deactivated": Principal(staff=gone, chat=chat_of("gerd")),
        "operator": authz.OPERATOR,
    }
    after_talk, before_talk = TALK + timedelta(minutes=5), TALK - timedelta(days=1)
    actions: dict[str, Callable[[Principal], bool]] = {
        "see_case": lambda p: authz.may_see_case(p, case),
        "plan_appointment": lambda p: authz.may_plan_appointment(p, case),
        "record_outcome": lambda p: authz.may_record_outcome(p, appointment),
        "record_cancellation_time": lambda p: authz.may_record_cancellation_time(p, appointment),
        "cancel_appointment": lambda p: authz.may_cancel_appointment(p, appointment),
        "move_appointment": lambda p: authz.may_move_appointment(p, appointment),
        "answer_appointment": lambda p: authz.may_answer_appointment(p, appointment),
        "see_hours": lambda p: authz.may_see_hours(p, case),
        "approve_extra_hours": lambda p: authz.may_approve_extra_hours(p, request),
        "confirm_nachweis": lambda p: authz.may_confirm_nachweis(p, conf),
        "acknowledge_escalation": lambda p: authz.may_acknowledge_escalation(p, escalation),
        "handle_alert": lambda p: authz.may_handle_alert(p, alert),
        "close_escalation:attendance": lambda p: authz.may_close_escalation(p, escalation),
        "close_escalation:alert": lambda p: authz.may_close_escalation(p, alert),
        "raise_alert": lambda p: authz.may_raise_alert(p, case),
        "complain": lambda p: authz.may_complain(p, case),
        "see_complaint": lambda p: authz.may_see_complaint(p, complaint),
        "see_complaint:about_officer": lambda p: authz.may_see_complaint(p, about_officer),
        "handle_complaint": lambda p: authz.may_handle_complaint(p, complaint),
        "write_complaint": lambda p: authz.may_write_complaint(p, draft),
        "reply_to_complaint": lambda p: authz.may_reply_to_complaint(p, complaint),
        "rate_complaint": lambda p: authz.may_rate_complaint(p, complaint),
        "forward_complaint": lambda p: authz.may_forward_complaint(p, to_jugendamt),
        "forward_complaint:no_consent": lambda p: authz.may_forward_complaint(p, kept_here),
        "see_figures": authz.may_see_figures,
        "read_milestone_answers": lambda p: authz.may_read_milestone_answers(p, ms),
        "record_evaluation:after_talk": lambda p: authz.may_record_evaluation(p, ms, after_talk),
        "record_evaluation:before_talk": lambda p: authz.may_record_evaluation(p, ms, before_talk),
        "answer_questionnaire:family": lambda p: authz.may_answer_questionnaire(p, family_response),
        "answer_questionnaire:fachkraft": lambda p: authz.may_answer_questionnaire(p, staff_response),
        # The first gate only (who a command or button is for); the object's rule follows in its handler.
        "use_command:termin": lambda p: authz.may_use_command(p, REGISTRY.commands["appointment"]),
        "press_action:appt_confirm": lambda p: authz.may_press_action(p, REGISTRY.actions["appt_confirm"]),
        "use_console": authz.may_use_console,
        "work_complaints": authz.may_work_complaints,
        "see_overview": authz.may_see_overview,
        "see_deadlines": lambda p: authz.may_see_deadlines(p, case),
        "mark_deadline_done": lambda p: authz.may_mark_deadline_done(p, deadline),
        "use_command:fristen": lambda p: authz.may_use_command(p, REGISTRY.commands["deadlines"]),
        "give_hilfeplan_view": lambda p: authz.may_give_hilfeplan_view(p, talk, now),
    }
    return World(principals, actions)


EXPECTED = parse_table(TABLE)


def test_the_table_names_every_may_function():
    """A ``may_…`` function without a row would be a rule nobody specified."""
    functions = {name.removeprefix("may_") for name in dir(authz) if name.startswith("may_")}
    rows = {name.split(":")[0] for name in EXPECTED}
    assert functions == rows


def test_every_role_against_every_action(app):
    with app.sessions.begin() as session:
        world = build_world(session, app)
        assert set(world.actions) == set(EXPECTED)
        wrong = [f"{action}: {role} {'may' if allowed else 'may not'}"
                 for action, check in world.actions.items() for role in ROLES
                 if (allowed := check(world.principals[role])) != (role in EXPECTED[action])]
        session.rollback()
    assert wrong == []


def test_a_closed_case_keeps_its_records_readable_and_takes_no_new_actions(app):
    with app.sessions.begin() as session:
        world = build_world(session, app)
        session.scalar(select(Case).where(Case.title == "Familie Yılmaz")).closed_at = app.services.clock.now()
        still = {action for action in world.actions
                 if any(world.actions[action](world.principals[role]) for role in ROLES)}
        session.rollback()
    # Reading and closing what is open go on; nothing new is planned, recorded, signed or answered.
    assert still == {"see_case", "see_hours", "acknowledge_escalation", "handle_alert", "close_escalation:attendance",
                     "close_escalation:alert", "raise_alert", "complain", "see_complaint",
                     "see_complaint:about_officer", "handle_complaint", "write_complaint", "reply_to_complaint",
                     "forward_complaint", "see_figures",  # issue 18: the report's and the Jugendamt complaint's
                     "rate_complaint", "read_milestone_answers", "record_evaluation:after_talk",
                     # no case to close: always the same
                     "use_console", "work_complaints", "see_overview", "use_command:termin",
                     "press_action:appt_confirm", "see_deadlines", "use_command:fristen"}


# --- the holes, tried as a person with a forged payload would, through the engine and the outbox ------------
@pytest.fixture
def month(app, codes, clock):  # type: ignore[no-untyped-def]
    """A Yılmaz visit that took place in February, the proof asked on 1 March, and one planned visit."""
    from conversations import appointments, nachweis

    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        team = admin.team(case)
        past = appointments.create_appointment(session, app.services, OPS, case, "hausbesuch",
                                               berlin(2027, 2, 16, 10, 0), 120, team, appointments.default_members(case))
        appointments.record_outcome(session, app.services, OPS, past, Outcome.TOOK_PLACE)
        planned = appointments.create_appointment(session, app.services, OPS, case, "hausbesuch",
                                                  berlin(2027, 3, 9, 10, 0), 120, team,
                                                  appointments.default_members(case))
        nachweis.ask_families(session, app.services)
        conf = session.scalar(select(NachweisConfirmation))
        return {"conf": conf.id, "planned": planned.id}


def test_a_child_cannot_confirm_the_monthly_proof_that_went_to_the_parents(bot, codes, app, month):
    emre = bot.link("emre", codes["Emre"], "English")
    said = emre.say(payload=f"act:nachweis_ok:{month['conf']}")
    assert said[0] == "That button is no longer valid. Nothing was changed."
    emre.say(payload=f"act:nachweis_wrong:{month['conf']}")
    with app.sessions.begin() as session:
        conf = session.get(NachweisConfirmation, month["conf"])
        assert conf.status == "pending" and conf.sent_at is None
    # Ayşe, to whom it went, confirms it with one tap.
    ayse = bot.link("ayse", codes["Ayşe"], "English")
    assert "passed on your confirmation" in ayse.say(payload=f"act:nachweis_ok:{month['conf']}")[0]


def test_the_jugendamt_cannot_record_a_no_show_or_move_an_appointment(bot, codes, app, month):
    schulz = bot.link("schulz", codes["Schulz"], "English")
    planned = month["planned"]
    assert schulz.say(payload=f"act:appt_outcome:{planned}:{Outcome.NO_SHOW}")[0] == \
        "That button is no longer valid. Nothing was changed."
    assert schulz.say(payload=f"act:appt_reschedule:{planned}")[0] == \
        "That button is no longer valid. Nothing was changed."
    with app.sessions.begin() as session:
        appointment = session.get(Appointment, planned)
        assert appointment.outcome == Outcome.PLANNED and appointment.ics_sequence == 0
    # She still sees the hours of her cases.
    assert "Familie Yılmaz" in schulz.say("/hours")[0]
    assert "Hours of Familie Yılmaz" in schulz.press("Familie Yılmaz")[0]


def test_the_milestone_evaluation_cannot_be_recorded_before_the_talk(bot, codes, app, clock):
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        leader = next(a.staff for a in case.assignments if a.role == Role.GESPRAECHSFUEHRUNG)
        ms_id = core.create_milestone(session, OPS, clock.now(), case, TALK, leader).id
    sabine = bot.link("sabine", codes["Sabine"], "English")
    assert sabine.say(payload=f"act:ms_eval:{ms_id}")[0] == "This is not available to you."
    with app.sessions.begin() as session:
        assert session.scalar(select(MilestoneEvaluation.id)) is None
        assert session.get(Milestone, ms_id) is not None
    # Once the talk has begun, the same button opens the evaluation.
    clock.set(TALK + timedelta(minutes=90))
    assert "signs" in sabine.say(payload=f"act:ms_eval:{ms_id}")[-1].casefold()
