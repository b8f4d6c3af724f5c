"""`wegbegleiter org set` and `wegbegleiter case set`: the details the billing documents, letters and
working-day rules need (the Träger's letterhead, the Jugendamt and its file number per case)."""

from __future__ import annotations

from typing import Any

import click

from bot.cli import CLI, case, emit, fail_cleanly, json_option, org, unit_of_work
from bot.cli_language import t
from conversations import admin
from conversations.rules.working_days import BUNDESLAENDER, Calendar


def organisation_dict(o) -> dict[str, object]:  # type: ignore[no-untyped-def]
    calendar = Calendar.of(o.settings)
    return {"id": o.id, "name": o.name, "address": o.address, "phone": o.phone, "phone_hours": o.phone_hours,
            "bundesland": calendar.bundesland, "closed_days": sorted(calendar.closed_days)}


def _organisation_text(data: dict[str, Any]) -> str:
    lines = [t("Organisation {id}: {name}", id=data["id"], name=data["name"])]
    if data["address"]:
        lines.append(t("Address: {address}", address=", ".join(str(data["address"]).splitlines())))
    if data["phone"]:
        lines.append(t("Phone: {phone}", phone=data["phone"])
                     + (f" ({data['phone_hours']})" if data["phone_hours"] else ""))
    lines.append(t("Public holidays of {bundesland}", bundesland=data["bundesland"]))
    if data["closed_days"]:
        lines.append(t("Also closed on {days}", days=", ".join(data["closed_days"])))
    return "\n".join(lines)


@org.command("set")
@click.argument("org_id", type=int)
@click.option("--name", help="The organisation's name as letters print it.")
@click.option("--address", help="Postal address; lines separated by '\\n' or a real line break: "
                                "'Breiter Weg 1\\n39104 Magdeburg'. An empty string clears it.")
@click.option("--phone", help="Phone number for families and the Jugendamt.")
@click.option("--hours", "phone_hours", help="When the phone is answered, e.g. 'Mo–Fr 8:00–18:00'.")
@click.option("--bundesland", type=click.Choice(BUNDESLAENDER, case_sensitive=False),
              help="Whose public holidays are not working days (default ST, Sachsen-Anhalt).")
@click.option("--closed-days", help="Further days the Träger is closed, comma-separated: '12-24,12-31' "
                                    "(every year) or '2027-12-27'. An empty string clears them.")
@json_option
@fail_cleanly
def org_set(org_id: int, name: str | None, address: str | None, phone: str | None, phone_hours: str | None,
            bundesland: str | None, closed_days: str | None, as_json: bool) -> None:
    """Change an organisation's details (letterhead, holidays)."""
    with unit_of_work() as (app, session):
        found = admin.organisation(session, org_id)
        days = None if closed_days is None else [d.strip() for d in closed_days.split(",") if d.strip()]
        admin.update_organisation(session, CLI, app.services.clock.now(), found, bundesland=bundesland,
                                  closed_days=days, name=name, address=address, phone=phone,
                                  phone_hours=phone_hours)
        data = organisation_dict(found)
    emit(data, lambda: _organisation_text(data), as_json)


@case.command("set")
@click.argument("case_ref")
@click.option("--title", help="The case's name, e.g. 'Familie Yılmaz'.")
@click.option("--help-type", help="The help with its legal basis, e.g. 'SPFH § 31 SGB VIII'.")
@click.option("--jugendamt", help="The Jugendamt that granted the help, e.g. 'Jugendamt Magdeburg'.")
@click.option("--file-number", help="The Jugendamt's file number (Aktenzeichen) of the case.")
@json_option
@fail_cleanly
def case_set(case_ref: str, title: str | None, help_type: str | None, jugendamt: str | None,
             file_number: str | None, as_json: bool) -> None:
    """Change what the Nachweisblatt says of a case (help type, Jugendamt, Aktenzeichen)."""
    with unit_of_work() as (app, session):
        found = admin.find_case(session, case_ref)
        admin.update_case(session, CLI, app.services.clock.now(), found, title=title, help_type=help_type,
                          jugendamt=jugendamt, file_number=file_number)
        data = {"reference": found.reference, "title": found.title, "help_type": found.help_type,
                "jugendamt": found.jugendamt, "jugendamt_file_number": found.jugendamt_file_number}
    emit(data, lambda: "\n".join([
        t("Case {reference}: {title}", reference=data["reference"], title=data["title"]),
        t("Help type: {value}", value=data["help_type"] or "—"),
        t("Jugendamt: {value}", value=data["jugendamt"] or "—"),
        t("File number: {value}", value=data["jugendamt_file_number"] or "—")]), as_json)
