"""Signals that a child may be at risk (seed 004, "Kinderschutz", "Krisenintervention"; DOMAIN.md).

Every free text a family member sends passes :func:`screen` before the flow sees it. A hit answers at
once with help that works now (110/112, Nummer gegen Kummer, Elterntelefon, the Träger's own number)
and alerts the case's Fachkräfte and the Träger's Leitung urgently (chat and email, past quiet hours),
with the message. The screen only adds replies: the flow the person was in continues. Nothing is decided
automatically; the alert stays open until a person marks it handled (button, email link, CLI). One still
open two hours into the next working hours is raised again, once.

What counts as a signal, and how a message is matched, is :mod:`conversations.child_protection.signals`;
staff are shown the words that matched, as the person wrote them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from conversations import admin, authz
from conversations.child_protection.signals import (
    Compiled,
    Lists,
    Match,
    compile_lists,
    curated,
    find,
    lists_from,
)
from conversations.context import Context, Services, audit
from conversations.escalations import (
    CHILD_PROTECTION,
    REMINDER_TEXTS,
    REMINDERS,
    ack_choice,
    create,
    leitung,
    tell,
)
from conversations.i18n import N_, Translator
from conversations.messages import Choice, Reply
from conversations.registry import REGISTRY, Action, Audience, Command
from conversations.rules.quiet_hours import QuietHours
from storage.models import Escalation, FamilyMember, Organisation, StaffMember

TELL_ACTION = "cp_tell"


def phrases_for(org: Organisation | None) -> Compiled:
    """The curated lists plus the organisation's own phrases, indexed (once per distinct list)."""
    extra = ((org.settings or {}).get("child_protection") or {}).get("extra_phrases") if org else None
    key = tuple(sorted((lang, tuple(map(str, items))) for lang, items in (extra or {}).items()))
    return _compiled_with(key)


@lru_cache(maxsize=64)
def _compiled_with(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> Compiled:
    lists, own = curated(), lists_from(dict(extra))
    return compile_lists(Lists((*lists.phrases, *own.phrases), lists.harmless, lists.classes))


# --- what the person sees ----------------------------------------------------------------------------
def help_lines(tr: Translator, org: Organisation | None) -> list[str]:
    _ = tr.gettext
    lines = [
        _("Help right now, day and night:"),
        "• " + _("Emergency: 110 (police) or 112 (ambulance)"),
        "• " + _("Nummer gegen Kummer for children and young people: 116 111 (free, anonymous)"),
        "• " + _("Elterntelefon for parents: 0800 111 0 550 (free, anonymous)"),
    ]
    if org and org.phone:
        lines.append("• " + (_("{org}: {phone} ({hours})") if org.phone_hours else _("{org}: {phone}")).format(
            org=org.name, phone=org.phone, hours=org.phone_hours or ""))
    return lines


# --- raising an alert -----------------------------------------------------------------------------------
# An alert still open this long after the start of the next working hours is raised again (e.g. 23:10 →
# 10:00 the next morning), in case the night's messages were not seen.
REMIND_AFTER = timedelta(hours=2)


def alert_message(alert: Escalation, *, reminder: bool = False) -> Callable[[Translator], Reply]:
    member, case = alert.member, alert.case
    # The words as the person wrote them; alerts from before they were kept show the list entry.
    words = alert.facts.get("words") or alert.facts.get("phrase")

    def render(tr: Translator) -> Reply:
        _ = tr.gettext
        name = member.first_name if member else "—"
        if words:
            said = [_("{name} ({ref}) wrote at {when}:").format(name=name, ref=case.reference,
                                                               when=tr.when(alert.created_at)),
                    f"“{alert.message}”",
                    _("The words that raised the alert: “{words}”.").format(words=words)]
        else:
            said = [_("{name} ({ref}) pressed “Tell my Fachkräfte now” in the emergency help at {when}.").format(
                name=name, ref=case.reference, when=tr.when(alert.created_at))]
        head = [_("Still open: nobody has marked this alert as handled yet."), ""] if reminder else []
        return Reply("\n".join([
            *head,
            _("Urgent: a message that may point to a risk for a child."), "", *said, "",
            _("Wegbegleiter showed the emergency numbers and decides nothing itself. Please look at it now, "
              "follow your Kinderschutz procedure (§ 8a SGB VIII), and mark the alert as handled when "
              "someone has taken it on."),
        ]), [ack_choice(tr, alert)])

    return render


def alert_subject(alert: Escalation) -> Callable[[Translator], str]:
    return lambda tr: tr.gettext("Urgent: possible risk for a child – case {ref}").format(ref=alert.case.reference)


def alerted(session: Session, alert: Escalation) -> list[StaffMember]:
    return [*admin.team(alert.case), *leitung(session, alert.case.organisation)]


def raise_alert(session: Session, services: Services, member: FamilyMember, *, key: str, message: str,
                match: Match | None) -> Escalation | None:
    """Record the alert and alert the Fachkräfte and the Leitung urgently; None if this key was seen."""
    now = services.clock.now()
    case = member.case
    alert = create(session, Escalation(
        kind=CHILD_PROTECTION, key=key, case_id=case.id, member_id=member.id, message=message, created_at=now,
        due_at=QuietHours.parse(services.settings.quiet_hours).next_allowed(now) + REMIND_AFTER,
        facts={"phrase": match.phrase.text if match else None, "words": match.words if match else None,
               "language": match.phrase.language if match else None, "source": "message" if match else "button"},
    ))
    if alert is None:
        return None
    audit(session, at=now, actor=f"member:{member.id}", action="child_protection.alert", object_type="escalation",
          object_id=alert.id, case_id=case.id, source=alert.facts["source"])
    tell(session, alert, alerted(session, alert), "alert", alert_message(alert), now=now,
         subject=alert_subject(alert), email=True, urgent=True, must_reach=True)  # the Fachkräfte and the Leitung
    return alert


def remind_open_alert(session: Session, alert: Escalation, now: datetime) -> None:
    tell(session, alert, alerted(session, alert), "reminder", alert_message(alert, reminder=True), now=now,
         subject=alert_subject(alert), email=True, urgent=True, must_reach=True)


def screen(ctx: Context) -> None:
    """Text screen: on a danger phrase, answer with help and raise an alert; the flow continues."""
    member = ctx.member
    if member is None or not ctx.text:
        return
    org = member.case.organisation
    match = find(ctx.text, phrases_for(org))
    if match is None:
        return
    incoming = ctx.incoming
    raise_alert(ctx.session, ctx.services, member, key=f"child_protection:{incoming.channel}:{incoming.event_id}",
                message=ctx.text, match=match)
    _ = ctx._
    ctx.say("\n".join([
        _("Thank you for writing to me. What you wrote sounds serious. You do not have to cope with it alone."),
        "", *help_lines(ctx.tr, org), "",
        _("I have passed your message on to your Fachkräfte at {org}.").format(org=org.name),
    ]))


def emergency(ctx: Context, _arg: str) -> None:
    """The explicit "Notfall" command and menu entry: the numbers, and a way to reach the Fachkräfte."""
    _ = ctx._
    org = ctx.member.case.organisation if ctx.member else (ctx.staff.organisation if ctx.staff else None)
    choices = [Choice(_("Tell my Fachkräfte now"), f"act:{TELL_ACTION}:")] if ctx.member else []
    ctx.say("\n".join(help_lines(ctx.tr, org)), choices)
    ctx.offer_way_back()  # answers from any state: the interrupted flow is not entered


def tell_fachkraefte(ctx: Context, _arg: str) -> None:
    member = ctx.member
    if member is None or not authz.may_raise_alert(ctx.principal, member.case):
        ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
        return ctx.resume()
    incoming = ctx.incoming
    raise_alert(ctx.session, ctx.services, member, key=f"child_protection:{incoming.channel}:{incoming.event_id}",
                message="(emergency button)", match=None)
    ctx.say(ctx._("I have told your Fachkräfte at {org}. Please call 110 or 112 if you are in danger now.").format(
        org=member.case.organisation.name))
    ctx.offer_way_back()  # the alert must not depend on the interrupted flow being able to carry on


REGISTRY.text_screens.append(screen)
REMINDERS[CHILD_PROTECTION] = remind_open_alert
REMINDER_TEXTS[CHILD_PROTECTION] = alert_message
REGISTRY.command(Command("emergency", {"de": "notfall", "en": "emergency", "tr": "acil"},
                         N_("Emergency help"), emergency, Audience.ANYONE, in_menu=True,
                         aliases=("sos", "notruf", "hilfe_notfall")))
REGISTRY.action(Action(TELL_ACTION, tell_fachkraefte, Audience.FAMILY))
