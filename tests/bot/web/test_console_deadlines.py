"""The Fachkraft's deadlines in the console: the same list as /fristen, marked done with one click; another
case's deadline is "not found" (conversations.authz.may_mark_deadline_done)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.web.console import sessions
from conversations.admin import Actor
from conversations.hilfeplan import core
from storage.models import Case
from storage.models.console import ConsoleSession
from storage.models.hilfeplan import HilfeplanItem
from tests.bot.web.conftest import signed_in


def test_jana_sees_her_deadlines_and_marks_one_done(web, staff_bot, codes):
    served, base = web
    with served.sessions.begin() as session:
        now = served.services.clock.now()
        yilmaz = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        core.set_start(session, Actor("test"), now, yilmaz, date(2026, 9, 1))  # Fortschreibung due 1 March 2027
        petrenko = session.scalar(select(Case).where(Case.title == "Familie Petrenko"))
        core.set_start(session, Actor("test"), now, petrenko, date(2026, 10, 15))
        report = session.scalar(select(HilfeplanItem).where(HilfeplanItem.case_id == yilmaz.id,
                                                            HilfeplanItem.key == "entwicklungsbericht:1"))
        foreign = session.scalar(select(HilfeplanItem).where(HilfeplanItem.case_id == petrenko.id,
                                                             HilfeplanItem.key == "entwicklungsbericht:1"))
        report_id, foreign_id = report.id, foreign.id
    jana = signed_in(staff_bot, base, "jana", codes["Jana"])
    page = jana.get("/deadlines")
    assert page.status_code == 200
    assert "Entwicklungsbericht an die fallführende Fachkraft (1.)" in page.text and "überfällig" in page.text
    assert "Familie Petrenko" not in page.text  # Tobias's case
    assert 'href="/deadlines"' in page.text  # in the navigation
    answer = jana.post(f"/deadlines/{report_id}/done")
    assert answer.status_code == 303
    assert "Die Frist ist als erledigt markiert." in jana.get(answer.headers["location"]).text
    with served.sessions() as session:
        assert session.get(HilfeplanItem, report_id).done_by.startswith("staff:")
    # a valid token for the foreign item's form (as if the page had offered it): still refused, as "not found"
    with served.sessions() as session:
        key = session.scalars(select(ConsoleSession).order_by(ConsoleSession.id.desc())).first().csrf_key
    refused = jana.post(f"/deadlines/{foreign_id}/done", csrf=sessions.csrf_token(key, f"/deadlines/{foreign_id}/done"))
    assert refused.status_code == 404 and "Petrenko" not in refused.text
    with served.sessions() as session:
        assert session.get(HilfeplanItem, foreign_id).done_at is None
