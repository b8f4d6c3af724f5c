"""`wegbegleiter report YEAR [--quarter N] [--case-type TYPE]`: the Träger's figures (issue 18) as text, XLSX,
PDF or JSON. Only totals: no names, no texts; small numbers are shown as "< 5" (conversations.report.figures)."""

from __future__ import annotations

from pathlib import Path

import click

from bot import report_files
from bot.cli import CLI, cli, emit, fail_cleanly, json_option, unit_of_work
from bot.cli_language import t
from conversations import admin
from conversations.report import figures


@cli.command("report")
@click.argument("year", type=int)
@click.option("--quarter", type=click.IntRange(1, 4), help="Only this quarter (1–4) of the year.")
@click.option("--case-type", help="Only cases of this help type or legal basis, e.g. SPFH or '§ 31'.")
@click.option("--org", "org_id", type=int, help="Organisation id (default: the first).")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), help="Write an XLSX file here.")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a PDF file (with charts) here.")
@json_option
@fail_cleanly
def report_cmd(year: int, quarter: int | None, case_type: str | None, org_id: int | None, xlsx_path: Path | None,
               pdf_path: Path | None, as_json: bool) -> None:
    """The Träger's figures for a year or quarter: cases, hours, cancellations, escalations, alerts, complaints,
    Meilensteingespräche, reminders (only totals; 1 to 4 shown as "< 5")."""
    period = figures.Period.of(year, quarter)
    with unit_of_work() as (app, session):
        org = admin.organisation(session, org_id)
        now = app.services.clock.now()
        report = figures.build(session, org, period, now, case_type)
        admin.audit(session, at=now, actor=CLI.label, action="report.made", object_type="organisation",
                    object_id=org.id, period=str(period), case_type=case_type)
    written = []
    if xlsx_path:
        xlsx_path.write_bytes(report_files.xlsx(report))
        written.append(str(xlsx_path))
    if pdf_path:
        pdf_path.write_bytes(report_files.pdf(report))
        written.append(str(pdf_path))
    data = {**report.as_dict(), "files": written}

    def human() -> str:
        if written:
            return "\n".join(t("Written: {file}", file=f) for f in written)
        return report_files.text(report)

    emit(data, human, as_json)
