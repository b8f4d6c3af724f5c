"""People come and go: `staff deactivate`, `staff|member unlink`, `staff|member invite --reason`,
`case assign|unassign` with a handover, `case close`.

Each command is one transaction: the change, the messages it causes (queued in the outbox) and the audit
event commit together, or nothing happens.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from bot.cli import (
    CLI,
    _invite_output,
    case,
    emit,
    fail_cleanly,
    json_option,
    member,
    staff,
    t,
    tn,
    unit_of_work,
)
from conversations import admin, authz
from conversations.access import chats, closing, handover, leaving

REASONS = ("lost-phone", "lost-letter", "new-chat", "other")


def _channel_option(func: Any) -> Any:
    return click.option("--channel", help="Only the chat on this network (telegram, matrix, console).")(func)


def _invite_options(func: Any) -> Any:
    func = click.option("--revoke-old/--keep-old", "revoke_old", default=None,
                        help="Unlink the person's chats now (default: only when the reason is lost-phone).")(func)
    func = click.option("--reason", type=click.Choice(REASONS), default="other", show_default=True,
                        help="Why a new code is needed; lost-phone unlinks the old chat at once.")(func)
    return click.option("--letter", type=click.Path(path_type=Path), help="Also write an invite letter (PDF).")(func)


def _new_invite(person: Any, app: Any, session: Any, letter: Path | None, reason: str,
                revoke_old: bool | None) -> dict[str, Any]:
    """A new code; the old chats are unlinked first when asked (a lost phone: at once, before anything else
    can reach it). Earlier codes not used yet stop working (admin.invite)."""
    now = app.services.clock.now()
    revoke = reason == "lost-phone" if revoke_old is None else revoke_old
    unlinked = chats.unlink_all(session, person, now=now, actor=CLI.label, reason=reason) if revoke else 0
    code = admin.invite(session, CLI, now, person, app.settings.invite_ttl_days)
    return {"id": person.id, "reason": reason, "chats_unlinked": unlinked,
            **_invite_output(app, session, person, code, letter)}


def _unlinked_text(name: str, count: int) -> str:
    if not count:
        return t("{name} has no linked chat.", name=name)
    return tn("{name}: {count} chat unlinked.", "{name}: {count} chats unlinked.", count, name=name, count=count)


def _invite_text(name: str, data: dict[str, Any]) -> str:
    text = t("Invite code for {name}: {code}", name=name, code=data["code"])
    if data["chats_unlinked"]:
        text += " " + tn("({count} old chat unlinked)", "({count} old chats unlinked)", data["chats_unlinked"],
                         count=data["chats_unlinked"])
    return text


# --- staff ---------------------------------------------------------------------------------------------
@staff.command("invite")
@click.argument("staff_id", type=int)
@_invite_options
@json_option
@fail_cleanly
def staff_invite(staff_id: int, letter: Path | None, reason: str, revoke_old: bool | None, as_json: bool) -> None:
    """A new invite code for a staff member (e.g. a new phone)."""
    with unit_of_work() as (app, session):
        person = admin.staff_member(session, staff_id)
        if not person.active:
            raise admin.AdminError("{name} has left; reactivating is not supported", name=person.name)
        data = _new_invite(person, app, session, letter, reason, revoke_old)
    emit(data, _invite_text(person.name, data), as_json)


@staff.command("unlink")
@click.argument("staff_id", type=int)
@_channel_option
@json_option
@fail_cleanly
def staff_unlink(staff_id: int, channel: str | None, as_json: bool) -> None:
    """Unlink a staff member's chat(s) now: one neutral line, then nothing more."""
    with unit_of_work() as (app, session):
        person = admin.staff_member(session, staff_id)
        count = chats.unlink_all(session, person, now=app.services.clock.now(), actor=CLI.label, reason="unlink",
                                 channel=channel)
    emit({"id": staff_id, "chats_unlinked": count}, _unlinked_text(person.name, count), as_json)


@staff.command("deactivate")
@click.argument("staff_id", type=int)
@click.option("--successor", "successor_id", type=int,
              help="Staff id who takes over cases, complaints and open alerts (default: the Leitung).")
@json_option
@fail_cleanly
def staff_deactivate(staff_id: int, successor_id: int | None, as_json: bool) -> None:
    """Someone left the organisation: chats unlinked, open work handed on, no further messages."""
    with unit_of_work() as (app, session):
        person = admin.staff_member(session, staff_id)
        successor = admin.staff_member(session, successor_id) if successor_id else None
        data = asdict(leaving.deactivate(session, app.services, CLI.label, person, successor))

    def human() -> str:
        lines = [tn("{name} is deactivated; {count} chat unlinked.", "{name} is deactivated; {count} chats unlinked.",
                    data["chats_unlinked"], name=data["staff"], count=data["chats_unlinked"])]
        lines += ["  " + t("case {reference} ({role}) → {to}", reference=c["case"], role=c["role"], to=c["to"])
                  for c in data["cases"]]
        lines += ["  " + t("complaint {reference} → {to}", reference=c["complaint"], to=c["to"])
                  for c in data["complaints"]]
        if data["escalations"]:
            lines.append("  " + t("open alerts/escalations passed on: {ids}",
                                  ids=", ".join(f"#{i}" for i in data["escalations"])))
        if data["actions"]:
            lines.append("  " + t("agreed actions reassigned: {count}", count=data["actions"]))
        return "\n".join(lines)

    emit(data, human, as_json)


# --- family members ------------------------------------------------------------------------------------
@member.command("invite")
@click.argument("member_id", type=int)
@_invite_options
@json_option
@fail_cleanly
def member_invite(member_id: int, letter: Path | None, reason: str, revoke_old: bool | None, as_json: bool) -> None:
    """A new invite code for a family member (a lost letter, a lost phone, a new chat)."""
    with unit_of_work() as (app, session):
        person = admin.family_member(session, member_id)
        if not authz.is_open(person.case):
            raise admin.AdminError("case {reference} is closed", reference=person.case.reference)
        data = _new_invite(person, app, session, letter, reason, revoke_old)
    emit(data, _invite_text(person.display_name, data), as_json)


@member.command("unlink")
@click.argument("member_id", type=int)
@_channel_option
@json_option
@fail_cleanly
def member_unlink(member_id: int, channel: str | None, as_json: bool) -> None:
    """Unlink a family member's chat(s) now: one neutral line, then nothing more."""
    with unit_of_work() as (app, session):
        person = admin.family_member(session, member_id)
        count = chats.unlink_all(session, person, now=app.services.clock.now(), actor=CLI.label, reason="unlink",
                                 channel=channel)
    emit({"id": member_id, "chats_unlinked": count}, _unlinked_text(person.display_name, count), as_json)


# --- cases ---------------------------------------------------------------------------------------------
def _handover_text(data: dict[str, Any]) -> str:
    if data["leaving"] and data["joining"]:
        change = t("{joining} takes over from {leaving}", joining=data["joining"], leaving=data["leaving"])
    elif data["joining"]:
        change = t("{joining} joins", joining=data["joining"])
    else:
        change = t("{leaving} leaves", leaving=data["leaving"])
    told = t("; told: {who}", who=", ".join(data["told"])) if data["told"] else ""
    return f"{data['case']} ({data['role']}): {change}{told}."


@case.command("assign")
@click.argument("case_ref")
@click.argument("staff_id", type=int)
@click.argument("role", type=click.Choice([r.value for r in admin.CASE_ROLES]))
@click.option("--instead-of", "instead_of", type=int, help="Staff id who hands the case over (loses access now).")
@json_option
@fail_cleanly
def case_assign(case_ref: str, staff_id: int, role: str, instead_of: int | None, as_json: bool) -> None:
    """Assign a staff member to a case: the family is told, the newcomer gets a handover summary."""
    with unit_of_work() as (app, session):
        found = admin.find_case(session, case_ref)
        old = admin.staff_member(session, instead_of) if instead_of else None
        data = asdict(handover.hand_over(session, app.services, CLI.label, found, role, leaving=old,
                                         joining=admin.staff_member(session, staff_id)))
    emit(data, _handover_text(data), as_json)


@case.command("unassign")
@click.argument("case_ref")
@click.argument("staff_id", type=int)
@click.option("--role", type=click.Choice([r.value for r in admin.CASE_ROLES]),
              help="Needed only if the person has several roles on the case.")
@click.option("--successor", "successor_id", type=int, help="Staff id who takes over the role.")
@json_option
@fail_cleanly
def case_unassign(case_ref: str, staff_id: int, role: str | None, successor_id: int | None, as_json: bool) -> None:
    """Take a staff member off a case (access ends now); the family is told who their contact is."""
    with unit_of_work() as (app, session):
        found = admin.find_case(session, case_ref)
        person = admin.staff_member(session, staff_id)
        roles = sorted({a.role for a in found.assignments if a.staff_id == person.id and a.until is None})
        if role is None and len(roles) > 1:
            raise admin.AdminError("{name} has several roles on {reference} ({roles}): give --role", name=person.name,
                                   reference=found.reference, roles=", ".join(roles))
        role = role or (roles[0] if roles else "fachkraft")
        successor = admin.staff_member(session, successor_id) if successor_id else None
        data = asdict(handover.hand_over(session, app.services, CLI.label, found, role, leaving=person,
                                         joining=successor))
    emit(data, _handover_text(data), as_json)


@case.command("close")
@click.argument("case_ref")
@click.option("--reason", type=click.Choice(list(closing.REASONS)), required=True,
              help="Why the help ended (kept as a code for the Träger's figures).")
@json_option
@fail_cleanly
def case_close(case_ref: str, reason: str, as_json: bool) -> None:
    """The help ended: the family gets a goodbye with the Träger's contact, reminders stop, chats are
    unlinked; open complaints are still answered."""
    with unit_of_work() as (app, session):
        data = asdict(closing.close_case(session, app.services, CLI.label, admin.find_case(session, case_ref), reason))
    emit(data, lambda: t("{reference} is closed ({reason}).", reference=data["case"], reason=reason) + " "
         + tn("Goodbye to {count} chat.", "Goodbye to {count} chats.", data["chats_said_goodbye"],
              count=data["chats_said_goodbye"]) + " "
         + tn("{count} appointment cancelled.", "{count} appointments cancelled.", data["appointments_cancelled"],
              count=data["appointments_cancelled"])
         + (" " + t("Complaints still open: {references}.", references=", ".join(data["complaints_kept_open"]))
            if data["complaints_kept_open"] else ""), as_json)
