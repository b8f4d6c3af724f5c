"""The Hilfeplan calendar of a case: the start, the talks, and the deadlines kept in step with the rules.

:func:`sync` asks :func:`rules.deadlines` for every deadline of a case and brings the stored items in line:
new ones are added, a changed due day is taken over while the item is open, one the rules no longer name
is marked obsolete (its history stays). What the rules can decide themselves is marked done by the system:
a Fortschreibung or Konkretisierung once its talk's day has come, a help year's home contacts once the
fallführende Fachkraft attended two appointments that took place. Everything else a person marks done
(``/fristen``, ``wegbegleiter hilfeplan done``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conversations import admin, authz
from conversations.admin import Actor, AdminError
from conversations.clock import BERLIN
from conversations.context import Services, audit
from conversations.hilfeplan import rules
from conversations.hilfeplan.rules import Kind, TalkKind
from conversations.i18n import N_, Translator
from conversations.rules.outcomes import AppointmentKind, Outcome
from conversations.rules.working_days import calendar_of
from storage.models import Appointment, AppointmentStaff, Case, Role
from storage.models.hilfeplan import HilfeplanItem, HilfeplanTalk

KIND_LABELS = {
    Kind.SIGNED_PLAN: N_("Signed Hilfeplan to all participants"),
    Kind.KOSTENZUSAGE: N_("Kostenzusage from the Jugendamt"),
    Kind.KONKRETISIERUNG: N_("Hilfeplankonkretisierung"),
    Kind.FORTSCHREIBUNG: N_("Hilfeplanfortschreibung"),
    Kind.ENTWICKLUNGSBERICHT: N_("Entwicklungsbericht to the fallführende Fachkraft"),
    Kind.HOME_CONTACTS: N_("Home contacts of the fallführende Fachkraft (2–3 a year)"),
}
TALK_LABELS = {
    TalkKind.HILFEPLAN: N_("Hilfeplangespräch"),
    TalkKind.KONKRETISIERUNG: N_("Hilfeplankonkretisierung"),
    TalkKind.FORTSCHREIBUNG: N_("Hilfeplanfortschreibung"),
}
TALK_MINUTES = 90
COUNTED_OUTCOMES = (Outcome.TOOK_PLACE,)
CANCELLED = (Outcome.CANCELLED_BY_FAMILY, Outcome.CANCELLED_BY_PROVIDER)


def actor_label(actor: Actor | authz.Principal | str) -> str:
    if isinstance(actor, authz.Principal):
        return actor.label
    return actor.label if isinstance(actor, Actor) else actor


def kind_label(tr: Translator, kind: str) -> str:
    return tr.gettext(KIND_LABELS.get(kind, kind))  # type: ignore[call-overload]


def item_label(tr: Translator, item: HilfeplanItem) -> str:
    """"Hilfeplanfortschreibung (2.)": the kind, and which one where there are several."""
    label = kind_label(tr, item.kind)
    return f"{label} ({item.number}.)" if item.number and item.kind != Kind.HOME_CONTACTS else label


# --- facts ---------------------------------------------------------------------------------------------------------
def talks(session: Session, case: Case) -> list[HilfeplanTalk]:
    return list(session.scalars(select(HilfeplanTalk).where(HilfeplanTalk.case_id == case.id)
                                .order_by(HilfeplanTalk.day, HilfeplanTalk.id)))


def fallfuehrende(case: Case) -> list[int]:
    return [s.id for s in admin.team(case, Role.FALLFUEHREND)]


def home_contacts(session: Session, case: Case, first: date, last: date) -> int:
    """Appointments that took place in ``first``…``last`` (Berlin days) with the fallführende Fachkraft named."""
    staff = fallfuehrende(case)
    if not staff:
        return 0
    start = datetime.combine(first, datetime.min.time(), tzinfo=BERLIN)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN)
    return session.scalar(select(func.count(func.distinct(Appointment.id))).join(AppointmentStaff).where(
        Appointment.case_id == case.id, Appointment.outcome.in_(COUNTED_OUTCOMES),
        Appointment.starts_at >= start, Appointment.starts_at < end, AppointmentStaff.staff_id.in_(staff))) or 0


def items(session: Session, case: Case, *, include_done: bool = True) -> list[HilfeplanItem]:
    query = select(HilfeplanItem).where(HilfeplanItem.case_id == case.id, HilfeplanItem.obsolete_at.is_(None))
    if not include_done:
        query = query.where(HilfeplanItem.done_at.is_(None))
    return list(session.scalars(query.order_by(HilfeplanItem.due_on, HilfeplanItem.id)))


def start_of(session: Session, case: Case) -> date | None:
    return case.started_on


def met(session: Session, case: Case, deadline: rules.Deadline, fulfilled: HilfeplanTalk | None, today: date) -> bool:
    """What the system can tell by itself: the fulfilling talk's day has come, or the home contacts were made."""
    if fulfilled is not None:
        return fulfilled.day <= today
    if deadline.kind == Kind.HOME_CONTACTS and deadline.earliest is not None:
        return rules.home_contacts_met(home_contacts(session, case, deadline.earliest, deadline.due))
    return False


# --- keeping the items in step ------------------------------------------------------------------------------------
def sync(session: Session, case: Case, now: datetime) -> list[HilfeplanItem]:
    """Bring the case's stored items in line with the rules; returns the open ones."""
    today = now.astimezone(BERLIN).date()
    rows = []
    for talk in talks(session, case):
        appointment = talk.appointment
        if appointment is not None and appointment.outcome in CANCELLED:
            continue  # a planned talk that was cancelled fulfils nothing (and asks the family nothing)
        if appointment is not None:  # moved in the calendar (`appointments move`, /termin): the talk moves too
            talk.day = appointment.starts_at.astimezone(BERLIN).date()
        rows.append(talk)
    by_id = {t.id: t for t in rows}
    wanted = rules.deadlines(case.started_on, [rules.Talk(t.id, TalkKind(t.kind), t.day, t.crisis) for t in rows],
                             until=today, cal=calendar_of(case.organisation))
    stored = {i.key: i for i in session.scalars(select(HilfeplanItem).where(HilfeplanItem.case_id == case.id))}
    for deadline in wanted:
        item = stored.pop(deadline.key, None)
        if item is None:
            item = HilfeplanItem(case_id=case.id, case=case, key=deadline.key, created_at=now)
            session.add(item)
        item.obsolete_at = None
        item.kind, item.owner, item.number = deadline.kind.value, deadline.owner.value, deadline.number
        if item.done_at is None or item.due_on is None:
            item.due_on, item.earliest = deadline.due, deadline.earliest
        item.talk_id, item.fulfilled_by = deadline.talk_id, deadline.fulfilled_by
        if item.done_at is None and met(session, case, deadline, by_id.get(deadline.fulfilled_by or 0), today):
            item.done_at, item.done_by = now, "system"
    for item in stored.values():
        if item.obsolete_at is None:
            item.obsolete_at = now
    session.flush()
    return items(session, case, include_done=False)


# --- what operators and Fachkräfte change ---------------------------------------------------------------------------
def set_start(session: Session, actor: Actor | authz.Principal, now: datetime, case: Case, day: date) -> Case:
    if not authz.is_open(case):
        raise AdminError("case {ref} is closed", ref=case.reference)
    case.started_on = day
    audit(session, at=now, actor=actor_label(actor), action="hilfeplan.start", object_type="case", object_id=case.id,
          case_id=case.id, day=day.isoformat())
    sync(session, case, now)
    return case


def add_talk(session: Session, services: Services | None, actor: Actor | authz.Principal, now: datetime, case: Case,
             kind: str, when: datetime, participants: list[str], *, crisis: bool = False,
             minutes: int = TALK_MINUTES, place: str | None = None) -> HilfeplanTalk:
    """Record a talk (held: a day in the past; planned: the family and the team get the appointment)."""
    if kind not in {k.value for k in TalkKind}:
        raise AdminError("kind must be one of {kinds}", kinds=", ".join(k.value for k in TalkKind))
    if not authz.is_open(case):
        raise AdminError("case {ref} is closed", ref=case.reference)
    if when.tzinfo is None:
        raise AdminError("the date needs a time zone")
    if crisis and kind != TalkKind.FORTSCHREIBUNG:
        raise AdminError("only a Fortschreibung can be held earlier in a crisis")
    day = when.astimezone(BERLIN).date()
    if kind != TalkKind.HILFEPLAN and case.started_on is None and not any(
            t.kind == TalkKind.HILFEPLAN for t in talks(session, case)):
        raise AdminError("first record the start of the help (hilfeplan start) or the first Hilfeplangespräch")
    appointment = None
    if when > now and services is not None:
        from conversations.appointments import create_appointment, default_members

        staff = admin.team(case) + admin.team(case, Role.FALLFUEHREND)
        appointment = create_appointment(session, services, actor_label(actor), case,
                                         AppointmentKind.HILFEPLANGESPRAECH, when, minutes, staff,
                                         default_members(case), place)
    talk = HilfeplanTalk(case_id=case.id, case=case, kind=kind, day=day, appointment=appointment,
                         participants="\n".join(p.strip() for p in participants if p.strip()), crisis=crisis,
                         created_at=now, created_by=actor_label(actor))
    session.add(talk)
    if kind == TalkKind.HILFEPLAN and case.started_on is None:
        case.started_on = day
    session.flush()
    audit(session, at=now, actor=actor_label(actor), action="hilfeplan.talk_added", object_type="hilfeplan_talk",
          object_id=talk.id, case_id=case.id, kind=kind, day=day.isoformat(), crisis=crisis)
    sync(session, case, now)
    return talk


def find_item(session: Session, item_id: int) -> HilfeplanItem:
    item = session.get(HilfeplanItem, item_id)
    if item is None or item.obsolete_at is not None:
        raise AdminError("no deadline with id {id}", id=item_id)
    return item


def mark_done(session: Session, principal: authz.Principal, now: datetime, item: HilfeplanItem, *,
              undo: bool = False) -> HilfeplanItem:
    authz.require(authz.may_mark_deadline_done(principal, item))
    if undo:
        item.done_at, item.done_by = None, None
    elif item.done_at is None:
        item.done_at, item.done_by = now, principal.label
    audit(session, at=now, actor=principal.label, action="hilfeplan.undone" if undo else "hilfeplan.done",
          object_type="hilfeplan_item", object_id=item.id, case_id=item.case_id, key=item.key)
    return item


def as_dict(item: HilfeplanItem, now: datetime) -> dict[str, Any]:
    today = now.astimezone(BERLIN).date()
    return {"id": item.id, "case": item.case.reference, "key": item.key, "kind": item.kind, "owner": item.owner,
            "due": item.due_on.isoformat(), "earliest": item.earliest.isoformat() if item.earliest else None,
            "done": item.done_at is not None, "done_by": item.done_by,
            "overdue": item.done_at is None and item.due_on < today}


def coming_for(session: Session, principal: authz.Principal, now: datetime, weeks: int = 8) -> list[HilfeplanItem]:
    """Open items due within ``weeks`` (and every overdue one) of the cases the person may see deadlines of."""
    staff = principal.active_staff
    if staff is None:
        return []
    case_ids = [a.case_id for a in staff.assignments if a.until is None]
    if staff.has_role(Role.LEITUNG):
        case_ids += list(session.scalars(select(Case.id).where(Case.organisation_id == staff.organisation_id,
                                                                Case.closed_at.is_(None))))
    cases = [c for c in session.scalars(select(Case).where(Case.id.in_(set(case_ids)), Case.closed_at.is_(None)))
             if authz.may_see_deadlines(principal, c)]
    horizon = now.astimezone(BERLIN).date() + timedelta(weeks=weeks)
    found: list[HilfeplanItem] = []
    for case in cases:
        found += [i for i in items(session, case, include_done=False) if i.due_on <= horizon]
    return sorted(found, key=lambda i: (i.due_on, i.case_id, i.id))
