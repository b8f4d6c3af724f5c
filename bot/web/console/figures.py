"""Leitung: the Träger's figures (issue 18) for a year or a quarter, the same report as `wegbegleiter report`.

The figures come from :mod:`conversations.report.figures` (only totals; 1 to 4 shown as "< 5"), the words
and files from :mod:`bot.report_files`, worded in the signed-in person's language where the command line
has it (German or English). The charts are inline images; XLSX and PDF are downloads of the same report.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot import report_files
from bot.web.console import AREAS, Area
from bot.web.console.desk import Desk, Page, Req, route
from conversations import authz
from conversations.admin import AdminError
from conversations.authz import require
from conversations.clock import BERLIN
from conversations.i18n import N_
from conversations.report import figures

AREAS.append(Area("/figures", N_("Figures"), N_("The Träger's figures for a year or a quarter: only totals, no names."),
                  lambda desk: authz.may_see_figures(desk.principal)))


def _period(desk: Desk, req: Req) -> figures.Period:
    this_year = desk.now.astimezone(BERLIN).year
    year = req.query.get("year", "")
    quarter = req.query.get("quarter", "")
    try:
        return figures.Period.of(int(year) if year.isdigit() else this_year,
                                 int(quarter) if quarter.isdigit() else None)
    except AdminError:
        return figures.Period.of(this_year)


def _build(desk: Desk, req: Req) -> tuple[figures.Report | None, str]:
    """The report, or None and what was wrong (an unknown help type)."""
    require(authz.may_see_figures(desk.principal))
    case_type = req.query.get("case_type", "").strip()[:60] or None
    period = _period(desk, req)
    try:
        report = figures.build(desk.session, desk.staff.organisation, period, desk.now, case_type)
    except AdminError as problem:
        with report_files.speaking(desk.tr.lang):
            return None, report_files.t(problem.template, **problem.params)
    desk.audit("report.made", "organisation", desk.staff.organisation_id, period=str(period), case_type=case_type)
    return report, ""


def page(desk: Desk, req: Req) -> Page:
    report, problem = _build(desk, req)
    this_year = desk.now.astimezone(BERLIN).year
    data: dict[str, Any] = {"years": list(range(this_year, this_year - 6, -1)), "problem": problem, "heading": None,
                            "year": _period(desk, req).year, "quarter": _period(desk, req).quarter,
                            "case_type": req.query.get("case_type", "").strip()[:60]}
    if report is not None:
        with report_files.speaking(desk.tr.lang):
            titles = report_files.section_titles()
            pictures = report_files.chart_pngs(report)
            data.update({
                "heading": report_files.heading(report), "note": report_files.small_note(),
                "sections": [{"title": titles[s.key], "key": s.key,
                              "rows": [{"label": label, "item": item, "value": report_files.value_text(figure)}
                                       for label, item, figure in report_files.lines(s)],
                              "chart": base64.b64encode(pictures[s.key]).decode() if s.key in pictures else None}
                             for s in report.sections],
                "query": urlencode({k: v for k, v in req.query.items() if k in ("year", "quarter", "case_type") and v}),
            })
    return Page("figures.html", data)


def download(kind: str):  # type: ignore[no-untyped-def]
    def view(desk: Desk, req: Req) -> web.Response:
        report, _problem = _build(desk, req)
        require(report is not None)
        assert report is not None
        with report_files.speaking(desk.tr.lang):
            body = report_files.xlsx(report) if kind == "xlsx" else report_files.pdf(report)
        mime = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if kind == "xlsx"
                else "application/pdf")
        return web.Response(body=body, content_type=mime, headers={
            "Content-Disposition": f'attachment; filename="{report_files.filename(report, kind)}"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    return view


def add_routes(application: web.Application) -> None:
    application.router.add_get("/figures", route(page))
    application.router.add_get("/figures.xlsx", route(download("xlsx")))
    application.router.add_get("/figures.pdf", route(download("pdf")))
