"""The Meilensteingespräch's due work, found by a periodic scan of stored rows.

Each message carries a unique key (``milestone:<id>:...``), so a scan that runs twice, late, or on two
instances sends nothing twice. Routine messages wait for the end of quiet hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from conversations import admin
from conversations.clock import BERLIN
from conversations.context import Services, audit
from conversations.i18n import Translator
from conversations.messages import Attachment, Choice, Reply
from conversations.milestone import core, summary
from conversations.outbox import chats_of, notify
from conversations.registry import REGISTRY, PeriodicTask
from conversations.rules import milestone as rules
from conversations.rules.outcomes import Outcome
from conversations.rules.quiet_hours import QuietHours
from storage.models import (
    Appointment,
    Case,
    CaseAssignment,
    FamilyMember,
    Milestone,
    MilestoneAction,
    MilestoneEvaluation,
    MilestoneResponse,
    StaffMember,
)

EVALUATION_WINDOW = timedelta(days=14)  # after that, asking for the evaluation helps nobody


def scan(services: Services) -> None:
    now, settings = services.clock.now(), services.settings
    quiet = QuietHours.parse(settings.quiet_hours)
    with services.sessions.begin() as session:
        # From the appointments of the window (their index on the start), not from every Meilenstein kept.
        in_window = select(Appointment.id).where(
            Appointment.starts_at > now - EVALUATION_WINDOW,
            # nothing is due before the invitation (invite_days before the day, from its start)
            Appointment.starts_at <= now + timedelta(days=settings.milestone_invite_days + 2),
            Appointment.outcome != Outcome.CANCELLED_BY_FAMILY,
            Appointment.outcome != Outcome.CANCELLED_BY_PROVIDER)
        rows = session.scalars(
            select(Milestone).where(Milestone.appointment_id.in_(in_window))
            .options(selectinload(Milestone.appointment), selectinload(Milestone.responses),
                     selectinload(Milestone.case).selectinload(Case.members),
                     selectinload(Milestone.case).selectinload(Case.assignments).selectinload(CaseAssignment.staff))
            .order_by(Milestone.id)
        ).all()
        for ms in rows:
            starts = ms.appointment.starts_at
            if rules.invitation_due(now, starts, settings.milestone_invite_days):
                invite(session, ms, now, quiet, settings.milestone_youth_age)
            remind(session, ms, now, quiet, settings.milestone_reminder_days)
            if ms.summary_sent_at is None and rules.summary_at(starts) <= now < starts:
                send_summary(session, ms, now, quiet)
            ends = starts + timedelta(minutes=ms.appointment.duration_minutes)
            if ms.evaluation_requested_at is None and now >= ends:
                request_evaluation(session, ms, now, quiet)
        remind_actions(session, now, quiet)


def _linked(session: Session, person: FamilyMember | StaffMember) -> bool:
    return bool(chats_of(session, person))


def invite(session: Session, ms: Milestone, now: datetime, quiet: QuietHours, youth_age: int) -> None:
    """Each linked adult (and young person from ``youth_age``) separately, and each Fachkraft of the case."""
    today = now.astimezone(BERLIN).date()
    existing_members = {r.member_id for r in ms.responses if r.member_id}
    existing_staff = {r.staff_id for r in ms.responses if r.staff_id}
    people: list[tuple[FamilyMember | StaffMember, rules.Version]] = []
    for member in ms.case.members:
        version = rules.version_for(member.kind, member.birth_date, today, youth_age)
        if version and member.id not in existing_members and _linked(session, member):
            people.append((member, version))
    for staff in admin.team(ms.case):
        if staff.id not in existing_staff and staff.id != ms.leader_id:
            people.append((staff, rules.Version.STAFF))
    for person, version in people:
        response = MilestoneResponse(milestone=ms, version=version, invited_at=now, answers_json="{}")
        if isinstance(person, FamilyMember):
            response.member_id = person.id
        else:
            response.staff_id = person.id
        session.add(response)
        session.flush()
        kind = "member" if isinstance(person, FamilyMember) else "staff"
        notify(session, person, lambda tr, r=response, v=version: _invitation(tr, ms, r, v), now=now,
               kind="milestone_invitation", dedupe_key=f"milestone:{ms.id}:invite:{kind}:{person.id}",
               not_before=quiet.next_allowed(now))
        audit(session, at=now, actor="system", action="milestone.invited", object_type="milestone_response",
              object_id=response.id, case_id=ms.case_id, version=str(version))


def _invitation(tr: Translator, ms: Milestone, response: MilestoneResponse, version: rules.Version) -> Reply:
    _ = tr.gettext
    when = tr.when(ms.appointment.starts_at)
    if version == rules.Version.YOUTH:
        text = _("Hi! On {date} there is a meeting about how the help for your family is going. "
                 "I have a few questions for you. It takes about 10 minutes and you can stop any time.").format(
            date=when)
    elif version == rules.Version.STAFF:
        text = _("The Meilensteingespräch {case} is on {date}, led by {leader}. Please give your view "
                 "beforehand (about 10 minutes).").format(case=ms.case.title, date=when, leader=ms.leader.name)
    else:
        text = _("On {date} there is a Meilensteingespräch about your help. Your view matters: I have a few "
                 "questions for you. It takes about 10 minutes, and you can stop any time.").format(date=when)
    return Reply(text, [Choice(_("Open the questionnaire"), f"act:ms_open:{response.id}")])


def remind(session: Session, ms: Milestone, now: datetime, quiet: QuietHours, reminder_days: int) -> None:
    """One reminder for a questionnaire not yet sent, outside quiet hours; none after that."""
    if quiet.contains(now):
        return  # the next scan after the quiet hours sends it
    for response in ms.responses:
        if (response.submitted_at is None and response.reminded_at is None
                and rules.reminder_due(now, response.invited_at, ms.appointment.starts_at, reminder_days)):
            response.reminded_at = now
            person = response.member or response.staff
            assert person is not None
            notify(session, person, lambda tr, r=response: Reply(
                tr.gettext("A gentle reminder: your questionnaire for the Meilensteingespräch on {date} is not "
                           "sent yet. Your answers so far are kept. It is voluntary; this is the only reminder.")
                .format(date=tr.date(ms.appointment.starts_at)),
                [Choice(tr.gettext("Continue"), f"act:ms_open:{r.id}")]),
                now=now, kind="milestone_reminder", dedupe_key=f"milestone:{ms.id}:reminder:{response.id}")


def summary_message(tr: Translator, session: Session, ms: Milestone) -> Reply:
    built = summary.build(tr, ms)
    pdf = summary.as_pdf(tr, built)
    media: list[Attachment] = []
    for response in ms.responses:
        if response.submitted_at is not None:
            media += core.media_attachments(session, response)
    name = f"meilensteingespraech-{ms.case.reference}-{ms.appointment.starts_at.astimezone(BERLIN):%Y-%m-%d}.pdf"
    return Reply(summary.as_text(tr, built), attachments=[Attachment(name, "application/pdf", pdf), *media])


def send_summary(session: Session, ms: Milestone, now: datetime, quiet: QuietHours) -> None:
    """Two days before: the summary (text, PDF, voice notes) to the Gesprächsführer*in only."""
    ms.summary_sent_at = now
    notify(session, ms.leader, lambda tr: summary_message(tr, session, ms), now=now, kind="milestone_summary",
           dedupe_key=f"milestone:{ms.id}:summary", email=True, not_before=quiet.next_allowed(now),
           subject=lambda tr: tr.gettext("Meilensteingespräch {case}: summary").format(case=ms.case.reference))
    audit(session, at=now, actor="system", action="milestone.summary_sent", object_type="milestone",
          object_id=ms.id, case_id=ms.case_id, to=ms.leader_id)


def request_evaluation(session: Session, ms: Milestone, now: datetime, quiet: QuietHours) -> None:
    ms.evaluation_requested_at = now
    if session.scalar(select(MilestoneEvaluation.id).where(MilestoneEvaluation.milestone_id == ms.id)):
        return
    notify(session, ms.leader, lambda tr: Reply(
        tr.gettext("The Meilensteingespräch {case} is over. Please record the evaluation with {team}: signs of "
                   "Kindeswohlgefährdung, blind spots, insights and actions agreed.").format(
            case=ms.case.title, team=", ".join(s.name for s in admin.team(ms.case))),
        [Choice(tr.gettext("Record the evaluation"), f"act:ms_eval:{ms.id}")]),
        now=now, kind="milestone_evaluation", dedupe_key=f"milestone:{ms.id}:evaluation",
        not_before=quiet.next_allowed(now))


def remind_actions(session: Session, now: datetime, quiet: QuietHours) -> None:
    today = now.astimezone(BERLIN).date()
    due = session.scalars(select(MilestoneAction).where(
        MilestoneAction.reminded_at.is_(None), MilestoneAction.assignee_id.is_not(None),
        MilestoneAction.due_on.is_not(None), MilestoneAction.due_on <= today))
    for action in due:
        if quiet.contains(now):
            return
        action.reminded_at = now
        evaluation = session.get(MilestoneEvaluation, action.evaluation_id)
        assert evaluation is not None and action.assignee is not None
        ms = session.get(Milestone, evaluation.milestone_id)
        assert ms is not None
        notify(session, action.assignee, lambda tr, a=action, m=ms: Reply(
            tr.gettext("Reminder from the Meilensteingespräch {case}: “{action}” (agreed for {date}).").format(
                case=m.case.title, action=a.text, date=tr.date(a.due_on, "long"))),  # type: ignore[arg-type]
            now=now, kind="milestone_action", dedupe_key=f"milestone-action:{action.id}")


REGISTRY.tasks["milestone"] = PeriodicTask("milestone", 300, scan)
