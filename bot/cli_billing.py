"""`wegbegleiter org set`: the organisation's details the billing documents and working-day rules need."""

from __future__ import annotations

import click

from bot.cli import CLI, emit, fail_cleanly, json_option, org, unit_of_work
from conversations import admin
from conversations.rules.working_days import BUNDESLAENDER, Calendar


def organisation_dict(o) -> dict[str, object]:  # type: ignore[no-untyped-def]
    calendar = Calendar.of(o.settings)
    return {"id": o.id, "name": o.name, "phone": o.phone, "phone_hours": o.phone_hours,
            "bundesland": calendar.bundesland, "closed_days": sorted(calendar.closed_days)}


@org.command("set")
@click.argument("org_id", type=int)
@click.option("--bundesland", type=click.Choice(BUNDESLAENDER, case_sensitive=False),
              help="Whose public holidays are not working days (default ST, Sachsen-Anhalt).")
@click.option("--closed-days", help="Further days the Träger is closed, comma-separated: '12-24,12-31' "
                                    "(every year) or '2027-12-27'. An empty string clears them.")
@json_option
@fail_cleanly
def org_set(org_id: int, bundesland: str | None, closed_days: str | None, as_json: bool) -> None:
    """Change an organisation's details."""
    with unit_of_work() as (app, session):
        found = admin.organisation(session, org_id)
        days = None if closed_days is None else [d.strip() for d in closed_days.split(",") if d.strip()]
        admin.update_organisation(session, CLI, app.services.clock.now(), found, bundesland=bundesland,
                                  closed_days=days)
        data = organisation_dict(found)
    emit(data, f"Organisation {data['id']}: {data['name']}, holidays of {data['bundesland']}"
               + (f", closed on {', '.join(data['closed_days'])}" if data["closed_days"] else ""), as_json)
