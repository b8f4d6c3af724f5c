"""Periodic work of the Hilfeplan calendar: reminders to the Fachkräfte, overdue items to the Leitung, and the
warning before a Fortschreibung whose Entwicklungsbericht is not marked sent.

Each message carries a unique key (``dedupe_key``), and what was told is also kept on the item
(``overdue_notified_at``, ``warned_at``), so a scan that runs twice, late, or after a restart sends nothing
twice; what it writes goes through the outbox in the same transaction. Nothing goes out in quiet hours: a
moment inside them waits for their end. A reminder whose moment passed while the bot was down is sent late
only while the item is not yet due, and only the newest one (not "in 3 weeks" and "in 1 week" at once).
An item that was already overdue when it was recorded (history entered later) gets no overdue notice: it is
listed as overdue in /fristen and `wegbegleiter hilfeplan show`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import admin
from conversations.clock import BERLIN
from conversations.context import Services
from conversations.escalations import leitung
from conversations.hilfeplan import core, rules
from conversations.hilfeplan.rules import Kind, Owner, ReminderSettings
from conversations.i18n import N_, Translator
from conversations.messages import Choice, Reply
from conversations.outbox import notify
from conversations.registry import REGISTRY, PeriodicTask
from conversations.rules.quiet_hours import QuietHours
from storage.db import transaction
from storage.models import Case, StaffMember
from storage.models.hilfeplan import HilfeplanItem, HilfeplanTalk, HilfeplanView

log = logging.getLogger(__name__)
DONE_ACTION = "hp_done"  # act:hp_done:<item id>
LABELS = {"went_well": N_("What went well"), "change": N_("What should change"), "wishes": N_("Wishes")}


def settings_of(case: Case) -> ReminderSettings:
    try:
        return ReminderSettings.of(case.organisation.settings)
    except (ValueError, TypeError):
        log.exception("organisation %s: invalid hilfeplan settings; using the defaults", case.organisation_id)
        return ReminderSettings()


def done_choice(tr: Translator, item: HilfeplanItem) -> Choice:
    return Choice(tr.gettext("Mark as done"), f"act:{DONE_ACTION}:{item.id}")


def owed_line(tr: Translator, item: HilfeplanItem) -> str:
    if item.owner == Owner.JUGENDAMT:
        return tr.gettext("Owed by the Jugendamt: mark it done when it has arrived or taken place.")
    if item.owner == Owner.TRAEGER:
        return tr.gettext("Owed by you (the Träger).")
    return tr.gettext("With all participants.")


def reminder(item: HilfeplanItem, days: int):  # type: ignore[no-untyped-def]
    """``days``: how many days are left (the reminder "3 weeks before" sent late says how many really are)."""
    def render(tr: Translator) -> Reply:
        text = tr.ngettext("Deadline in {n} day, on {date}: {item} – {case}.",
                           "Deadline in {n} days, on {date}: {item} – {case}.", days).format(
            n=days, date=tr.date(item.due_on), item=core.item_label(tr, item), case=item.case.title)
        return Reply(f"{text}\n{owed_line(tr, item)}", [done_choice(tr, item)])
    return render


def overdue(item: HilfeplanItem, team: list[StaffMember]):  # type: ignore[no-untyped-def]
    def render(tr: Translator) -> Reply:
        text = tr.gettext("Overdue since {date}: {item} – {case} ({ref}). Fachkräfte: {team}.").format(
            date=tr.date(item.due_on), item=core.item_label(tr, item), case=item.case.title,
            ref=item.case.reference, team=", ".join(s.name for s in team) or "—")
        return Reply(text, [done_choice(tr, item)])
    return render


def warning(item: HilfeplanItem, talk: HilfeplanTalk):  # type: ignore[no-untyped-def]
    def render(tr: Translator) -> Reply:
        text = tr.gettext("Hilfeplanfortschreibung on {date} – {case}: the Entwicklungsbericht is not marked as sent. "
                          "Without it the Fortschreibung cannot take place.").format(
            date=tr.date(talk.day), case=item.case.title)
        return Reply(text, [done_choice(tr, item)])
    return render


def tell(session: Session, people: list[StaffMember], render, *, now: datetime, key: str,  # type: ignore[no-untyped-def]
         not_before: datetime, kind: str) -> int:
    sent = 0
    for person in dict.fromkeys(p for p in people if p.active):
        sent += len(notify(session, person, render, now=now, kind=f"hilfeplan.{kind}",
                           dedupe_key=f"{key}:s{person.id}", not_before=not_before))
    return sent


def quiet_for_now(item: HilfeplanItem, today) -> bool:  # type: ignore[no-untyped-def]
    """No reminder of a talk that is already planned (the appointment has its own), nor of what follows
    from a talk before it took place (the signed plan of a Fortschreibung next week)."""
    if item.fulfilled_by is not None:
        return True
    return item.talk is not None and item.kind != Kind.ENTWICKLUNGSBERICHT and item.talk.day >= today


def scan_case(session: Session, services: Services, case: Case) -> int:
    now = services.clock.now()
    quiet = QuietHours.parse(services.settings.quiet_hours)
    send_at = quiet.next_allowed(now)
    settings = settings_of(case)
    team = admin.team(case)
    sent = 0
    today = now.astimezone(BERLIN).date()
    from conversations.hilfeplan import family

    open_items = core.sync(session, case, now)  # first: a moved talk's day is taken over
    for talk in core.talks(session, case):
        if talk.day >= today:
            sent += family.invite(session, services, talk)
    for item in open_items:
        days = rules.due_reminder(now, item.due_on, settings.remind_days, settings.hour)
        if days is not None and team and not quiet_for_now(item, today):
            left = (item.due_on - now.astimezone(BERLIN).date()).days
            sent += tell(session, team, reminder(item, left), now=now, not_before=send_at, kind="reminder",
                         key=f"hp:remind:{item.id}:{item.due_on.isoformat()}:{days}")
        if item.overdue_notified_at is None and now >= rules.overdue_at(item.due_on, settings.hour) and \
                item.created_at < rules.overdue_at(item.due_on, settings.hour):  # not for history entered late
            heads = leitung(session, case.organisation)
            sent += tell(session, heads, overdue(item, team), now=now, not_before=send_at, kind="overdue",
                         key=f"hp:overdue:{item.id}:{item.due_on.isoformat()}")
            item.overdue_notified_at = now
        if item.kind == Kind.ENTWICKLUNGSBERICHT and item.warned_at is None and item.talk is not None:
            talk = item.talk
            if talk.kind == rules.TalkKind.FORTSCHREIBUNG and \
                    rules.warning_at(talk.day, settings.warn_days, settings.hour) <= now < \
                    rules.at_hour(talk.day, settings.hour):
                people = team + leitung(session, case.organisation)
                sent += tell(session, people, warning(item, talk), now=now, not_before=send_at, kind="warning",
                             key=f"hp:warn:{item.id}:{talk.day.isoformat()}")
                item.warned_at = now
    return sent


def tell_team_of_view(session: Session, services: Services, view: HilfeplanView) -> int:
    """A family member sent their view before a Hilfeplangespräch: their Fachkräfte read it at once."""
    from conversations.hilfeplan.family import QUESTIONS, answers_of

    talk = view.talk

    def render(tr: Translator) -> Reply:
        lines = [tr.gettext("View of {name} ({case}) before the talk on {date} ({talk}):").format(
            name=view.member.display_name, case=talk.case.title, talk=tr.gettext(core.TALK_LABELS[talk.kind]),
            date=tr.date(talk.day))]
        answers = answers_of(view)
        for key in QUESTIONS:
            lines.append(f"• {tr.gettext(LABELS[key])}: {answers.get(key) or '—'}")
        return Reply("\n".join(lines))

    now = services.clock.now()
    return tell(session, admin.team(talk.case), render, now=now, key=f"hp:view-sent:{view.id}",
                not_before=QuietHours.parse(services.settings.quiet_hours).next_allowed(now), kind="view")


def scan(services: Services) -> None:
    with transaction(services.sessions) as session:
        # A case's calendar runs once its Hilfeplan was recorded (`hilfeplan start` or a talk): its items exist.
        cases = session.scalars(select(Case).where(Case.closed_at.is_(None)).where(
            Case.id.in_(select(HilfeplanItem.case_id))).order_by(Case.id))
        for case in cases:
            scan_case(session, services, case)


REGISTRY.tasks["hilfeplan"] = PeriodicTask("hilfeplan", 900, scan)
