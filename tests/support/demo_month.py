"""The demo month of SCENARIOS.md (March 2027, and the Meilensteingespräch in April) as facts in the database.

Through the domain functions and the real scheduler (reminders go out through the outbox and are delivered
to the test channel), on the manual clock. What the report of the Träger's figures should then show:

Q1 (January–March 2027)
- Yılmaz (SPFH § 31): Ayşe and Murat get the reminders (7 appointments' worth each: 14). Tuesdays 10:00–12:00 from 2 March. 2nd took place (2 h), 9th took place (2.5 h), 16th
  cancelled by Ayşe the evening before (late), 23rd nobody there (no-show), 30th cancelled the same morning
  (late): the third in a row, one escalation, acknowledged by Dr. Schulz at 15:00. A crisis intervention on
  31 March took place (1 h). Ayşe confirmed the 2nd and the 9th after their reminders.
- Petrenko (Erziehungsbeistand § 30): Thursdays 14:00–15:30 from 4 March. 4th and 11th took place (1.5 h
  each), 18th cancelled by the Träger on the 15th (in time), 25th cancelled by Olga on the 20th (in time).
- Olga's anonymous complaint about a Fachkraft (10 March), taken up the next day, answered and closed on
  the 19th (partly upheld), rated "partly".
  So: 10 appointments, 5 took place, 8.5 h delivered, billable 8.5 + 3 × 1 = 11.5 h, off the budget 14.5 h.
- A Nachweis for February confirmed by Ayşe on 1 March.
Q2 (April)
- The Meilensteingespräch of the Yılmaz case on 14 April with Sabine: Ayşe (cooperation 4, goals reached /
  partly), Murat (5, reached / not yet), Emre (youth, 4, partly / don't know), Jana and Tobias (staff, 4 and 3).
- Emre writes at 23:10 on 5 April; the alert is handled by Jana at 07:45 the next morning.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from bot.scheduler import run_all
from conversations import appointments as appts
from conversations import budget, escalations
from conversations.admin import Actor
from conversations.child_protection import raise_alert
from conversations.clock import BERLIN, berlin
from conversations.complaints import procedure
from conversations.complaints.rules import AnswerWanted, Category, Outcome, Satisfaction, Status
from conversations.milestone import core as milestone_core
from conversations.rules.outcomes import AppointmentKind
from storage.models import Appointment, Case, FamilyMember, StaffMember
from storage.models.budget import NachweisConfirmation
from storage.models.complaints import Complaint
from storage.models.escalations import Escalation
from storage.models.milestone import MilestoneResponse

ACTOR = Actor("demo")


def _case(session: Any, title: str) -> Case:
    return session.scalar(select(Case).where(Case.title == title))


def _staff(session: Any, name: str) -> StaffMember:
    return session.scalar(select(StaffMember).where(StaffMember.name == name))


def _member(session: Any, first_name: str) -> FamilyMember:
    return session.scalar(select(FamilyMember).where(FamilyMember.first_name == first_name))


def _at(session: Any, case: Case, day: int, month: int = 3) -> Appointment:
    return next(a for a in session.scalars(select(Appointment).where(Appointment.case_id == case.id))
                if a.starts_at.astimezone(BERLIN).date() == date(2027, month, day))


def play(bot: Any, codes: dict[str, str]) -> None:
    app = bot.app
    clock = app.services.clock
    services = app.services

    def tick(moment: Any) -> None:
        clock.set(moment)
        run_all(services)
        bot.deliver()

    bot.link("ayse", codes["Ayşe"])
    bot.link("murat", codes["Murat"])  # his own reminders
    with app.sessions.begin() as session:
        yilmaz, petrenko = _case(session, "Familie Yılmaz"), _case(session, "Familie Petrenko")
        jana, tobias = _staff(session, "Jana Weber"), _staff(session, "Tobias Klein")
        budget.set_budget(session, "cli", clock.now(), yilmaz, 20 * 60, date(2027, 3, 1))
        appts.create_weekly(session, services, ACTOR, yilmaz, AppointmentKind.HAUSBESUCH, berlin(2027, 3, 2, 10),
                            120, [jana], appts.default_members(yilmaz), 5)
        appts.create_weekly(session, services, ACTOR, petrenko, AppointmentKind.HAUSBESUCH,
                            berlin(2027, 3, 4, 14), 90, [tobias], appts.default_members(petrenko), 5)
        session.add(NachweisConfirmation(case_id=yilmaz.id, month="2027-02", status="confirmed",
                                         asked_at=clock.now(), answered_at=clock.now(),
                                         answered_by=_member(session, "Ayşe").id, channel="test"))
    bot.deliver()

    def outcome(day: int, title: str, result: str, minutes: int | None = None, **kw: Any) -> None:
        with app.sessions.begin() as session:
            appts.record_outcome(session, services, ACTOR, _at(session, _case(session, title), day), result,
                                 minutes, **kw)

    def cancel(day: int, title: str, by_family: bool) -> None:
        with app.sessions.begin() as session:
            appts.cancel(session, services, ACTOR, _at(session, _case(session, title), day), by_family=by_family)

    def confirm(day: int) -> None:
        with app.sessions.begin() as session:
            appts.confirm_by_family(session, services, _member(session, "Ayşe"),
                                    _at(session, _case(session, "Familie Yılmaz"), day))

    tick(berlin(2027, 3, 2, 8))  # the morning reminder (the two-days one was due before it was entered)
    confirm(2)
    tick(berlin(2027, 3, 2, 12, 5))
    outcome(2, "Familie Yılmaz", "took_place", 120)
    tick(berlin(2027, 3, 4, 15, 40))
    outcome(4, "Familie Petrenko", "took_place", 90)
    tick(berlin(2027, 3, 7, 10))
    confirm(9)
    tick(berlin(2027, 3, 9, 8))
    tick(berlin(2027, 3, 9, 12, 30))
    outcome(9, "Familie Yılmaz", "took_place", 150)

    # Olga's anonymous complaint about her Fachkraft, Kerstin takes it up, answers, closes; Olga rates it.
    clock.set(berlin(2027, 3, 10, 19, 0))
    with app.sessions.begin() as session:
        olga = _member(session, "Olga")
        complaint = Complaint(status=Status.DRAFT, organisation_id=petrenko.organisation_id, anonymous=True,
                              language="uk", category=Category.STAFF, leitung_only=False,
                              answer_wanted=AnswerWanted.CHAT, created_at=clock.now())
        session.add(complaint)
        procedure.add_entry(complaint, "account", "Він завжди запізнюється.", clock.now())
        session.flush()
        procedure.submit(session, services, complaint, clock.now(), olga)
        complaint_id = complaint.id
    clock.set(berlin(2027, 3, 11, 9, 30))
    with app.sessions.begin() as session:
        procedure.take_over(session, services, session.get(Complaint, complaint_id),
                            _staff(session, "Kerstin Braun"), clock.now())
    tick(berlin(2027, 3, 11, 15, 40))
    outcome(11, "Familie Petrenko", "took_place", 90)
    tick(berlin(2027, 3, 14, 10))
    clock.set(berlin(2027, 3, 15, 9))
    cancel(18, "Familie Petrenko", by_family=False)  # Tobias is ill all week: three days ahead
    clock.set(berlin(2027, 3, 15, 22, 40))
    cancel(16, "Familie Yılmaz", by_family=True)  # under 24 h
    clock.set(berlin(2027, 3, 19, 11))
    with app.sessions.begin() as session:
        complaint = session.get(Complaint, complaint_id)
        kerstin = _staff(session, "Kerstin Braun")
        procedure.answer(session, services, complaint, kerstin, "Wir haben mit der Fachkraft gesprochen.",
                         clock.now())
        procedure.close(session, services, complaint, kerstin, Outcome.PARTLY, "Gespräch mit der Fachkraft.",
                        clock.now())
    clock.set(berlin(2027, 3, 19, 18))
    with app.sessions.begin() as session:
        procedure.rate(session, services, session.get(Complaint, complaint_id), None, Satisfaction.PARTLY,
                       clock.now())
    clock.set(berlin(2027, 3, 20, 10))
    with app.sessions.begin() as session:  # Olga cancels the 25th five days ahead
        appts.cancel(session, services, ACTOR, _at(session, petrenko, 25), by_family=True)
    tick(berlin(2027, 3, 21, 10))
    tick(berlin(2027, 3, 23, 8))
    tick(berlin(2027, 3, 23, 12, 30))
    outcome(23, "Familie Yılmaz", "no_show")
    tick(berlin(2027, 3, 28, 10))
    clock.set(berlin(2027, 3, 30, 7, 30))
    cancel(30, "Familie Yılmaz", by_family=True)  # the same morning: the third in a row
    clock.set(berlin(2027, 3, 30, 15, 0))
    with app.sessions.begin() as session:
        streak = session.scalar(select(Escalation).where(Escalation.kind == "attendance"))
        assert streak is not None, "the third appointment in a row without participation must escalate"
        escalations.acknowledge(session, streak, _staff(session, "Dr. Katrin Schulz"), via="email-link",
                                now=clock.now())
    clock.set(berlin(2027, 3, 31, 9))
    with app.sessions.begin() as session:
        crisis = appts.create_appointment(session, services, ACTOR, yilmaz, AppointmentKind.KRISENINTERVENTION,
                                          berlin(2027, 3, 31, 9, 30), 60, [jana], appts.default_members(yilmaz),
                                          tell=False)
        crisis_id = crisis.id
    clock.set(berlin(2027, 3, 31, 10, 45))
    with app.sessions.begin() as session:
        appts.record_outcome(session, services, ACTOR, session.get(Appointment, crisis_id), "took_place", 60)

    # April: the Meilensteingespräch (14th), its questionnaires, and Emre's message at 23:10 on the 5th.
    clock.set(berlin(2027, 4, 1, 9))
    with app.sessions.begin() as session:
        yilmaz = _case(session, "Familie Yılmaz")
        goals = [milestone_core.add_goal(session, ACTOR, clock.now(), yilmaz, text)
                 for text in ("Morgens pünktlich in der Schule", "Ein fester Familienabend pro Woche")]
        ms = milestone_core.create_milestone(session, ACTOR, clock.now(), yilmaz, berlin(2027, 4, 14, 16),
                                             _staff(session, "Sabine Roth"), services=services)
        answers = {"Ayşe": ("adult", "4", ("reached", "partly")), "Murat": ("adult", "5", ("reached", "not_yet")),
                   "Emre": ("youth", "4", ("partly", "unknown"))}
        for name, (version, coop, ratings) in answers.items():
            _answer(session, ms, clock.now(), version, coop, zip(goals, ratings, strict=True),
                    member=_member(session, name))
        for staff_name, coop in (("Jana Weber", "4"), ("Tobias Klein", "3")):
            _answer(session, ms, clock.now(), "staff", coop, [], staff=_staff(session, staff_name))
        emre = _member(session, "Emre")
    clock.set(berlin(2027, 4, 5, 23, 10))
    with app.sessions.begin() as session:
        raise_alert(session, services, session.get(FamilyMember, emre.id), key="demo:emre:1",
                    message="ich halt das zuhause nicht mehr aus", match=None)
    clock.set(berlin(2027, 4, 6, 7, 45))
    with app.sessions.begin() as session:
        alert = session.scalar(select(Escalation).where(Escalation.kind == "child_protection"))
        escalations.acknowledge(session, alert, _staff(session, "Jana Weber"), via="chat", now=clock.now())
    bot.deliver()


def _answer(session: Any, ms: Any, now: Any, version: str, coop: str, goal_ratings: Any, *,
            member: FamilyMember | None = None, staff: StaffMember | None = None) -> None:
    response = session.scalar(select(MilestoneResponse).where(
        MilestoneResponse.milestone_id == ms.id,
        MilestoneResponse.member_id == member.id if member else MilestoneResponse.staff_id == staff.id))
    if response is None:
        response = MilestoneResponse(milestone_id=ms.id, member_id=member.id if member else None,
                                     staff_id=staff.id if staff else None, version=version, invited_at=now,
                                     answers_json="{}")
        session.add(response)
    for goal, rating in goal_ratings:
        milestone_core.set_answer(response, f"goal:{goal.id}", choice=rating)
    milestone_core.set_answer(response, "cooperation", choice=coop)
    response.submitted_at = now
    session.flush()
